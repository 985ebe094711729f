//! Capture over HTTP (`render: false`): pages breadth first, and everything they load.
//!
//! Two kinds of work share one frontier. Pages are followed from `<a href>`-style links
//! within the start host, breadth first, bounded by `maxPages`, `maxDepth`, include/exclude
//! regexes on the path and robots.txt. Requisites (what a page or style sheet loads: images,
//! scripts, styles, fonts, frames) are fetched from any host the fetch guard allows, whatever
//! the page limits, since a page without them is not a copy; style sheets and frames are read
//! for their own requisites. Redirects are followed here, one recorded hop at a time, so a
//! WARC holds every hop and a loop is reported instead of fetched forever. Every failure
//! becomes a [`Missing`] entry with the page that referred to it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ace_crawlers::normalize::normalize;
use ace_crawlers::{FetchError, FetchOptions, Fetcher};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use regex::Regex;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::html::RefKind;
use crate::paths::media_type;
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
}

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
                let guess = if path.ends_with(".html") || path.ends_with(".htm") || path.ends_with('/') {
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

/// Captures `start` through `fetcher`.
pub async fn capture(
    fetcher: Arc<dyn Fetcher>,
    start: Url,
    limits: &CaptureLimits,
    cancel: &CancellationToken,
) -> Result<Capture, ReplicateError> {
    let started = Instant::now();
    if !matches!(start.scheme(), "http" | "https") {
        return Err(ReplicateError::StartUrl { url: start, reason: "only http and https URLs can be copied".into() });
    }
    let start = canonical(&start);
    let fetch_opts = FetchOptions {
        timeout: limits.timeout,
        max_body_bytes: limits.max_asset_bytes,
        headers: Vec::new(),
        follow_redirects: false,
    };
    let robots = if limits.ignore_robots { None } else { fetch_robots(fetcher.as_ref(), &start, &fetch_opts).await };
    let mut c = Capture {
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
    };
    let mut seen: HashSet<Url> = HashSet::new();
    let mut queue: VecDeque<Task> = VecDeque::new();
    let mut pages_queued: u64 = 1;
    let mut bytes: u64 = 0;
    seen.insert(start.clone());
    queue.push_back(Task { url: start.clone(), role: Role::Page { depth: 0 }, referrer: None, hops: 0 });
    let mut running: JoinSet<(Task, Result<ace_crawlers::FetchedPage, FetchError>)> = JoinSet::new();
    loop {
        while running.len() < limits.concurrency.max(1) && !cancel.is_cancelled() {
            let Some(task) = queue.pop_front() else { break };
            if bytes >= limits.max_total_bytes {
                c.hit_byte_limit = true;
                c.missing.push(Missing::new(&task.url, task.referrer.as_ref(), "total_bytes_cap", None));
                continue;
            }
            let fetcher = fetcher.clone();
            let opts = fetch_opts.clone();
            running.spawn(async move {
                let result = fetcher.fetch(&task.url, &opts).await;
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
        let page = match result {
            Ok(page) => page,
            Err(e) => {
                c.missing.push(Missing::new(&task.url, task.referrer.as_ref(), e.code(), Some(e.to_string())));
                continue;
            }
        };
        bytes += page.body.len() as u64;
        let redirect_to = if (300..400).contains(&page.status) {
            page.header("location").and_then(|l| task.url.join(l).ok()).map(|u| canonical(&u))
        } else {
            None
        };
        let ex = Exchange {
            url: task.url.clone(),
            status: page.status,
            headers: page.headers,
            body: page.body,
            redirect_to: redirect_to.clone(),
            role: task.role,
            date: Utc::now(),
        };
        let mut discovered: Vec<(Url, RefKind)> = Vec::new();
        if let Some(target) = redirect_to {
            if task.hops >= MAX_REDIRECTS {
                c.missing.push(Missing::new(&task.url, task.referrer.as_ref(), "too_many_redirects", None));
            } else if seen.insert(target.clone()) {
                let in_scope = match task.role {
                    Role::Page { .. } => same_site(&start, &target),
                    Role::Requisite => true,
                };
                if in_scope {
                    queue.push_front(Task { url: target, role: task.role, referrer: task.referrer.clone(), hops: task.hops + 1 });
                }
            } else if ex_chain_loops(&c, &ex, &target) {
                c.missing.push(Missing::new(&task.url, task.referrer.as_ref(), "redirect_loop", None));
            }
        } else if !ex.is_success() {
            let code = if ex.status == 404 { "not_found" } else { "error_status" };
            c.missing.push(Missing::new(&task.url, task.referrer.as_ref(), code, Some(format!("HTTP {}", ex.status))));
        } else if ex.is_html() {
            let text = crate::html::decode_body(ex.header("content-type"), &ex.body);
            let _ = crate::html::process(&text, &ex.url, false, &mut |u, k| {
                discovered.push((u.clone(), k));
                None
            });
        } else if ex.is_css() {
            let text = crate::html::decode_body(ex.header("content-type"), &ex.body);
            for r in crate::css::references(&text) {
                if crate::html::is_fetchable(&r) {
                    if let Ok(u) = ex.url.join(r.trim()) {
                        discovered.push((u, RefKind::Embed));
                    }
                }
            }
        }
        let from = ex.url.clone();
        let role = ex.role;
        c.index.insert(ex.url.clone(), c.exchanges.len());
        c.exchanges.push(ex);
        for (url, kind) in discovered {
            if !matches!(url.scheme(), "http" | "https") {
                continue;
            }
            let url = canonical(&url);
            match (kind, role) {
                (RefKind::Embed | RefKind::Frame, _) => {
                    if seen.insert(url.clone()) {
                        queue.push_back(Task { url, role: Role::Requisite, referrer: Some(from.clone()), hops: 0 });
                    }
                }
                (RefKind::Link, Role::Page { depth }) => {
                    if seen.contains(&url) || !same_site(&start, &url) {
                        continue;
                    }
                    if limits.max_depth.is_some_and(|d| depth >= d) {
                        continue;
                    }
                    if !path_in_scope(&url, limits) {
                        continue;
                    }
                    if robots.as_ref().is_some_and(|r| !r.allowed(url.as_str())) {
                        seen.insert(url);
                        c.disallowed_by_robots += 1;
                        continue;
                    }
                    if limits.max_pages.is_some_and(|m| pages_queued >= m) {
                        c.hit_page_limit = true;
                        continue;
                    }
                    pages_queued += 1;
                    seen.insert(url.clone());
                    queue.push_back(Task { url, role: Role::Page { depth: depth + 1 }, referrer: Some(from.clone()), hops: 0 });
                }
                (RefKind::Link, Role::Requisite) => {}
            }
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
    start.host_str() == url.host_str() && start.port_or_known_default() == url.port_or_known_default()
}

fn path_in_scope(url: &Url, limits: &CaptureLimits) -> bool {
    let path = url.path();
    (limits.include.is_empty() || limits.include.iter().any(|r| r.is_match(path))) && !limits.exclude.iter().any(|r| r.is_match(path))
}

async fn fetch_robots(fetcher: &dyn Fetcher, start: &Url, opts: &FetchOptions) -> Option<texting_robots::Robot> {
    let url = start.join("/robots.txt").ok()?;
    let opts = FetchOptions { follow_redirects: true, max_body_bytes: 512 * 1024, ..opts.clone() };
    let page = fetcher.fetch(&url, &opts).await.ok()?;
    if !(200..300).contains(&page.status) {
        return None;
    }
    texting_robots::Robot::new("ace-web", &page.body).ok()
}
