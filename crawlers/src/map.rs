//! Mapping a site: its URLs, fast, without extracting content.
//!
//! [`map`] lists what the sitemaps name and what a shallow, time-boxed link crawl finds
//! (pages fetched to depth 2, links collected to depth 3), normalised and deduplicated, the
//! start URL first. Pages that were fetched anyway lend their `<title>` and meta description.
//! `search` keeps the URLs whose address or title contains it (case-insensitive) and ranks
//! the best matches first. Only an unusable start URL is an error; a site that cannot be
//! crawled still maps to what its sitemaps list.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::crawl::{is_html, CrawlOptions, Crawler, NonHtml};
use crate::normalize::normalize;
use crate::retry::RetryPolicy;
use crate::sitemap::{self, SitemapLimits};
use crate::{FetchError, FetchOptions, Fetcher};

pub use crate::sitemap::SitemapMode;

/// What to map.
#[derive(Debug, Clone)]
pub struct MapOptions {
    /// Most URLs returned.
    pub limit: usize,
    /// Keep only URLs whose address or title contains this (case-insensitive), best first.
    pub search: Option<String>,
    /// Also list URLs on subdomains of the start host.
    pub include_subdomains: bool,
    /// Sitemaps and links, links only, or sitemaps only.
    pub sitemap: SitemapMode,
    /// Do not read or obey robots.txt.
    pub ignore_robots: bool,
    /// Per-fetch limits.
    pub fetch: FetchOptions,
    /// When the link crawl stops, whatever it has found by then.
    pub time_budget: Duration,
}

impl Default for MapOptions {
    fn default() -> MapOptions {
        MapOptions {
            limit: 5000,
            search: None,
            include_subdomains: false,
            sitemap: SitemapMode::Include,
            ignore_robots: false,
            fetch: FetchOptions {
                follow_redirects: false,
                timeout: Duration::from_secs(10),
                read_timeout: Some(Duration::from_secs(5)),
                ..FetchOptions::default()
            },
            time_budget: Duration::from_secs(15),
        }
    }
}

/// One URL of the map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MapLink {
    /// The normalised URL.
    pub url: String,
    /// The page's title, when the page was fetched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The page's meta description, when the page was fetched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Pages the link crawl fetches at most.
const MAX_MAP_FETCHES: u64 = 500;

/// Maps `start`'s site.
pub async fn map(fetcher: Arc<dyn Fetcher>, start: &Url, opts: &MapOptions) -> Result<Vec<MapLink>, FetchError> {
    if !matches!(start.scheme(), "http" | "https") || start.host_str().is_none_or(str::is_empty) {
        return Err(FetchError::InvalidUrl { url: start.to_string(), reason: "a site map needs an http(s) URL with a host".into() });
    }
    let deadline = tokio::time::Instant::now() + opts.time_budget;
    let mut start = start.clone();
    normalize(&mut start, true);
    let mut found = Found::default();
    found.add(start.clone());

    let robot = if opts.ignore_robots { None } else { robots(&*fetcher, &start).await };
    if opts.sitemap != SitemapMode::Skip {
        let declared = robot.as_ref().map(|r| r.sitemaps.clone()).unwrap_or_default();
        let limits = SitemapLimits { max_urls: opts.limit.saturating_mul(4).max(1000), ..SitemapLimits::default() };
        let listed = tokio::time::timeout_at(deadline, sitemap::discover(&*fetcher, &start, &declared, &opts.fetch, &limits)).await;
        for url in listed.unwrap_or_default() {
            if robot.as_ref().is_none_or(|r| r.allowed(url.as_str())) {
                found.add(url);
            }
        }
    }
    let mut start_error = None;
    if opts.sitemap != SitemapMode::Only {
        let crawl_opts = CrawlOptions {
            max_depth: Some(3),
            limit: Some(MAX_MAP_FETCHES),
            allow_subdomains: opts.include_subdomains,
            ignore_robots: opts.ignore_robots,
            sitemap: SitemapMode::Skip,
            non_html: NonHtml::Skip,
            retry: RetryPolicy { attempts: 2, ..RetryPolicy::default() },
            fetch: FetchOptions { content_types: crate::crawl::html_content_types(), ..opts.fetch.clone() },
            max_pages_per_pattern: 50,
            ..CrawlOptions::default()
        };
        let crawler = Crawler::new(fetcher, crawl_opts);
        let (tx, mut rx) = tokio::sync::mpsc::channel(64);
        let cancel = CancellationToken::new();
        let run = crawler.run(start.clone(), tx, cancel.clone());
        let collect = async {
            let enough = |found: &Found| opts.search.is_none() && found.order.len() >= opts.limit;
            loop {
                let page = tokio::select! {
                    page = rx.recv() => page,
                    _ = tokio::time::sleep_until(deadline) => None,
                };
                let Some(page) = page else { break };
                if page.url == start {
                    if let Err(e) = &page.result {
                        start_error = Some(e.clone());
                    }
                }
                if let Ok(fetched) = &page.result {
                    if is_html(fetched) && (200..300).contains(&fetched.status) {
                        found.describe(&page.url, &fetched.body, fetched.header("content-type"));
                    }
                }
                // Pages at the last depth are fetched only for their title; links found
                // there are listed too.
                for q in &page.discovered {
                    if robot.as_ref().is_none_or(|r| r.allowed(q.url.as_str())) {
                        found.add(q.url.clone());
                    }
                }
                if enough(&found) {
                    break;
                }
            }
            cancel.cancel();
        };
        tokio::join!(run, collect);
    }
    if found.order.len() == 1 {
        if let Some(e) = start_error {
            return Err(e);
        }
    }
    Ok(found.finish(opts))
}

async fn robots(fetcher: &dyn Fetcher, start: &Url) -> Option<texting_robots::Robot> {
    let url = start.join("/robots.txt").ok()?;
    let opts = FetchOptions { timeout: Duration::from_secs(10), max_body_bytes: 512 * 1024, ..FetchOptions::default() };
    let page = fetcher.fetch(&url, &opts).await.ok()?;
    (200..300).contains(&page.status).then(|| texting_robots::Robot::new("ace-web", &page.body).ok()).flatten()
}

/// URLs in discovery order, with what is known of each.
#[derive(Default)]
struct Found {
    order: Vec<String>,
    info: HashMap<String, (Option<String>, Option<String>)>,
}

impl Found {
    fn add(&mut self, mut url: Url) {
        normalize(&mut url, true);
        let key = url.to_string();
        if !self.info.contains_key(&key) {
            self.info.insert(key.clone(), (None, None));
            self.order.push(key);
        }
    }

    fn describe(&mut self, url: &Url, body: &[u8], content_type: Option<&str>) {
        let (html, _) = ace_extractors::charset::decode(body, content_type);
        let meta = ace_extractors::metadata::metadata(&ace_extractors::dom::Document::parse(&html), Some(url));
        self.add(url.clone());
        self.info.insert(url.to_string(), (meta.title.filter(|t| !t.is_empty()), meta.description.filter(|d| !d.is_empty())));
    }

    fn finish(mut self, opts: &MapOptions) -> Vec<MapLink> {
        let mut links: Vec<(usize, MapLink)> = self
            .order
            .into_iter()
            .map(|url| {
                let (title, description) = self.info.remove(&url).unwrap_or_default();
                MapLink { url, title, description }
            })
            .filter_map(|link| match &opts.search {
                None => Some((0, link)),
                Some(q) => search_score(&link, q).map(|score| (score, link)),
            })
            .collect();
        // Stable: equal scores keep discovery order.
        links.sort_by_key(|(score, _)| std::cmp::Reverse(*score));
        links.into_iter().take(opts.limit).map(|(_, l)| l).collect()
    }
}

/// How well a link matches a search: `None` when it does not. A match in the title or the
/// last path segment beats one elsewhere in the URL; a shorter URL wins ties of kind.
fn search_score(link: &MapLink, query: &str) -> Option<usize> {
    let q = query.trim().to_lowercase();
    if q.is_empty() {
        return Some(0);
    }
    let url = link.url.to_lowercase();
    let in_title = link.title.as_deref().is_some_and(|t| t.to_lowercase().contains(&q));
    if !in_title && !url.contains(&q) {
        return None;
    }
    let last_segment = url.trim_end_matches('/').rsplit('/').next().unwrap_or_default();
    let mut score = 1;
    if in_title {
        score += 4;
    }
    if last_segment.contains(&q) {
        score += 2;
    }
    // Tie-break within a kind: shorter URLs rank higher (fold length into the low bits).
    Some(score * 10_000 + 9_999usize.saturating_sub(url.len().min(9_999)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_filters_and_ranks_title_and_last_segment_first() {
        let l = |url: &str, title: Option<&str>| MapLink { url: url.into(), title: title.map(Into::into), description: None };
        assert!(search_score(&l("http://e.com/a", None), "blog").is_none());
        let title = search_score(&l("http://e.com/x", Some("The Blog")), "blog").unwrap();
        let seg = search_score(&l("http://e.com/blog", None), "BLOG").unwrap();
        let mid = search_score(&l("http://e.com/blog/post-1", None), "blog").unwrap();
        assert!(title > seg && seg > mid, "{title} {seg} {mid}");
    }
}
