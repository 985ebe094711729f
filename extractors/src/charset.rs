//! Bytes to text: picks the page's encoding from the BOM, the bytes, the HTTP header and `<meta>`.

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_8};

/// How far into the page `<meta charset>` is looked for (HTML says 1024; real pages put
/// comments and scripts first, so look a little further).
const PRESCAN: usize = 4096;

/// Decodes `bytes` to text and names the encoding used.
///
/// Order: a byte order mark wins; then bytes that are valid UTF-8 are UTF-8 (a legacy
/// encoding practically never yields valid multi-byte UTF-8, while "UTF-8 page, stale
/// `iso-8859-1` meta" is common); then the `Content-Type` charset; then `<meta charset>` or
/// `http-equiv`; then a statistical guess (chardetng).
pub fn decode<'a>(
    bytes: &'a [u8],
    content_type: Option<&str>,
) -> (Cow<'a, str>, &'static Encoding) {
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        let (text, _) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        return (text, enc);
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return (Cow::Borrowed(s), UTF_8);
    }
    let declared = content_type
        .and_then(charset_param)
        .and_then(|l| Encoding::for_label(l.as_bytes()))
        .or_else(|| meta_charset(&bytes[..bytes.len().min(PRESCAN)]));
    let enc = match declared {
        // A page that reached us as bytes is not UTF-16 unless it had a BOM (HTML's rule).
        Some(e) if e == encoding_rs::UTF_16LE || e == encoding_rs::UTF_16BE => UTF_8,
        Some(e) => e,
        None => {
            let mut det = chardetng::EncodingDetector::new();
            det.feed(&bytes[..bytes.len().min(64 * 1024)], bytes.len() <= 64 * 1024);
            det.guess(None, true)
        }
    };
    let (text, _) = enc.decode_without_bom_handling(bytes);
    (text, enc)
}

/// The `charset` parameter of a `Content-Type` value.
fn charset_param(ct: &str) -> Option<String> {
    let lower = ct.to_ascii_lowercase();
    let at = lower.find("charset=")?;
    let v = lower[at + 8..].trim_start().trim_start_matches(['"', '\'']);
    let end =
        v.find(|c: char| c == '"' || c == '\'' || c == ';' || c.is_whitespace()).unwrap_or(v.len());
    (end > 0).then(|| v[..end].to_string())
}

/// The encoding declared by `<meta charset=...>` or `<meta http-equiv content="...charset=...">`.
fn meta_charset(head: &[u8]) -> Option<&'static Encoding> {
    let lower = head.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = memchr::memmem::find(&lower[from..], b"<meta") {
        let start = from + i;
        let end = memchr::memchr(b'>', &lower[start..]).map_or(lower.len(), |e| start + e);
        let tag = &lower[start..end];
        if let Some(c) = memchr::memmem::find(tag, b"charset") {
            let mut v = &tag[c + 7..];
            while let [b' ' | b'\t' | b'\n' | b'\r', rest @ ..] = v {
                v = rest;
            }
            if let [b'=', rest @ ..] = v {
                v = rest;
                while let [b' ' | b'\t' | b'\n' | b'\r' | b'"' | b'\'', rest @ ..] = v {
                    v = rest;
                }
                let len = v
                    .iter()
                    .position(|b| {
                        matches!(b, b'"' | b'\'' | b';' | b' ' | b'/' | b'\t' | b'\n' | b'\r')
                    })
                    .unwrap_or(v.len());
                if let Some(e) = Encoding::for_label(&v[..len]) {
                    return Some(e);
                }
            }
        }
        from = end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_beats_everything() {
        let mut b = vec![0xEF, 0xBB, 0xBF];
        b.extend_from_slice("<meta charset=iso-8859-1>é".as_bytes());
        let (t, e) = decode(&b, Some("text/html; charset=shift_jis"));
        assert_eq!(e, UTF_8);
        assert!(t.ends_with('é'));
    }

    #[test]
    fn header_then_meta_then_guess() {
        let page = b"<html><head><meta charset=\"windows-1252\"></head><body>caf\xe9 \x93quoted\x94</body>";
        let (t, e) = decode(page, None);
        assert_eq!(e.name(), "windows-1252");
        assert!(t.contains("café “quoted”"));
        let (_, e) = decode(page, Some("text/html; charset=ISO-8859-2"));
        assert_eq!(e.name(), "ISO-8859-2");
        let bare =
            b"<p>Gr\xfc\xdfe aus M\xfcnchen, sch\xf6ne Gr\xfc\xdfe und viele Gr\xfc\xdfe</p>";
        let (t, _) = decode(bare, None);
        assert!(t.contains("Grüße"), "{t}");
    }

    #[test]
    fn valid_utf8_wins_over_a_stale_legacy_label() {
        let page = "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-1\"><p>Grüße</p>";
        let (t, e) = decode(page.as_bytes(), None);
        assert_eq!(e, UTF_8);
        assert!(t.contains("Grüße"));
    }

    #[test]
    fn charset_param_parses_quotes() {
        assert_eq!(charset_param("text/html; Charset=\"UTF-8\"").as_deref(), Some("utf-8"));
        assert_eq!(charset_param("text/html"), None);
    }
}
