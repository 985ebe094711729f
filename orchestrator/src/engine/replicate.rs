//! The `replicate` job kind: an offline copy of a site (see [`ace_replicator`]).
//!
//! The copy is written under the job's artifact folder as `site/` (served by the replay
//! routes on port 9002), with `report.json` and, when asked for, `download.zip`,
//! `archive.warc.gz`, `archive.wacz` and the fidelity report `qa.json` (with `qa-diff-N.png` images) beside
//! it; each page copied is one result record. `render: true` and `qa` need the browser pool:
//! [`with_browser`] gives the engine one when the pool runs.

use std::sync::Arc;

use ace_crawlers::{FetchGuard, FetchOptions, Fetcher, HttpFetcher};
use ace_finance::{Metric, UsageEvent};
use ace_replicator::record::PageRecorder;
use ace_replicator::{Output, ReplicateError, ReplicateOptions};
use async_trait::async_trait;
use serde_json::{json, Value};

use super::{Engine, EngineError, EngineReport, Engines, JobContext};
use crate::model::JobKind;

/// The folder of a replica's files inside its job's artifact folder.
pub const SITE_DIR: &str = "site";

/// Pages a replicate job copies when its options set no `maxPages`.
const DEFAULT_MAX_PAGES: u64 = 10_000;

/// Most pages a fidelity check may sample.
const MAX_QA_SAMPLES: u64 = 20;

/// `replicate`: captures the job's URL and writes the copy, its archives and its QA.
pub(super) struct ReplicateEngine {
    pub(super) fetcher: Arc<dyn Fetcher>,
    pub(super) defaults: FetchOptions,
    /// Loads originals in the browser, under the service's fetch guard.
    pub(super) originals: Option<Arc<dyn PageRecorder>>,
    /// Loads copies served on loopback (every other request blocked).
    pub(super) copies: Option<Arc<dyn PageRecorder>>,
}

/// The engine with the browser pool: `render: true` and `qa` become available.
pub fn with_browser(engines: Engines, pool: &ace_browser::Pool, guard: FetchGuard) -> Engines {
    let Ok(fetcher) = HttpFetcher::new(guard, FetchOptions::default()) else { return engines };
    let engine = ReplicateEngine {
        fetcher: Arc::new(fetcher),
        defaults: FetchOptions::default(),
        originals: Some(Arc::new(ace_browser::capture::PoolRecorder::new(pool.clone(), guard))),
        copies: Some(Arc::new(ace_browser::capture::PoolRecorder::new(
            pool.clone(),
            FetchGuard::allow_all(),
        ))),
    };
    engines.with(JobKind::Replicate, Arc::new(engine))
}

/// Reads a job's options (the body of `POST /v1/replicate` without `url`) and the number of
/// pages to check for fidelity (`qa.samples`).
pub fn replicate_options(options: &Value) -> Result<(ReplicateOptions, u64), String> {
    let mut options = options.clone();
    let mut samples = 0;
    if let Some(o) = options.as_object_mut() {
        match o.remove("qa") {
            None | Some(Value::Null) => {}
            Some(qa) => {
                samples = qa
                    .get("samples")
                    .and_then(Value::as_u64)
                    .ok_or("qa.samples must be a non-negative integer")?;
                if samples > MAX_QA_SAMPLES {
                    return Err(format!("qa.samples must be at most {MAX_QA_SAMPLES}"));
                }
            }
        }
        o.remove("url");
    }
    let opts: ReplicateOptions =
        serde_json::from_value(options).map_err(|e| format!("invalid options: {e}"))?;
    opts.limits().map_err(|e| e.to_string())?;
    Ok((opts, samples))
}

fn failure(e: ReplicateError) -> EngineError {
    let retryable = matches!(e, ReplicateError::Io { .. });
    EngineError::failure(e.code(), e.to_string(), retryable)
}

#[async_trait]
impl Engine for ReplicateEngine {
    fn validate(&self, options: &Value) -> Result<(), String> {
        let (opts, samples) = replicate_options(options)?;
        if (opts.render || samples > 0) && self.originals.is_none() {
            return Err("render: true and qa need the browser pool, which is not running (is Chromium installed?)".into());
        }
        Ok(())
    }

    async fn run(&self, ctx: &JobContext) -> Result<EngineReport, EngineError> {
        let start = ctx.url()?;
        let (mut opts, samples) = replicate_options(&ctx.job.options)
            .map_err(|m| EngineError::failure("invalid_request", m, false))?;
        opts.max_pages = Some(opts.max_pages.unwrap_or(DEFAULT_MAX_PAGES));
        if opts.max_asset_bytes.is_none() {
            opts.max_asset_bytes = Some(self.defaults.max_body_bytes.max(50 * 1024 * 1024));
        }
        let recorder = if opts.render { self.originals.clone() } else { None };
        let replica = ace_replicator::replicate_with(
            self.fetcher.clone(),
            recorder,
            start,
            &opts,
            &ctx.cancel,
        )
        .await
        .map_err(failure)?;
        let job_dir = ctx.artifacts_dir.join(&ctx.job.id);
        let site_dir = job_dir.join(SITE_DIR);
        let _ = tokio::fs::remove_dir_all(&site_dir).await;
        let site = replica.site.clone();
        let target = site_dir.clone();
        tokio::task::spawn_blocking(move || site.write_dir(&target))
            .await
            .map_err(|e| {
                EngineError::failure("internal", format!("writing the copy stopped: {e}"), true)
            })?
            .map_err(failure)?;
        if opts.outputs.contains(&Output::Zip) {
            let site = replica.site.clone();
            let zip = tokio::task::spawn_blocking(move || {
                site.write_zip(std::io::Cursor::new(Vec::new())).map(|c| c.into_inner())
            })
            .await
            .map_err(|e| {
                EngineError::failure("internal", format!("writing the zip stopped: {e}"), true)
            })?
            .map_err(failure)?;
            ctx.artifact("download.zip", "application/zip", &zip).await?;
        }
        if opts.outputs.contains(&Output::Warc) {
            let mut warc = Vec::new();
            ace_replicator::warc::write(
                &replica.capture,
                &format!("{}.warc.gz", ctx.job.id),
                &mut warc,
            )
            .map_err(|e| {
                EngineError::failure("write_failed", format!("cannot write the WARC: {e}"), true)
            })?;
            ctx.artifact("archive.warc.gz", "application/warc", &warc).await?;
        }
        let mut qa_summary = String::new();
        if let (true, Some(originals), Some(copies)) = (samples > 0, &self.originals, &self.copies)
        {
            let qa = ace_replicator::qa::run(
                originals.as_ref(),
                copies.as_ref(),
                &replica.site,
                &site_dir,
                samples as usize,
            )
            .await
            .map_err(|e| {
                EngineError::failure(
                    "qa_failed",
                    format!("cannot serve the copy for QA: {e}"),
                    true,
                )
            })?;
            for (n, page) in qa.pages.iter().enumerate() {
                ctx.artifact(&format!("qa-diff-{n}.png"), "image/png", &page.diff_png).await?;
            }
            ctx.artifact(
                "qa.json",
                "application/json",
                &serde_json::to_vec_pretty(&qa).unwrap_or_default(),
            )
            .await?;
            qa_summary = format!(
                "; QA of {} pages: min pixel match {:.4}, {} escaped requests, {} missing references",
                qa.pages.len(),
                qa.min_pixel_match,
                qa.escaped,
                qa.missing
            );
        }
        if opts.outputs.contains(&Output::Wacz) {
            let capture = replica.capture.clone();
            let wacz = tokio::task::spawn_blocking(move || {
                ace_replicator::wacz::write(&capture, std::io::Cursor::new(Vec::new()))
                    .map(|c| c.into_inner())
            })
            .await
            .map_err(|e| {
                EngineError::failure("internal", format!("writing the WACZ stopped: {e}"), true)
            })?
            .map_err(failure)?;
            ctx.artifact("archive.wacz", "application/wacz", &wacz).await?;
        }
        let report = &replica.report;
        let report_json = serde_json::to_vec_pretty(report).unwrap_or_default();
        ctx.artifact("report.json", "application/json", &report_json).await?;
        let pages: Vec<_> = replica.site.files.iter().filter(|f| f.page).collect();
        for file in &pages {
            let record = json!({ "url": file.url.as_str(), "path": file.path, "bytes": file.body.len(), "contentType": file.content_type });
            ctx.page(&record, &json!({ "url": file.url.as_str(), "path": file.path })).await?;
        }
        ctx.progress(pages.len() as i64, Some(pages.len() as i64)).await?;
        Ok(EngineReport {
            usage: vec![UsageEvent { metric: Metric::PagesFetched, quantity: report.pages as i64 }],
            summary: format!(
                "{} pages and {} assets copied ({} files, {} bytes), {} references missing{qa_summary}",
                report.pages,
                report.assets,
                report.files,
                report.bytes,
                report.missing.len()
            ),
        })
    }
}
