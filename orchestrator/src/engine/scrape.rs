//! The `scrape` job kind: one page, or a batch of pages (`options.urls`, Firecrawl's batch
//! scrape), each made into a document by [`ace_crawlers::scrape::Scraper`].

use std::collections::HashSet;

use ace_crawlers::scrape::{Document, RenderMode, ScrapeError, ScrapeOptions, Scraper};
use ace_crawlers::FetchOptions;
use ace_finance::{Metric, UsageEvent};
use async_trait::async_trait;
use futures::StreamExt;
use serde_json::{json, Value};
use url::Url;

use super::options::scrape_options;
use super::{Engine, EngineError, EngineReport, JobContext};

/// Most URLs one batch job takes.
pub(crate) const MAX_BATCH_URLS: usize = 1_000;
/// Pages of a batch scraped at once.
const BATCH_CONCURRENCY: usize = 4;

pub(super) struct ScrapeEngine {
    pub(super) scraper: Scraper,
    pub(super) defaults: FetchOptions,
}

impl ScrapeEngine {
    fn options(&self, options: &Value) -> Result<ScrapeOptions, EngineError> {
        let opts = scrape_options(options, &self.defaults)?;
        if let Some(what) = opts.needs_browser() {
            let why = if opts.render == RenderMode::Never {
                "render is \"never\""
            } else if !self.scraper.can_render() {
                "the browser pool is not running"
            } else {
                return Ok(opts);
            };
            return Err(EngineError::Fatal { code: "invalid_request".into(), message: format!("{what} needs the browser, and {why}") });
        }
        Ok(opts)
    }
}

/// The URLs of a batch job, if it is one.
fn batch_urls(options: &Value) -> Result<Option<Vec<Url>>, String> {
    let Some(list) = options.get("urls").filter(|v| !v.is_null()) else { return Ok(None) };
    let items = list.as_array().ok_or("options.urls must be a list of URLs")?;
    if items.is_empty() || items.len() > MAX_BATCH_URLS {
        return Err(format!("options.urls must hold 1 to {MAX_BATCH_URLS} URLs"));
    }
    items
        .iter()
        .map(|u| {
            let text = u.as_str().ok_or("options.urls must be a list of URLs")?;
            Url::parse(text).ok().filter(|u| matches!(u.scheme(), "http" | "https")).ok_or_else(|| format!("options.urls has an invalid http(s) URL: {text:?}"))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// A document as a job result: the document with the job's id and credits in its metadata.
fn record(doc: &Document, job_id: &str) -> Result<Value, EngineError> {
    let mut record = serde_json::to_value(doc).map_err(|e| EngineError::Fatal { code: "internal".into(), message: e.to_string() })?;
    if let Some(meta) = record.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("scrapeId".into(), json!(job_id));
        meta.insert("creditsUsed".into(), json!(1));
    }
    Ok(record)
}

fn usage(fetched: i64, rendered: i64) -> Vec<UsageEvent> {
    let mut usage = vec![UsageEvent { metric: Metric::PagesFetched, quantity: fetched }];
    if rendered > 0 {
        usage.push(UsageEvent { metric: Metric::PagesRendered, quantity: rendered });
    }
    usage
}

fn scrape_failure(e: ScrapeError) -> EngineError {
    EngineError::failure(e.code(), e.to_string(), e.is_retryable())
}

#[async_trait]
impl Engine for ScrapeEngine {
    fn validate(&self, options: &Value) -> Result<(), String> {
        batch_urls(options)?;
        self.options(options).map(drop).map_err(|e| e.to_string())
    }

    async fn run(&self, ctx: &JobContext) -> Result<EngineReport, EngineError> {
        let opts = self.options(&ctx.job.options)?;
        match batch_urls(&ctx.job.options).map_err(|message| EngineError::Fatal { code: "invalid_request".into(), message })? {
            None => self.single(ctx, &opts).await,
            Some(urls) => self.batch(ctx, &opts, urls).await,
        }
    }
}

impl ScrapeEngine {
    async fn single(&self, ctx: &JobContext, opts: &ScrapeOptions) -> Result<EngineReport, EngineError> {
        let url = ctx.url()?;
        let doc = self.scraper.scrape(&url, opts).await.map_err(scrape_failure)?;
        if let Some(html) = &doc.raw_html {
            ctx.artifact("page.html", doc.content_type.as_deref().unwrap_or("text/html"), html.as_bytes()).await?;
        }
        let summary = json!({ "url": doc.url, "finalUrl": doc.final_url, "statusCode": doc.status_code, "title": doc.title });
        // The page counts as the job's one unit of progress; completion sets the total.
        ctx.page(&record(&doc, &ctx.job.id)?, &summary).await?;
        Ok(EngineReport { usage: usage(1, i64::from(doc.rendered)), summary: format!("{} {}", doc.status_code, doc.final_url) })
    }

    /// Scrapes every URL of a batch not already recorded by an earlier attempt; a page that
    /// fails gets an error record and the batch goes on.
    async fn batch(&self, ctx: &JobContext, opts: &ScrapeOptions, urls: Vec<Url>) -> Result<EngineReport, EngineError> {
        let total = urls.len() as i64;
        let done: HashSet<String> = ctx.recorded().await?.iter().filter_map(|r| r.get("url").and_then(Value::as_str).map(str::to_owned)).collect();
        let mut recorded = done.len() as i64;
        let (mut fetched, mut rendered, mut failed) = (0i64, 0i64, 0i64);
        ctx.progress(recorded, Some(total)).await?;
        let todo: Vec<Url> = urls.into_iter().filter(|u| !done.contains(u.as_str())).collect();
        let mut pages = futures::stream::iter(todo).map(|url| async move { (url.clone(), self.scraper.scrape(&url, opts).await) }).buffered(BATCH_CONCURRENCY);
        while let Some((url, result)) = pages.next().await {
            let (rec, summary) = match result {
                Ok(doc) => {
                    fetched += 1;
                    rendered += i64::from(doc.rendered);
                    let summary = json!({ "url": doc.url, "statusCode": doc.status_code, "title": doc.title });
                    (record(&doc, &ctx.job.id)?, summary)
                }
                Err(e) => {
                    failed += 1;
                    let rec = json!({ "url": url.as_str(), "error": e.to_string(), "errorCode": e.code() });
                    (rec.clone(), rec)
                }
            };
            ctx.page(&rec, &summary).await?;
            recorded += 1;
            ctx.progress(recorded, Some(total)).await?;
        }
        Ok(EngineReport { usage: usage(fetched, rendered), summary: format!("{fetched} of {total} pages scraped, {failed} failed") })
    }
}
