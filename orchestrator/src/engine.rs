//! Job kinds meet their engines here, through one small trait.
//!
//! A worker hands an [`Engine`] a [`JobContext`]; the engine writes pages, progress and
//! artifacts through the context (each write fenced by the worker's lease) and returns the
//! usage to bill. Kinds with no engine registered are refused at submission with 501
//! `not_implemented`, never faked.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ace_crawlers::{FetchError, FetchOptions, Fetcher};
use ace_finance::{Metric, UsageEvent};
use async_trait::async_trait;
use serde_json::{json, Value};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::model::JobKind;
use crate::store::{ArtifactRecord, JobRecord, Store, StoreError};

/// What an engine reports when it succeeds.
#[derive(Debug, Clone)]
pub struct EngineReport {
    /// Usage to bill, recorded with the job's completion.
    pub usage: Vec<UsageEvent>,
    /// One line for the agents' task log.
    pub summary: String,
}

/// Why an engine stopped without success.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Worth trying again later (network errors, timeouts, a crashed browser).
    #[error("{message}")]
    Retryable {
        /// Error code.
        code: String,
        /// Sentence.
        message: String,
    },
    /// Will fail again (a refused target, a bad option).
    #[error("{message}")]
    Fatal {
        /// Error code.
        code: String,
        /// Sentence.
        message: String,
    },
    /// The worker no longer holds the job (cancelled, or its lease was taken over).
    #[error("the job's lease was lost")]
    LeaseLost,
    /// The store failed; the attempt is retried.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl EngineError {
    /// An engine failure with its code and sentence, retried or not.
    pub fn failure(code: &str, message: String, retryable: bool) -> EngineError {
        let code = code.to_owned();
        if retryable {
            EngineError::Retryable { code, message }
        } else {
            EngineError::Fatal { code, message }
        }
    }
}

impl From<FetchError> for EngineError {
    fn from(e: FetchError) -> EngineError {
        EngineError::failure(e.code(), e.to_string(), e.is_retryable())
    }
}

/// Runs one kind of job.
#[async_trait]
pub trait Engine: Send + Sync {
    /// Checks a job's options at submission, so bad ones get a 400 instead of a failed job.
    fn validate(&self, _options: &Value) -> Result<(), String> {
        Ok(())
    }

    /// Does the job. Dropped (cancelled) if the job is cancelled or the lease is lost.
    async fn run(&self, ctx: &JobContext) -> Result<EngineReport, EngineError>;
}

/// The engines this process can run, by kind.
#[derive(Clone, Default)]
pub struct Engines(HashMap<JobKind, Arc<dyn Engine>>);

impl std::fmt::Debug for Engines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

impl Engines {
    /// The engines that exist today, wired to `fetcher`.
    pub fn standard(fetcher: Arc<dyn Fetcher>, defaults: FetchOptions) -> Engines {
        Engines::default()
            .with(JobKind::Scrape, Arc::new(ScrapeEngine { fetcher: fetcher.clone(), defaults: defaults.clone() }))
            .with(JobKind::Crawl, Arc::new(CrawlEngine { fetcher, defaults }))
    }

    /// Adds (or replaces) the engine of `kind`.
    pub fn with(mut self, kind: JobKind, engine: Arc<dyn Engine>) -> Engines {
        self.0.insert(kind, engine);
        self
    }

    /// The engine of `kind`, if built.
    pub fn get(&self, kind: JobKind) -> Option<Arc<dyn Engine>> {
        self.0.get(&kind).cloned()
    }
}

/// A claimed job, and the fenced ways an engine reports on it.
pub struct JobContext {
    /// The job as claimed.
    pub job: JobRecord,
    /// Cancelled when the job is cancelled, its lease is lost, or shutdown's grace ends.
    pub cancel: CancellationToken,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) worker: String,
    pub(crate) artifacts_dir: PathBuf,
    pub(crate) events: broadcast::Sender<String>,
}

impl JobContext {
    /// The job's target URL.
    pub fn url(&self) -> Result<Url, EngineError> {
        Url::parse(&self.job.url).map_err(|e| EngineError::Fatal { code: "invalid_url".into(), message: format!("invalid URL {}: {e}", self.job.url) })
    }

    fn held(&self, held: bool) -> Result<(), EngineError> {
        let _ = self.events.send(self.job.id.clone());
        if held { Ok(()) } else { Err(EngineError::LeaseLost) }
    }

    /// Records one page result, which also counts as one unit of progress; `summary` is
    /// what the `page` event carries.
    pub async fn page(&self, record: &Value, summary: &Value) -> Result<(), EngineError> {
        let held = self.store.add_result(&self.job.id, &self.worker, record, summary).await?;
        self.held(held)
    }

    /// Records progress.
    pub async fn progress(&self, done: i64, total: Option<i64>) -> Result<(), EngineError> {
        let held = self.store.set_progress(&self.job.id, &self.worker, done, total).await?;
        self.held(held)
    }

    /// Writes an artifact file under the job's directory and lists it.
    pub async fn artifact(&self, name: &str, content_type: &str, bytes: &[u8]) -> Result<(), EngineError> {
        let dir = self.artifacts_dir.join(&self.job.id);
        let io = |e: std::io::Error| EngineError::Retryable { code: "artifact_write".into(), message: format!("could not write artifact {name}: {e}") };
        tokio::fs::create_dir_all(&dir).await.map_err(io)?;
        let tmp = dir.join(format!(".{name}.tmp"));
        tokio::fs::write(&tmp, bytes).await.map_err(io)?;
        tokio::fs::rename(&tmp, dir.join(name)).await.map_err(io)?;
        let record = ArtifactRecord { name: name.to_owned(), bytes: bytes.len() as i64, content_type: content_type.to_owned() };
        let held = self.store.add_artifact(&self.job.id, &self.worker, &record).await?;
        self.held(held)
    }
}

/// `scrape`: one page over HTTP (status, headers, raw HTML, title).
struct ScrapeEngine {
    fetcher: Arc<dyn Fetcher>,
    defaults: FetchOptions,
}

#[async_trait]
impl Engine for ScrapeEngine {
    fn validate(&self, options: &Value) -> Result<(), String> {
        fetch_options(options, &self.defaults).map(drop).map_err(|e| e.to_string())
    }

    async fn run(&self, ctx: &JobContext) -> Result<EngineReport, EngineError> {
        let url = ctx.url()?;
        let opts = fetch_options(&ctx.job.options, &self.defaults)?;
        let page = ace_crawlers::scrape::scrape(self.fetcher.as_ref(), &url, &opts).await?;
        let content_type = page.content_type.clone().unwrap_or_else(|| "application/octet-stream".into());
        ctx.artifact("page.html", &content_type, page.raw_html.as_bytes()).await?;
        let record = serde_json::to_value(&page).map_err(|e| EngineError::Fatal { code: "internal".into(), message: e.to_string() })?;
        let summary = json!({ "url": page.url, "finalUrl": page.final_url, "statusCode": page.status_code, "title": page.title });
        ctx.page(&record, &summary).await?;
        Ok(EngineReport {
            usage: vec![UsageEvent { metric: Metric::PagesFetched, quantity: 1 }],
            summary: format!("{} {}", page.status_code, page.final_url),
        })
    }
}

/// `crawl`: a site, breadth first, one result per page (see [`ace_crawlers::crawl`]).
struct CrawlEngine {
    fetcher: Arc<dyn Fetcher>,
    defaults: FetchOptions,
}

/// Pages a crawl job fetches when its options set no `limit` (Firecrawl's default).
const DEFAULT_CRAWL_LIMIT: u64 = 10_000;

#[async_trait]
impl Engine for CrawlEngine {
    fn validate(&self, options: &Value) -> Result<(), String> {
        crawl_options(options, &self.defaults).map(drop).map_err(|e| e.to_string())
    }

    async fn run(&self, ctx: &JobContext) -> Result<EngineReport, EngineError> {
        use ace_crawlers::crawl::Crawler;
        let start = ctx.url()?;
        let opts = crawl_options(&ctx.job.options, &self.defaults)?;
        let crawler = Crawler::new(self.fetcher.clone(), opts);
        let (tx, mut rx) = tokio::sync::mpsc::channel(64);
        let stop = CancellationToken::new();
        let crawl = crawler.run(start, tx, stop.clone());
        let record_pages = async {
            let mut fetched = 0i64;
            while let Some(page) = rx.recv().await {
                fetched += 1;
                let mut record = json!({
                    "url": page.url.as_str(),
                    "depth": page.depth,
                    "parent": page.parent.as_ref().map(Url::as_str),
                });
                let obj = record.as_object_mut().expect("object");
                match &page.result {
                    Ok(p) => {
                        let html = p.header("content-type").is_none_or(|ct| ct.contains("html"));
                        let title = if html { ace_extractors::page_title(&String::from_utf8_lossy(&p.body)) } else { None };
                        obj.insert("finalUrl".into(), json!(p.final_url.as_str()));
                        obj.insert("statusCode".into(), json!(p.status));
                        obj.insert("contentType".into(), json!(p.header("content-type")));
                        obj.insert("title".into(), json!(title));
                        obj.insert("bytes".into(), json!(p.body.len()));
                        obj.insert("elapsedMs".into(), json!(p.elapsed.as_millis() as u64));
                    }
                    Err(e) => {
                        obj.insert("error".into(), json!(e.to_string()));
                        obj.insert("errorCode".into(), json!(e.code()));
                    }
                }
                let summary = json!({ "url": page.url.as_str(), "statusCode": obj.get("statusCode"), "depth": page.depth });
                if let Err(e) = ctx.page(&record, &summary).await {
                    stop.cancel();
                    return Err(e);
                }
            }
            Ok(fetched)
        };
        let (summary, recorded) = tokio::join!(crawl, record_pages);
        let fetched = recorded?;
        Ok(EngineReport {
            usage: vec![UsageEvent { metric: Metric::PagesFetched, quantity: fetched }],
            summary: format!(
                "{fetched} pages, {} errors, {} disallowed by robots.txt, {} trap URLs skipped",
                summary.errors, summary.disallowed_by_robots, summary.trapped
            ),
        })
    }
}

/// Reads a crawl job's options (Firecrawl's names) over the defaults.
fn crawl_options(options: &Value, defaults: &FetchOptions) -> Result<ace_crawlers::crawl::CrawlOptions, EngineError> {
    use ace_crawlers::crawl::CrawlOptions;
    let bad = |message: String| EngineError::Fatal { code: "invalid_request".into(), message };
    let uint = |name: &str| -> Result<Option<u64>, EngineError> {
        match options.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_u64().map(Some).ok_or_else(|| bad(format!("options.{name} must be a non-negative integer"))),
        }
    };
    let flag = |name: &str| options.get(name).and_then(Value::as_bool).unwrap_or(false);
    let regexes = |name: &str| -> Result<Vec<regex::Regex>, EngineError> {
        match options.get(name) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| {
                    let text = i.as_str().ok_or_else(|| bad(format!("options.{name} must be a list of regexes")))?;
                    regex::Regex::new(text).map_err(|e| bad(format!("options.{name}: {e}")))
                })
                .collect(),
            Some(_) => Err(bad(format!("options.{name} must be a list of regexes"))),
        }
    };
    let fetch = fetch_options(options, &FetchOptions { follow_redirects: false, ..defaults.clone() })?;
    Ok(CrawlOptions {
        max_depth: uint("maxDepth")?.or(uint("maxDiscoveryDepth")?).map(|d| d.min(u64::from(u32::MAX)) as u32),
        limit: Some(uint("limit")?.unwrap_or(DEFAULT_CRAWL_LIMIT)),
        include_paths: regexes("includePaths")?,
        exclude_paths: regexes("excludePaths")?,
        allow_external_links: flag("allowExternalLinks"),
        allow_subdomains: flag("allowSubdomains"),
        ignore_robots: flag("ignoreRobotsTxt"),
        fetch,
        ..CrawlOptions::default()
    })
}

/// Reads `timeout` (ms) and `headers` from job options over the defaults.
fn fetch_options(options: &Value, defaults: &FetchOptions) -> Result<FetchOptions, EngineError> {
    let bad = |message: String| EngineError::Fatal { code: "invalid_request".into(), message };
    let mut opts = defaults.clone();
    if let Some(t) = options.get("timeout") {
        let ms = t.as_u64().filter(|ms| (1..=300_000).contains(ms)).ok_or_else(|| bad("options.timeout must be milliseconds between 1 and 300000".into()))?;
        opts.timeout = Duration::from_millis(ms);
    }
    if let Some(h) = options.get("headers") {
        let map = h.as_object().ok_or_else(|| bad("options.headers must be an object of strings".into()))?;
        for (name, value) in map {
            let value = value.as_str().ok_or_else(|| bad(format!("options.headers.{name} must be a string")))?;
            opts.headers.push((name.clone(), value.to_owned()));
        }
    }
    Ok(opts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_override_defaults_and_reject_nonsense() {
        let d = FetchOptions::default();
        let o = fetch_options(&json!({"timeout": 1500, "headers": {"x-a": "1"}}), &d).unwrap();
        assert_eq!(o.timeout, Duration::from_millis(1500));
        assert_eq!(o.headers, vec![("x-a".to_owned(), "1".to_owned())]);
        assert!(fetch_options(&json!({"timeout": "soon"}), &d).is_err());
        assert!(fetch_options(&json!({"headers": {"x": 1}}), &d).is_err());
    }
}
