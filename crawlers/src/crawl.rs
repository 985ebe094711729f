//! Crawling a site: a breadth-first frontier over a [`Fetcher`].
//!
//! The frontier is a FIFO of `(url, depth, parent)`, so pages come in depth order; a URL
//! enters it once, after [`normalize`](crate::normalize::normalize), if it is in scope
//! (host, include/exclude regexes on the path, robots.txt), is not an asset, and trips no
//! trap guard (URL length, path depth, a segment repeated over and over). Up to
//! `concurrency` fetches run at once; each fetch task also extracts and resolves its page's
//! links, so that CPU work spreads over the runtime's threads. Every fetched URL (and its
//! redirect target) is marked seen, so no URL is requested twice.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use regex::Regex;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::links::extract_links;
use crate::normalize::normalize;
use crate::{FetchError, FetchOptions, FetchedPage, Fetcher};

/// What to crawl and how hard.
#[derive(Debug, Clone)]
pub struct CrawlOptions {
    /// Most link hops from the start page (`Some(0)`: the start page only).
    pub max_depth: Option<u32>,
    /// Most pages to fetch.
    pub limit: Option<u64>,
    /// A discovered URL's path must match one of these (when any are given).
    pub include_paths: Vec<Regex>,
    /// A discovered URL whose path matches one of these is skipped.
    pub exclude_paths: Vec<Regex>,
    /// Follow links to other sites.
    pub allow_external_links: bool,
    /// Follow links to subdomains of the start host.
    pub allow_subdomains: bool,
    /// Do not read or obey robots.txt.
    pub ignore_robots: bool,
    /// Drop utm_* and similar tracking parameters before deduplicating.
    pub strip_tracking_params: bool,
    /// Fetches in flight at once.
    pub concurrency: usize,
    /// Per-fetch limits.
    pub fetch: FetchOptions,
    /// Trap guard: longest URL followed.
    pub max_url_length: usize,
    /// Trap guard: most path segments.
    pub max_path_segments: usize,
    /// Trap guard: most times one segment may repeat in a path (`/a/b/a/b/a/b/...`).
    pub max_repeated_segment: usize,
    /// Trap guard: most pages per URL pattern (the path with digit runs folded), which stops
    /// endless calendars and paginations.
    pub max_pages_per_pattern: u64,
    /// The user agent robots.txt rules are matched against.
    pub robots_agent: String,
    /// Skip `path?query` when `path` was served as a static file (it carried both `ETag`
    /// and `Last-Modified`): static file servers ignore query strings, so the variant is
    /// the same document and fetching it would only repeat a download.
    pub skip_static_query_variants: bool,
}

impl Default for CrawlOptions {
    fn default() -> CrawlOptions {
        CrawlOptions {
            max_depth: None,
            limit: None,
            include_paths: Vec::new(),
            exclude_paths: Vec::new(),
            allow_external_links: false,
            allow_subdomains: false,
            ignore_robots: false,
            strip_tracking_params: true,
            concurrency: 32,
            fetch: FetchOptions { follow_redirects: false, ..FetchOptions::default() },
            max_url_length: 2048,
            max_path_segments: 32,
            max_repeated_segment: 3,
            max_pages_per_pattern: 1000,
            robots_agent: "ace-web".into(),
            skip_static_query_variants: true,
        }
    }
}

/// One fetched (or failed) page, in the order fetches complete.
#[derive(Debug)]
pub struct CrawledPage {
    /// The URL requested (normalised).
    pub url: Url,
    /// Link hops from the start page.
    pub depth: u32,
    /// The page it was found on.
    pub parent: Option<Url>,
    /// The response, or why there is none.
    pub result: Result<FetchedPage, FetchError>,
    /// In-scope links found on it that were new to the crawl.
    pub new_links: usize,
}

/// Totals of a finished crawl.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CrawlSummary {
    /// Pages requested.
    pub fetched: u64,
    /// Requests that produced no response.
    pub errors: u64,
    /// URLs robots.txt disallowed.
    pub disallowed_by_robots: u64,
    /// URLs a trap guard refused.
    pub trapped: u64,
    /// Query-string variants of static files not fetched.
    pub static_variants: u64,
    /// Whether the limit stopped the crawl with URLs still queued.
    pub hit_limit: bool,
    /// Whether the crawl was cancelled.
    pub cancelled: bool,
}

/// Extensions of files that are never pages, so not worth a request in a page crawl.
const ASSET_EXTENSIONS: [&str; 30] = [
    "css", "js", "mjs", "map", "png", "jpg", "jpeg", "gif", "webp", "avif", "svg", "ico", "bmp", "woff", "woff2", "ttf",
    "otf", "eot", "mp3", "mp4", "webm", "ogg", "wav", "avi", "mov", "zip", "gz", "tgz", "exe", "dmg",
];

/// A crawl of one site.
pub struct Crawler {
    fetcher: Arc<dyn Fetcher>,
    opts: Arc<CrawlOptions>,
}

impl std::fmt::Debug for Crawler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Crawler").field("opts", &self.opts).finish_non_exhaustive()
    }
}

struct Scope {
    host: String,
    include: Vec<Regex>,
    exclude: Vec<Regex>,
}

impl Crawler {
    /// A crawler that fetches through `fetcher`.
    pub fn new(fetcher: Arc<dyn Fetcher>, opts: CrawlOptions) -> Crawler {
        Crawler { fetcher, opts: Arc::new(opts) }
    }

    /// Crawls from `start`, sending each page to `pages` as it completes. Returns when the
    /// frontier is empty, the limit is reached, `cancel` fires, or the receiver is dropped.
    pub async fn run(&self, start: Url, pages: mpsc::Sender<CrawledPage>, cancel: CancellationToken) -> CrawlSummary {
        let opts = &self.opts;
        let mut start = start;
        normalize(&mut start, opts.strip_tracking_params);
        let scope = Scope {
            host: start.host_str().unwrap_or_default().to_ascii_lowercase(),
            include: opts.include_paths.clone(),
            exclude: opts.exclude_paths.clone(),
        };
        let mut robots: HashMap<String, Option<texting_robots::Robot>> = HashMap::new();
        let mut summary = CrawlSummary::default();
        let mut seen: HashSet<String> = HashSet::from([start.to_string()]);
        let mut frontier: VecDeque<(Url, u32, Option<Url>)> = VecDeque::from([(start, 0, None)]);
        let mut in_flight = JoinSet::new();
        let mut delay = Duration::ZERO;
        // Paths (without query) that answered as static files, and paths whose fetch ended.
        let mut static_paths: HashSet<String> = HashSet::new();
        let mut completed: HashSet<String> = HashSet::new();
        let mut patterns: HashMap<String, u64> = HashMap::new();
        loop {
            // A query variant whose plain path is still queued or in flight waits for it, so
            // that it is known whether the path is a static file (and the variant redundant).
            let mut waiting = Vec::new();
            while in_flight.len() < opts.concurrency.max(1) && !cancel.is_cancelled() {
                if opts.limit.is_some_and(|limit| summary.fetched >= limit) {
                    summary.hit_limit = !frontier.is_empty();
                    break;
                }
                let Some((url, depth, parent)) = frontier.pop_front() else { break };
                if self.is_static_variant(&static_paths, &url) {
                    summary.static_variants += 1;
                    continue;
                }
                if opts.skip_static_query_variants && url.query().is_some() && !in_flight.is_empty() {
                    let base = without_query(&url);
                    if seen.contains(base) && !completed.contains(base) {
                        waiting.push((url, depth, parent));
                        continue;
                    }
                }
                let origin = url.origin().ascii_serialization();
                if !opts.ignore_robots {
                    if !robots.contains_key(&origin) {
                        let robot = self.fetch_robots(&url).await;
                        if let Some(d) = robot.as_ref().and_then(|r| r.delay) {
                            delay = delay.max(Duration::from_secs_f32(d.clamp(0.0, 60.0)));
                        }
                        robots.insert(origin.clone(), robot);
                    }
                    if let Some(Some(robot)) = robots.get(&origin) {
                        if !robot.allowed(url.as_str()) {
                            completed.insert(without_query(&url).to_owned());
                            summary.disallowed_by_robots += 1;
                            continue;
                        }
                    }
                }
                summary.fetched += 1;
                let fetcher = self.fetcher.clone();
                let task_opts = self.opts.clone();
                if !delay.is_zero() {
                    // Crawl-delay: one request at a time, spaced out.
                    while in_flight.join_next().await.is_some() {}
                    tokio::time::sleep(delay).await;
                }
                in_flight.spawn(async move {
                    let result = fetcher.fetch(&url, &task_opts.fetch).await;
                    let links = match &result {
                        Ok(page) => page_links(page, task_opts.strip_tracking_params),
                        Err(_) => Vec::new(),
                    };
                    (url, depth, parent, result, links)
                });
                if !delay.is_zero() {
                    break;
                }
            }
            for item in waiting.into_iter().rev() {
                frontier.push_front(item);
            }
            let next = tokio::select! {
                next = in_flight.join_next() => next,
                _ = cancel.cancelled() => {
                    summary.cancelled = true;
                    in_flight.abort_all();
                    break;
                }
            };
            let Some(joined) = next else { break };
            let Ok((url, depth, parent, result, links)) = joined else { continue };
            completed.insert(without_query(&url).to_owned());
            let mut new_links = 0;
            match &result {
                Ok(page) => {
                    let mut final_url = page.final_url.clone();
                    normalize(&mut final_url, opts.strip_tracking_params);
                    seen.insert(final_url.to_string());
                    completed.insert(without_query(&final_url).to_owned());
                    if opts.skip_static_query_variants && page.header("etag").is_some() && page.header("last-modified").is_some() {
                        static_paths.insert(without_query(&final_url).to_owned());
                    }
                    // A redirect is not a hop: its target keeps the page's depth.
                    let redirect = redirect_target(page, opts.strip_tracking_params);
                    let child_depth = if redirect.is_some() { depth } else { depth + 1 };
                    if opts.max_depth.is_none_or(|max| child_depth <= max) {
                        for link in redirect.into_iter().chain(links) {
                            if !self.in_scope(&scope, &link) {
                                continue;
                            }
                            if seen.contains(link.as_str()) {
                                continue;
                            }
                            if self.is_static_variant(&static_paths, &link) {
                                seen.insert(link.to_string());
                                summary.static_variants += 1;
                                continue;
                            }
                            let per_pattern = patterns.entry(pattern_of(&link)).or_default();
                            let trapped = self.is_trap(&link) || *per_pattern >= opts.max_pages_per_pattern;
                            // Marked seen either way, so each URL is judged (and counted) once.
                            seen.insert(link.to_string());
                            if trapped {
                                summary.trapped += 1;
                                continue;
                            }
                            *per_pattern += 1;
                            new_links += 1;
                            frontier.push_back((link, child_depth, Some(url.clone())));
                        }
                    }
                }
                Err(_) => summary.errors += 1,
            }
            let page = CrawledPage { url, depth, parent, result, new_links };
            if pages.send(page).await.is_err() {
                in_flight.abort_all();
                summary.cancelled = true;
                break;
            }
        }
        summary
    }

    fn in_scope(&self, scope: &Scope, url: &Url) -> bool {
        if !matches!(url.scheme(), "http" | "https") {
            return false;
        }
        let host = url.host_str().unwrap_or_default();
        let same_site = host.eq_ignore_ascii_case(&scope.host)
            || (self.opts.allow_subdomains && host.to_ascii_lowercase().ends_with(&format!(".{}", scope.host)));
        if !same_site && !self.opts.allow_external_links {
            return false;
        }
        let path = url.path();
        if let Some(ext) = path.rsplit('/').next().and_then(|last| last.rsplit_once('.')).map(|(_, e)| e) {
            if ASSET_EXTENSIONS.iter().any(|a| a.eq_ignore_ascii_case(ext)) {
                return false;
            }
        }
        if !scope.include.is_empty() && !scope.include.iter().any(|r| r.is_match(path)) {
            return false;
        }
        !scope.exclude.iter().any(|r| r.is_match(path))
    }

    fn is_static_variant(&self, static_paths: &HashSet<String>, url: &Url) -> bool {
        self.opts.skip_static_query_variants && url.query().is_some() && static_paths.contains(without_query(url))
    }

    fn is_trap(&self, url: &Url) -> bool {
        let opts = &self.opts;
        if url.as_str().len() > opts.max_url_length {
            return true;
        }
        let segments: Vec<&str> = url.path_segments().map(|s| s.filter(|s| !s.is_empty()).collect()).unwrap_or_default();
        if segments.len() > opts.max_path_segments {
            return true;
        }
        let mut counts: HashMap<&str, usize> = HashMap::new();
        segments.iter().any(|s| {
            let n = counts.entry(s).or_default();
            *n += 1;
            *n > opts.max_repeated_segment
        })
    }

    async fn fetch_robots(&self, url: &Url) -> Option<texting_robots::Robot> {
        let robots_url = url.join("/robots.txt").ok()?;
        let opts = FetchOptions { timeout: Duration::from_secs(10), max_body_bytes: 512 * 1024, ..FetchOptions::default() };
        let page = self.fetcher.fetch(&robots_url, &opts).await.ok()?;
        if !(200..300).contains(&page.status) {
            // No robots.txt (or an error page): everything is allowed.
            return None;
        }
        texting_robots::Robot::new(&self.opts.robots_agent, &page.body).ok()
    }
}

/// The shape of a URL's path: host and path with every run of digits folded to `0`.
fn pattern_of(url: &Url) -> String {
    let mut out = String::with_capacity(url.path().len() + 16);
    out.push_str(url.host_str().unwrap_or_default());
    let mut in_digits = false;
    for c in url.path().chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                out.push('0');
            }
            in_digits = true;
        } else {
            out.push(c);
            in_digits = false;
        }
    }
    out
}

fn without_query(url: &Url) -> &str {
    &url.as_str()[..url.as_str().find('?').unwrap_or(url.as_str().len())]
}

/// Where a 3xx answer points, resolved and normalised.
fn redirect_target(page: &FetchedPage, strip_tracking: bool) -> Option<Url> {
    if !(300..400).contains(&page.status) {
        return None;
    }
    let mut target = page.final_url.join(page.header("location")?).ok()?;
    normalize(&mut target, strip_tracking);
    Some(target)
}

/// The absolute, normalised links of an HTML page.
fn page_links(page: &FetchedPage, strip_tracking: bool) -> Vec<Url> {
    let is_html = page.header("content-type").is_none_or(|ct| ct.contains("html"));
    if !is_html || !(200..300).contains(&page.status) {
        return Vec::new();
    }
    let links = extract_links(&page.body);
    let base = links.base.as_deref().and_then(|b| page.final_url.join(b).ok()).unwrap_or_else(|| page.final_url.clone());
    let mut out = Vec::with_capacity(links.hrefs.len());
    let mut local: HashSet<&str> = HashSet::with_capacity(links.hrefs.len());
    for href in &links.hrefs {
        // Pages repeat links (navigation, "top" anchors): resolve each spelling once.
        if !local.insert(href.split('#').next().unwrap_or(href)) {
            continue;
        }
        if let Ok(mut url) = base.join(href) {
            normalize(&mut url, strip_tracking);
            out.push(url);
        }
    }
    out
}
