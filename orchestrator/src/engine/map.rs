//! The `map` job kind: a site's URLs from its sitemaps and a shallow link crawl, without
//! content (see [`ace_crawlers::map`]). The result is one record holding every link, so a
//! map of thousands of URLs costs one write.

use std::sync::Arc;
use std::time::Duration;

use ace_crawlers::map::{map, MapOptions, SitemapMode};
use ace_crawlers::{FetchOptions, Fetcher};
use ace_finance::{Metric, UsageEvent};
use async_trait::async_trait;
use serde_json::{json, Value};

use super::{fetch_options, Engine, EngineError, EngineReport, JobContext};

/// The most URLs a map returns (Firecrawl's v2 ceiling).
const MAX_LIMIT: u64 = 100_000;

pub(super) struct MapEngine {
    pub(super) fetcher: Arc<dyn Fetcher>,
    pub(super) defaults: FetchOptions,
}

/// Reads a map job's options, in Firecrawl's v1 and v2 names: `limit`, `search`,
/// `includeSubdomains`, `sitemap` (include, skip, only) or v1's `ignoreSitemap` and
/// `sitemapOnly`, `ignoreRobotsTxt`, and `timeout` (ms) as the time budget.
pub(crate) fn map_options(options: &Value, defaults: &FetchOptions) -> Result<MapOptions, EngineError> {
    let bad = |message: String| EngineError::Fatal { code: "invalid_request".into(), message };
    let mut opts = MapOptions::default();
    // The time budget is the job's (`timeout`); each fetch keeps the map's own short timeout.
    let headers_only = options.get("headers").filter(|h| !h.is_null()).map_or(json!({}), |h| json!({ "headers": h }));
    let fetch = fetch_options(&headers_only, defaults)?;
    opts.fetch = FetchOptions { timeout: opts.fetch.timeout.min(fetch.timeout), headers: fetch.headers, max_body_bytes: fetch.max_body_bytes, ..opts.fetch };
    if let Some(v) = options.get("limit").filter(|v| !v.is_null()) {
        let n = v.as_u64().filter(|n| (1..=MAX_LIMIT).contains(n)).ok_or_else(|| bad(format!("options.limit must be between 1 and {MAX_LIMIT}")))?;
        opts.limit = n as usize;
    }
    match options.get("search") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if !s.trim().is_empty() => opts.search = Some(s.trim().to_owned()),
        Some(Value::String(_)) => {}
        Some(_) => return Err(bad("options.search must be a string".into())),
    }
    opts.include_subdomains = options.get("includeSubdomains").and_then(Value::as_bool).unwrap_or(true);
    opts.ignore_robots = options.get("ignoreRobotsTxt").and_then(Value::as_bool).unwrap_or(false);
    opts.sitemap = match options.get("sitemap").and_then(Value::as_str) {
        Some("include") | None => SitemapMode::Include,
        Some("skip") => SitemapMode::Skip,
        Some("only") => SitemapMode::Only,
        Some(other) => return Err(bad(format!("options.sitemap must be include, skip or only, not {other:?}"))),
    };
    if options.get("ignoreSitemap").and_then(Value::as_bool) == Some(true) {
        opts.sitemap = SitemapMode::Skip;
    }
    if options.get("sitemapOnly").and_then(Value::as_bool) == Some(true) {
        opts.sitemap = SitemapMode::Only;
    }
    if let Some(v) = options.get("timeout").filter(|v| !v.is_null()) {
        let ms = v.as_u64().filter(|ms| (1..=300_000).contains(ms)).ok_or_else(|| bad("options.timeout must be milliseconds between 1 and 300000".into()))?;
        // Leave time to answer within the caller's timeout.
        opts.time_budget = Duration::from_millis(ms * 3 / 4);
    }
    Ok(opts)
}

#[async_trait]
impl Engine for MapEngine {
    fn validate(&self, options: &Value) -> Result<(), String> {
        map_options(options, &self.defaults).map(drop).map_err(|e| e.to_string())
    }

    async fn run(&self, ctx: &JobContext) -> Result<EngineReport, EngineError> {
        let start = ctx.url()?;
        let opts = map_options(&ctx.job.options, &self.defaults)?;
        let links = map(self.fetcher.clone(), &start, &opts).await?;
        let count = links.len();
        let record = json!({ "url": start.as_str(), "count": count, "links": links });
        ctx.page(&record, &json!({ "url": start.as_str(), "count": count })).await?;
        ctx.progress(1, Some(1)).await?;
        Ok(EngineReport { usage: vec![UsageEvent { metric: Metric::PagesFetched, quantity: 1 }], summary: format!("{count} URLs of {start}") })
    }
}
