//! The browser seam: [`Renderer`], something that loads a URL in a real browser and returns
//! the DOM after scripts ran, and [`RenderingFetcher`], which puts one behind the [`Fetcher`]
//! seam for the crawler. The orchestrator wires in the Chromium pool (`ace-browser`).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use tokio::sync::Semaphore;
use url::Url;

use crate::scrape::{app_shell, RenderMode};
use crate::{FetchError, FetchOptions, FetchedPage, Fetcher};

/// When a rendered page counts as loaded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum WaitUntil {
    /// The `load` event.
    #[default]
    Load,
    /// `DOMContentLoaded`.
    DomContentLoaded,
    /// `load`, then no request in flight for 500 ms.
    NetworkIdle,
}

/// How to render.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// When the page counts as loaded.
    pub wait_until: WaitUntil,
    /// A CSS selector that must match before the DOM is taken.
    pub wait_for_selector: Option<String>,
    /// Whole-render limit.
    pub timeout: Duration,
    /// Extra request headers.
    pub headers: Vec<(String, String)>,
    /// Steps to take once loaded, as Firecrawl's and the render API's action objects
    /// (`{"type": "click", "selector": "#more"}`); the renderer says which it cannot do.
    pub actions: Vec<serde_json::Value>,
    /// Take a PNG of the page as well.
    pub screenshot: Option<ScreenshotSpec>,
    /// Load as a phone would (narrow viewport, mobile user agent).
    pub mobile: bool,
}

/// How to take a screenshot along with the DOM.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScreenshotSpec {
    /// The whole scrollable page instead of the viewport.
    pub full_page: bool,
}

impl Default for RenderOptions {
    fn default() -> RenderOptions {
        RenderOptions {
            wait_until: WaitUntil::Load,
            wait_for_selector: None,
            timeout: Duration::from_secs(30),
            headers: Vec::new(),
            actions: Vec::new(),
            screenshot: None,
            mobile: false,
        }
    }
}

/// A page as a browser rendered it.
#[derive(Debug, Clone)]
pub struct RenderedPage {
    /// The URL asked for.
    pub url: Url,
    /// The main document's URL after redirects.
    pub final_url: Url,
    /// The main document's HTTP status, when known.
    pub status: Option<u16>,
    /// The serialised DOM.
    pub html: String,
    /// Requests the page made.
    pub network: Vec<NetworkRequest>,
    /// Time the render took.
    pub elapsed: Duration,
    /// The PNG asked for with [`RenderOptions::screenshot`].
    pub screenshot: Option<Vec<u8>>,
}

/// One request a rendered page made.
#[derive(Debug, Clone)]
pub struct NetworkRequest {
    /// The URL.
    pub url: String,
    /// The method.
    pub method: String,
    /// Document, Script, Image, ...
    pub resource_type: String,
    /// Response status, if one came.
    pub status: Option<u16>,
    /// Why it failed, if it did.
    pub failed: Option<String>,
}

/// Something that renders a URL in a browser. Engines depend on this, never on Chromium.
#[async_trait]
pub trait Renderer: Send + Sync {
    /// Renders `url`; errors say whether a retry may help ([`FetchError::is_retryable`]).
    async fn render(&self, url: &Url, opts: &RenderOptions) -> Result<RenderedPage, FetchError>;
}

/// Renders at once through one [`RenderingFetcher`] unless told otherwise: a crawl runs dozens
/// of fetches at once, and the browser pool it shares with every other job holds few pages.
pub const DEFAULT_MAX_RENDERS: usize = 4;

/// A [`Fetcher`] that loads every URL over HTTP and, as its [`RenderMode`] says, loads the
/// page again in the browser and answers the rendered DOM instead of the served bytes:
///
/// - `never`: the HTTP answer, always;
/// - `auto`: the DOM of 2xx HTML answers that are app shells (scripts and next to no text, see
///   [`is_app_shell`](crate::scrape::is_app_shell)), the HTTP answer otherwise;
/// - `always`: the DOM of every 2xx HTML answer.
///
/// The HTTP request comes first in every mode: it says whether the answer is HTML at all
/// (a PDF is never opened in the browser), and it carries redirects, robots-relevant status
/// codes and cache headers as the server sent them, which the crawler reads. A rendered
/// answer keeps the HTTP headers, with `Content-Type: text/html; charset=utf-8` for the
/// DOM, and is marked [`FetchedPage::rendered`]. A failed render is the fetch's error (a
/// retry may help), so a page is never silently recorded as its empty shell.
///
/// Only pages go through it: the crawler reads robots.txt and sitemaps with the plain HTTP
/// fetcher (see [`Crawler::with_renderer`](crate::crawl::Crawler::with_renderer)).
pub struct RenderingFetcher {
    http: Arc<dyn Fetcher>,
    renderer: Arc<dyn Renderer>,
    mode: RenderMode,
    /// Bounds the renders in flight through this fetcher (see [`DEFAULT_MAX_RENDERS`]).
    renders: Arc<Semaphore>,
}

impl std::fmt::Debug for RenderingFetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RenderingFetcher").field("mode", &self.mode).finish_non_exhaustive()
    }
}

impl RenderingFetcher {
    /// Fetches over `http` and renders in `renderer` as `mode` says, up to
    /// [`DEFAULT_MAX_RENDERS`] renders at once.
    pub fn new(http: Arc<dyn Fetcher>, renderer: Arc<dyn Renderer>, mode: RenderMode) -> RenderingFetcher {
        RenderingFetcher { http, renderer, mode, renders: Arc::new(Semaphore::new(DEFAULT_MAX_RENDERS)) }
    }

    /// Allows `n` renders at once (at least one).
    pub fn max_renders(mut self, n: usize) -> RenderingFetcher {
        self.renders = Arc::new(Semaphore::new(n.max(1)));
        self
    }

    /// The mode it renders in.
    pub fn mode(&self) -> RenderMode {
        self.mode
    }

    /// Whether the HTTP answer `page` is to be rendered in this fetcher's mode.
    fn wants_render(&self, page: &FetchedPage) -> bool {
        if !(200..300).contains(&page.status) {
            return false;
        }
        match self.mode {
            RenderMode::Never => false,
            RenderMode::Always => crate::crawl::is_html(page),
            RenderMode::Auto => crate::crawl::is_html(page) && app_shell(page.status, page.header("content-type"), &page.body),
        }
    }
}

#[async_trait]
impl Fetcher for RenderingFetcher {
    async fn fetch(&self, url: &Url, opts: &FetchOptions) -> Result<FetchedPage, FetchError> {
        let page = self.http.fetch(url, opts).await?;
        if !self.wants_render(&page) {
            return Ok(page);
        }
        let _slot = self.renders.acquire().await.map_err(|_| FetchError::Client("the render limiter was closed".into()))?;
        tracing::debug!(url = %page.final_url, mode = ?self.mode, "rendering the page in the browser");
        let render_opts = RenderOptions { timeout: opts.timeout, headers: opts.headers.clone(), ..RenderOptions::default() };
        let rendered = self.renderer.render(&page.final_url, &render_opts).await?;
        if rendered.html.len() as u64 > opts.max_body_bytes {
            return Err(FetchError::TooLarge { url: rendered.final_url.to_string(), limit: opts.max_body_bytes });
        }
        // The served body's length, encoding and charset do not describe the DOM.
        let mut headers: Vec<(String, String)> = page
            .headers
            .into_iter()
            .filter(|(name, _)| !matches!(name.as_str(), "content-type" | "content-length" | "content-encoding"))
            .collect();
        headers.push(("content-type".into(), "text/html; charset=utf-8".into()));
        Ok(FetchedPage {
            url: page.url,
            final_url: rendered.final_url,
            status: rendered.status.unwrap_or(page.status),
            headers,
            body: Bytes::from(rendered.html),
            elapsed: page.elapsed + rendered.elapsed,
            rendered: true,
        })
    }
}
