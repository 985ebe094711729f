//! Crawling with the browser: the script-only fixture site is one empty shell over HTTP and a
//! whole site once rendered (`auto` and `always`), with robots.txt and sitemaps still read
//! over plain HTTP. Real Chromium, through the pool's renderer.

use std::sync::Arc;

use ace_browser::ChromiumRenderer;
use ace_crawlers::crawl::{CrawlOptions, CrawlSummary, CrawledPage, Crawler};
use ace_crawlers::scrape::RenderMode;
use ace_crawlers::{FetchGuard, FetchOptions, Fetcher, HttpFetcher, Renderer, RenderingFetcher};
use ace_fixtures::js_site::{JS_SITE_DISALLOWED, JS_SITE_PAGES};
use ace_fixtures::FixtureServer;
use tokio_util::sync::CancellationToken;
use url::Url;

/// A small pool. Panics with a clear message without Chromium: these tests must not skip.
fn pool() -> ace_browser::Pool {
    let mut config = ace_browser::PoolConfig { max_browsers: 1, ..ace_browser::PoolConfig::default() };
    if let Ok(exe) = std::env::var("ACE_CHROMIUM") {
        config.executable = exe.into();
    }
    ace_browser::Pool::start(config).unwrap_or_else(|e| panic!("this test needs a real Chromium (scripts/install-deps.sh test): {e}"))
}

fn http() -> Arc<HttpFetcher> {
    Arc::new(HttpFetcher::new(FetchGuard::allow_all(), FetchOptions::default()).unwrap())
}

async fn crawl(site: &FixtureServer, render: Option<(Arc<dyn Renderer>, RenderMode)>) -> (Vec<CrawledPage>, CrawlSummary) {
    let mut crawler = Crawler::new(http(), CrawlOptions::default());
    if let Some((renderer, mode)) = render {
        crawler = crawler.with_renderer(renderer, mode);
    }
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let start = Url::parse(&site.url("/")).unwrap();
    let run = tokio::spawn(async move { crawler.run(start, tx, CancellationToken::new()).await });
    let mut pages = Vec::new();
    while let Some(p) = rx.recv().await {
        pages.push(p);
    }
    (pages, run.await.unwrap())
}

fn body(page: &CrawledPage) -> String {
    String::from_utf8_lossy(&page.result.as_ref().unwrap().body).into_owned()
}

fn is_browser(agent: &str) -> bool {
    agent.contains("Chrome")
}

#[tokio::test]
async fn a_script_only_site_is_crawled_completely_only_when_rendered() {
    let pool = pool();
    let renderer: Arc<dyn Renderer> = Arc::new(ChromiumRenderer::new(pool.clone(), FetchGuard::allow_all()));

    // Never: the shell is all there is, and nothing was rendered.
    let site = FixtureServer::start_js_site().await;
    let (pages, summary) = crawl(&site, Some((renderer.clone(), RenderMode::Never))).await;
    let paths: Vec<&str> = pages.iter().map(|p| p.url.path()).collect();
    assert_eq!(paths, ["/"], "over HTTP the site has no links");
    assert!(!pages[0].result.as_ref().unwrap().rendered && summary.rendered == 0);
    assert!(!body(&pages[0]).contains(JS_SITE_PAGES[0].1), "{}", body(&pages[0]));
    assert!(site.state.user_agents.lock().unwrap().iter().all(|(_, a)| !is_browser(a)), "no browser was asked");

    for mode in [RenderMode::Auto, RenderMode::Always] {
        let site = FixtureServer::start_js_site().await;
        let (pages, summary) = crawl(&site, Some((renderer.clone(), mode))).await;
        let mut paths: Vec<&str> = pages.iter().map(|p| p.url.path()).collect();
        paths.sort_unstable();
        let mut expected: Vec<&str> = JS_SITE_PAGES.iter().map(|(p, _)| *p).collect();
        expected.sort_unstable();
        assert_eq!(paths, expected, "{mode:?}: every page, through links only scripts write");
        for (path, sentence) in JS_SITE_PAGES {
            let page = pages.iter().find(|p| p.url.path() == path).unwrap();
            let fetched = page.result.as_ref().unwrap();
            assert!(fetched.rendered, "{mode:?} {path}");
            assert_eq!(fetched.header("content-type"), Some("text/html; charset=utf-8"));
            assert!(body(page).contains(sentence), "{mode:?} {path}: {}", body(page));
            // One plain request (it tells the crawler the page is HTML, or an app shell), one render.
            let agents = site.state.agents(path);
            assert_eq!(agents.iter().filter(|a| is_browser(a)).count(), 1, "{mode:?} {path}: {agents:?}");
            assert_eq!(agents.iter().filter(|a| a.starts_with("ace-web/")).count(), 1, "{mode:?} {path}: {agents:?}");
        }
        assert_eq!(summary.rendered, JS_SITE_PAGES.len() as u64);
        // robots.txt was obeyed for a link only the rendered page has, and it and the sitemap
        // were read over HTTP, never in the browser.
        assert_eq!(site.state.hits(JS_SITE_DISALLOWED), 0, "{mode:?}");
        assert_eq!(summary.disallowed_by_robots, 1, "{mode:?}");
        for file in ["/robots.txt", "/sitemap.xml"] {
            let agents = site.state.agents(file);
            assert!(!agents.is_empty() && agents.iter().all(|a| a.starts_with("ace-web/")), "{mode:?} {file}: {agents:?}");
        }
    }
    pool.shutdown().await;
}

#[tokio::test]
async fn auto_renders_only_app_shells_and_always_every_html_page() {
    let pool = pool();
    let renderer: Arc<dyn Renderer> = Arc::new(ChromiumRenderer::new(pool.clone(), FetchGuard::allow_all()));
    let site = FixtureServer::start().await;
    let opts = FetchOptions::default();
    let url = |path: &str| Url::parse(&site.url(path)).unwrap();

    let auto = RenderingFetcher::new(http(), renderer.clone(), RenderMode::Auto);
    let page = auto.fetch(&url("/page/alpha"), &opts).await.unwrap();
    assert!(!page.rendered, "a page with its content is kept as served");
    let shell = auto.fetch(&url("/app-shell"), &opts).await.unwrap();
    assert!(shell.rendered);
    assert!(String::from_utf8_lossy(&shell.body).contains("written by JavaScript"));

    let always = RenderingFetcher::new(http(), renderer, RenderMode::Always).max_renders(1);
    let page = always.fetch(&url("/page/alpha"), &opts).await.unwrap();
    assert!(page.rendered && page.status == 200);
    assert!(String::from_utf8_lossy(&page.body).contains("<h1>Page alpha</h1>"));
    // Answers that are not 2xx HTML are never opened in the browser.
    let robots = always.fetch(&url("/robots.txt"), &opts).await.unwrap();
    assert!(!robots.rendered);
    assert_eq!(&robots.body[..], b"User-agent: *\nDisallow: /site/private/\n");
    let missing = always.fetch(&url("/status/404"), &opts).await.unwrap();
    assert!(!missing.rendered && missing.status == 404);
    pool.shutdown().await;
}
