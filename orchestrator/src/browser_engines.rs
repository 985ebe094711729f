//! The `screenshot` and `pdf` job kinds, on the headless-Chromium pool (`ace-browser`).

use std::sync::Arc;

use ace_browser::render::{self, ImageFormat};
use ace_browser::{BrowserError, PdfRequest, Pool, PoolConfig, ScreenshotRequest};
use ace_crawlers::FetchGuard;
use ace_finance::{Metric, UsageEvent};
use async_trait::async_trait;
use serde_json::{json, Value};

use crate::engine::{Engine, EngineError, EngineReport, Engines, JobContext};
use crate::model::JobKind;

/// Starts the pool, or logs why not (no Chromium installed) and runs without it.
pub fn start_pool(config: &PoolConfig) -> Option<Pool> {
    match Pool::start(config.clone()) {
        Ok(pool) => Some(pool),
        Err(e) => {
            tracing::warn!(error = %e, "browser pool not started; browser endpoints and job kinds are unavailable");
            None
        }
    }
}

/// Adds the browser job kinds when a pool runs.
pub fn register(engines: Engines, pool: Option<&Pool>, guard: FetchGuard) -> Engines {
    let Some(pool) = pool else { return engines };
    let engines = crate::engine::replicate::with_browser(engines, pool, guard);
    engines
        .with(JobKind::Screenshot, Arc::new(BrowserEngine { pool: pool.clone(), guard, pdf: false }))
        .with(JobKind::Pdf, Arc::new(BrowserEngine { pool: pool.clone(), guard, pdf: true }))
}

/// Renders the job's URL and stores the image or PDF as an artifact.
struct BrowserEngine {
    pool: Pool,
    guard: FetchGuard,
    pdf: bool,
}

/// The job's options as a render body, with the job's URL.
fn body(ctx: &JobContext) -> Value {
    let mut options = ctx.job.options.clone();
    if !options.is_object() {
        options = json!({});
    }
    options["url"] = Value::String(ctx.job.url.clone());
    options.as_object_mut().map(|o| o.remove("html"));
    options
}

fn bad_options(e: serde_json::Error) -> EngineError {
    EngineError::Fatal { code: "invalid_request".into(), message: format!("invalid options: {e}") }
}

/// Browser failures as job outcomes: crashes, timeouts and a full pool are retried.
fn engine_error(e: BrowserError) -> EngineError {
    EngineError::failure(e.code(), e.to_string(), e.is_retryable())
}

#[async_trait]
impl Engine for BrowserEngine {
    async fn run(&self, ctx: &JobContext) -> Result<EngineReport, EngineError> {
        let started = std::time::Instant::now();
        let (name, content_type, bytes) = if self.pdf {
            let req: PdfRequest = serde_json::from_value(body(ctx)).map_err(bad_options)?;
            let bytes = render::pdf(&self.pool, &req, self.guard).await.map_err(engine_error)?;
            ("page.pdf".to_owned(), "application/pdf", bytes)
        } else {
            let req: ScreenshotRequest = serde_json::from_value(body(ctx)).map_err(bad_options)?;
            let format: ImageFormat = req.format;
            let (bytes, content_type) = render::screenshot(&self.pool, &req, self.guard).await.map_err(engine_error)?;
            (format!("screenshot.{}", format.extension()), content_type, bytes)
        };
        ctx.artifact(&name, content_type, &bytes).await?;
        let summary = json!({ "url": ctx.job.url, "artifact": name, "bytes": bytes.len() });
        ctx.page(&summary, &summary).await?;
        ctx.progress(1, Some(1)).await?;
        Ok(EngineReport {
            usage: vec![
                UsageEvent { metric: Metric::PagesRendered, quantity: 1 },
                UsageEvent { metric: Metric::RenderSeconds, quantity: started.elapsed().as_secs().max(1) as i64 },
            ],
            summary: format!("{name} ({} bytes) of {}", bytes.len(), ctx.job.url),
        })
    }
}
