//! URL normalisation for deduplication: one spelling per resource.

use url::Url;

/// Query parameters that only track where a visitor came from.
const TRACKING: [&str; 9] =
    ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "gclid", "fbclid", "mc_cid", "mc_eid"];

/// Normalises `url` in place. The `url` crate already lower-cases scheme and host, drops
/// default ports and resolves dot segments; this also drops the fragment, upper-cases
/// percent-escapes, decodes escapes of unreserved characters, and (optionally) removes
/// tracking parameters.
pub fn normalize(url: &mut Url, strip_tracking: bool) {
    url.set_fragment(None);
    let path = canonical_escapes(url.path());
    if path != url.path() {
        url.set_path(&path);
    }
    if let Some(query) = url.query() {
        let query = canonical_escapes(query);
        let kept: Vec<&str> = query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .filter(|pair| !strip_tracking || !TRACKING.iter().any(|t| pair.split('=').next() == Some(*t)))
            .collect();
        if kept.is_empty() {
            url.set_query(None);
        } else {
            url.set_query(Some(&kept.join("&")));
        }
    }
}

/// Upper-cases `%xx` and decodes escapes of unreserved characters (`A-Z a-z 0-9 - . _ ~`).
fn canonical_escapes(s: &str) -> String {
    if !s.contains('%') {
        return s.to_owned();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%' && i + 2 < bytes.len())
            .then(|| std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()))
            .flatten();
        match escaped {
            Some(v) if v.is_ascii_alphanumeric() || matches!(v, b'-' | b'.' | b'_' | b'~') => out.push(v),
            Some(_) => out.extend_from_slice(&[b'%', bytes[i + 1].to_ascii_uppercase(), bytes[i + 2].to_ascii_uppercase()]),
            None => {
                out.push(bytes[i]);
                i += 1;
                continue;
            }
        }
        i += 3;
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str, strip: bool) -> String {
        let mut u = Url::parse(s).unwrap();
        normalize(&mut u, strip);
        u.to_string()
    }

    #[test]
    fn one_spelling_per_resource() {
        assert_eq!(norm("HTTP://Example.COM:80/a/./b/../c.html#frag", false), "http://example.com/a/c.html");
        assert_eq!(norm("https://example.com:443/%7euser/%2f%41", false), "https://example.com/~user/%2FA");
        assert_eq!(norm("http://e.com/p?utm_source=x&id=3&fbclid=y", true), "http://e.com/p?id=3");
        assert_eq!(norm("http://e.com/p?utm_source=x", true), "http://e.com/p");
        assert_eq!(norm("http://e.com/p?utm_source=x", false), "http://e.com/p?utm_source=x");
        assert_eq!(norm("http://e.com/%", false), "http://e.com/%");
        assert_eq!(norm("http://e.com/caf%C3%A9", false), "http://e.com/caf%C3%A9");
    }
}
