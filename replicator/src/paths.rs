//! Where each captured URL lives in the copy, and how one file of the copy links to another.
//!
//! A URL becomes a relative file path that is safe on every file system and can never leave
//! the output folder: each path segment is percent-decoded, then stripped of separators,
//! control and reserved characters; `.`/`..`/empty segments and Windows device names are
//! renamed; segments and whole paths are bounded in length (with a hash so bounded names stay
//! distinct). A query string becomes a short hash in the file name, so `a.css?v=1` and
//! `a.css?v=2` are two deterministic files; the content type fixes the extension (`/about`
//! served as HTML is `about.html`). The start host's files sit at the root; every other host
//! gets its own folder under `_hosts/`.
//!
//! ```
//! use ace_replicator::paths::{local_path, relative_href};
//! let start = url::Url::parse("http://example.com/").unwrap();
//! let url = url::Url::parse("http://example.com/docs/..%2F..%2Fetc/passwd").unwrap();
//! assert_eq!(local_path(&start, &url, Some("text/html")), "docs/.._.._etc/passwd.html");
//! let url = url::Url::parse("http://cdn.example.net/f.woff2?v=3").unwrap();
//! assert_eq!(local_path(&start, &url, Some("font/woff2")), "_hosts/cdn.example.net/f_q951eba4f.woff2");
//! assert_eq!(relative_href("docs/a/page.html", "css/site.css"), "../../css/site.css");
//! ```

use sha2::{Digest, Sha256};
use url::Url;

/// Longest file or folder name written, in bytes.
const MAX_SEGMENT: usize = 80;
/// Longest relative path written, in bytes; longer ones move under `_long/`.
const MAX_PATH: usize = 220;
/// The folder of hosts other than the start host.
pub const HOSTS_DIR: &str = "_hosts";

/// The extensions each content type may carry; the first is added when the name has none of them.
const EXTENSIONS: &[(&str, &[&str])] = &[
    ("text/html", &["html", "htm"]),
    ("application/xhtml+xml", &["xhtml", "html"]),
    ("text/css", &["css"]),
    ("text/javascript", &["js", "mjs"]),
    ("application/javascript", &["js", "mjs"]),
    ("application/x-javascript", &["js", "mjs"]),
    ("application/json", &["json"]),
    ("application/manifest+json", &["webmanifest", "json"]),
    ("image/png", &["png"]),
    ("image/jpeg", &["jpg", "jpeg"]),
    ("image/gif", &["gif"]),
    ("image/webp", &["webp"]),
    ("image/avif", &["avif"]),
    ("image/svg+xml", &["svg"]),
    ("image/x-icon", &["ico"]),
    ("image/vnd.microsoft.icon", &["ico"]),
    ("font/woff2", &["woff2"]),
    ("font/woff", &["woff"]),
    ("font/ttf", &["ttf"]),
    ("font/otf", &["otf"]),
    ("application/font-woff", &["woff"]),
    ("application/font-woff2", &["woff2"]),
    ("text/plain", &["txt"]),
];

/// The bare media type of a `Content-Type` value, lower-case.
pub fn media_type(content_type: &str) -> String {
    content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

/// The relative path (with `/` separators) of `url` in a copy of the site that starts at
/// `start`, for a response of `content_type`.
pub fn local_path(start: &Url, url: &Url, content_type: Option<&str>) -> String {
    let mut segments: Vec<String> = Vec::new();
    if !same_host(start, url) {
        segments.push(HOSTS_DIR.to_owned());
        let mut host = url.host_str().unwrap_or("no-host").to_owned();
        if let Some(port) = url.port() {
            host.push_str(&format!("_{port}"));
        }
        segments.push(sanitize_segment(&host));
    }
    let raw: Vec<&str> = url.path().split('/').skip(1).collect();
    let dir_like = raw.last().is_none_or(|s| s.is_empty());
    let count = raw.len();
    for (i, seg) in raw.into_iter().enumerate() {
        if i + 1 == count && seg.is_empty() {
            break;
        }
        let mut clean = sanitize_segment(&percent_decode(seg));
        if segments.is_empty() && clean == HOSTS_DIR {
            clean.push('_');
        }
        segments.push(clean);
    }
    let media = content_type.map(media_type);
    let mut file = if dir_like {
        "index".to_owned()
    } else {
        segments.pop().unwrap_or_else(|| "index".to_owned())
    };
    if dir_like && media.as_deref().is_some_and(|m| !m.contains("html")) {
        file = "index".to_owned();
    }
    let (stem, ext) = split_ext(&file);
    let mut stem = stem.to_owned();
    let mut ext = ext.map(str::to_owned);
    if let Some(query) = url.query() {
        stem.push_str("_q");
        stem.push_str(&short_hash(query.as_bytes()));
    }
    let wanted =
        media.as_deref().and_then(|m| EXTENSIONS.iter().find(|(t, _)| *t == m)).map(|(_, e)| *e);
    match (wanted, &ext) {
        (Some(allowed), Some(e)) if allowed.contains(&e.to_ascii_lowercase().as_str()) => {}
        (Some(allowed), Some(e)) => {
            stem = format!("{stem}.{e}");
            ext = Some(allowed[0].to_owned());
        }
        (Some(allowed), None) => ext = Some(allowed[0].to_owned()),
        (None, _) if dir_like && ext.is_none() => ext = Some("html".to_owned()),
        (None, _) => {}
    }
    let file = bound(&match ext {
        Some(e) => format!("{stem}.{e}"),
        None => stem,
    });
    segments.push(file);
    let path = segments.join("/");
    if path.len() <= MAX_PATH {
        return path;
    }
    let ext = split_ext(segments.last().map(String::as_str).unwrap_or(""))
        .1
        .map(|e| format!(".{e}"))
        .unwrap_or_default();
    format!("_long/{}{ext}", full_hash(url.as_str().as_bytes()))
}

fn same_host(a: &Url, b: &Url) -> bool {
    a.host_str() == b.host_str() && a.port_or_known_default() == b.port_or_known_default()
}

/// Splits `name.ext`; names that start with a dot have no extension.
fn split_ext(name: &str) -> (&str, Option<&str>) {
    match name.rfind('.') {
        Some(i) if i > 0 && i + 1 < name.len() && name.len() - i <= 12 => {
            (&name[..i], Some(&name[i + 1..]))
        }
        _ => (name, None),
    }
}

/// Decodes `%xx` escapes; invalid UTF-8 becomes U+FFFD.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Some(v) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One file or folder name that is safe everywhere: no separators, no control or reserved
/// characters, never `.` or `..` or empty, never a Windows device name, bounded in length.
pub fn sanitize_segment(raw: &str) -> String {
    let mut s: String = raw
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' | '#' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    let trimmed = s.trim_end_matches(['.', ' ']).to_owned();
    if trimmed.is_empty() {
        return "_".to_owned();
    }
    s = trimmed;
    let stem = s.split('.').next().unwrap_or("").to_ascii_uppercase();
    const DEVICES: [&str; 22] = [
        "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
        "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
    ];
    if DEVICES.contains(&stem.as_str()) {
        s.insert(0, '_');
    }
    bound(&s)
}

/// Shortens a name past [`MAX_SEGMENT`] bytes, keeping its extension and adding a hash of
/// the whole so two long names stay distinct.
fn bound(name: &str) -> String {
    if name.len() <= MAX_SEGMENT {
        return name.to_owned();
    }
    let (stem, ext) = split_ext(name);
    let ext = ext.map(|e| format!(".{e}")).unwrap_or_default();
    let mut cut = MAX_SEGMENT - 9 - ext.len();
    while !stem.is_char_boundary(cut.min(stem.len())) {
        cut -= 1;
    }
    format!("{}-{}{ext}", &stem[..cut.min(stem.len())], short_hash(name.as_bytes()))
}

/// Eight hex digits of SHA-256.
pub fn short_hash(bytes: &[u8]) -> String {
    full_hash(bytes)[..8].to_owned()
}

/// Hex SHA-256.
pub fn full_hash(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The link from the file at `from` to the file at `to` (both relative to the copy's root),
/// percent-encoded so a browser resolves it to exactly that file, from `file://`, under any
/// path prefix, or on the replay server.
pub fn relative_href(from: &str, to: &str) -> String {
    let from_dirs: Vec<&str> = from.split('/').collect();
    let from_dirs = &from_dirs[..from_dirs.len().saturating_sub(1)];
    let to_parts: Vec<&str> = to.split('/').collect();
    let common =
        from_dirs.iter().zip(&to_parts).take_while(|(a, b)| a == b).count().min(to_parts.len() - 1);
    let mut out = String::new();
    for _ in common..from_dirs.len() {
        out.push_str("../");
    }
    let rest: Vec<String> = to_parts[common..].iter().map(|p| encode_segment(p)).collect();
    out.push_str(&rest.join("/"));
    if out.is_empty() || out.starts_with('/') {
        out.insert_str(0, "./");
    }
    // A first segment with a colon would read as a scheme.
    if out.split('/').next().is_some_and(|s| s.contains(':')) {
        out.insert_str(0, "./");
    }
    out
}

/// Escapes what a browser would not take literally in a path segment.
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '#' => out.push_str("%23"),
            '?' => out.push_str("%3F"),
            ' ' => out.push_str("%20"),
            '"' => out.push_str("%22"),
            '\'' => out.push_str("%27"),
            '(' => out.push_str("%28"),
            ')' => out.push_str("%29"),
            '\\' => out.push_str("%5C"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(url: &str, ct: Option<&str>) -> String {
        let start = Url::parse("http://site.test:8080/").unwrap();
        local_path(&start, &Url::parse(url).unwrap(), ct)
    }

    #[test]
    fn pages_and_assets_get_deterministic_safe_names() {
        assert_eq!(path("http://site.test:8080/", Some("text/html")), "index.html");
        assert_eq!(
            path("http://site.test:8080/docs/", Some("text/html; charset=utf-8")),
            "docs/index.html"
        );
        assert_eq!(path("http://site.test:8080/about", Some("text/html")), "about.html");
        assert_eq!(path("http://site.test:8080/a/b.css", Some("text/css")), "a/b.css");
        assert_eq!(path("http://site.test:8080/font", Some("font/woff2")), "font.woff2");
        assert_eq!(path("http://site.test:8080/x.php", Some("text/css")), "x.php.css");
        let v1 = path("http://site.test:8080/s.css?v=1", Some("text/css"));
        let v2 = path("http://site.test:8080/s.css?v=2", Some("text/css"));
        assert!(v1.starts_with("s_q") && v1.ends_with(".css") && v1 != v2, "{v1} {v2}");
        assert_eq!(v1, path("http://site.test:8080/s.css?v=1", Some("text/css")));
        assert_eq!(
            path("http://cdn.test/lib/x.js", Some("application/javascript")),
            "_hosts/cdn.test/lib/x.js"
        );
        assert_eq!(path("http://cdn.test:81/x.png", None), "_hosts/cdn.test_81/x.png");
        assert_eq!(path("http://site.test:8080/_hosts/x.png", None), "_hosts_/x.png");
        assert_eq!(path("http://site.test:8080/dir/", None), "dir/index.html");
    }

    #[test]
    fn hostile_paths_stay_inside() {
        for url in [
            "http://site.test:8080/%2e%2e/%2e%2e/etc/passwd",
            "http://site.test:8080/..%2f..%2fetc/passwd",
            "http://site.test:8080/a%5c..%5c..%5cwin.ini",
            "http://site.test:8080/C:%5cWindows/x",
            "http://site.test:8080/%2fetc/passwd",
            "http://site.test:8080/con.txt",
            "http://site.test:8080/a%00b",
        ] {
            let p = path(url, None);
            assert!(
                !p.starts_with('/') && !p.contains('\\') && !p.contains(':') && !p.contains('\0'),
                "{url} -> {p}"
            );
            assert!(p.split('/').all(|s| s != ".." && s != "." && !s.is_empty()), "{url} -> {p}");
            assert!(!p.split('/').any(|s| s.eq_ignore_ascii_case("con.txt")), "{url} -> {p}");
        }
    }

    #[test]
    fn long_names_are_bounded_and_distinct() {
        let a = path(&format!("http://site.test:8080/{}a.png", "x".repeat(300)), None);
        let b = path(&format!("http://site.test:8080/{}b.png", "x".repeat(300)), None);
        assert!(a.len() <= MAX_SEGMENT && a.ends_with(".png") && a != b, "{a}");
        let deep =
            path(&format!("http://site.test:8080/{}", "segment/".repeat(60)), Some("text/html"));
        assert!(deep.starts_with("_long/") && deep.ends_with(".html"), "{deep}");
    }

    #[test]
    fn relative_links_work_from_any_prefix() {
        assert_eq!(relative_href("index.html", "style.css"), "style.css");
        assert_eq!(relative_href("a/b/c.html", "a/x.png"), "../x.png");
        assert_eq!(relative_href("a/b.html", "a/b.html"), "b.html");
        assert_eq!(relative_href("index.html", "my file#1.png"), "my%20file%231.png");
        assert_eq!(relative_href("index.html", "c:x.png"), "./c:x.png");
        assert_eq!(
            relative_href("x/index.html", "_hosts/cdn.test/f.woff"),
            "../_hosts/cdn.test/f.woff"
        );
    }
}
