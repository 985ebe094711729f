//! WACZ 1.1.1 of a capture: one zip (entries stored, as the spec asks for the WARC) holding
//! `archive/data.warc.gz` ([`crate::warc`]), `indexes/index.cdxj` (a CDXJ line per response,
//! sorted by SURT key and time), `pages/pages.jsonl` (the pages copied, with titles) and
//! `datapackage.json` (every file with its SHA-256 and size).
//!
//! ```
//! let capture = ace_replicator::capture::Capture {
//!     start: url::Url::parse("http://example.com/").unwrap(),
//!     exchanges: vec![], index: Default::default(), missing: vec![], requests: 0,
//!     disallowed_by_robots: 0, hit_page_limit: false, hit_byte_limit: false, cancelled: false,
//!     elapsed: std::time::Duration::ZERO, doms: Default::default(),
//! };
//! let zip = ace_replicator::wacz::write(&capture, std::io::Cursor::new(Vec::new())).unwrap().into_inner();
//! assert_eq!(&zip[..2], b"PK");
//! ```

use std::io::{Seek, Write};

use serde_json::json;
use sha2::{Digest, Sha256};
use url::Url;

use crate::capture::{Capture, Role};
use crate::ReplicateError;

/// The SURT form of a URL as CDXJ indexes key it: host labels reversed and comma-joined,
/// a leading `www.` dropped, then `)` and the path with the query's parameters sorted.
pub fn surt(url: &Url) -> String {
    let host = url.host_str().unwrap_or("").to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    let mut key =
        if url.host().is_some_and(|h| matches!(h, url::Host::Ipv4(_) | url::Host::Ipv6(_))) {
            host.replace('.', ",")
        } else {
            host.split('.').rev().collect::<Vec<_>>().join(",")
        };
    if let Some(port) = url.port() {
        key.push_str(&format!(":{port}"));
    }
    key.push(')');
    key.push_str(&url.path().to_ascii_lowercase());
    if let Some(q) = url.query() {
        let mut params: Vec<&str> = q.split('&').collect();
        params.sort_unstable();
        key.push('?');
        key.push_str(&params.join("&").to_ascii_lowercase());
    }
    key
}

fn title_of(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    let start = lower.find("<title")?;
    let open_end = lower[start..].find('>')? + start + 1;
    let end = lower[open_end..].find("</title")? + open_end;
    let title = html_escape::decode_html_entities(html[open_end..end].trim()).into_owned();
    (!title.is_empty()).then_some(title)
}

fn sha256(bytes: &[u8]) -> String {
    format!(
        "sha256:{}",
        Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

/// Writes `capture` as a WACZ to `out`.
pub fn write<W: Write + Seek>(capture: &Capture, out: W) -> Result<W, ReplicateError> {
    use zip::write::SimpleFileOptions;
    let zip_err = |e: zip::result::ZipError| ReplicateError::Zip(e.to_string());
    let io_err = |e: std::io::Error| ReplicateError::Zip(e.to_string());
    let mut warc = Vec::new();
    let records = crate::warc::write(capture, "data.warc.gz", &mut warc).map_err(io_err)?;

    let mut lines: Vec<String> = records
        .iter()
        .map(|r| {
            let ex = &capture.exchanges[r.exchange];
            let mime = ex.media_type();
            let fields = json!({
                "url": ex.url.as_str(), "mime": if mime.is_empty() { "unk".to_owned() } else { mime },
                "status": ex.status.to_string(), "digest": r.digest, "length": r.length.to_string(),
                "offset": r.offset.to_string(), "filename": "data.warc.gz",
            });
            format!("{} {} {fields}", surt(&ex.url), ex.date.format("%Y%m%d%H%M%S"))
        })
        .collect();
    lines.sort();
    let cdxj = lines.join("\n") + "\n";

    let mut pages = vec![
        json!({ "format": "json-pages-1.0", "id": "pages", "title": "All Pages" }).to_string(),
    ];
    for ex in capture
        .exchanges
        .iter()
        .filter(|e| matches!(e.role, Role::Page { .. }) && e.is_success() && e.is_html())
    {
        let text = crate::html::decode_body(ex.header("content-type"), &ex.body);
        let mut page = json!({ "id": uuid::Uuid::new_v4().simple().to_string(), "url": ex.url.as_str(), "ts": ex.date.to_rfc3339_opts(chrono::SecondsFormat::Secs, true) });
        if let Some(title) = title_of(&text) {
            page["title"] = json!(title);
        }
        pages.push(page.to_string());
    }
    let pages = pages.join("\n") + "\n";

    let files: [(&str, &str, &[u8]); 3] = [
        ("data.warc.gz", "archive/data.warc.gz", &warc),
        ("index.cdxj", "indexes/index.cdxj", cdxj.as_bytes()),
        ("pages.jsonl", "pages/pages.jsonl", pages.as_bytes()),
    ];
    let main = capture.exchanges.iter().find(|e| e.url == capture.start);
    let package = json!({
        "profile": "data-package",
        "wacz_version": "1.1.1",
        "title": format!("Copy of {}", capture.start),
        "mainPageURL": capture.start.as_str(),
        "mainPageDate": main.map(|e| e.date.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        "created": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "software": format!("ace-web/{}", env!("CARGO_PKG_VERSION")),
        "resources": files.iter().map(|(name, path, bytes)| json!({ "name": name, "path": path, "hash": sha256(bytes), "bytes": bytes.len() })).collect::<Vec<_>>(),
    });
    let package = serde_json::to_vec_pretty(&package).unwrap_or_default();

    let mut zip = zip::ZipWriter::new(out);
    let stored = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(warc.len() > u32::MAX as usize / 2);
    for (_, path, bytes) in files {
        zip.start_file(path, stored).map_err(zip_err)?;
        zip.write_all(bytes).map_err(io_err)?;
    }
    zip.start_file("datapackage.json", stored).map_err(zip_err)?;
    zip.write_all(&package).map_err(io_err)?;
    zip.finish().map_err(zip_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surt_keys() {
        let k = |u: &str| surt(&Url::parse(u).unwrap());
        assert_eq!(k("http://www.Example.com/A/b?z=1&a=2"), "com,example)/a/b?a=2&z=1");
        assert_eq!(k("http://127.0.0.1:8080/x.css"), "127,0,0,1:8080)/x.css");
        assert_eq!(k("https://sub.example.org/"), "org,example,sub)/");
    }

    #[test]
    fn titles() {
        assert_eq!(title_of("<html><head><TITLE>A &amp; B</TITLE>").as_deref(), Some("A & B"));
        assert_eq!(title_of("<p>no title</p>"), None);
    }
}
