//! Job kinds meet their engines here, through one small trait.
//!
//! A worker hands an [`Engine`] a [`JobContext`]; the engine writes pages, progress and
//! artifacts through the context (each write fenced by the worker's lease) and returns the
//! usage to bill. Kinds with no engine registered are refused at submission with 501
//! `not_implemented`, never faked.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use ace_crawlers::{FetchError, FetchOptions, Fetcher, Renderer};
use ace_finance::UsageEvent;
use async_trait::async_trait;
use serde_json::Value;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::model::JobKind;

mod crawl;
mod map;
mod options;
pub(crate) mod replicate;
mod scrape;

pub(crate) use options::fetch_options;
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
    /// The engines that exist today, wired to `fetcher` and, when a browser pool runs, to
    /// `renderer`.
    pub fn standard(fetcher: Arc<dyn Fetcher>, renderer: Option<Arc<dyn Renderer>>, defaults: FetchOptions) -> Engines {
        let scraper = ace_crawlers::scrape::Scraper::new(fetcher.clone(), renderer.clone());
        Engines::default()
            .with(JobKind::Scrape, Arc::new(scrape::ScrapeEngine { scraper, defaults: defaults.clone() }))
            .with(JobKind::Replicate, Arc::new(replicate::ReplicateEngine { fetcher: fetcher.clone(), defaults: defaults.clone(), originals: None, copies: None }))
            .with(JobKind::Crawl, Arc::new(crawl::CrawlEngine { fetcher: fetcher.clone(), renderer, defaults: defaults.clone() }))
            .with(JobKind::Map, Arc::new(map::MapEngine { fetcher, defaults }))
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

    /// The results earlier attempts of this job recorded, oldest first, so a retried job
    /// can skip what is done.
    pub async fn recorded(&self) -> Result<Vec<Value>, EngineError> {
        let mut out = Vec::new();
        loop {
            let batch = self.store.results(&self.job.id, out.len() as i64 - 1, 1_000).await?;
            if batch.is_empty() {
                return Ok(out);
            }
            out.extend(batch.into_iter().map(|(_, record)| record));
        }
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
