//! The `scrape` job kind.

use std::sync::Arc;

use ace_crawlers::{FetchOptions, Fetcher};
use ace_finance::{Metric, UsageEvent};
use async_trait::async_trait;
use serde_json::{json, Value};

use super::{fetch_options, Engine, EngineError, EngineReport, JobContext};

/// `scrape`: one page over HTTP (status, headers, raw HTML, title).
pub(super) struct ScrapeEngine {
    pub(super) fetcher: Arc<dyn Fetcher>,
    pub(super) defaults: FetchOptions,
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
