//! The crawler's rules against the crawl fixture site on loopback: sitemaps, robots, retries,
//! Retry-After, timeouts, body caps, charsets, gzip, content types, politeness, resume, map,
//! and bad input that must fail one page clearly while the crawl goes on.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ace_crawlers::checkpoint::MemoryCheckpoint;
use ace_crawlers::crawl::{CrawlOptions, CrawlSummary, CrawledPage, Crawler, NonHtml};
use ace_crawlers::map::{map, MapOptions};
use ace_crawlers::retry::RetryPolicy;
use ace_crawlers::sitemap::SitemapMode;
use ace_crawlers::{FetchGuard, FetchOptions, Fetcher, HttpFetcher};
use ace_fixtures::crawl_sites::CrawlSiteConfig;
use ace_fixtures::FixtureServer;
use tokio_util::sync::CancellationToken;
use url::Url;

fn fetcher() -> Arc<dyn Fetcher> {
    Arc::new(HttpFetcher::new(FetchGuard::allow_all(), FetchOptions::default()).unwrap())
}

/// Options that keep the slow fixtures quick: short timeouts, fast backoff, a small body cap.
fn quick() -> CrawlOptions {
    CrawlOptions {
        max_pages_per_pattern: 3,
        retry: RetryPolicy { attempts: 2, base: Duration::from_millis(20), ..RetryPolicy::default() },
        fetch: FetchOptions {
            follow_redirects: false,
            timeout: Duration::from_secs(2),
            read_timeout: Some(Duration::from_millis(600)),
            max_body_bytes: 1024 * 1024,
            ..FetchOptions::default()
        },
        ..CrawlOptions::default()
    }
}

async fn crawl_from(start: &str, opts: CrawlOptions) -> (HashMap<String, CrawledPage>, CrawlSummary) {
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let crawler = Crawler::new(fetcher(), opts);
    let start = Url::parse(start).unwrap();
    let run = tokio::spawn(async move { crawler.run(start, tx, CancellationToken::new()).await });
    let mut pages = HashMap::new();
    while let Some(p) = rx.recv().await {
        let key = p.url[url::Position::BeforePath..].to_owned();
        assert!(pages.insert(key.clone(), p).is_none(), "{key} reported twice");
    }
    (pages, run.await.unwrap())
}

fn status(pages: &HashMap<String, CrawledPage>, path: &str) -> u16 {
    let page = pages.get(path).unwrap_or_else(|| panic!("{path} not crawled; crawled: {:?}", pages.keys().collect::<Vec<_>>()));
    page.result.as_ref().unwrap_or_else(|e| panic!("{path}: {e}")).status
}

fn error_code(pages: &HashMap<String, CrawledPage>, path: &str) -> &'static str {
    pages.get(path).unwrap_or_else(|| panic!("{path} not crawled")).result.as_ref().map(|p| p.status).unwrap_err().code()
}

#[tokio::test]
async fn every_rule_on_one_site_and_each_bad_page_fails_alone() {
    let site = FixtureServer::start_crawl_site(CrawlSiteConfig::default()).await;
    let (pages, summary) = crawl_from(&site.url("/"), quick()).await;
    let hits = site.state.hits.lock().unwrap().clone();

    // Sitemaps from robots.txt: the index, a plain and a gzip sitemap; orphans reached.
    for p in ["/sitemap_index.xml", "/sitemap-pages.xml", "/sitemap-extra.xml.gz", "/robots.txt"] {
        assert_eq!(hits.get(p), Some(&1), "{p}: {hits:?}");
    }
    assert_eq!(hits.get("/sitemap.xml"), None, "robots.txt named the sitemaps: no guessing");
    assert_eq!((status(&pages, "/orphan-1.html"), status(&pages, "/orphan-2.html")), (200, 200));
    assert!(summary.sitemap_urls >= 4, "{summary:?}");
    // robots.txt: disallowed pages are not fetched, whether linked or in a sitemap.
    assert!(!hits.contains_key("/private/secret.html") && !hits.contains_key("/private/hidden.html"));
    assert_eq!(summary.disallowed_by_robots, 2);

    // Retries: 500 then 200, and 429 with Retry-After then 200, each recorded once.
    assert_eq!((status(&pages, "/flaky.html"), pages["/flaky.html"].attempts), (200, 2));
    assert_eq!((status(&pages, "/busy.html"), pages["/busy.html"].attempts), (200, 2));
    // Redirects are pages of their own; a loop ends because each hop is fetched once.
    assert_eq!((status(&pages, "/redirect/1"), status(&pages, "/redirect/2"), status(&pages, "/about.html")), (308, 303, 200));
    assert_eq!((status(&pages, "/loop/a"), status(&pages, "/loop/b")), (303, 303));
    assert_eq!(status(&pages, "/missing.html"), 404);
    // Drip (total timeout), stall (read timeout) and a huge body fail alone, clearly.
    assert_eq!(error_code(&pages, "/drip.html"), "timeout");
    assert_eq!(error_code(&pages, "/stall.html"), "timeout");
    assert_eq!(error_code(&pages, "/huge.html"), "too_large");
    assert_eq!(pages["/huge.html"].attempts, 1, "a body over the cap is not retried");
    // The calendar trap stops at the pages-per-pattern limit.
    assert_eq!(hits.keys().filter(|k| k.starts_with("/cal/")).count(), 3);
    assert!(summary.trapped >= 1);
    // Charsets: links of windows-1251 (header) and Shift_JIS (meta) pages, query strings
    // encoded in the page's charset as a browser does.
    assert_eq!(status(&pages, "/ru/%D1%81%D1%82%D1%80%D0%B0%D0%BD%D0%B8%D1%86%D0%B0.html?q=%F2%E5%F1%F2"), 200);
    assert_eq!(status(&pages, "/ja/%E6%97%A5%E6%9C%AC%E8%AA%9E.html"), 200);
    // Content-Encoding: gzip is decoded before links are taken.
    assert_eq!(status(&pages, "/from-gzip.html"), 200);
    // Non-HTML is recorded by default; JavaScript-written links are not seen over HTTP.
    assert_eq!(pages["/download"].result.as_ref().unwrap().header("content-type"), Some("application/pdf"));
    assert_eq!(status(&pages, "/js-only.html"), 200);
    assert!(!hits.contains_key("/js-link.html"));
    // The chain shares one pattern too: its first three pages.
    for k in 0..=2 {
        assert_eq!(status(&pages, &format!("/chain/{k}")), 200);
    }
    // No URL requested twice, except the retried ones (counted above).
    for (path, n) in &hits {
        let expected = if ["/flaky.html", "/busy.html", "/drip.html", "/stall.html"].contains(&path.as_str()) { 2 } else { 1 };
        assert_eq!(*n, expected, "{path} requested {n} times");
    }
    assert_eq!(summary.errors, 3, "{summary:?}");
}

#[tokio::test]
async fn sitemap_fallback_skip_and_only() {
    let undeclared = CrawlSiteConfig { declare_sitemaps: false, ..CrawlSiteConfig::default() };
    let site = FixtureServer::start_crawl_site(undeclared.clone()).await;
    let opts = CrawlOptions { include_paths: vec![regex::Regex::new(r"^/(orphan|about)").unwrap()], ..quick() };
    let (pages, _) = crawl_from(&site.url("/"), opts.clone()).await;
    assert_eq!(site.state.hits("/sitemap.xml"), 1, "no Sitemap: line, so /sitemap.xml is tried");
    assert_eq!(status(&pages, "/orphan-3.html"), 200);

    let site = FixtureServer::start_crawl_site(undeclared).await;
    let (pages, _) = crawl_from(&site.url("/"), CrawlOptions { sitemap: SitemapMode::Skip, ..opts.clone() }).await;
    assert_eq!(site.state.hits("/sitemap.xml") + site.state.hits("/sitemap_index.xml"), 0);
    assert!(!pages.contains_key("/orphan-3.html"));

    let site = FixtureServer::start_crawl_site(CrawlSiteConfig::default()).await;
    let (pages, _) = crawl_from(&site.url("/"), CrawlOptions { sitemap: SitemapMode::Only, ..quick() }).await;
    let mut crawled: Vec<&str> = pages.keys().map(String::as_str).collect();
    crawled.sort();
    assert_eq!(crawled, ["/", "/about.html", "/orphan-1.html", "/orphan-2.html"], "sitemap URLs only, no links followed");
}

#[tokio::test]
async fn crawl_delay_and_the_delay_option_space_requests() {
    // Paused-clock tests of the spacing itself are in politeness.rs; this shows it is wired:
    // four pages 300 ms apart take at least 900 ms, and fetches never overlap.
    let site = FixtureServer::start_crawl_site(CrawlSiteConfig { crawl_delay: Some(0.3), ..CrawlSiteConfig::default() }).await;
    let opts = CrawlOptions { sitemap: SitemapMode::Skip, limit: Some(4), ..quick() };
    let started = Instant::now();
    let (pages, _) = crawl_from(&site.url("/chain/0"), opts.clone()).await;
    assert_eq!(pages.len(), 4);
    assert!(started.elapsed() >= Duration::from_millis(900), "{:?}", started.elapsed());

    let site = FixtureServer::start_crawl_site(CrawlSiteConfig::default()).await;
    let opts = CrawlOptions { delay: Some(Duration::from_millis(250)), ..opts };
    let started = Instant::now();
    let (pages, _) = crawl_from(&site.url("/chain/0"), opts).await;
    assert_eq!(pages.len(), 4);
    assert!(started.elapsed() >= Duration::from_millis(750), "{:?}", started.elapsed());
}

#[tokio::test]
async fn non_html_can_be_skipped_without_downloading_it() {
    let site = FixtureServer::start_crawl_site(CrawlSiteConfig::default()).await;
    let opts = CrawlOptions { non_html: NonHtml::Skip, include_paths: vec![regex::Regex::new("^/(download|about)").unwrap()], sitemap: SitemapMode::Skip, ..quick() };
    let (pages, summary) = crawl_from(&site.url("/"), opts).await;
    assert!(!pages.contains_key("/download"));
    assert_eq!(site.state.hits("/download"), 1);
    assert_eq!(summary.non_html_skipped, 1);
    assert_eq!(status(&pages, "/about.html"), 200);
}

#[tokio::test]
async fn bad_start_urls_fail_their_page_clearly() {
    let closed = ace_fixtures::ClosedPort::new();
    let site = FixtureServer::start_crawl_site(CrawlSiteConfig::default()).await;
    for (start, code) in [
        ("ftp://127.0.0.1/".to_owned(), "target_forbidden"),
        ("http://no-such-host.invalid/".to_owned(), "dns_failure"),
        (format!("http://127.0.0.1:{}/", closed.port()), "network_error"),
        // TLS to a plain-HTTP server: the handshake fails.
        (format!("https://{}/", site.addr), "network_error"),
    ] {
        let opts = CrawlOptions { retry: RetryPolicy::none(), ..quick() };
        let (pages, summary) = crawl_from(&start, opts).await;
        assert_eq!(pages.len(), 1, "{start}");
        let page = pages.values().next().unwrap();
        assert_eq!(page.result.as_ref().unwrap_err().code(), code, "{start}");
        assert_eq!(summary.errors, 1);
    }
    let (pages, _) = crawl_from(&site.url("/missing.html"), CrawlOptions { sitemap: SitemapMode::Skip, ..quick() }).await;
    assert_eq!((pages.len(), status(&pages, "/missing.html")), (1, 404), "a 404 start page is recorded, and the crawl ends");

    // A redirect loop followed by a fetcher that follows redirects fails clearly.
    let f = fetcher();
    let err = f.fetch(&Url::parse(&site.url("/loop/a")).unwrap(), &FetchOptions::default()).await.unwrap_err();
    assert_eq!(err.code(), "too_many_redirects");

    // Links to a host that does not resolve fail that page only.
    let plain = FixtureServer::start().await;
    let opts = CrawlOptions { allow_external_links: true, max_depth: Some(1), retry: RetryPolicy::none(), ..quick() };
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let crawler = Crawler::new(fetcher(), opts);
    let start = Url::parse(&plain.url("/site/index.html")).unwrap();
    tokio::spawn(async move { crawler.run(start, tx, CancellationToken::new()).await });
    let mut codes = HashMap::new();
    let mut ok = 0;
    while let Some(p) = rx.recv().await {
        match &p.result {
            Ok(_) => ok += 1,
            Err(e) => {
                codes.insert(p.url.host_str().unwrap_or_default().to_owned(), e.code());
            }
        }
    }
    assert_eq!(codes.get("other.invalid"), Some(&"dns_failure"));
    assert!(ok >= 5, "the rest of the crawl went on: {ok} pages");
}

#[tokio::test]
async fn a_resumed_crawl_never_refetches_done_pages_and_loses_no_queued_url() {
    let site = FixtureServer::start_crawl_site(CrawlSiteConfig::default()).await;
    let opts = CrawlOptions { sitemap: SitemapMode::Skip, ignore_robots: true, concurrency: 1, max_pages_per_pattern: 100, ..quick() };
    let start = Url::parse(&site.url("/chain/0")).unwrap();
    let mut memory = MemoryCheckpoint::default();
    let mut first = Vec::new();
    {
        let (tx, mut rx) = tokio::sync::mpsc::channel(1);
        let cancel = CancellationToken::new();
        let crawler = Crawler::new(fetcher(), opts.clone());
        let run = tokio::spawn({
            let (start, cancel) = (start.clone(), cancel.clone());
            async move { crawler.run(start, tx, cancel).await }
        });
        while let Some(p) = rx.recv().await {
            memory.record(&p);
            first.push(p.url.path().to_owned());
            if first.len() == 4 {
                cancel.cancel();
                break;
            }
        }
        drop(rx);
        let _ = run.await;
    }
    let checkpoint = memory.snapshot();
    assert_eq!(checkpoint.done.len(), 4);
    assert!(!checkpoint.queued.is_empty());

    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let crawler = Crawler::new(fetcher(), opts);
    let run = tokio::spawn(async move { crawler.resume(start, checkpoint, tx, CancellationToken::new()).await });
    let mut second = Vec::new();
    while let Some(p) = rx.recv().await {
        second.push(p.url.path().to_owned());
    }
    let summary = run.await.unwrap();
    assert_eq!(summary.resumed_done, 4);
    for path in &first {
        assert!(!second.contains(path), "{path} was done before the stop and fetched again");
        assert_eq!(site.state.hits(path), 1, "{path}");
    }
    let mut all: Vec<String> = first.into_iter().chain(second).collect();
    all.sort();
    let mut expected: Vec<String> = (0..=11).map(|k| format!("/chain/{k}")).collect();
    expected.sort();
    assert_eq!(all, expected, "every page recorded exactly once over the two runs");
}

#[tokio::test]
async fn map_lists_sitemap_and_linked_urls_with_titles_search_and_limit() {
    let site = FixtureServer::start_crawl_site(CrawlSiteConfig::default()).await;
    let opts = MapOptions {
        time_budget: Duration::from_secs(3),
        fetch: FetchOptions { read_timeout: Some(Duration::from_millis(500)), timeout: Duration::from_secs(1), follow_redirects: false, ..FetchOptions::default() },
        ..MapOptions::default()
    };
    let start = Url::parse(&site.url("/")).unwrap();
    let links = map(fetcher(), &start, &opts).await.unwrap();
    let urls: Vec<String> = links.iter().map(|l| Url::parse(&l.url).unwrap()[url::Position::BeforePath..].to_owned()).collect();
    assert_eq!(urls[0], "/", "the start URL comes first");
    for expected in ["/orphan-1.html", "/orphan-2.html", "/about.html", "/deep/1.html", "/chain/2"] {
        assert!(urls.contains(&expected.to_owned()), "{expected} missing from {urls:?}");
    }
    assert!(!urls.iter().any(|u| u.starts_with("/private/")), "robots.txt is obeyed: {urls:?}");
    let mut unique = urls.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), urls.len(), "deduplicated");
    let about = links.iter().find(|l| l.url.ends_with("/about.html")).unwrap();
    assert_eq!(about.title.as_deref(), Some("About"));
    assert_eq!(serde_json::to_value(about).unwrap()["url"], about.url);

    let found = map(fetcher(), &start, &MapOptions { search: Some("ORPHAN".into()), ..opts.clone() }).await.unwrap();
    let mut names: Vec<&str> = found.iter().map(|l| l.url.rsplit('/').next().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["orphan-1.html", "orphan-2.html"]);
    assert_eq!(map(fetcher(), &start, &MapOptions { limit: 3, ..opts.clone() }).await.unwrap().len(), 3);
    let only = map(fetcher(), &start, &MapOptions { sitemap: SitemapMode::Only, ..opts.clone() }).await.unwrap();
    assert!(only.iter().all(|l| !l.url.contains("/deep/")), "sitemap only: {only:?}");

    let bad = Url::parse("mailto:someone@example.com").unwrap();
    assert_eq!(map(fetcher(), &bad, &opts).await.unwrap_err().code(), "invalid_url");
    let nowhere = Url::parse("http://no-such-host.invalid/").unwrap();
    assert_eq!(map(fetcher(), &nowhere, &opts).await.unwrap_err().code(), "dns_failure");
}
