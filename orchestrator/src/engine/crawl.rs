//! The `crawl` job kind.

use std::sync::Arc;

use ace_crawlers::{FetchOptions, Fetcher, Renderer};
use ace_finance::{Metric, UsageEvent};
use async_trait::async_trait;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;
use url::Url;

use ace_crawlers::checkpoint::{CrawlCheckpoint, QueuedUrl};
use ace_crawlers::scrape::{Format, RenderMode, ScrapeOptions};
use ace_crawlers::sitemap::SitemapMode;

use super::options::{render_mode, scrape_options};
use super::{fetch_options, Engine, EngineError, EngineReport, JobContext};
use crate::store::FrontierRow;

/// `crawl`: a site, breadth first, one result per page (see [`ace_crawlers::crawl`]), its
/// pages rendered in the browser pool as `render` says when the pool runs.
pub(super) struct CrawlEngine {
    pub(super) fetcher: Arc<dyn Fetcher>,
    /// The pool's renderer; `None` when Chromium is not running (`auto` then fetches over HTTP
    /// only, as a scrape does, and `always` is refused).
    pub(super) renderer: Option<Arc<dyn Renderer>>,
    pub(super) defaults: FetchOptions,
}

/// Pages a crawl job fetches when its options set no `limit` (Firecrawl's default).
const DEFAULT_CRAWL_LIMIT: u64 = 10_000;

/// The longest `delay` between requests a crawl job may ask for.
const MAX_DELAY_SECONDS: f64 = 600.0;

#[async_trait]
impl Engine for CrawlEngine {
    fn validate(&self, options: &Value) -> Result<(), String> {
        crawl_options(options, &self.defaults).map_err(|e| e.to_string())?;
        self.renderer_for(options).map_err(|e| e.to_string())?;
        page_scrape_options(options, &self.defaults).map(drop).map_err(|e| e.to_string())
    }

    async fn run(&self, ctx: &JobContext) -> Result<EngineReport, EngineError> {
        use ace_crawlers::crawl::Crawler;
        let start = ctx.url()?;
        let opts = crawl_options(&ctx.job.options, &self.defaults)?;
        let scrape = page_scrape_options(&ctx.job.options, &self.defaults)?;
        // A claim after a crash (lease expiry) finds the frontier the last attempt recorded.
        let rows = ctx.store.crawl_frontier(&ctx.job.id).await?;
        let mut next_seq = rows.iter().map(|r| r.seq).max().unwrap_or(0).max(0) + 1;
        let checkpoint = checkpoint_from(&rows);
        let resumed = checkpoint.done.len() as i64;
        if resumed > 0 {
            tracing::info!(job = %ctx.job.id, done = resumed, queued = checkpoint.queued.len(), "resuming crawl from its recorded frontier");
        }
        let mut crawler = Crawler::new(self.fetcher.clone(), opts);
        if let Some((renderer, mode)) = self.renderer_for(&ctx.job.options)? {
            crawler = crawler.with_renderer(renderer, mode);
        }
        // Renders by earlier, interrupted attempts are billed with this one, as their pages are.
        let resumed_rendered = if resumed > 0 { ctx.recorded().await?.iter().filter(|r| r["rendered"] == true).count() as i64 } else { 0 };
        let (tx, mut rx) = tokio::sync::mpsc::channel(64);
        let stop = CancellationToken::new();
        let crawl = crawler.resume(start, checkpoint, tx, stop.clone());
        let record_pages = async {
            let (mut fetched, mut rendered) = (0i64, 0i64);
            while let Some(page) = rx.recv().await {
                fetched += 1;
                rendered += i64::from(page.result.as_ref().is_ok_and(|p| p.rendered));
                let record = page_record(&page, scrape.as_ref());
                let summary = json!({ "url": page.url.as_str(), "statusCode": record.get("statusCode"), "depth": page.depth });
                let discovered: Vec<FrontierRow> = page
                    .discovered
                    .iter()
                    .map(|q| {
                        next_seq += 1;
                        FrontierRow {
                            url: q.url.to_string(),
                            depth: i64::from(q.depth),
                            parent: q.parent.as_ref().map(Url::to_string),
                            seq: next_seq,
                            done: false,
                        }
                    })
                    .collect();
                // The result, the page's done mark and its links land together, or not at all.
                let written = ctx.store.add_crawl_page(&ctx.job.id, &ctx.worker, &record, &summary, page.url.as_str(), &discovered).await;
                if let Err(e) = written.map_err(EngineError::from).and_then(|held| ctx.held(held)) {
                    stop.cancel();
                    return Err(e);
                }
            }
            Ok((fetched, rendered))
        };
        let (summary, recorded) = tokio::join!(crawl, record_pages);
        let (fetched, rendered) = recorded?;
        let rendered = rendered + resumed_rendered;
        // Pages recorded by earlier, interrupted attempts were never billed: bill them now.
        let mut usage = vec![UsageEvent { metric: Metric::PagesFetched, quantity: fetched + resumed }];
        if rendered > 0 {
            usage.push(UsageEvent { metric: Metric::PagesRendered, quantity: rendered });
        }
        Ok(EngineReport {
            usage,
            summary: format!(
                "{} pages ({resumed} before a resume, {rendered} rendered), {} errors, {} disallowed by robots.txt, {} trap URLs skipped, {} from sitemaps",
                fetched + resumed,
                summary.errors,
                summary.disallowed_by_robots,
                summary.trapped,
                summary.sitemap_urls
            ),
        })
    }
}

/// How a crawl's pages are rendered: the pool's renderer, in a mode other than `never`.
type PageRendering = (Arc<dyn Renderer>, RenderMode);

impl CrawlEngine {
    /// The renderer and mode a crawl's pages are loaded with, or `None` for plain HTTP.
    /// `render` is read from the options, or (Firecrawl's shape) from `scrapeOptions`; it
    /// defaults to `auto`, which renders app shells when the pool runs, as a scrape does.
    fn renderer_for(&self, options: &Value) -> Result<Option<PageRendering>, EngineError> {
        let asked = match render_mode(options)? {
            Some(mode) => Some(mode),
            None => options.get("scrapeOptions").map(render_mode).transpose()?.flatten(),
        };
        match (asked.unwrap_or_default(), &self.renderer) {
            (RenderMode::Never, _) | (RenderMode::Auto, None) => Ok(None),
            (RenderMode::Always, None) => Err(EngineError::Fatal {
                code: "invalid_request".into(),
                message: "render \"always\" needs the browser, and the browser pool is not running".into(),
            }),
            (mode, Some(renderer)) => Ok(Some((renderer.clone(), mode))),
        }
    }
}

/// The crawlers' checkpoint from a job's stored frontier.
fn checkpoint_from(rows: &[FrontierRow]) -> CrawlCheckpoint {
    let mut checkpoint = CrawlCheckpoint::default();
    for row in rows {
        let Ok(url) = Url::parse(&row.url) else { continue };
        if row.done {
            checkpoint.done.push(url);
        } else {
            let parent = row.parent.as_deref().and_then(|p| Url::parse(p).ok());
            let depth = u32::try_from(row.depth).unwrap_or(0);
            checkpoint.queued.push(QueuedUrl { url, depth, parent });
        }
    }
    checkpoint
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
    let mut fetch = fetch_options(options, &FetchOptions { follow_redirects: false, ..defaults.clone() })?;
    fetch.read_timeout = Some(fetch.read_timeout.unwrap_or(ace_crawlers::crawl::CRAWL_READ_TIMEOUT));
    let delay = match options.get("delay") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let secs = v.as_f64().filter(|s| (0.0..=MAX_DELAY_SECONDS).contains(s));
            let secs = secs.ok_or_else(|| bad(format!("options.delay must be seconds between 0 and {MAX_DELAY_SECONDS}")))?;
            Some(std::time::Duration::from_secs_f64(secs))
        }
    };
    // v2 says `sitemap`: "include" | "skip" | "only"; v1 says `ignoreSitemap`.
    let sitemap = match options.get("sitemap").and_then(Value::as_str) {
        None if flag("ignoreSitemap") => SitemapMode::Skip,
        None => SitemapMode::Include,
        Some("include") => SitemapMode::Include,
        Some("skip") => SitemapMode::Skip,
        Some("only") => SitemapMode::Only,
        Some(other) => return Err(bad(format!("options.sitemap must be include, skip or only, not {other:?}"))),
    };
    let defaults_crawl = CrawlOptions::default();
    let concurrency = uint("maxConcurrency")?.map_or(defaults_crawl.concurrency, |c| c.clamp(1, 256) as usize);
    Ok(CrawlOptions {
        delay,
        sitemap,
        concurrency,
        max_depth: uint("maxDepth")?.or(uint("maxDiscoveryDepth")?).map(|d| d.min(u64::from(u32::MAX)) as u32),
        limit: Some(uint("limit")?.unwrap_or(DEFAULT_CRAWL_LIMIT)),
        include_paths: regexes("includePaths")?,
        exclude_paths: regexes("excludePaths")?,
        allow_external_links: flag("allowExternalLinks"),
        allow_subdomains: flag("allowSubdomains"),
        // Firecrawl's v2 name and v1's; the job API crawls the whole site unless told not to.
        crawl_entire_domain: options.get("crawlEntireDomain").or(options.get("allowBackwardLinks")).and_then(Value::as_bool).unwrap_or(true),
        ignore_robots: flag("ignoreRobotsTxt"),
        fetch,
        ..CrawlOptions::default()
    })
}

/// The `scrapeOptions` of a crawl (Firecrawl's): when given, every page's record is a
/// document in those formats. A crawl loads pages over HTTP or renders them as `render` says,
/// but takes no screenshots and runs no actions, so the options that need those are refused.
fn page_scrape_options(options: &Value, defaults: &FetchOptions) -> Result<Option<ScrapeOptions>, EngineError> {
    let Some(scrape) = options.get("scrapeOptions").filter(|v| !v.is_null()) else { return Ok(None) };
    let mut opts = scrape_options(scrape, defaults)?;
    if scrape.get("formats").is_none() {
        opts.formats = vec![Format::Markdown];
    }
    if let Some(what) = opts.needs_browser() {
        return Err(EngineError::Fatal {
            code: "invalid_request".into(),
            message: format!("scrapeOptions: {what} is not available in crawls, which load each page over HTTP or render it (render: auto, always or never)"),
        });
    }
    Ok(Some(opts))
}

/// The result record of one crawled page: its place in the crawl, and either its document
/// (with `scrape`), its response in brief, or its error.
fn page_record(page: &ace_crawlers::crawl::CrawledPage, scrape: Option<&ScrapeOptions>) -> Value {
    if let (Ok(p), Some(opts)) = (&page.result, scrape) {
        match ace_crawlers::scrape::document(&p.clone().into(), opts) {
            Ok(doc) => {
                let mut record = serde_json::to_value(&doc).unwrap_or_else(|_| json!({}));
                if let Some(obj) = record.as_object_mut() {
                    obj.insert("depth".into(), json!(page.depth));
                    obj.insert("parent".into(), json!(page.parent.as_ref().map(Url::as_str)));
                }
                return record;
            }
            Err(e) => {
                return json!({ "url": page.url.as_str(), "depth": page.depth, "parent": page.parent.as_ref().map(Url::as_str),
                    "statusCode": p.status, "error": e.to_string(), "errorCode": e.code() });
            }
        }
    }
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
            obj.insert("rendered".into(), json!(p.rendered));
            obj.insert("elapsedMs".into(), json!(p.elapsed.as_millis() as u64));
        }
        Err(e) => {
            obj.insert("error".into(), json!(e.to_string()));
            obj.insert("errorCode".into(), json!(e.code()));
        }
    }
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn firecrawl_crawl_options_map_onto_the_crawler() {
        let d = FetchOptions::default();
        let o = crawl_options(&json!({ "delay": 1.5, "sitemap": "only", "maxConcurrency": 4 }), &d).unwrap();
        assert_eq!((o.delay, o.sitemap, o.concurrency), (Some(std::time::Duration::from_millis(1500)), SitemapMode::Only, 4));
        assert!(!o.fetch.follow_redirects, "the crawler scopes redirects itself");
        assert_eq!(crawl_options(&json!({ "ignoreSitemap": true }), &d).unwrap().sitemap, SitemapMode::Skip);
        assert_eq!(crawl_options(&json!({}), &d).unwrap().sitemap, SitemapMode::Include);
        for bad in [json!({ "delay": -1 }), json!({ "delay": "soon" }), json!({ "sitemap": "sometimes" })] {
            assert!(crawl_options(&bad, &d).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_stored_frontier_becomes_a_checkpoint() {
        let rows = [
            FrontierRow { url: "http://e.com/".into(), depth: 0, parent: None, seq: -1, done: true },
            FrontierRow { url: "http://e.com/a".into(), depth: 1, parent: Some("http://e.com/".into()), seq: 2, done: false },
            FrontierRow { url: "not a url".into(), depth: 1, parent: None, seq: 3, done: false },
        ];
        let c = checkpoint_from(&rows);
        assert_eq!(c.done.len(), 1);
        assert_eq!(c.queued.len(), 1);
        assert_eq!((c.queued[0].depth, c.queued[0].parent.as_ref().map(Url::as_str)), (1, Some("http://e.com/")));
    }
}
