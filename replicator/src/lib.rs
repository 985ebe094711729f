//! Site replication: a URL in, an offline copy out that looks the same with the origin gone.
//!
//! In flows a start URL and [`ReplicateOptions`] (the body of `POST /v1/replicate` and of
//! `replicate` jobs); out flows a [`Replica`]: the [`capture::Capture`] (every HTTP exchange,
//! for archives), the [`site::Site`] (the rewritten files, for the folder and the zip) and a
//! [`Report`] (counts, bytes, and every reference that could not be copied). The engine asks
//! only for "something that fetches a URL" ([`ace_crawlers::Fetcher`]); the orchestrator and
//! the CLI wire in the guarded HTTP client.
//!
//! The stages are modules: [`capture`] fetches pages and their requisites, [`html`] and
//! [`css`] find and rewrite references, [`paths`] names files, [`site`] lays out and writes
//! the copy, [`warc`] writes WARC 1.1 and [`wacz`] WACZ 1.1.1, [`replay`] serves a copy
//! safely, [`qa`] checks a copy's fidelity. With `render: true`
//! pages are loaded in a browser through the [`record::PageRecorder`] seam
//! ([`replicate_with`]), and every response the browser received is kept.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use ace_crawlers::{FetchGuard, FetchOptions, HttpFetcher};
//! let fetcher = Arc::new(HttpFetcher::new(FetchGuard::deny_private(), FetchOptions::default())?);
//! let opts = ace_replicator::ReplicateOptions { max_pages: Some(50), ..Default::default() };
//! let start = url::Url::parse("https://example.com/")?;
//! let cancel = tokio_util::sync::CancellationToken::new();
//! let replica = ace_replicator::replicate(fetcher, start, &opts, &cancel).await?;
//! replica.site.write_dir(std::path::Path::new("copy"))?;
//! println!("{} files, {} missing", replica.report.files, replica.report.missing.len());
//! # Ok(()) }
//! ```

pub mod capture;
pub mod css;
pub mod html;
pub mod paths;
pub mod qa;
pub mod record;
pub mod replay;
pub mod site;
pub mod wacz;
pub mod warc;

use std::sync::Arc;
use std::time::Duration;

use ace_crawlers::Fetcher;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::capture::{Capture, CaptureLimits};
use crate::site::Site;

/// A kind of artifact a replica is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Output {
    /// A browsable directory.
    Dir,
    /// The directory as a zip.
    Zip,
    /// WARC 1.1, gzip per record.
    Warc,
    /// A WACZ package.
    Wacz,
}

/// What to copy and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ReplicateOptions {
    /// Most pages to copy (pages reached by links; their requisites are not counted).
    pub max_pages: Option<u64>,
    /// Most link hops from the start page.
    pub max_depth: Option<u32>,
    /// Regexes on the path a linked page must match to be copied.
    pub include_paths: Vec<String>,
    /// Regexes on the path that keep a linked page out.
    pub exclude_paths: Vec<String>,
    /// Load each page in a browser and keep every response it received, including what
    /// scripts fetch and what scrolling loads (needs the browser pool).
    pub render: bool,
    /// Which artifacts to write.
    pub outputs: Vec<Output>,
    /// Largest single response copied, in bytes (default 50 MiB); larger ones are reported
    /// missing as `too_large`.
    pub max_asset_bytes: Option<u64>,
    /// Most bytes captured in all (default 2 GiB).
    pub max_total_bytes: Option<u64>,
    /// Requests in flight at once (default 16).
    pub concurrency: Option<usize>,
    /// Do not read or obey robots.txt.
    pub ignore_robots_txt: bool,
    /// Per-request time limit in milliseconds (default 30 000).
    pub timeout: Option<u64>,
    /// Make the copy refuse every request outside itself (default true): each page carries
    /// a Content-Security-Policy that allows only the copy's own files, so what was not
    /// captured (a script's call to an API elsewhere, a CDN font) fails quietly instead of
    /// reaching the live web. `false` leaves pages as they were.
    pub block_external: bool,
    /// Seconds between two requests to one origin (Firecrawl's `delay`); robots.txt
    /// `Crawl-delay` raises it for the start origin unless `ignoreRobotsTxt`.
    pub delay: Option<f64>,
    /// With `render`: save each page as its DOM after scripts ran (scripts removed, their
    /// effects kept) instead of the HTML the server sent. The WARC keeps the responses.
    pub keep_dom: bool,
}

impl Default for ReplicateOptions {
    fn default() -> ReplicateOptions {
        ReplicateOptions {
            max_pages: None,
            max_depth: None,
            include_paths: Vec::new(),
            exclude_paths: Vec::new(),
            render: false,
            outputs: vec![Output::Dir],
            max_asset_bytes: None,
            max_total_bytes: None,
            concurrency: None,
            ignore_robots_txt: false,
            timeout: None,
            block_external: true,
            keep_dom: false,
            delay: None,
        }
    }
}

impl ReplicateOptions {
    /// Checks the options and turns them into capture limits.
    pub fn limits(&self) -> Result<CaptureLimits, ReplicateError> {
        let regexes = |name: &'static str,
                       list: &[String]|
         -> Result<Vec<regex::Regex>, ReplicateError> {
            list.iter()
                .map(|r| {
                    regex::Regex::new(r)
                        .map_err(|e| ReplicateError::InvalidOption { name, reason: e.to_string() })
                })
                .collect()
        };
        if self.keep_dom && !self.render {
            return Err(ReplicateError::InvalidOption {
                name: "keepDom",
                reason: "needs render: true (only a browser has a DOM after scripts)".into(),
            });
        }
        let defaults = CaptureLimits::default();
        Ok(CaptureLimits {
            max_pages: self.max_pages,
            max_depth: self.max_depth,
            include: regexes("includePaths", &self.include_paths)?,
            exclude: regexes("excludePaths", &self.exclude_paths)?,
            max_asset_bytes: self.max_asset_bytes.unwrap_or(defaults.max_asset_bytes),
            max_total_bytes: self.max_total_bytes.unwrap_or(defaults.max_total_bytes),
            concurrency: self.concurrency.unwrap_or(defaults.concurrency).clamp(1, 64),
            ignore_robots: self.ignore_robots_txt,
            timeout: self.timeout.map(Duration::from_millis).unwrap_or(defaults.timeout),
            keep_dom: self.keep_dom,
            delay: match self.delay {
                None => None,
                Some(d) if d.is_finite() && (0.0..=3600.0).contains(&d) => {
                    Some(Duration::from_secs_f64(d))
                }
                Some(d) => {
                    return Err(ReplicateError::InvalidOption {
                        name: "delay",
                        reason: format!("{d} is not a number of seconds from 0 to 3600"),
                    })
                }
            },
        })
    }
}

/// A reference the copy could not include.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Missing {
    /// The URL.
    pub url: String,
    /// The page or style sheet that referred to it.
    pub referrer: Option<String>,
    /// A code: `not_found`, `error_status`, `too_large`, `redirect_loop`, `too_many_redirects`,
    /// `network_error`, `timeout`, `target_forbidden`, `total_bytes_cap`, ...
    pub reason: String,
    /// More words, where there are any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Missing {
    pub(crate) fn new(
        url: &Url,
        referrer: Option<&Url>,
        reason: &str,
        detail: Option<String>,
    ) -> Missing {
        Missing {
            url: url.to_string(),
            referrer: referrer.map(Url::to_string),
            reason: reason.to_owned(),
            detail,
        }
    }
}

/// What a replication did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The start URL.
    pub url: String,
    /// The start page's file in the copy.
    pub entry: Option<String>,
    /// Pages copied.
    pub pages: u64,
    /// Requisites copied (files, after deduplication).
    pub assets: u64,
    /// Files in the copy.
    pub files: u64,
    /// Bytes of the copy.
    pub bytes: u64,
    /// HTTP exchanges made (redirects and errors included).
    pub requests: u64,
    /// Bytes downloaded.
    pub downloaded_bytes: u64,
    /// URLs whose bytes were already in the copy under another URL.
    pub duplicates: u64,
    /// Pages robots.txt kept out.
    pub disallowed_by_robots: u64,
    /// Whether `maxPages` stopped the capture with links unfollowed.
    pub hit_page_limit: bool,
    /// Whether the total byte cap stopped the capture.
    pub hit_byte_limit: bool,
    /// Whether it was cancelled before the end.
    pub cancelled: bool,
    /// References that could not be copied.
    pub missing: Vec<Missing>,
    /// Time to capture and lay out, in milliseconds.
    pub elapsed_ms: u64,
}

/// A finished replication: what was fetched, the copy, and the report.
#[derive(Debug, Clone)]
pub struct Replica {
    /// Every exchange (for WARC).
    pub capture: Capture,
    /// The rewritten files.
    pub site: Site,
    /// The summary.
    pub report: Report,
}

/// What went wrong making a replica.
#[derive(Debug, thiserror::Error)]
pub enum ReplicateError {
    /// The start URL cannot be copied.
    #[error("cannot replicate {url}: {reason}")]
    StartUrl {
        /// The URL.
        url: Url,
        /// Why.
        reason: String,
    },
    /// The start page itself could not be fetched.
    #[error("the start page {url} could not be copied: {reason}")]
    StartPage {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// An option is invalid.
    #[error("invalid option {name}: {reason}")]
    InvalidOption {
        /// The option's API name.
        name: &'static str,
        /// Why.
        reason: String,
    },
    /// `render: true` needs a browser, and none is available.
    #[error("render: true needs a browser and none is available (is Chromium installed?); use render: false")]
    RenderUnavailable,
    /// A path to write was not a plain relative path (never written).
    #[error("refused to write outside the output folder: {path}")]
    UnsafePath {
        /// The path.
        path: String,
    },
    /// Writing the copy failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// Where.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// Writing the zip failed.
    #[error("cannot write the zip: {0}")]
    Zip(String),
}

impl ReplicateError {
    /// The snake_case code the API reports.
    pub fn code(&self) -> &'static str {
        match self {
            ReplicateError::StartUrl { .. } => "invalid_url",
            ReplicateError::StartPage { .. } => "start_page_failed",
            ReplicateError::InvalidOption { .. } => "invalid_request",
            ReplicateError::RenderUnavailable => "unavailable",
            ReplicateError::UnsafePath { .. } => "unsafe_path",
            ReplicateError::Io { .. } | ReplicateError::Zip(_) => "write_failed",
        }
    }
}

/// Captures `start` and lays out the copy (nothing is written yet: see [`site::Site`] and
/// [`warc`]). Fails only if the options are invalid or the start page cannot be fetched;
/// every other failure is listed in the report.
pub async fn replicate(
    fetcher: Arc<dyn Fetcher>,
    start: Url,
    opts: &ReplicateOptions,
    cancel: &CancellationToken,
) -> Result<Replica, ReplicateError> {
    replicate_with(fetcher, None, start, opts, cancel).await
}

/// [`replicate`], with a browser for `render: true` ([`record::PageRecorder`]).
pub async fn replicate_with(
    fetcher: Arc<dyn Fetcher>,
    recorder: Option<Arc<dyn record::PageRecorder>>,
    start: Url,
    opts: &ReplicateOptions,
    cancel: &CancellationToken,
) -> Result<Replica, ReplicateError> {
    let limits = opts.limits()?;
    let started = std::time::Instant::now();
    let capture = match (opts.render, recorder) {
        (false, _) => capture::capture(fetcher, start, &limits, cancel).await?,
        (true, None) => return Err(ReplicateError::RenderUnavailable),
        (true, Some(recorder)) => {
            let record = record::RecordOptions {
                timeout: limits.timeout,
                ..record::RecordOptions::default()
            };
            capture::capture_rendered(recorder, fetcher, start, &limits, &record, cancel).await?
        }
    };
    if capture.resolve(&capture.start).is_err() && !capture.cancelled {
        let reason = capture
            .missing
            .iter()
            .find(|m| m.referrer.is_none())
            .map(|m| {
                format!(
                    "{}{}",
                    m.reason,
                    m.detail.as_ref().map(|d| format!(" ({d})")).unwrap_or_default()
                )
            })
            .unwrap_or_else(|| "no content".into());
        return Err(ReplicateError::StartPage { url: capture.start.to_string(), reason });
    }
    let site = site::build(&capture, opts.block_external);
    let report = Report {
        url: capture.start.to_string(),
        entry: site.entry.clone(),
        pages: site.files.iter().filter(|f| f.page).count() as u64,
        assets: site.files.iter().filter(|f| !f.page && f.url != capture.start).count() as u64,
        files: site.files.len() as u64,
        bytes: site.bytes(),
        requests: capture.requests,
        downloaded_bytes: capture.exchanges.iter().map(|e| e.body.len() as u64).sum(),
        duplicates: site.duplicates,
        disallowed_by_robots: capture.disallowed_by_robots,
        hit_page_limit: capture.hit_page_limit,
        hit_byte_limit: capture.hit_byte_limit,
        cancelled: capture.cancelled,
        missing: capture.missing.clone(),
        elapsed_ms: started.elapsed().as_millis() as u64,
    };
    Ok(Replica { capture, site, report })
}

/// `f` applied to every item of `items` on all cores (work is taken one item at a time, so
/// one large page does not hold up a whole share), the results in the items' order.
pub(crate) fn in_parallel<'a, T: Sync, R: Send>(
    items: &'a [T],
    f: &(dyn Fn(&'a T) -> R + Sync),
) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(item) = items.get(k) else { break };
                        mine.push((k, f(item)));
                    }
                    mine
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().expect("a worker thread panicked")).collect()
    });
    done.sort_unstable_by_key(|(k, _)| *k);
    done.into_iter().map(|(_, r)| r).collect()
}
