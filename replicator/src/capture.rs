//! Capture over HTTP (`render: false`): pages breadth first, and everything they load.
//!
//! Two kinds of work share one frontier. Pages are followed from `<a href>`-style links
//! within the start host, breadth first, bounded by `maxPages`, `maxDepth`, include/exclude
//! regexes on the path and robots.txt; requests to each origin are spaced by the `delay`
//! option and the start origin's `Crawl-delay` (the crawler's [`Politeness`]). Requisites
//! (what a page or style sheet loads: images, scripts, styles, fonts, frames) are fetched
//! from any host the fetch guard allows, whatever the page limits, since a page without them
//! is not a copy; style sheets and frames are read for their own requisites. Redirects are followed here, one recorded hop at a time, so a
//! WARC holds every hop and a loop is reported instead of fetched forever. Every failure
//! becomes a [`Missing`] entry with the page that referred to it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ace_crawlers::normalize::normalize;
use ace_crawlers::politeness::Politeness;
use ace_crawlers::{FetchError, FetchOptions, Fetcher};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use regex::Regex;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::html::RefKind;
use crate::paths::media_type;
use crate::record::{PageRecorder, RecordError, RecordOptions, RecordedPage};
use crate::{Missing, ReplicateError};

/// Most redirect hops followed from one reference.
const MAX_REDIRECTS: usize = 10;

/// How a capture is bounded.
#[derive(Debug, Clone)]
pub struct CaptureLimits {
    /// Most pages (HTML documents reached by links, the start page included).
    pub max_pages: Option<u64>,
    /// Most link hops from the start page.
    pub max_depth: Option<u32>,
    /// A linked page's path must match one of these, when any are given.
    pub include: Vec<Regex>,
    /// A linked page whose path matches one of these is not copied.
    pub exclude: Vec<Regex>,
    /// Largest single response kept; larger ones are reported missing (`too_large`).
    pub max_asset_bytes: u64,
    /// Most bytes captured in all; past this nothing new is fetched.
    pub max_total_bytes: u64,
    /// Fetches in flight at once.
    pub concurrency: usize,
    /// Do not read or obey robots.txt for pages.
    pub ignore_robots: bool,
    /// Per-request time limit.
    pub timeout: Duration,
    /// Keep each rendered page's DOM after scripts ran ([`Capture::doms`]).
    pub keep_dom: bool,
    /// Time between two requests to one origin; the start origin's robots.txt
    /// `Crawl-delay` raises it for that origin (up to [`MAX_CRAWL_DELAY`]).
    pub delay: Option<Duration>,
}

/// The longest robots.txt `Crawl-delay` obeyed (a site asking for an hour gets this).
pub const MAX_CRAWL_DELAY: Duration = Duration::from_secs(30);

impl Default for CaptureLimits {
    fn default() -> CaptureLimits {
        CaptureLimits {
            max_pages: None,
            max_depth: None,
            include: Vec::new(),
            exclude: Vec::new(),
            max_asset_bytes: 50 * 1024 * 1024,
            max_total_bytes: 2 * 1024 * 1024 * 1024,
            concurrency: 16,
            ignore_robots: false,
            timeout: Duration::from_secs(30),
            keep_dom: false,
            delay: None,
        }
    }
}

/// How a resource was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// By links from the start page, this many hops away.
    Page {
        /// Link hops from the start page.
        depth: u32,
    },
    /// Loaded by a page or style sheet.
    Requisite,
}

/// One HTTP exchange of the capture.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The URL requested (normalised, no fragment).
    pub url: Url,
    /// Response status.
    pub status: u16,
    /// Response headers, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The body, decoded of any content encoding.
    pub body: Bytes,
    /// For a redirect: where it points.
    pub redirect_to: Option<Url>,
    /// How it was reached.
    pub role: Role,
    /// When the response arrived.
    pub date: DateTime<Utc>,
}

impl Exchange {
    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The media type, from `Content-Type` or, when absent, the file extension.
    pub fn media_type(&self) -> String {
        match self.header("content-type") {
            Some(ct) if !ct.trim().is_empty() => media_type(ct),
            _ => {
                let path = self.url.path().to_ascii_lowercase();
                let guess =
                    if path.ends_with(".html") || path.ends_with(".htm") || path.ends_with('/') {
                        "text/html"
                    } else if path.ends_with(".css") {
                        "text/css"
                    } else {
                        ""
                    };
                guess.to_owned()
            }
        }
    }

    /// Whether this is an HTML document.
    pub fn is_html(&self) -> bool {
        let m = self.media_type();
        m == "text/html" || m == "application/xhtml+xml"
    }

    /// Whether this is a style sheet.
    pub fn is_css(&self) -> bool {
        self.media_type() == "text/css"
    }

    /// Whether the copy can use it (a 2xx answer).
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Everything a capture fetched, and what it could not.
#[derive(Debug, Clone)]
pub struct Capture {
    /// The start URL (after normalisation).
    pub start: Url,
    /// Every exchange, in the order responses arrived.
    pub exchanges: Vec<Exchange>,
    /// Exchanges by requested URL.
    pub index: HashMap<Url, usize>,
    /// References that could not be fetched.
    pub missing: Vec<Missing>,
    /// Requests sent (robots.txt not counted).
    pub requests: u64,
    /// Pages robots.txt kept out.
    pub disallowed_by_robots: u64,
    /// Whether `maxPages` stopped the capture with links still unfollowed.
    pub hit_page_limit: bool,
    /// Whether the total byte cap stopped the capture.
    pub hit_byte_limit: bool,
    /// Whether the capture was cancelled.
    pub cancelled: bool,
    /// How long it took.
    pub elapsed: Duration,
    /// Rendered pages' DOM after scripts ran, by the URL of the exchange that served the
    /// page, when [`CaptureLimits::keep_dom`] asked for them.
    pub doms: HashMap<Url, String>,
}

impl Capture {
    /// Follows redirects from `url` to the exchange that answered with content, if any.
    pub fn resolve(&self, url: &Url) -> Result<&Exchange, Option<&'static str>> {
        let mut current = url.clone();
        for _ in 0..=MAX_REDIRECTS {
            let Some(&i) = self.index.get(&current) else { return Err(None) };
            let ex = &self.exchanges[i];
            match &ex.redirect_to {
                Some(next) => current = next.clone(),
                None if ex.is_success() => return Ok(ex),
                None => return Err(Some("error status")),
            }
        }
        Err(Some("redirect loop"))
    }
}

/// The same URL, spelled one way for the capture's index.
pub fn canonical(url: &Url) -> Url {
    let mut u = url.clone();
    normalize(&mut u, false);
    u
}

struct Task {
    url: Url,
    role: Role,
    referrer: Option<Url>,
    hops: usize,
}

/// The state both capture modes share: what was seen, what is queued, and the page scope.
struct Frontier<'a> {
    start: Url,
    limits: &'a CaptureLimits,
    robots: Option<texting_robots::Robot>,
    /// Per-origin concurrency and delay, the crawler's.
    politeness: Arc<Politeness>,
    seen: HashSet<Url>,
    queue: VecDeque<Task>,
    pages_queued: u64,
    bytes: u64,
}

impl<'a> Frontier<'a> {
    /// A frontier that has seen only `start`, with the start origin's robots.txt read (unless
    /// ignored) and its politeness set.
    async fn begin(fetcher: &dyn Fetcher, start: &Url, limits: &'a CaptureLimits) -> Frontier<'a> {
        let robots = if limits.ignore_robots {
            None
        } else {
            fetch_robots(fetcher, start, &fetch_options(limits)).await
        };
        let politeness = politeness_for(limits, start, robots.as_ref());
        Frontier {
            start: start.clone(),
            limits,
            robots,
            politeness,
            seen: HashSet::from([start.clone()]),
            queue: VecDeque::new(),
            pages_queued: 1,
            bytes: 0,
        }
    }

    /// Queues a discovered reference: requisites always, links when in the page scope.
    fn offer(&mut self, c: &mut Capture, url: &Url, kind: RefKind, from: &Url, from_role: Role) {
        if !matches!(url.scheme(), "http" | "https") {
            return;
        }
        let url = canonical(url);
        match (kind, from_role) {
            (RefKind::Embed | RefKind::Frame, _) => {
                if self.seen.insert(url.clone()) {
                    self.queue.push_back(Task {
                        url,
                        role: Role::Requisite,
                        referrer: Some(from.clone()),
                        hops: 0,
                    });
                }
            }
            (RefKind::Link, Role::Page { depth }) => {
                if self.seen.contains(&url) || !same_site(&self.start, &url) {
                    return;
                }
                if self.limits.max_depth.is_some_and(|d| depth >= d)
                    || !path_in_scope(&url, self.limits)
                {
                    return;
                }
                if self.robots.as_ref().is_some_and(|r| !r.allowed(url.as_str())) {
                    self.seen.insert(url);
                    c.disallowed_by_robots += 1;
                    return;
                }
                if self.limits.max_pages.is_some_and(|m| self.pages_queued >= m) {
                    c.hit_page_limit = true;
                    return;
                }
                self.pages_queued += 1;
                self.seen.insert(url.clone());
                self.queue.push_back(Task {
                    url,
                    role: Role::Page { depth: depth + 1 },
                    referrer: Some(from.clone()),
                    hops: 0,
                });
            }
            (RefKind::Link, Role::Requisite) => {}
        }
    }
}

/// The references an HTML document or style sheet makes.
fn discover(ex: &Exchange) -> Vec<(Url, RefKind)> {
    let mut found = Vec::new();
    if !ex.is_success() || ex.redirect_to.is_some() {
        return found;
    }
    if ex.is_html() {
        let text = crate::html::decode_body(ex.header("content-type"), &ex.body);
        let _ = crate::html::process(&text, &ex.url, false, &mut |u, k| {
            found.push((u.clone(), k));
            None
        });
    } else if ex.is_css() {
        let text = crate::html::decode_body(ex.header("content-type"), &ex.body);
        for r in crate::css::references(&text) {
            if crate::html::is_fetchable(&r) {
                if let Ok(u) = ex.url.join(r.trim()) {
                    found.push((u, RefKind::Embed));
                }
            }
        }
    }
    found
}

fn new_capture(start: &Url) -> Capture {
    Capture {
        start: start.clone(),
        exchanges: Vec::new(),
        index: HashMap::new(),
        missing: Vec::new(),
        requests: 0,
        disallowed_by_robots: 0,
        hit_page_limit: false,
        hit_byte_limit: false,
        cancelled: false,
        elapsed: Duration::ZERO,
        doms: HashMap::new(),
    }
}

fn fetch_options(limits: &CaptureLimits) -> FetchOptions {
    FetchOptions {
        timeout: limits.timeout,
        max_body_bytes: limits.max_asset_bytes,
        headers: Vec::new(),
        follow_redirects: false,
        ..FetchOptions::default()
    }
}

fn checked_start(start: Url) -> Result<Url, ReplicateError> {
    if !matches!(start.scheme(), "http" | "https") {
        return Err(ReplicateError::StartUrl {
            url: start,
            reason: "only http and https URLs can be copied".into(),
        });
    }
    Ok(canonical(&start))
}

/// Captures `start` through `fetcher`.
pub async fn capture(
    fetcher: Arc<dyn Fetcher>,
    start: Url,
    limits: &CaptureLimits,
    cancel: &CancellationToken,
) -> Result<Capture, ReplicateError> {
    let started = Instant::now();
    let start = checked_start(start)?;
    let mut c = new_capture(&start);
    let mut f = Frontier::begin(fetcher.as_ref(), &start, limits).await;
    f.queue.push_back(Task {
        url: start.clone(),
        role: Role::Page { depth: 0 },
        referrer: None,
        hops: 0,
    });
    fetch_all(&fetcher, &mut c, &mut f, cancel).await;
    c.elapsed = started.elapsed();
    Ok(c)
}

/// A fetched exchange and the references read from it.
type Read = (Exchange, Vec<(Url, RefKind)>);

/// Fetches everything queued in `f` (and whatever that discovers) into `c`.
async fn fetch_all(
    fetcher: &Arc<dyn Fetcher>,
    c: &mut Capture,
    f: &mut Frontier<'_>,
    cancel: &CancellationToken,
) {
    let fetch_opts = fetch_options(f.limits);
    let mut running: JoinSet<(Task, Result<Read, FetchError>)> = JoinSet::new();
    loop {
        while running.len() < f.limits.concurrency.max(1) && !cancel.is_cancelled() {
            let Some(task) = f.queue.pop_front() else { break };
            if f.bytes >= f.limits.max_total_bytes {
                c.hit_byte_limit = true;
                c.missing.push(Missing::new(
                    &task.url,
                    task.referrer.as_ref(),
                    "total_bytes_cap",
                    None,
                ));
                continue;
            }
            let fetcher = fetcher.clone();
            let opts = fetch_opts.clone();
            let politeness = f.politeness.clone();
            // The response is read for references here, in the task, so that pages are parsed
            // on every core while other fetches wait on the network.
            running.spawn(async move {
                let permit = politeness.acquire(&task.url.origin().ascii_serialization()).await;
                let fetched = fetcher.fetch(&task.url, &opts).await;
                drop(permit);
                let result = fetched.map(|page| {
                    let redirect_to = if (300..400).contains(&page.status) {
                        page.header("location")
                            .and_then(|l| task.url.join(l).ok())
                            .map(|u| canonical(&u))
                    } else {
                        None
                    };
                    let ex = Exchange {
                        url: task.url.clone(),
                        status: page.status,
                        headers: page.headers,
                        body: page.body,
                        redirect_to,
                        role: task.role,
                        date: Utc::now(),
                    };
                    let discovered = discover(&ex);
                    (ex, discovered)
                });
                (task, result)
            });
        }
        let next = tokio::select! {
            joined = running.join_next() => joined,
            _ = cancel.cancelled() => {
                c.cancelled = true;
                running.abort_all();
                break;
            }
        };
        let Some(joined) = next else { break };
        let Ok((task, result)) = joined else { continue };
        c.requests += 1;
        let (ex, discovered) = match result {
            Ok(found) => found,
            Err(e) => {
                c.missing.push(Missing::new(
                    &task.url,
                    task.referrer.as_ref(),
                    e.code(),
                    Some(e.to_string()),
                ));
                continue;
            }
        };
        f.bytes += ex.body.len() as u64;
        if let Some(target) = ex.redirect_to.clone() {
            if task.hops >= MAX_REDIRECTS {
                c.missing.push(Missing::new(
                    &task.url,
                    task.referrer.as_ref(),
                    "too_many_redirects",
                    None,
                ));
            } else if f.seen.insert(target.clone()) {
                let in_scope = match task.role {
                    Role::Page { .. } => same_site(&f.start, &target),
                    Role::Requisite => true,
                };
                if in_scope {
                    f.queue.push_front(Task {
                        url: target,
                        role: task.role,
                        referrer: task.referrer.clone(),
                        hops: task.hops + 1,
                    });
                }
            } else if ex_chain_loops(c, &ex, &target) {
                c.missing.push(Missing::new(
                    &task.url,
                    task.referrer.as_ref(),
                    "redirect_loop",
                    None,
                ));
            }
        } else if !ex.is_success() {
            let code = if ex.status == 404 { "not_found" } else { "error_status" };
            c.missing.push(Missing::new(
                &task.url,
                task.referrer.as_ref(),
                code,
                Some(format!("HTTP {}", ex.status)),
            ));
        }
        let (from, role) = (ex.url.clone(), ex.role);
        c.index.insert(ex.url.clone(), c.exchanges.len());
        c.exchanges.push(ex);
        for (url, kind) in discovered {
            f.offer(c, &url, kind, &from, role);
        }
    }
}

/// Captures `start` by loading each page in a browser through `recorder` and keeping every
/// response it received (`render: true`); then fetches over HTTP whatever the pages' HTML and
/// CSS reference that the browser did not load (other `srcset` candidates, print styles,
/// hover images), so the copy is at least as complete as a static one.
pub async fn capture_rendered(
    recorder: Arc<dyn PageRecorder>,
    fetcher: Arc<dyn Fetcher>,
    start: Url,
    limits: &CaptureLimits,
    record: &RecordOptions,
    cancel: &CancellationToken,
) -> Result<Capture, ReplicateError> {
    let started = Instant::now();
    let start = checked_start(start)?;
    let mut c = new_capture(&start);
    let mut f = Frontier::begin(fetcher.as_ref(), &start, limits).await;
    let mut pages: VecDeque<Task> = VecDeque::from([Task {
        url: start.clone(),
        role: Role::Page { depth: 0 },
        referrer: None,
        hops: 0,
    }]);
    let mut running: JoinSet<(Task, Result<RecordedPage, RecordError>)> = JoinSet::new();
    let browsers = limits.concurrency.clamp(1, 4);
    loop {
        while running.len() < browsers && !cancel.is_cancelled() {
            let Some(task) = pages.pop_front() else { break };
            let recorder = recorder.clone();
            let opts = record.clone();
            let politeness = f.politeness.clone();
            running.spawn(async move {
                let _permit = politeness.acquire(&task.url.origin().ascii_serialization()).await;
                let result = recorder.record(&task.url, &opts).await;
                (task, result)
            });
        }
        let next = tokio::select! {
            joined = running.join_next() => joined,
            _ = cancel.cancelled() => {
                c.cancelled = true;
                running.abort_all();
                break;
            }
        };
        let Some(joined) = next else { break };
        let Ok((task, result)) = joined else { continue };
        let depth = match task.role {
            Role::Page { depth } => depth,
            Role::Requisite => 0,
        };
        let page = match result {
            Ok(page) => page,
            Err(e) => {
                c.missing.push(Missing::new(
                    &task.url,
                    task.referrer.as_ref(),
                    &e.code,
                    Some(e.message),
                ));
                continue;
            }
        };
        let final_url =
            Url::parse(&page.final_url).map(|u| canonical(&u)).unwrap_or_else(|_| task.url.clone());
        for r in page.responses {
            let Ok(url) = Url::parse(&r.url) else { continue };
            let url = canonical(&url);
            c.requests += 1;
            let Some(body) = r.body else { continue };
            if c.index.contains_key(&url) {
                continue;
            }
            if body.len() as u64 > limits.max_asset_bytes {
                let detail =
                    format!("{} bytes, over the limit of {}", body.len(), limits.max_asset_bytes);
                c.missing.push(Missing::new(&url, Some(&task.url), "too_large", Some(detail)));
                f.seen.insert(url);
                continue;
            }
            f.bytes += body.len() as u64;
            let redirect_to = if (300..400).contains(&r.status) {
                r.headers
                    .iter()
                    .find(|(n, _)| n == "location")
                    .and_then(|(_, l)| url.join(l).ok())
                    .map(|u| canonical(&u))
            } else {
                None
            };
            let is_document = url == task.url || url == final_url;
            let role = if is_document { task.role } else { Role::Requisite };
            if !is_document && !(200..400).contains(&r.status) {
                let code = if r.status == 404 { "not_found" } else { "error_status" };
                c.missing.push(Missing::new(
                    &url,
                    Some(&task.url),
                    code,
                    Some(format!("HTTP {}", r.status)),
                ));
            }
            f.seen.insert(url.clone());
            c.index.insert(url.clone(), c.exchanges.len());
            c.exchanges.push(Exchange {
                url,
                status: r.status,
                headers: r.headers,
                body: bytes::Bytes::from(body),
                redirect_to,
                role,
                date: Utc::now(),
            });
        }
        for (url, reason) in page.failed {
            if let Ok(u) = Url::parse(&url) {
                let u = canonical(&u);
                if !c.index.contains_key(&u) {
                    c.missing.push(Missing::new(
                        &u,
                        Some(&task.url),
                        "browser_failed",
                        Some(reason),
                    ));
                }
            }
        }
        if limits.keep_dom {
            if let Ok(served) = c.resolve(&task.url) {
                if served.is_html() {
                    let url = served.url.clone();
                    c.doms.insert(url, page.dom.clone());
                }
            }
        }
        // Links come from the DOM after scripts ran, so script-built menus are followed too.
        let mut links = Vec::new();
        let _ = crate::html::process(&page.dom, &final_url, false, &mut |u, k| {
            if k == RefKind::Link {
                links.push(u.clone());
            }
            None
        });
        for link in links {
            f.offer(&mut c, &link, RefKind::Link, &final_url, Role::Page { depth });
        }
        while let Some(t) = f.queue.pop_front() {
            pages.push_back(t);
        }
    }
    // What the markup references that the browser did not load.
    let known: Vec<usize> = (0..c.exchanges.len()).collect();
    for i in known {
        let ex = &c.exchanges[i];
        let (from, role) = (ex.url.clone(), ex.role);
        for (url, kind) in discover(ex) {
            if kind != RefKind::Link {
                f.offer(&mut c, &url, kind, &from, role);
            }
        }
    }
    if !c.cancelled {
        fetch_all(&fetcher, &mut c, &mut f, cancel).await;
    }
    // The browser gives up on a redirect loop after many hops; say so once per chain start.
    let looped: Vec<Url> = c
        .exchanges
        .iter()
        .filter(|e| {
            e.redirect_to.is_some() && matches!(c.resolve(&e.url), Err(Some("redirect loop")))
        })
        .map(|e| e.url.clone())
        .collect();
    for url in looped {
        if !c.missing.iter().any(|m| m.url == url.as_str()) {
            c.missing.push(Missing::new(&url, Some(&start), "redirect_loop", None));
        }
    }
    c.elapsed = started.elapsed();
    Ok(c)
}

/// Whether following redirects from `target` comes back to `ex`.
fn ex_chain_loops(c: &Capture, ex: &Exchange, target: &Url) -> bool {
    let mut current = target.clone();
    for _ in 0..=MAX_REDIRECTS {
        if current == ex.url {
            return true;
        }
        match c.index.get(&current).and_then(|&i| c.exchanges[i].redirect_to.clone()) {
            Some(next) => current = next,
            None => return false,
        }
    }
    true
}

fn same_site(start: &Url, url: &Url) -> bool {
    start.host_str() == url.host_str()
        && start.port_or_known_default() == url.port_or_known_default()
}

fn path_in_scope(url: &Url, limits: &CaptureLimits) -> bool {
    let path = url.path();
    (limits.include.is_empty() || limits.include.iter().any(|r| r.is_match(path)))
        && !limits.exclude.iter().any(|r| r.is_match(path))
}

/// The crawler's politeness for a capture: `concurrency` requests per origin, `delay` apart
/// when one is set, and the start origin's `Crawl-delay` when robots.txt has one.
fn politeness_for(
    limits: &CaptureLimits,
    start: &Url,
    robots: Option<&texting_robots::Robot>,
) -> Arc<Politeness> {
    let politeness = Politeness::new(limits.concurrency, limits.delay);
    if let Some(d) = robots.and_then(|r| r.delay) {
        let delay = Duration::try_from_secs_f32(d.max(0.0)).unwrap_or(MAX_CRAWL_DELAY);
        politeness.set_delay(&start.origin().ascii_serialization(), delay.min(MAX_CRAWL_DELAY));
    }
    Arc::new(politeness)
}

async fn fetch_robots(
    fetcher: &dyn Fetcher,
    start: &Url,
    opts: &FetchOptions,
) -> Option<texting_robots::Robot> {
    let url = start.join("/robots.txt").ok()?;
    let opts = FetchOptions { follow_redirects: true, max_body_bytes: 512 * 1024, ..opts.clone() };
    let page = fetcher.fetch(&url, &opts).await.ok()?;
    if !(200..300).contains(&page.status) {
        return None;
    }
    texting_robots::Robot::new("ace-web", &page.body).ok()
}
