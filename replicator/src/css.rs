//! References in CSS: `url(...)`, `@import "..."` and the strings of `image-set(...)`.
//!
//! A small hand-written scanner rather than a full CSS parser: it only has to find
//! references and leave every other byte as it was, including in malformed style sheets
//! (unclosed strings, comments or parentheses end the scan of that construct, never panic).
//!
//! ```
//! let css = r#"@import "a.css"; body { background: url( 'b.png' ) } i { src: url(c.woff2) format("woff2") }"#;
//! let out = ace_replicator::css::rewrite(css, &mut |r| Some(format!("local/{r}")));
//! assert_eq!(out, r#"@import "local/a.css"; body { background: url("local/b.png") } i { src: url("local/c.woff2") format("woff2") }"#);
//! ```

/// Every reference in `css`, in order, unescaped.
pub fn references(css: &str) -> Vec<String> {
    let mut found = Vec::new();
    rewrite(css, &mut |r| {
        found.push(r.to_owned());
        None
    });
    found
}

/// Rewrites each reference for which `map` returns a replacement; everything else is copied
/// as it was.
pub fn rewrite(css: &str, map: &mut dyn FnMut(&str) -> Option<String>) -> String {
    let b = css.as_bytes();
    let mut out = String::with_capacity(css.len());
    let mut last = 0;
    let mut i = 0;
    let mut depth = 0usize;
    let mut image_set: Vec<usize> = Vec::new();
    let mut after_import = false;
    while i < b.len() {
        let c = b[i];
        if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i = css[i + 2..].find("*/").map_or(b.len(), |e| i + 2 + e + 2);
            continue;
        }
        if c == b'\\' {
            i += 2;
            continue;
        }
        if c == b'"' || c == b'\'' {
            let (content, end) = string_at(css, i);
            let in_image_set = image_set.last().is_some_and(|d| d + 1 == depth);
            if after_import || in_image_set {
                if let Some(new) = map(&unescape(content)) {
                    out.push_str(&css[last..i]);
                    out.push('"');
                    out.push_str(&escape(&new));
                    out.push('"');
                    last = end;
                }
            }
            after_import = false;
            i = end;
            continue;
        }
        let ident_before =
            i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'-' || b[i - 1] == b'_');
        if !ident_before && starts_with_ci(b, i, b"url(") {
            if let Some((value, end)) = url_token(css, i + 4) {
                if let Some(new) = map(&value) {
                    out.push_str(&css[last..i]);
                    out.push_str("url(\"");
                    out.push_str(&escape(&new));
                    out.push_str("\")");
                    last = end;
                }
                after_import = false;
                i = end;
                continue;
            }
        }
        if starts_with_ci(b, i, b"@import") {
            after_import = true;
            i += 7;
            continue;
        }
        if (!ident_before || b[i - 1] == b'-') && starts_with_ci(b, i, b"image-set(") {
            image_set.push(depth);
            depth += 1;
            i += 10;
            continue;
        }
        match c {
            b'(' => depth += 1,
            b')' => {
                depth = depth.saturating_sub(1);
                if image_set.last() == Some(&depth) {
                    image_set.pop();
                }
            }
            b';' | b'{' | b'}' => after_import = false,
            _ => {}
        }
        i += 1;
    }
    out.push_str(&css[last..]);
    out
}

fn starts_with_ci(b: &[u8], i: usize, word: &[u8]) -> bool {
    b.len() >= i + word.len() && b[i..i + word.len()].eq_ignore_ascii_case(word)
}

/// The string starting at the quote at `start`: its raw content and the index after it. An
/// unclosed string ends at the line end, as CSS says.
fn string_at(css: &str, start: usize) -> (&str, usize) {
    let b = css.as_bytes();
    let quote = b[start];
    let mut j = start + 1;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b'\n' => return (&css[start + 1..j], j),
            c if c == quote => return (&css[start + 1..j], j + 1),
            _ => j += 1,
        }
    }
    let end = b.len();
    (&css[(start + 1).min(end)..end], end)
}

/// After `url(` at `i`: the value and the index after `)`, or `None` if there is no `)`.
fn url_token(css: &str, mut i: usize) -> Option<(String, usize)> {
    let b = css.as_bytes();
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
        let (content, mut end) = string_at(css, i);
        while end < b.len() && b[end].is_ascii_whitespace() {
            end += 1;
        }
        return (b.get(end) == Some(&b')')).then(|| (unescape(content), end + 1));
    }
    let mut j = i;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b')' => return Some((unescape(css[i..j].trim()), j + 1)),
            b'"' | b'\'' | b'(' => return None,
            _ => j += 1,
        }
    }
    None
}

/// Resolves CSS escapes (`\"`, `\26 `).
fn unescape(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let mut hex = String::new();
        while hex.len() < 6 && chars.peek().is_some_and(char::is_ascii_hexdigit) {
            hex.push(chars.next().unwrap_or('0'));
        }
        if hex.is_empty() {
            match chars.next() {
                Some('\n') | None => {}
                Some(other) => out.push(other),
            }
        } else {
            if chars.peek().is_some_and(|c| c.is_ascii_whitespace()) {
                chars.next();
            }
            out.push(
                u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32).unwrap_or('\u{FFFD}'),
            );
        }
    }
    out
}

/// Escapes for a double-quoted CSS string.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\a ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_kind_of_reference() {
        let css = r#"
            @import url("one.css") screen;
            @IMPORT 'two.css';
            /* url(commented.png) */
            .a { background: URL(three.png) no-repeat; }
            .b { background-image: -webkit-image-set("four.png" 1x, url(five.png) 2x); }
            .c { background-image: image-set('six.avif' type("image/avif"), "seven.jpg" 2x); }
            @font-face { font-family: "F"; src: url(data:font/woff2;base64,AAA) format("woff2"), url( "eight.woff" ); }
            .d::after { content: "url(not-a-ref.png)"; }
            .e { background: url(es\(caped\).png); }
        "#;
        assert_eq!(
            references(css),
            [
                "one.css",
                "two.css",
                "three.png",
                "four.png",
                "five.png",
                "six.avif",
                "seven.jpg",
                "data:font/woff2;base64,AAA",
                "eight.woff",
                "es(caped).png"
            ]
        );
    }

    #[test]
    fn malformed_css_does_not_panic_and_keeps_its_bytes() {
        for css in [
            "url(",
            "url(\"a",
            "a { b: url('x' ",
            "/* never closed",
            "@import",
            "\"open",
            "image-set(\"a.png\"",
            "\\",
            "é url(é.png) ü",
        ] {
            let out = rewrite(css, &mut |_| None);
            assert_eq!(out, css);
            let _ = rewrite(css, &mut |r| Some(format!("x{r}")));
        }
        assert_eq!(
            rewrite("é url(é.png) ü", &mut |r| Some(format!("x/{r}"))),
            "é url(\"x/é.png\") ü"
        );
    }

    #[test]
    fn only_mapped_references_change() {
        let css = "a{background:url(keep.png)} b{background:url(change.png)}";
        let out = rewrite(css, &mut |r| (r == "change.png").then(|| "new \"q\".png".to_owned()));
        assert_eq!(out, "a{background:url(keep.png)} b{background:url(\"new \\\"q\\\".png\")}");
    }
}
