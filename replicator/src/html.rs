//! References in HTML, found and rewritten in one streaming pass (lol_html).
//!
//! Every attribute that loads or links something is visited: `href`, `src`, `srcset`,
//! `poster`, `data`, `action`, `background`, lazy-loading attributes (`data-src`,
//! `data-srcset`, ...), SVG `href`/`xlink:href`, `<meta http-equiv=refresh>`, inline `style`
//! and `<style>` text (through [`crate::css`]). A `<base href>` changes how later references
//! resolve and is dropped from a rewritten copy, whose links are relative to each file.
//! Where a reference is rewritten on `<link>` or `<script>`, `integrity` and `crossorigin`
//! go too: the local file may differ from what was hashed, and a `file://` page cannot make
//! CORS requests.
//!
//! ```
//! use ace_replicator::html::{process, RefKind};
//! let base = url::Url::parse("http://example.com/docs/").unwrap();
//! let html = r#"<img srcset="a.png 1x, b.png 2x"><a href="/x">x</a>"#;
//! let out = process(html, &base, true, &mut |url, kind| match kind {
//!     RefKind::Embed => Some(format!("local{}", url.path())),
//!     _ => None,
//! }).unwrap();
//! assert_eq!(out, r#"<img srcset="local/docs/a.png 1x, local/docs/b.png 2x"><a href="/x">x</a>"#);
//! ```

use std::cell::RefCell;

use lol_html::html_content::ContentType;
use lol_html::{element, rewrite_str, text, HtmlRewriter, RewriteStrSettings, Settings};
use url::Url;

/// What a reference does to the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    /// A navigation: `<a href>`, `<form action>`, a meta refresh.
    Link,
    /// Something the page loads to show itself: images, scripts, styles, fonts, media.
    Embed,
    /// A document shown inside the page (`<iframe>`, `<frame>`): loaded like an embed, and
    /// its own references are loaded too.
    Frame,
}

/// Why an HTML document could not be processed.
#[derive(Debug, thiserror::Error)]
#[error("cannot parse HTML: {0}")]
pub struct HtmlError(String);

/// Attributes that hold one URL, with the kind of reference they make, by tag (`*`: any tag).
const URL_ATTRIBUTES: &[(&str, &str, RefKind)] = &[
    ("a", "href", RefKind::Link),
    ("area", "href", RefKind::Link),
    ("form", "action", RefKind::Link),
    ("button", "formaction", RefKind::Link),
    ("iframe", "src", RefKind::Frame),
    ("frame", "src", RefKind::Frame),
    ("img", "src", RefKind::Embed),
    ("script", "src", RefKind::Embed),
    ("embed", "src", RefKind::Embed),
    ("video", "src", RefKind::Embed),
    ("video", "poster", RefKind::Embed),
    ("audio", "src", RefKind::Embed),
    ("source", "src", RefKind::Embed),
    ("track", "src", RefKind::Embed),
    ("input", "src", RefKind::Embed),
    ("object", "data", RefKind::Embed),
    ("body", "background", RefKind::Embed),
    ("table", "background", RefKind::Embed),
    ("td", "background", RefKind::Embed),
    ("th", "background", RefKind::Embed),
    ("image", "href", RefKind::Embed),
    ("image", "xlink:href", RefKind::Embed),
    ("use", "href", RefKind::Embed),
    ("use", "xlink:href", RefKind::Embed),
    ("feimage", "href", RefKind::Embed),
    ("*", "data-src", RefKind::Embed),
    ("*", "data-original", RefKind::Embed),
    ("*", "data-lazy-src", RefKind::Embed),
    ("*", "data-bg", RefKind::Embed),
    ("*", "data-background", RefKind::Embed),
    ("*", "data-poster", RefKind::Embed),
];

/// Attributes that hold a `srcset` list.
const SRCSET_ATTRIBUTES: &[&str] = &["srcset", "imagesrcset", "data-srcset", "data-lazy-srcset"];

/// `<link rel>` values whose `href` the page loads.
const LOADED_RELS: &[&str] = &[
    "stylesheet",
    "icon",
    "shortcut",
    "apple-touch-icon",
    "apple-touch-icon-precomposed",
    "mask-icon",
    "preload",
    "modulepreload",
    "manifest",
    "prefetch",
];

/// A selector for the elements [`process_with`] must see: those that may carry a reference
/// (an attribute of [`URL_ATTRIBUTES`] or [`SRCSET_ATTRIBUTES`], `style`), and the few it
/// treats by tag. Most elements of a page have none of these, and are passed over.
fn interesting_elements() -> &'static str {
    static SELECTOR: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let mut parts: Vec<String> =
            ["head", "base", "meta", "script", "link"].iter().map(|t| (*t).to_owned()).collect();
        for (tag, attr, _) in URL_ATTRIBUTES {
            if attr.contains(':') {
                parts.push((*tag).to_owned()); // `xlink:href`: by tag
            } else {
                parts.push(format!("[{attr}]"));
            }
        }
        parts.extend(SRCSET_ATTRIBUTES.iter().map(|a| format!("[{a}]")));
        parts.push("[style]".into());
        parts.sort();
        parts.dedup();
        parts.join(", ")
    });
    &SELECTOR
}

/// Whether a raw reference can point anywhere: `data:`, `javascript:`, `mailto:`, `about:`
/// and fragment-only references stay as they are.
pub fn is_fetchable(raw: &str) -> bool {
    let r = raw.trim_start();
    if r.is_empty() || r.starts_with('#') {
        return false;
    }
    let lower: String = r.chars().take(11).collect::<String>().to_ascii_lowercase();
    !["data:", "javascript:", "mailto:", "about:", "tel:", "blob:", "sms:"]
        .iter()
        .any(|p| lower.starts_with(p))
}

/// The Content-Security-Policy a contained copy carries (see [`Rewrite::contain`]): anything
/// from the copy itself (`'self'`, which for a `file://` page is its folder), inline code and
/// `data:`/`blob:` URLs; nothing from any other host.
pub const CONTAINMENT_POLICY: &str =
    "default-src 'self' 'unsafe-inline' 'unsafe-eval' data: blob:; form-action 'self'";

/// What a rewriting pass does besides mapping references.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rewrite {
    /// Put a `<meta http-equiv="Content-Security-Policy">` with [`CONTAINMENT_POLICY`] first
    /// in `<head>`, so that what the copy did not capture (a script's call to an API on
    /// another host, a font from a CDN) is refused by the browser instead of fetched from
    /// the live web: the copy then works, and is seen to work, with only itself.
    pub contain: bool,
    /// Drop `<script>` elements that hold or load code (data blocks such as JSON-LD stay):
    /// for a DOM snapshot taken after scripts ran, whose effects are already in the markup
    /// and would otherwise be applied twice.
    pub strip_scripts: bool,
}

/// Visits every reference of `html` (resolved against `base` and any `<base href>`), calling
/// `map` with the absolute URL and its kind. With `rewrite`, a reference `map` answers with a
/// replacement is rewritten and `<base>` is removed, and the rewritten document returned;
/// otherwise the document is only read (and an empty string returned).
pub fn process(
    html: &str,
    base: &Url,
    rewrite: bool,
    map: &mut dyn FnMut(&Url, RefKind) -> Option<String>,
) -> Result<String, HtmlError> {
    process_with(html, base, rewrite.then_some(Rewrite::default()), map)
}

/// [`process`], rewriting as `rewrite` says when it is given.
pub fn process_with(
    html: &str,
    base: &Url,
    rewrite: Option<Rewrite>,
    map: &mut dyn FnMut(&Url, RefKind) -> Option<String>,
) -> Result<String, HtmlError> {
    let settings_in = rewrite.unwrap_or_default();
    let rewrite = rewrite.is_some();
    let contained = std::cell::Cell::new(!settings_in.contain);
    let policy_meta =
        format!("<meta http-equiv=\"Content-Security-Policy\" content=\"{CONTAINMENT_POLICY}\">");
    let state = RefCell::new((base.clone(), map));
    let style_text = RefCell::new(String::new());
    let resolve = |raw: &str, kind: RefKind| -> Option<String> {
        if !is_fetchable(raw) {
            return None;
        }
        let mut st = state.borrow_mut();
        let url = st.0.join(raw.trim()).ok()?;
        if !matches!(url.scheme(), "http" | "https") {
            return None;
        }
        (st.1)(&url, kind)
    };
    let css_map = |css: &str| -> Option<String> {
        let mut changed = false;
        let out = crate::css::rewrite(css, &mut |r| {
            let new = resolve(r, RefKind::Embed);
            changed |= new.is_some();
            new
        });
        changed.then_some(out)
    };
    let element_handler = element!(interesting_elements(), |el| {
        let tag = el.tag_name().to_ascii_lowercase();
        if tag == "head" && !contained.get() {
            el.prepend(&policy_meta, ContentType::Html);
            contained.set(true);
        }
        if tag == "script" && settings_in.strip_scripts && is_code(el.get_attribute("type")) {
            el.remove();
            return Ok(());
        }
        if tag == "base" {
            if let Some(href) = el.get_attribute("href") {
                let mut st = state.borrow_mut();
                if let Ok(new_base) = st.0.join(decode(&href).trim()) {
                    st.0 = new_base;
                }
            }
            if rewrite {
                el.remove();
            }
            return Ok(());
        }
        let mut rewrote_load = false;
        let names: Vec<String> =
            el.attributes().iter().map(|a| a.name().to_ascii_lowercase()).collect();
        for name in &names {
            let Some(raw) = el.get_attribute(name) else { continue };
            let raw = decode(&raw);
            let kind = if name == "href" && tag == "link" {
                let rel = el.get_attribute("rel").unwrap_or_default().to_ascii_lowercase();
                Some(if rel.split_whitespace().any(|r| LOADED_RELS.contains(&r)) {
                    RefKind::Embed
                } else {
                    RefKind::Link
                })
            } else {
                URL_ATTRIBUTES
                    .iter()
                    .find(|(t, a, _)| (*t == tag || *t == "*") && a == name)
                    .map(|(_, _, k)| *k)
            };
            let new = if let Some(kind) = kind {
                resolve(&raw, kind)
            } else if SRCSET_ATTRIBUTES.contains(&name.as_str()) {
                rewrite_srcset(&raw, &mut |r| resolve(r, RefKind::Embed))
            } else if name == "style" {
                css_map(&raw)
            } else if name == "content" && tag == "meta" {
                let refresh = el
                    .get_attribute("http-equiv")
                    .is_some_and(|v| v.eq_ignore_ascii_case("refresh"));
                if refresh {
                    rewrite_refresh(&raw, &mut |r| resolve(r, RefKind::Link))
                } else {
                    None
                }
            } else {
                None
            };
            if let (true, Some(new)) = (rewrite, new) {
                el.set_attribute(name, &new)?;
                rewrote_load |= kind != Some(RefKind::Link);
            }
        }
        if rewrite && rewrote_load && (tag == "link" || tag == "script") {
            el.remove_attribute("integrity");
            el.remove_attribute("crossorigin");
        }
        if rewrite && tag == "meta" {
            if el.has_attribute("charset") {
                el.set_attribute("charset", "utf-8")?;
            } else if el
                .get_attribute("http-equiv")
                .is_some_and(|v| v.eq_ignore_ascii_case("content-type"))
            {
                el.set_attribute("content", "text/html; charset=utf-8")?;
            }
        }
        Ok(())
    });
    let style_handler = text!("style", |chunk| {
        let mut text = style_text.borrow_mut();
        text.push_str(chunk.as_str());
        if !chunk.last_in_text_node() {
            if rewrite {
                chunk.remove();
            }
            return Ok(());
        }
        let css = std::mem::take(&mut *text);
        let new = css_map(&css);
        if rewrite {
            chunk.replace(new.as_deref().unwrap_or(&css), ContentType::Html);
        }
        Ok(())
    });
    let handlers = vec![element_handler, style_handler];
    let out = if rewrite {
        let settings =
            RewriteStrSettings { element_content_handlers: handlers, ..RewriteStrSettings::new() };
        rewrite_str(html, settings).map_err(|e| HtmlError(e.to_string()))?
    } else {
        // Only reading: the serialised output would be thrown away, so none is built.
        let settings = Settings { element_content_handlers: handlers, ..Settings::new() };
        let mut reader = HtmlRewriter::new(settings, |_: &[u8]| {});
        reader.write(html.as_bytes()).map_err(|e| HtmlError(e.to_string()))?;
        reader.end().map_err(|e| HtmlError(e.to_string()))?;
        String::new()
    };
    if contained.get() {
        return Ok(out);
    }
    // No <head> tag: the policy goes first, after any doctype (before it would change the
    // page to quirks mode); the parser opens the implied <head> for it.
    let lead = out.len() - out.trim_start().len();
    let at = if out[lead..].get(..9).is_some_and(|d| d.eq_ignore_ascii_case("<!doctype")) {
        out[lead..].find('>').map_or(0, |i| lead + i + 1)
    } else {
        0
    };
    Ok(format!("{}{policy_meta}{}", &out[..at], &out[at..]))
}

/// Whether a `<script type>` is JavaScript (absent, a JavaScript MIME type, or `module`)
/// rather than a data block such as `application/ld+json`.
fn is_code(script_type: Option<String>) -> bool {
    let Some(t) = script_type else { return true };
    let t = t.trim().to_ascii_lowercase();
    t.is_empty()
        || t == "module"
        || t.contains("javascript")
        || t.contains("ecmascript")
        || t == "text/jscript"
        || t == "text/livescript"
}

/// Decodes the character references an attribute value may carry.
fn decode(raw: &str) -> String {
    if raw.contains('&') {
        html_escape::decode_html_entities(raw).into_owned()
    } else {
        raw.to_owned()
    }
}

/// Rewrites the URLs of a `srcset` list (`url [descriptor], ...`), keeping descriptors.
pub fn rewrite_srcset(srcset: &str, map: &mut dyn FnMut(&str) -> Option<String>) -> Option<String> {
    let mut out = Vec::new();
    let mut changed = false;
    for (url, descriptor) in parse_srcset(srcset) {
        let new = map(&url);
        changed |= new.is_some();
        let url = new.unwrap_or(url);
        out.push(if descriptor.is_empty() { url } else { format!("{url} {descriptor}") });
    }
    changed.then(|| out.join(", "))
}

/// The candidates of a `srcset`, as the HTML standard splits them: a URL runs to
/// whitespace (a trailing comma ends it), descriptors run to the next comma.
pub fn parse_srcset(srcset: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let s = srcset;
    let mut i = 0;
    let b = s.as_bytes();
    loop {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b',') {
            i += 1;
        }
        if i >= b.len() {
            return out;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut url = &s[start..i];
        let mut descriptor = "";
        if url.ends_with(',') {
            url = url.trim_end_matches(',');
        } else {
            let d_start = i;
            let mut depth = 0;
            while i < b.len() && !(b[i] == b',' && depth == 0) {
                match b[i] {
                    b'(' => depth += 1,
                    b')' => depth = (depth - 1).max(0),
                    _ => {}
                }
                i += 1;
            }
            descriptor = s[d_start..i].trim();
        }
        out.push((url.to_owned(), descriptor.to_owned()));
    }
}

/// Rewrites the URL of a meta refresh (`5; url=page.html`).
fn rewrite_refresh(content: &str, map: &mut dyn FnMut(&str) -> Option<String>) -> Option<String> {
    let lower = content.to_ascii_lowercase();
    let at = lower.find("url")?;
    let rest = &content[at + 3..];
    let eq = rest.find('=')?;
    let before_eq = rest[..eq].trim();
    if !before_eq.is_empty() {
        return None;
    }
    let value = rest[eq + 1..].trim().trim_matches(|c| c == '\'' || c == '"');
    let new = map(value)?;
    Some(format!("{}url={new}", &content[..at]))
}

/// The charset a response declares, in its `Content-Type` or in a `<meta>` near the top.
pub fn charset(content_type: Option<&str>, body: &[u8]) -> &'static encoding_rs::Encoding {
    let from_header = content_type.and_then(|ct| {
        let lower = ct.to_ascii_lowercase();
        let at = lower.find("charset=")?;
        encoding_rs::Encoding::for_label(
            lower[at + 8..].trim_matches(|c| c == '"' || c == ' ').as_bytes(),
        )
    });
    if let Some(e) = from_header {
        return e;
    }
    let head = String::from_utf8_lossy(&body[..body.len().min(2048)]).to_ascii_lowercase();
    if let Some(at) = head.find("charset=") {
        let label: String = head[at + 8..]
            .trim_start_matches(['"', '\''])
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        if let Some(e) = encoding_rs::Encoding::for_label(label.as_bytes()) {
            return e;
        }
    }
    encoding_rs::UTF_8
}

/// The body of an HTML (or CSS) response as text, decoded by its declared charset.
pub fn decode_body(content_type: Option<&str>, body: &[u8]) -> String {
    let encoding = charset(content_type, body);
    // UTF-16 labels in a <meta> are read as UTF-8 (the standard's rule for ASCII-compatible parsing).
    let encoding = if encoding == encoding_rs::UTF_16LE || encoding == encoding_rs::UTF_16BE {
        encoding_rs::UTF_8
    } else {
        encoding
    };
    encoding.decode_with_bom_removal(body).0.into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containment_policy_goes_first_in_head_or_after_the_doctype() {
        let base = Url::parse("http://site.test/").unwrap();
        let contain = Some(Rewrite { contain: true, ..Rewrite::default() });
        let run = |html: &str| process_with(html, &base, contain, &mut |_, _| None).unwrap();
        let meta = format!(
            "<meta http-equiv=\"Content-Security-Policy\" content=\"{CONTAINMENT_POLICY}\">"
        );
        assert_eq!(
            run("<!doctype html><html><head><title>t</title></head><body>x</body></html>"),
            format!(
                "<!doctype html><html><head>{meta}<title>t</title></head><body>x</body></html>"
            )
        );
        // One policy, even with a second <head> (invalid, but seen).
        assert_eq!(run("<head></head><head></head>").matches("Content-Security").count(), 1);
        // No <head>: after the doctype, so the page stays in standards mode.
        assert_eq!(run("  <!DOCTYPE html><p>x"), format!("  <!DOCTYPE html>{meta}<p>x"));
        assert_eq!(run("<p>x"), format!("{meta}<p>x"));
        // Reading, or rewriting without containment, adds nothing.
        assert_eq!(
            process("<head></head>", &base, true, &mut |_, _| None).unwrap(),
            "<head></head>"
        );
    }

    #[test]
    fn elements_are_found_whatever_their_case() {
        let found = refs(
            r#"<IMG SRC="up.png"><Div Style="background:url(bg.png)"></Div><svg><USE XLINK:HREF="s.svg#i"/></svg>"#,
        );
        for want in ["/dir/up.png", "/dir/bg.png", "/dir/s.svg#i"] {
            assert!(found.iter().any(|(u, _)| u.ends_with(want)), "{want} not in {found:?}");
        }
    }

    #[test]
    fn stripping_scripts_keeps_data_blocks() {
        let base = Url::parse("http://site.test/").unwrap();
        let strip = Some(Rewrite { strip_scripts: true, ..Rewrite::default() });
        let html = r#"<script>a()</script><script src="b.js"></script><script type="module">c()</script><script type="text/javascript">d()</script><script type="application/ld+json">{"@type":"Thing"}</script><script type="text/template"><p>t</p></script><p>kept</p>"#;
        let out = process_with(html, &base, strip, &mut |_, _| None).unwrap();
        assert_eq!(
            out,
            r#"<script type="application/ld+json">{"@type":"Thing"}</script><script type="text/template"><p>t</p></script><p>kept</p>"#
        );
    }

    fn refs(html: &str) -> Vec<(String, RefKind)> {
        let base = Url::parse("http://site.test/dir/page.html").unwrap();
        let mut found = Vec::new();
        process(html, &base, false, &mut |u, k| {
            found.push((u.to_string(), k));
            None
        })
        .unwrap();
        found
    }

    #[test]
    fn finds_references_in_every_place() {
        let html = r##"<!doctype html><html><head>
            <link rel="stylesheet" href="s.css" integrity="sha384-x"><link rel="canonical" href="/c">
            <link rel="icon" href="/favicon.ico"><style>body{background:url(bg.png)}</style>
            <meta http-equiv="refresh" content="0; url=next.html"></head>
            <body style="background-image:url('inline.png')">
            <img src="a.png" srcset="a1.png 1x, a2.png 2x" data-src="lazy.png" data-srcset="l1.png 100w,l2.png 200w">
            <picture><source srcset="p.webp" type="image/webp"></picture>
            <video poster="poster.jpg"><source src="v.mp4"></video><iframe src="frame.html"></iframe>
            <svg><image href="svg.png"/><use xlink:href="sprite.svg#i"/></svg>
            <a href="data:text/plain,x">d</a><a href="javascript:void(0)">j</a><a href="#top">t</a>
            <a href="other.html?x=1&amp;y=2">o</a><object data="o.swf"></object><form action="/search"></form>
            </body></html>"##;
        let found: Vec<String> = refs(html)
            .into_iter()
            .map(|(u, _)| u.trim_start_matches("http://site.test").to_owned())
            .collect();
        for want in [
            "/dir/s.css",
            "/c",
            "/favicon.ico",
            "/dir/bg.png",
            "/dir/next.html",
            "/dir/inline.png",
            "/dir/a.png",
            "/dir/a1.png",
            "/dir/a2.png",
            "/dir/lazy.png",
            "/dir/l1.png",
            "/dir/l2.png",
            "/dir/p.webp",
            "/dir/poster.jpg",
            "/dir/v.mp4",
            "/dir/frame.html",
            "/dir/svg.png",
            "/dir/sprite.svg#i",
            "/dir/other.html?x=1&y=2",
            "/dir/o.swf",
            "/search",
        ] {
            assert!(found.iter().any(|f| f == want), "missing {want} in {found:?}");
        }
        assert!(
            !found
                .iter()
                .any(|f| f.contains("data:") || f.contains("javascript") || f.contains("#top")),
            "{found:?}"
        );
        let kinds = refs(html);
        let kind_of = |p: &str| kinds.iter().find(|(u, _)| u.ends_with(p)).map(|(_, k)| *k);
        assert_eq!(kind_of("/c"), Some(RefKind::Link));
        assert_eq!(kind_of("/dir/s.css"), Some(RefKind::Embed));
        assert_eq!(kind_of("/dir/frame.html"), Some(RefKind::Frame));
    }

    #[test]
    fn base_href_changes_resolution_and_is_dropped_when_rewriting() {
        let html = r#"<head><base href="http://cdn.test/assets/"></head><img src="x.png">"#;
        assert_eq!(refs(html), vec![("http://cdn.test/assets/x.png".to_owned(), RefKind::Embed)]);
        let base = Url::parse("http://site.test/").unwrap();
        let out = process(html, &base, true, &mut |u, _| Some(format!("L{}", u.path()))).unwrap();
        assert_eq!(out, r#"<head></head><img src="L/assets/x.png">"#);
    }

    #[test]
    fn rewriting_drops_integrity_and_keeps_untouched_bytes() {
        let base = Url::parse("http://site.test/").unwrap();
        let html = "<link rel=stylesheet href=s.css integrity=sha-x crossorigin><script src=\"j.js\" integrity=\"y\"></script>\
                    <style>a > b { background: url(\"x.png\") }</style><p class=x>héllo &amp; <b>bye</b></p>";
        let out = process(html, &base, true, &mut |u, _| {
            Some(u.path().trim_start_matches('/').to_owned())
        })
        .unwrap();
        assert_eq!(out, "<link rel=stylesheet href=\"s.css\"><script src=\"j.js\"></script>\
                         <style>a > b { background: url(\"x.png\") }</style><p class=x>héllo &amp; <b>bye</b></p>");
    }

    #[test]
    fn srcset_parsing_follows_the_standard() {
        assert_eq!(
            parse_srcset(" a.png 1x,b.png  2x , c,d.png, e.png 100w"),
            vec![
                ("a.png".into(), "1x".into()),
                ("b.png".into(), "2x".into()),
                ("c,d.png".into(), "".into()),
                ("e.png".into(), "100w".into())
            ]
        );
        assert_eq!(
            parse_srcset("data:image/png;base64,AAA= 1x"),
            vec![("data:image/png;base64,AAA=".into(), "1x".into())]
        );
    }

    #[test]
    fn charsets_are_honoured() {
        let latin1 = b"<meta charset=\"iso-8859-1\"><p>caf\xe9</p>";
        assert!(decode_body(None, latin1).contains("café"));
        assert!(decode_body(Some("text/html; charset=windows-1252"), b"\x80").contains('€'));
        let base = Url::parse("http://site.test/").unwrap();
        let out = process(&decode_body(None, latin1), &base, true, &mut |_, _| None).unwrap();
        assert!(out.contains("charset=\"utf-8\"") && out.contains("café"), "{out}");
    }
}
