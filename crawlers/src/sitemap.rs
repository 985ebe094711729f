//! Sitemaps: finding a site's URLs without following links.
//!
//! [`discover`] starts from the `Sitemap:` lines of robots.txt (or `/sitemap.xml` when there
//! are none), follows sitemap indexes, and reads gzip sitemaps (by their magic bytes, whatever
//! the server calls them) and plain-text ones (one URL a line). Every sitemap is fetched once;
//! one that fails or is not a sitemap is logged and skipped, never fatal: a sitemap only adds
//! URLs to what links find. XML is read with `quick-xml`.

use std::collections::HashSet;
use std::io::Read;

use quick_xml::events::Event;
use url::Url;

use crate::retry::{fetch_with_retry, RetryPolicy};
use crate::{FetchError, FetchOptions, Fetcher};

/// How a crawl or a map uses the site's sitemaps (Firecrawl v2's `sitemap`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SitemapMode {
    /// Sitemap URLs and links both.
    #[default]
    Include,
    /// Links only (v1's `ignoreSitemap`).
    Skip,
    /// Sitemap URLs only.
    Only,
}

/// Bounds on sitemap discovery, against sites with millions of entries or nested loops.
#[derive(Debug, Clone)]
pub struct SitemapLimits {
    /// Sitemap files fetched at most.
    pub max_sitemaps: usize,
    /// Page URLs collected at most.
    pub max_urls: usize,
    /// Largest sitemap, after gunzip (the protocol's limit is 50 MB).
    pub max_bytes: u64,
}

impl Default for SitemapLimits {
    fn default() -> SitemapLimits {
        SitemapLimits { max_sitemaps: 64, max_urls: 100_000, max_bytes: 50 * 1024 * 1024 }
    }
}

/// What one sitemap file lists.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Sitemap {
    /// Page URLs (`<urlset><url><loc>`, or text lines).
    pub urls: Vec<String>,
    /// Further sitemaps (`<sitemapindex><sitemap><loc>`).
    pub sitemaps: Vec<String>,
}

/// Reads a sitemap body: gzip or not, XML urlset, XML index, or text.
pub fn parse(url: &Url, body: &[u8], max_bytes: u64) -> Result<Sitemap, FetchError> {
    let bad = |reason: String| FetchError::BadContent { url: url.to_string(), reason };
    let unzipped;
    let body = if body.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(body)
            .take(max_bytes + 1)
            .read_to_end(&mut out)
            .map_err(|e| bad(format!("broken gzip: {e}")))?;
        if out.len() as u64 > max_bytes {
            return Err(FetchError::TooLarge { url: url.to_string(), limit: max_bytes });
        }
        unzipped = out;
        &unzipped[..]
    } else {
        body
    };
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if !trimmed.starts_with('<') {
        // A text sitemap: one absolute URL a line.
        let urls = trimmed.lines().map(str::trim).filter(|l| l.starts_with("http://") || l.starts_with("https://")).map(str::to_owned).collect();
        return Ok(Sitemap { urls, sitemaps: Vec::new() });
    }
    let mut reader = quick_xml::Reader::from_str(trimmed);
    let mut out = Sitemap::default();
    // The element the current <loc> belongs to: `url` or `sitemap`.
    let mut parent: Option<Vec<u8>> = None;
    let mut loc: Option<String> = None;
    let mut saw_root = false;
    loop {
        match reader.read_event().map_err(|e| bad(format!("not XML: {e}")))? {
            Event::Start(e) => {
                // Full names: `<image:loc>` inside a `<url>` is an image, not the page.
                let name = e.name().as_ref().to_ascii_lowercase();
                match name.as_slice() {
                    b"urlset" | b"sitemapindex" => saw_root = true,
                    b"url" | b"sitemap" => parent = Some(name),
                    b"loc" if parent.is_some() => loc = Some(String::new()),
                    _ => {}
                }
            }
            Event::Text(t) => {
                if let Some(loc) = loc.as_mut() {
                    loc.push_str(&t.decode().map_err(|e| bad(e.to_string()))?);
                }
            }
            Event::CData(t) => {
                if let Some(loc) = loc.as_mut() {
                    loc.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::GeneralRef(r) => {
                if let Some(loc) = loc.as_mut() {
                    let name = r.decode().map_err(|e| bad(e.to_string()))?;
                    let c = match name.as_ref() {
                        "amp" => Some('&'),
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        _ => r.resolve_char_ref().ok().flatten(),
                    };
                    if let Some(c) = c {
                        loc.push(c);
                    }
                }
            }
            Event::End(e) => {
                let name = e.name().as_ref().to_ascii_lowercase();
                if name == b"loc" {
                    if let (Some(value), Some(p)) = (loc.take(), parent.as_deref()) {
                        let value = value.trim().to_owned();
                        if !value.is_empty() {
                            if p == b"url" { out.urls.push(value) } else { out.sitemaps.push(value) }
                        }
                    }
                } else if name == b"url" || name == b"sitemap" {
                    parent = None;
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_root {
        return Err(bad("neither a <urlset> nor a <sitemapindex>".into()));
    }
    Ok(out)
}

/// Finds the page URLs of `start`'s site from its sitemaps. `declared` are the robots.txt
/// `Sitemap:` URLs; without any, `/sitemap.xml` is tried. Only http(s) URLs on the start
/// page's host are kept (a sitemap may only list its own site's URLs).
pub async fn discover(fetcher: &dyn Fetcher, start: &Url, declared: &[String], opts: &FetchOptions, limits: &SitemapLimits) -> Vec<Url> {
    let mut queue: Vec<Url> = declared.iter().filter_map(|s| start.join(s.trim()).ok()).collect();
    if queue.is_empty() {
        queue.extend(start.join("/sitemap.xml").ok());
    }
    queue.reverse();
    let fetch_opts = FetchOptions { follow_redirects: true, content_types: Vec::new(), max_body_bytes: limits.max_bytes, ..opts.clone() };
    let mut fetched: HashSet<String> = HashSet::new();
    let mut urls = Vec::new();
    let mut seen_urls: HashSet<String> = HashSet::new();
    while let Some(sitemap_url) = queue.pop() {
        if fetched.len() >= limits.max_sitemaps || urls.len() >= limits.max_urls {
            break;
        }
        if !fetched.insert(sitemap_url.to_string()) {
            continue;
        }
        let attempted = fetch_with_retry(fetcher, &sitemap_url, &fetch_opts, &RetryPolicy::default()).await;
        let page = match attempted.result {
            Ok(page) if (200..300).contains(&page.status) => page,
            Ok(page) => {
                tracing::debug!(url = %sitemap_url, status = page.status, "no sitemap there");
                continue;
            }
            Err(e) => {
                tracing::info!(url = %sitemap_url, error = %e, "sitemap not fetched");
                continue;
            }
        };
        let sitemap = match parse(&page.final_url, &page.body, limits.max_bytes) {
            Ok(s) => s,
            Err(e) => {
                tracing::info!(url = %sitemap_url, error = %e, "sitemap skipped");
                continue;
            }
        };
        for child in sitemap.sitemaps.iter().rev() {
            if let Ok(child) = page.final_url.join(child) {
                queue.push(child);
            }
        }
        for u in sitemap.urls {
            let Ok(mut url) = page.final_url.join(&u) else { continue };
            if !matches!(url.scheme(), "http" | "https") || url.host_str() != start.host_str() {
                continue;
            }
            crate::normalize::normalize(&mut url, true);
            if seen_urls.insert(url.to_string()) {
                urls.push(url);
                if urls.len() >= limits.max_urls {
                    break;
                }
            }
        }
    }
    urls
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u() -> Url {
        Url::parse("http://127.0.0.1/sitemap.xml").unwrap()
    }

    #[test]
    fn urlsets_indexes_entities_cdata_and_text() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
            <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
              <url><loc> http://e.com/a?x=1&amp;y=2 </loc><lastmod>2026-01-01</lastmod></url>
              <url><loc><![CDATA[http://e.com/b]]></loc>
                <image:image><image:loc>http://e.com/not-a-page.png</image:loc></image:image></url>
            </urlset>"#;
        let s = parse(&u(), xml, 1 << 20).unwrap();
        assert_eq!(s.urls, ["http://e.com/a?x=1&y=2", "http://e.com/b"]);
        let idx = br#"<sitemapindex><sitemap><loc>/s1.xml</loc></sitemap><sitemap><loc>/s2.xml.gz</loc></sitemap></sitemapindex>"#;
        assert_eq!(parse(&u(), idx, 1 << 20).unwrap().sitemaps, ["/s1.xml", "/s2.xml.gz"]);
        let text = b"http://e.com/t1\n\nnot a url\nhttps://e.com/t2\n";
        assert_eq!(parse(&u(), text, 1 << 20).unwrap().urls, ["http://e.com/t1", "https://e.com/t2"]);
    }

    #[test]
    fn gzip_is_read_and_bounded_and_junk_is_a_clear_error() {
        use std::io::Write;
        let xml = b"<urlset><url><loc>http://e.com/z</loc></url></urlset>";
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(xml).unwrap();
        let gz = gz.finish().unwrap();
        assert_eq!(parse(&u(), &gz, 1 << 20).unwrap().urls, ["http://e.com/z"]);
        assert_eq!(parse(&u(), &gz, 10).unwrap_err().code(), "too_large");
        assert_eq!(parse(&u(), b"<html><body>hi</body></html>", 1 << 20).unwrap_err().code(), "bad_content");
        assert_eq!(parse(&u(), b"<urlset><url><loc>x</url", 1 << 20).unwrap_err().code(), "bad_content");
        assert_eq!(parse(&u(), &gz[..gz.len() / 2], 1 << 20).unwrap_err().code(), "bad_content");
    }
}
