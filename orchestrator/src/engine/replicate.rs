//! The `replicate` job kind: an offline copy of a site (see [`ace_replicator`]).
//!
//! The copy is written under the job's artifact folder as `site/` (served by the replay
//! routes on port 9002), with `report.json` and, when asked for, `download.zip` and
//! `archive.warc.gz` beside it; each page copied is one result record.

use std::sync::Arc;

use ace_crawlers::{FetchOptions, Fetcher};
use ace_finance::{Metric, UsageEvent};
use ace_replicator::{Output, ReplicateError, ReplicateOptions};
use async_trait::async_trait;
use serde_json::{json, Value};

use super::{Engine, EngineError, EngineReport, JobContext};

/// The folder of a replica's files inside its job's artifact folder.
pub const SITE_DIR: &str = "site";

/// Pages a replicate job copies when its options set no `maxPages`.
const DEFAULT_MAX_PAGES: u64 = 10_000;

/// `replicate`: captures the job's URL over HTTP and writes the copy and its archives.
pub(super) struct ReplicateEngine {
    pub(super) fetcher: Arc<dyn Fetcher>,
    pub(super) defaults: FetchOptions,
}

/// Reads a job's options (the body of `POST /v1/replicate` without `url`).
pub fn replicate_options(options: &Value) -> Result<ReplicateOptions, String> {
    let mut options = options.clone();
    if let Some(o) = options.as_object_mut() {
        // Accepted by the API for the fidelity report, which is not built yet.
        o.remove("qa");
        o.remove("url");
    }
    let opts: ReplicateOptions = serde_json::from_value(options).map_err(|e| format!("invalid options: {e}"))?;
    opts.limits().map_err(|e| e.to_string())?;
    Ok(opts)
}

fn failure(e: ReplicateError) -> EngineError {
    let retryable = matches!(e, ReplicateError::Io { .. });
    EngineError::failure(e.code(), e.to_string(), retryable)
}

#[async_trait]
impl Engine for ReplicateEngine {
    fn validate(&self, options: &Value) -> Result<(), String> {
        replicate_options(options).map(drop)
    }

    async fn run(&self, ctx: &JobContext) -> Result<EngineReport, EngineError> {
        let start = ctx.url()?;
        let mut opts = replicate_options(&ctx.job.options).map_err(|m| EngineError::failure("invalid_request", m, false))?;
        opts.max_pages = Some(opts.max_pages.unwrap_or(DEFAULT_MAX_PAGES));
        if opts.max_asset_bytes.is_none() {
            opts.max_asset_bytes = Some(self.defaults.max_body_bytes.max(50 * 1024 * 1024));
        }
        let replica = ace_replicator::replicate(self.fetcher.clone(), start, &opts, &ctx.cancel).await.map_err(failure)?;
        let job_dir = ctx.artifacts_dir.join(&ctx.job.id);
        let site_dir = job_dir.join(SITE_DIR);
        let _ = tokio::fs::remove_dir_all(&site_dir).await;
        let site = replica.site.clone();
        let target = site_dir.clone();
        tokio::task::spawn_blocking(move || site.write_dir(&target))
            .await
            .map_err(|e| EngineError::failure("internal", format!("writing the copy stopped: {e}"), true))?
            .map_err(failure)?;
        if opts.outputs.contains(&Output::Zip) {
            let site = replica.site.clone();
            let zip = tokio::task::spawn_blocking(move || site.write_zip(std::io::Cursor::new(Vec::new())).map(|c| c.into_inner()))
                .await
                .map_err(|e| EngineError::failure("internal", format!("writing the zip stopped: {e}"), true))?
                .map_err(failure)?;
            ctx.artifact("download.zip", "application/zip", &zip).await?;
        }
        if opts.outputs.contains(&Output::Warc) {
            let mut warc = Vec::new();
            ace_replicator::warc::write(&replica.capture, &format!("{}.warc.gz", ctx.job.id), &mut warc)
                .map_err(|e| EngineError::failure("write_failed", format!("cannot write the WARC: {e}"), true))?;
            ctx.artifact("archive.warc.gz", "application/warc", &warc).await?;
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
                "{} pages and {} assets copied ({} files, {} bytes), {} references missing",
                report.pages,
                report.assets,
                report.files,
                report.bytes,
                report.missing.len()
            ),
        })
    }
}
