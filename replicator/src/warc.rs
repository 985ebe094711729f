//! WARC 1.1 ([ISO 28500:2017]) of a capture: a `warcinfo` record, then a `request` and a
//! `response` record per exchange, each record its own gzip member (so readers can seek to
//! a record), with SHA-1 block and payload digests in base32 as the spec's examples use.
//!
//! Hand-written rather than through a crate: the format is a header block and a body per
//! record, and writing it directly keeps the digests and the header rewriting in view. The
//! fetcher hands over bodies already decoded, so a response record carries the decoded body
//! with `Content-Encoding`/`Transfer-Encoding` removed and `Content-Length` set to match;
//! the request record is the request the fetcher sent, reconstructed (method, target, host
//! and user agent).
//!
//! [ISO 28500:2017]: https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/
//!
//! ```
//! let capture = ace_replicator::capture::Capture {
//!     start: url::Url::parse("http://example.com/").unwrap(),
//!     exchanges: vec![], index: Default::default(), missing: vec![], requests: 0,
//!     disallowed_by_robots: 0, hit_page_limit: false, hit_byte_limit: false, cancelled: false,
//!     elapsed: std::time::Duration::ZERO, doms: Default::default(),
//! };
//! let mut out = Vec::new();
//! ace_replicator::warc::write(&capture, "copy.warc.gz", &mut out).unwrap();
//! assert_eq!(&out[..2], &[0x1f, 0x8b]); // gzip
//! ```

use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;
use sha1::{Digest, Sha1};

use crate::capture::{Capture, Exchange};

/// The headers that describe the bytes on the wire, which the stored body no longer has.
const WIRE_HEADERS: [&str; 3] = ["content-encoding", "transfer-encoding", "content-length"];

/// Where a response record sits in the WARC, for indexes (CDXJ).
#[derive(Debug, Clone)]
pub struct Indexed {
    /// The exchange's position in the capture.
    pub exchange: usize,
    /// Byte offset of the record's gzip member.
    pub offset: u64,
    /// Length of the gzip member.
    pub length: u64,
    /// The payload digest (`sha1:...`).
    pub digest: String,
}

/// Writes `capture` as a gzipped WARC 1.1 to `out`; `filename` goes in the `warcinfo` record.
/// Returns where each response record is.
pub fn write(
    capture: &Capture,
    filename: &str,
    out: &mut dyn Write,
) -> std::io::Result<Vec<Indexed>> {
    let mut at = 0u64;
    let mut index = Vec::with_capacity(capture.exchanges.len());
    let now = warc_date(&chrono::Utc::now());
    let info = format!(
        "software: ace-web/{}\r\nformat: WARC File Format 1.1\r\nconformsTo: http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\nisPartOf: {}\r\n",
        env!("CARGO_PKG_VERSION"),
        capture.start
    );
    let info_headers = vec![
        ("WARC-Type", "warcinfo".to_owned()),
        ("WARC-Record-ID", record_id()),
        ("WARC-Date", now),
        ("WARC-Filename", filename.replace(['\r', '\n'], "")),
        ("Content-Type", "application/warc-fields".to_owned()),
    ];
    at += record(out, &info_headers, info.as_bytes(), None)?;
    // Each record is its own gzip member, so members are compressed on every core and then
    // written in order.
    let warcinfo_id = info_headers[1].1.clone();
    let members = crate::in_parallel(&capture.exchanges, &|ex: &Exchange| {
        let date = warc_date(&ex.date);
        let response_id = record_id();
        let request_id = record_id();
        let (http_head, payload) = response_block(ex);
        let mut block = http_head.into_bytes();
        block.extend_from_slice(payload);
        let response_headers = vec![
            ("WARC-Type", "response".to_owned()),
            ("WARC-Record-ID", response_id.clone()),
            ("WARC-Date", date.clone()),
            ("WARC-Target-URI", ex.url.to_string()),
            ("WARC-Warcinfo-ID", warcinfo_id.clone()),
            ("Content-Type", "application/http;msgtype=response".to_owned()),
        ];
        let response = member(&response_headers, &block, Some(payload));
        let request = request_block(ex);
        let request_headers = vec![
            ("WARC-Type", "request".to_owned()),
            ("WARC-Record-ID", request_id),
            ("WARC-Date", date),
            ("WARC-Target-URI", ex.url.to_string()),
            ("WARC-Concurrent-To", response_id),
            ("WARC-Warcinfo-ID", warcinfo_id.clone()),
            ("Content-Type", "application/http;msgtype=request".to_owned()),
        ];
        let request = member(&request_headers, request.as_bytes(), None);
        (response, request, digest(payload))
    });
    for (i, (response, request, digest)) in members.into_iter().enumerate() {
        let (response, request) = (response?, request?);
        out.write_all(&response)?;
        index.push(Indexed { exchange: i, offset: at, length: response.len() as u64, digest });
        at += response.len() as u64;
        out.write_all(&request)?;
        at += request.len() as u64;
    }
    Ok(index)
}

/// Writes one record as its own gzip member; returns the member's length.
fn record(
    out: &mut dyn Write,
    headers: &[(&str, String)],
    block: &[u8],
    payload: Option<&[u8]>,
) -> std::io::Result<u64> {
    let member = member(headers, block, payload)?;
    out.write_all(&member)?;
    Ok(member.len() as u64)
}

/// One record as a gzip member.
fn member(
    headers: &[(&str, String)],
    block: &[u8],
    payload: Option<&[u8]>,
) -> std::io::Result<Vec<u8>> {
    let mut head = String::from("WARC/1.1\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("WARC-Block-Digest: {}\r\n", digest(block)));
    if let Some(payload) = payload {
        head.push_str(&format!("WARC-Payload-Digest: {}\r\n", digest(payload)));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", block.len()));
    let mut gz = GzEncoder::new(Vec::with_capacity(block.len() / 2 + 512), Compression::fast());
    gz.write_all(head.as_bytes())?;
    gz.write_all(block)?;
    gz.write_all(b"\r\n\r\n")?;
    gz.finish()
}

/// The HTTP response head (status line and headers) and the payload.
fn response_block(ex: &Exchange) -> (String, &[u8]) {
    let mut head = format!("HTTP/1.1 {} {}\r\n", ex.status, reason(ex.status));
    for (name, value) in &ex.headers {
        if WIRE_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            continue;
        }
        head.push_str(&format!("{name}: {}\r\n", value.replace(['\r', '\n'], " ")));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", ex.body.len()));
    (head, &ex.body)
}

fn request_block(ex: &Exchange) -> String {
    let target = match ex.url.query() {
        Some(q) => format!("{}?{q}", ex.url.path()),
        None => ex.url.path().to_owned(),
    };
    let host = match ex.url.port() {
        Some(p) => format!("{}:{p}", ex.url.host_str().unwrap_or("")),
        None => ex.url.host_str().unwrap_or("").to_owned(),
    };
    format!(
        "GET {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: ace-web/{}\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate, br\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// `sha1:` and the base32 SHA-1.
fn digest(bytes: &[u8]) -> String {
    format!("sha1:{}", data_encoding::BASE32.encode(&Sha1::digest(bytes)))
}

fn record_id() -> String {
    format!("<urn:uuid:{}>", uuid::Uuid::new_v4())
}

fn warc_date(date: &chrono::DateTime<chrono::Utc>) -> String {
    date.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        410 => "Gone",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_sha1_base32() {
        // The SHA-1 of the empty string, in base32.
        assert_eq!(digest(b""), "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ");
    }
}
