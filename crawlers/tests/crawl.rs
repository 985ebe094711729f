//! The crawler against the fixture site on loopback.

use std::sync::Arc;

use ace_crawlers::crawl::{CrawlOptions, CrawledPage, Crawler};
use ace_crawlers::{FetchGuard, FetchOptions, HttpFetcher};
use ace_fixtures::FixtureServer;
use tokio_util::sync::CancellationToken;
use url::Url;

async fn crawl(site: &FixtureServer, opts: CrawlOptions) -> (Vec<CrawledPage>, ace_crawlers::crawl::CrawlSummary) {
    let fetcher = Arc::new(HttpFetcher::new(FetchGuard::allow_all(), FetchOptions::default()).unwrap());
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let start = Url::parse(&site.url("/site/index.html")).unwrap();
    let crawler = Crawler::new(fetcher, opts);
    let run = tokio::spawn(async move { crawler.run(start, tx, CancellationToken::new()).await });
    let mut pages = Vec::new();
    while let Some(p) = rx.recv().await {
        pages.push(p);
    }
    (pages, run.await.unwrap())
}

fn paths(pages: &[CrawledPage]) -> Vec<String> {
    let mut v: Vec<String> = pages.iter().map(|p| p.url[url::Position::BeforePath..].to_owned()).collect();
    v.sort();
    v
}

#[tokio::test]
async fn every_page_once_within_scope_robots_and_trap_guards() {
    let site = FixtureServer::start().await;
    let opts = CrawlOptions { max_pages_per_pattern: 5, ..CrawlOptions::default() };
    let (pages, summary) = crawl(&site, opts).await;
    let fetched = paths(&pages);
    for expected in ["/site/index.html", "/site/a.html", "/site/A.html", "/site/b.html", "/site/c.html", "/site/deep/d.html", "/site/static.html", "/site/moved", "/site/missing.html"] {
        assert!(fetched.contains(&expected.to_owned()), "{expected} missing from {fetched:?}");
    }
    // Each request at most once: fragments, dot segments, tracking parameters and case of
    // scheme/host are one URL; the redirect target (c.html) is not fetched again.
    let hits = site.state.hits.lock().unwrap().clone();
    for (path, n) in &hits {
        assert_eq!(*n, 1, "{path} requested {n} times");
    }
    assert_eq!(hits.get("/robots.txt"), Some(&1), "robots.txt read once");
    assert!(!hits.contains_key("/site/private/secret.html"), "robots.txt disallows it");
    assert_eq!(summary.disallowed_by_robots, 1);
    assert!(!hits.keys().any(|p| p.contains("style.css")), "assets are not pages");
    assert!(!hits.keys().any(|p| p.starts_with("/site/static.html?")), "static file variants skipped: {hits:?}");
    assert_eq!(summary.static_variants, 2);
    let months = hits.keys().filter(|p| p.starts_with("/site/cal/")).count();
    assert_eq!(months, 5, "the calendar stops at the pages-per-pattern limit");
    assert!(summary.trapped >= 1);
    let missing = pages.iter().find(|p| p.url.path() == "/site/missing.html").unwrap();
    assert_eq!(missing.result.as_ref().unwrap().status, 404);
    let deep = pages.iter().find(|p| p.url.path() == "/site/deep/d.html").unwrap();
    assert_eq!(deep.depth, 2);
    assert_eq!(deep.parent.as_ref().unwrap().path(), "/site/a.html");
}

#[tokio::test]
async fn depth_limit_include_exclude_and_ignoring_robots() {
    let site = FixtureServer::start().await;
    let (pages, _) = crawl(&site, CrawlOptions { max_depth: Some(0), ..CrawlOptions::default() }).await;
    assert_eq!(paths(&pages), ["/site/index.html"]);

    let site = FixtureServer::start().await;
    let (pages, summary) = crawl(&site, CrawlOptions { limit: Some(3), ..CrawlOptions::default() }).await;
    assert_eq!(pages.len(), 3);
    assert!(summary.hit_limit);

    let site = FixtureServer::start().await;
    let opts = CrawlOptions {
        include_paths: vec![regex::Regex::new(r"^/site/[a-c]\.html$").unwrap()],
        exclude_paths: vec![regex::Regex::new(r"b\.html$").unwrap()],
        ..CrawlOptions::default()
    };
    let (pages, _) = crawl(&site, opts).await;
    assert_eq!(paths(&pages), ["/site/a.html", "/site/c.html", "/site/index.html"], "the start page is always fetched");

    let site = FixtureServer::start().await;
    let (pages, summary) = crawl(&site, CrawlOptions { ignore_robots: true, max_pages_per_pattern: 2, ..CrawlOptions::default() }).await;
    assert!(paths(&pages).contains(&"/site/private/secret.html".to_owned()));
    assert_eq!(summary.disallowed_by_robots, 0);
    assert_eq!(site.state.hits("/robots.txt"), 0);
}
