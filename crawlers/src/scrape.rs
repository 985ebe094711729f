//! The scrape engine in its simplest honest form: one page over HTTP, with its title.

use serde::Serialize;
use url::Url;

use crate::{FetchError, FetchOptions, Fetcher};

/// Response headers worth keeping in a page record.
const KEPT_HEADERS: [&str; 8] = [
    "content-type",
    "content-language",
    "content-length",
    "last-modified",
    "etag",
    "cache-control",
    "server",
    "x-robots-tag",
];

/// One scraped page, as it goes into a job's results.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScrapedPage {
    /// The URL asked for.
    pub url: String,
    /// The URL after redirects.
    pub final_url: String,
    /// HTTP status of the final response.
    pub status_code: u16,
    /// Selected response headers.
    pub headers: serde_json::Map<String, serde_json::Value>,
    /// `Content-Type`, if sent.
    pub content_type: Option<String>,
    /// The document's title, if it has one.
    pub title: Option<String>,
    /// The body as text (UTF-8, invalid bytes replaced).
    pub raw_html: String,
    /// Body size in bytes.
    pub bytes: usize,
    /// Milliseconds from request to last byte.
    pub elapsed_ms: u64,
}

/// Fetches `url` and describes the page. A non-2xx answer is still a scraped page (its
/// status says what happened); only failures to get an answer are errors.
pub async fn scrape(fetcher: &dyn Fetcher, url: &Url, opts: &FetchOptions) -> Result<ScrapedPage, FetchError> {
    let page = fetcher.fetch(url, opts).await?;
    let raw_html = String::from_utf8_lossy(&page.body).into_owned();
    let is_html = page.header("content-type").is_none_or(|ct| ct.contains("html"));
    let title = if is_html { ace_extractors::page_title(&raw_html) } else { None };
    let headers = page
        .headers
        .iter()
        .filter(|(name, _)| KEPT_HEADERS.contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), serde_json::Value::String(value.clone())))
        .collect();
    Ok(ScrapedPage {
        url: page.url.to_string(),
        final_url: page.final_url.to_string(),
        status_code: page.status,
        content_type: page.header("content-type").map(str::to_owned),
        headers,
        title,
        bytes: page.body.len(),
        raw_html,
        elapsed_ms: page.elapsed.as_millis() as u64,
    })
}
