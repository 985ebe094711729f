//! Crawling a site: a breadth-first frontier over a [`Fetcher`].
//!
//! The frontier is a FIFO of `(url, depth, parent)`, so pages come in depth order; a URL
//! enters it once, after [`normalize`](crate::normalize::normalize), if it is in scope
//! (host, include/exclude regexes on the path, robots.txt), is not an asset, and trips no
//! trap guard (URL length, path depth, a segment repeated over and over, pages per pattern).
//! Before the first fetch the start origin's robots.txt is read (its `Crawl-delay` sets the
//! origin's [`Politeness`], its `Sitemap:` lines seed the frontier through
//! [`sitemap::discover`]). Up to `concurrency` fetch tasks run at once; each waits for its
//! origin's politeness gate, fetches with retries ([`fetch_with_retry`]), and extracts and
//! resolves its page's links (decoded in the page's charset), so that CPU work spreads over
//! the runtime's threads. Every fetched URL (and its redirect target) is marked seen, so no
//! URL is requested twice, and a crawl can resume from a [`CrawlCheckpoint`].
//!
//! [`Crawler::with_renderer`] loads pages through a [`RenderingFetcher`] instead: app shells
//! (or every HTML page) come back as the DOM after their scripts ran, so the links a
//! JavaScript-only site writes into the page are followed. robots.txt and sitemaps are always
//! read over plain HTTP.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use regex::Regex;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::checkpoint::{CrawlCheckpoint, QueuedUrl};
use crate::links::extract_links;
use crate::normalize::normalize;
use crate::politeness::Politeness;
use crate::retry::{fetch_with_retry, RetryPolicy};
use crate::scrape::RenderMode;
use crate::sitemap::{self, SitemapLimits, SitemapMode};
use crate::{FetchError, FetchOptions, FetchedPage, Fetcher, Renderer, RenderingFetcher};

/// What to do with answers that are not HTML (PDFs, images, JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NonHtml {
    /// Fetch and record them (no links are taken from them).
    #[default]
    Record,
    /// Stop at their headers and leave them out of the results (counted in the summary).
    Skip,
}

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
    /// Follow links anywhere on the site; when false, only below the start URL's folder
    /// (Firecrawl's default: a crawl of `/docs/guide/` stays in `/docs/guide/`).
    pub crawl_entire_domain: bool,
    /// Do not read or obey robots.txt.
    pub ignore_robots: bool,
    /// Drop utm_* and similar tracking parameters before deduplicating.
    pub strip_tracking_params: bool,
    /// Fetches in flight at once, over all hosts.
    pub concurrency: usize,
    /// Fetches in flight at once to one origin; `None`: as many as `concurrency`. An origin
    /// with a delay gets one at a time.
    pub per_host_concurrency: Option<usize>,
    /// Time between two requests to one origin (Firecrawl's `delay`); robots.txt
    /// `Crawl-delay` raises it for its origin.
    pub delay: Option<Duration>,
    /// The longest `Crawl-delay` obeyed (a site asking for an hour gets this).
    pub max_crawl_delay: Duration,
    /// Retries on network errors, 5xx and 429.
    pub retry: RetryPolicy,
    /// Whether sitemaps seed the frontier, or are the frontier.
    pub sitemap: SitemapMode,
    /// Bounds on sitemap discovery.
    pub sitemap_limits: SitemapLimits,
    /// Non-HTML answers: recorded or skipped.
    pub non_html: NonHtml,
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
            crawl_entire_domain: true,
            ignore_robots: false,
            strip_tracking_params: true,
            concurrency: 32,
            per_host_concurrency: None,
            delay: None,
            max_crawl_delay: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            sitemap: SitemapMode::Include,
            sitemap_limits: SitemapLimits::default(),
            non_html: NonHtml::Record,
            fetch: FetchOptions { follow_redirects: false, read_timeout: Some(CRAWL_READ_TIMEOUT), ..FetchOptions::default() },
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
    /// Requests made for it (more than one when retried).
    pub attempts: u32,
    /// In-scope links found on it that were new to the crawl.
    pub new_links: usize,
    /// Those links as queued: record them with the page to make the crawl resumable.
    pub discovered: Vec<QueuedUrl>,
}

/// Totals of a finished crawl.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CrawlSummary {
    /// Pages requested (by this run and, when resumed, the runs before it).
    pub fetched: u64,
    /// Requests that produced no response.
    pub errors: u64,
    /// URLs robots.txt disallowed.
    pub disallowed_by_robots: u64,
    /// URLs a trap guard refused.
    pub trapped: u64,
    /// Query-string variants of static files not fetched.
    pub static_variants: u64,
    /// Non-HTML answers left out ([`NonHtml::Skip`]).
    pub non_html_skipped: u64,
    /// Pages answered with their rendered DOM (by this run).
    pub rendered: u64,
    /// URLs the sitemaps listed.
    pub sitemap_urls: u64,
    /// Pages a resumed crawl found already done.
    pub resumed_done: u64,
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

/// How long a crawl waits for a silent server (headers, or the next body chunk) by default:
/// a stalled page should cost seconds, not the whole-request timeout.
pub const CRAWL_READ_TIMEOUT: Duration = Duration::from_secs(15);

/// Content types whose links a crawl follows.
const HTML_TYPES: [&str; 2] = ["text/html", "application/xhtml"];

/// A crawl of one site.
pub struct Crawler {
    /// Plain HTTP: robots.txt and sitemaps.
    fetcher: Arc<dyn Fetcher>,
    /// Pages: the same fetcher, or a [`RenderingFetcher`] over it.
    pages: Arc<dyn Fetcher>,
    /// How pages are rendered, when [`with_renderer`](Crawler::with_renderer) was called.
    render: Option<RenderMode>,
    opts: Arc<CrawlOptions>,
}

impl std::fmt::Debug for Crawler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Crawler").field("render", &self.render).field("opts", &self.opts).finish_non_exhaustive()
    }
}

/// The folder a crawl that stays below its start URL keeps to: `/docs/guide/` for
/// `/docs/guide/`, `/docs/guide/intro.html` and `/docs/guide` alike.
fn start_folder(path: &str) -> String {
    let last = path.rsplit('/').next().unwrap_or_default();
    if path.ends_with('/') {
        path.to_owned()
    } else if last.contains('.') {
        path[..=path.rfind('/').unwrap_or(0)].to_owned()
    } else {
        format!("{path}/")
    }
}

struct Scope {
    host: String,
    /// The start URL's folder, when the crawl stays below it.
    below: Option<String>,
    include: Vec<Regex>,
    exclude: Vec<Regex>,
}

/// The crawl's memory of URLs: what was seen, what waits, and the trap counters.
#[derive(Default)]
struct Frontier {
    seen: HashSet<String>,
    queue: VecDeque<(Url, u32, Option<Url>)>,
    patterns: HashMap<String, u64>,
    /// Paths (without query) that answered as static files, and paths whose fetch ended.
    static_paths: HashSet<String>,
    completed: HashSet<String>,
}

/// Why a candidate URL was not queued.
enum Refused {
    Seen,
    OutOfScope,
    StaticVariant,
    Trap,
}

type RobotsCache = HashMap<String, Option<texting_robots::Robot>>;

impl Crawler {
    /// A crawler that fetches through `fetcher`.
    pub fn new(fetcher: Arc<dyn Fetcher>, mut opts: CrawlOptions) -> Crawler {
        if opts.non_html == NonHtml::Skip && opts.fetch.content_types.is_empty() {
            opts.fetch.content_types = html_content_types();
        }
        Crawler { pages: fetcher.clone(), fetcher, render: None, opts: Arc::new(opts) }
    }

    /// Loads pages through a [`RenderingFetcher`] over this crawler's fetcher and `renderer`,
    /// rendering as `mode` says; links are then taken from the rendered DOM. robots.txt and
    /// sitemaps are still read with the plain fetcher.
    pub fn with_renderer(mut self, renderer: Arc<dyn Renderer>, mode: RenderMode) -> Crawler {
        self.pages = Arc::new(RenderingFetcher::new(self.fetcher.clone(), renderer, mode));
        self.render = Some(mode);
        self
    }

    /// Crawls from `start`, sending each page to `pages` as it completes. Returns when the
    /// frontier is empty, the limit is reached, `cancel` fires, or the receiver is dropped.
    pub async fn run(&self, start: Url, pages: mpsc::Sender<CrawledPage>, cancel: CancellationToken) -> CrawlSummary {
        self.resume(start, CrawlCheckpoint::default(), pages, cancel).await
    }

    /// Like [`run`](Self::run), but goes on from `checkpoint`: its done pages are not fetched
    /// again and its queued URLs are visited first.
    pub async fn resume(
        &self,
        start: Url,
        checkpoint: CrawlCheckpoint,
        pages: mpsc::Sender<CrawledPage>,
        cancel: CancellationToken,
    ) -> CrawlSummary {
        let opts = &self.opts;
        let mut start = start;
        normalize(&mut start, opts.strip_tracking_params);
        let scope = Scope {
            host: start.host_str().unwrap_or_default().to_ascii_lowercase(),
            below: (!opts.crawl_entire_domain).then(|| start_folder(start.path())),
            include: opts.include_paths.clone(),
            exclude: opts.exclude_paths.clone(),
        };
        let politeness = Arc::new(Politeness::new(opts.per_host_concurrency.unwrap_or(opts.concurrency), opts.delay));
        let mut robots: RobotsCache = HashMap::new();
        let mut summary = CrawlSummary { resumed_done: checkpoint.done.len() as u64, fetched: checkpoint.done.len() as u64, ..CrawlSummary::default() };
        let mut f = Frontier::default();
        for done in &checkpoint.done {
            f.seen.insert(done.to_string());
            f.completed.insert(without_query(done).to_owned());
            *f.patterns.entry(pattern_of(done)).or_default() += 1;
        }
        for q in checkpoint.queued {
            if f.seen.insert(q.url.to_string()) {
                *f.patterns.entry(pattern_of(&q.url)).or_default() += 1;
                f.queue.push_back((q.url, q.depth, q.parent));
            }
        }
        self.robots_for(&start, &mut robots, &politeness).await;
        let origin = start.origin().ascii_serialization();
        let declared = robots.get(&origin).and_then(|r| r.as_ref()).map(|r| r.sitemaps.clone()).unwrap_or_default();
        let mut seeds: Vec<QueuedUrl> = Vec::new();
        if opts.sitemap != SitemapMode::Skip && opts.max_depth.is_none_or(|d| d >= 1) {
            let listed = sitemap::discover(&*self.fetcher, &start, &declared, &opts.fetch, &opts.sitemap_limits).await;
            summary.sitemap_urls = listed.len() as u64;
            let sitemap_url = start.join("/sitemap.xml").ok();
            for url in listed {
                if self.admit(&scope, &mut f, url.clone(), true, &mut summary).is_ok() {
                    seeds.push(QueuedUrl { url, depth: 1, parent: sitemap_url.clone() });
                }
            }
        }
        let start_needed = opts.sitemap != SitemapMode::Only || (seeds.is_empty() && f.queue.is_empty());
        if start_needed && !f.seen.contains(start.as_str()) {
            f.seen.insert(start.to_string());
            f.queue.push_front((start.clone(), 0, None));
        }
        // Seeds are queued with the start page's record, so a resumed crawl has them too.
        let mut pending_seeds = seeds.clone();
        for s in seeds {
            f.queue.push_back((s.url, s.depth, s.parent));
        }
        let follow_links = opts.sitemap != SitemapMode::Only;
        let mut in_flight = JoinSet::new();
        loop {
            // A query variant whose plain path is still queued or in flight waits for it, so
            // that it is known whether the path is a static file (and the variant redundant).
            let mut waiting = Vec::new();
            while in_flight.len() < opts.concurrency.max(1) && !cancel.is_cancelled() {
                if opts.limit.is_some_and(|limit| summary.fetched >= limit) {
                    summary.hit_limit = !f.queue.is_empty();
                    break;
                }
                let Some((url, depth, parent)) = f.queue.pop_front() else { break };
                if self.is_static_variant(&f.static_paths, &url) {
                    summary.static_variants += 1;
                    continue;
                }
                if opts.skip_static_query_variants && url.query().is_some() && !in_flight.is_empty() {
                    let base = without_query(&url);
                    if f.seen.contains(base) && !f.completed.contains(base) {
                        waiting.push((url, depth, parent));
                        continue;
                    }
                }
                if !opts.ignore_robots {
                    self.robots_for(&url, &mut robots, &politeness).await;
                    if let Some(Some(robot)) = robots.get(&url.origin().ascii_serialization()) {
                        if !robot.allowed(url.as_str()) {
                            f.completed.insert(without_query(&url).to_owned());
                            summary.disallowed_by_robots += 1;
                            continue;
                        }
                    }
                }
                summary.fetched += 1;
                let fetcher = self.pages.clone();
                let task_opts = self.opts.clone();
                let gate = politeness.clone();
                in_flight.spawn(async move {
                    let origin = url.origin().ascii_serialization();
                    let permit = gate.acquire(&origin).await;
                    let attempted = fetch_with_retry(&*fetcher, &url, &task_opts.fetch, &task_opts.retry).await;
                    drop(permit);
                    let links = match &attempted.result {
                        Ok(page) => page_links(page, task_opts.strip_tracking_params),
                        Err(_) => Vec::new(),
                    };
                    (url, depth, parent, attempted, links)
                });
            }
            for item in waiting.into_iter().rev() {
                f.queue.push_front(item);
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
            let Ok((url, depth, parent, attempted, links)) = joined else { continue };
            f.completed.insert(without_query(&url).to_owned());
            let mut discovered = Vec::new();
            if depth == 0 {
                discovered.append(&mut pending_seeds);
            }
            let result = attempted.result;
            match &result {
                Ok(page) => {
                    summary.rendered += u64::from(page.rendered);
                    let mut final_url = page.final_url.clone();
                    normalize(&mut final_url, opts.strip_tracking_params);
                    f.seen.insert(final_url.to_string());
                    f.completed.insert(without_query(&final_url).to_owned());
                    if opts.skip_static_query_variants && page.header("etag").is_some() && page.header("last-modified").is_some() {
                        f.static_paths.insert(without_query(&final_url).to_owned());
                    }
                    // A redirect is not a hop: its target keeps the page's depth.
                    let redirect = redirect_target(page, opts.strip_tracking_params);
                    let child_depth = if redirect.is_some() { depth } else { depth + 1 };
                    let links = if follow_links { links } else { Vec::new() };
                    if opts.max_depth.is_none_or(|max| child_depth <= max) {
                        for link in redirect.into_iter().chain(links) {
                            if self.admit(&scope, &mut f, link.clone(), false, &mut summary).is_ok() {
                                f.queue.push_back((link.clone(), child_depth, Some(url.clone())));
                                discovered.push(QueuedUrl { url: link, depth: child_depth, parent: Some(url.clone()) });
                            }
                        }
                    }
                }
                Err(FetchError::UnwantedContent { .. }) if opts.non_html == NonHtml::Skip => {
                    summary.non_html_skipped += 1;
                    continue;
                }
                Err(_) => summary.errors += 1,
            }
            let page = CrawledPage { url, depth, parent, result, attempts: attempted.attempts, new_links: discovered.len(), discovered };
            if pages.send(page).await.is_err() {
                in_flight.abort_all();
                summary.cancelled = true;
                break;
            }
        }
        summary
    }

    /// Marks `link` seen and says whether it should be queued. A `listed` URL (from a
    /// sitemap) is a finite list the site published, so the pages-per-pattern guard, meant
    /// for endless generated links, does not stop it (it still counts towards it).
    fn admit(&self, scope: &Scope, f: &mut Frontier, link: Url, listed: bool, summary: &mut CrawlSummary) -> Result<(), Refused> {
        if !self.in_scope(scope, &link) {
            return Err(Refused::OutOfScope);
        }
        if f.seen.contains(link.as_str()) {
            return Err(Refused::Seen);
        }
        // Marked seen either way, so each URL is judged (and counted) once.
        f.seen.insert(link.to_string());
        if self.is_static_variant(&f.static_paths, &link) {
            summary.static_variants += 1;
            return Err(Refused::StaticVariant);
        }
        let per_pattern = f.patterns.entry(pattern_of(&link)).or_default();
        if self.is_trap(&link) || (!listed && *per_pattern >= self.opts.max_pages_per_pattern) {
            summary.trapped += 1;
            return Err(Refused::Trap);
        }
        *per_pattern += 1;
        Ok(())
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
        if scope.below.as_deref().is_some_and(|folder| same_site && !path.starts_with(folder) && path != folder.trim_end_matches('/')) {
            return false;
        }
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

    /// Reads `url`'s origin's robots.txt into `cache` once (unless robots are ignored) and
    /// applies its `Crawl-delay`.
    async fn robots_for(&self, url: &Url, cache: &mut RobotsCache, politeness: &Politeness) {
        if self.opts.ignore_robots {
            return;
        }
        let origin = url.origin().ascii_serialization();
        if let std::collections::hash_map::Entry::Vacant(entry) = cache.entry(origin) {
            let robot = self.fetch_robots(url).await;
            if let Some(d) = robot.as_ref().and_then(|r| r.delay) {
                let delay = Duration::try_from_secs_f32(d.max(0.0)).unwrap_or(self.opts.max_crawl_delay);
                politeness.set_delay(entry.key(), delay.min(self.opts.max_crawl_delay));
            }
            entry.insert(robot);
        }
    }

    async fn fetch_robots(&self, url: &Url) -> Option<texting_robots::Robot> {
        let robots_url = url.join("/robots.txt").ok()?;
        let opts = FetchOptions {
            timeout: Duration::from_secs(10),
            read_timeout: Some(self.opts.fetch.read_timeout.unwrap_or(CRAWL_READ_TIMEOUT).min(Duration::from_secs(10))),
            max_body_bytes: 512 * 1024,
            ..FetchOptions::default()
        };
        let page = fetch_with_retry(&*self.fetcher, &robots_url, &opts, &self.opts.retry).await.result.ok()?;
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

/// Whether a page is HTML (a page without a `Content-Type` is sniffed as HTML).
pub fn is_html(page: &FetchedPage) -> bool {
    page.header("content-type").is_none_or(|ct| {
        let ct = ct.trim().to_ascii_lowercase();
        HTML_TYPES.iter().any(|t| ct.starts_with(t))
    })
}

/// The content types a crawl that skips non-HTML answers asks for.
pub fn html_content_types() -> Vec<String> {
    HTML_TYPES.iter().map(|t| (*t).to_owned()).collect()
}

/// The absolute, normalised links of an HTML page. The body is decoded in its charset
/// (BOM, header, `<meta>`, then a guess) first, and query strings are encoded in it, as a
/// browser would.
pub fn page_links(page: &FetchedPage, strip_tracking: bool) -> Vec<Url> {
    if !is_html(page) || !(200..300).contains(&page.status) {
        return Vec::new();
    }
    let (text, encoding) = ace_extractors::charset::decode(&page.body, page.header("content-type"));
    let links = extract_links(text.as_bytes());
    let encode_query: &dyn Fn(&str) -> std::borrow::Cow<'_, [u8]> = &|s| encoding.encode(s).0;
    let legacy = encoding != encoding_rs::UTF_8;
    let base = links.base.as_deref().and_then(|b| page.final_url.join(b).ok()).unwrap_or_else(|| page.final_url.clone());
    let mut out = Vec::with_capacity(links.hrefs.len());
    let mut local: HashSet<&str> = HashSet::with_capacity(links.hrefs.len());
    for href in &links.hrefs {
        // Pages repeat links (navigation, "top" anchors): resolve each spelling once.
        if !local.insert(href.split('#').next().unwrap_or(href)) {
            continue;
        }
        let joined = if legacy {
            Url::options().base_url(Some(&base)).encoding_override(Some(encode_query)).parse(href)
        } else {
            base.join(href)
        };
        if let Ok(mut url) = joined {
            normalize(&mut url, strip_tracking);
            out.push(url);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crawl_below_its_start_keeps_to_the_start_folder() {
        assert_eq!(start_folder("/docs/guide/"), "/docs/guide/");
        assert_eq!(start_folder("/docs/guide/intro.html"), "/docs/guide/");
        assert_eq!(start_folder("/docs/guide"), "/docs/guide/");
        assert_eq!(start_folder("/"), "/");
    }
}
