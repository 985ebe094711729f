//! Rendering one page in a leased context: navigation, waits, actions, and the outputs
//! (HTML, screenshot, PDF).

use std::collections::{BTreeMap, HashSet};
use std::io::Cursor;
use std::time::{Duration, Instant};

use ace_crawlers::FetchGuard;
use base64::Engine as _;
use chromiumoxide::cdp::browser_protocol::emulation::SetDeviceMetricsOverrideParams;
use chromiumoxide::cdp::browser_protocol::fetch::{
    ContinueRequestParams, EnableParams as FetchEnable, EventRequestPaused, FailRequestParams, RequestPattern,
};
use chromiumoxide::cdp::browser_protocol::input::InsertTextParams;
use chromiumoxide::cdp::browser_protocol::inspector::EventTargetCrashed;
use chromiumoxide::cdp::browser_protocol::network::{
    CookieParam, ErrorReason, EventLoadingFailed, EventLoadingFinished, EventRequestWillBeSent, EventResponseReceived, Headers,
    ResourceType, SetCookiesParams, SetExtraHttpHeadersParams, SetUserAgentOverrideParams,
};
use chromiumoxide::cdp::browser_protocol::page::{
    CaptureScreenshotFormat, CaptureScreenshotParams, EventFrameNavigated, EventJavascriptDialogOpening, EventLifecycleEvent, HandleJavaScriptDialogParams,
    NavigateParams,
    PrintToPdfParams, Viewport as Clip,
};
use chromiumoxide::Page;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::pool::PAGE_VIEWPORT;
use crate::{BrowserError, Lease, Pool};

/// What to render and how long to wait: the body shared by `/v1/content`, `/v1/screenshot`
/// and `/v1/pdf`. Unknown fields are ignored (clients of other services send extras).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RenderRequest {
    /// The page to load (http or https). Exactly one of `url` and `html`.
    pub url: Option<String>,
    /// HTML to render instead of a URL.
    pub html: Option<String>,
    /// When the page counts as loaded: `load` (default), `domcontentloaded` or `networkidle`
    /// (load, then no request in flight for 500 ms).
    pub wait_until: WaitUntil,
    /// A CSS selector that must match before the output is taken.
    pub wait_for_selector: Option<String>,
    /// Milliseconds for the whole render (default and cap from the pool's configuration).
    pub timeout: Option<u64>,
    /// Viewport in CSS pixels (default 1280x720).
    pub viewport: Option<ViewportSize>,
    /// Resource types to refuse: image, font, media, stylesheet, script.
    pub block_resources: Vec<ResourceKind>,
    /// Extra request headers.
    pub headers: BTreeMap<String, String>,
    /// Cookies to set before loading; without `url` or `domain` they apply to the target URL.
    pub cookies: Vec<CookieSpec>,
    /// User-Agent to send and report.
    pub user_agent: Option<String>,
    /// Things to do after loading and before the output is taken.
    pub actions: Vec<Action>,
}

/// When navigation counts as done.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WaitUntil {
    /// The `load` event.
    #[default]
    Load,
    /// The `DOMContentLoaded` event.
    #[serde(alias = "domContentLoaded", alias = "DOMContentLoaded")]
    DomContentLoaded,
    /// `load`, then no request in flight for 500 ms.
    #[serde(alias = "networkidle0", alias = "networkIdle")]
    NetworkIdle,
}

/// A viewport.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ViewportSize {
    /// Width in CSS pixels.
    pub width: u32,
    /// Height in CSS pixels.
    pub height: u32,
    /// Device pixels per CSS pixel (default 1).
    #[serde(default)]
    pub device_scale_factor: Option<f64>,
}

/// A resource type that can be blocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResourceKind {
    /// Images.
    Image,
    /// Web fonts.
    Font,
    /// Audio and video.
    Media,
    /// CSS.
    Stylesheet,
    /// JavaScript files.
    Script,
}

impl ResourceKind {
    fn matches(self, t: &ResourceType) -> bool {
        matches!(
            (self, t),
            (ResourceKind::Image, ResourceType::Image)
                | (ResourceKind::Font, ResourceType::Font)
                | (ResourceKind::Media, ResourceType::Media)
                | (ResourceKind::Stylesheet, ResourceType::Stylesheet)
                | (ResourceKind::Script, ResourceType::Script)
        )
    }
}

/// A cookie to set.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CookieSpec {
    /// Name.
    pub name: String,
    /// Value.
    pub value: String,
    /// URL the cookie is for (default: the target URL).
    #[serde(default)]
    pub url: Option<String>,
    /// Domain.
    #[serde(default)]
    pub domain: Option<String>,
    /// Path.
    #[serde(default)]
    pub path: Option<String>,
    /// Secure only.
    #[serde(default)]
    pub secure: Option<bool>,
    /// Hidden from scripts.
    #[serde(default)]
    pub http_only: Option<bool>,
}

/// One step done on the page after it loaded.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Action {
    /// Sleep.
    Wait {
        /// How long.
        milliseconds: u64,
    },
    /// Click the first element matching `selector` (waiting for it to appear).
    Click {
        /// CSS selector.
        selector: String,
    },
    /// Click the element, then type `text`; without a selector, type into whatever has
    /// focus (Firecrawl's shape: a `click` first, then `write`).
    Write {
        /// CSS selector.
        #[serde(default)]
        selector: Option<String>,
        /// Text to type.
        text: String,
    },
    /// Press a key (`Enter`, `Tab`, `a`, ...) in the focused element.
    Press {
        /// Key name.
        key: String,
    },
    /// Scroll one viewport.
    Scroll {
        /// `down` (default) or `up`.
        #[serde(default)]
        direction: ScrollDirection,
    },
    /// Wait until `selector` matches.
    WaitForSelector {
        /// CSS selector.
        selector: String,
    },
}

/// Scroll direction.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScrollDirection {
    /// Down.
    #[default]
    Down,
    /// Up.
    Up,
}

/// `/v1/screenshot`'s body.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ScreenshotRequest {
    /// What to render.
    #[serde(flatten)]
    pub render: RenderRequest,
    /// png (default), jpeg or webp.
    #[serde(alias = "type")]
    pub format: ImageFormat,
    /// 0-100, for jpeg and webp.
    pub quality: Option<u8>,
    /// The whole scrollable page rather than the viewport.
    pub full_page: bool,
    /// Only this rectangle (CSS pixels).
    pub clip: Option<ClipRect>,
    /// Scale the image down to this width (aspect kept).
    pub thumbnail_width: Option<u32>,
}

/// An image format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageFormat {
    /// PNG.
    #[default]
    Png,
    /// JPEG.
    #[serde(alias = "jpg")]
    Jpeg,
    /// WebP.
    Webp,
}

impl ImageFormat {
    /// The MIME type.
    pub fn content_type(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Webp => "image/webp",
        }
    }

    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Png => "png",
            ImageFormat::Jpeg => "jpg",
            ImageFormat::Webp => "webp",
        }
    }
}

/// A rectangle in CSS pixels.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct ClipRect {
    /// Left.
    pub x: f64,
    /// Top.
    pub y: f64,
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
}

/// `/v1/pdf`'s body.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PdfRequest {
    /// What to render.
    #[serde(flatten)]
    pub render: RenderRequest,
    /// Landscape pages.
    pub landscape: bool,
    /// Print backgrounds (default true).
    pub print_background: Option<bool>,
    /// Scale, 0.1 to 2.
    pub scale: Option<f64>,
    /// Paper width in inches (default Letter).
    pub paper_width: Option<f64>,
    /// Paper height in inches.
    pub paper_height: Option<f64>,
}

/// A rendered page.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rendered {
    /// The URL asked for (`about:html` for given HTML).
    pub url: String,
    /// The main document's URL after redirects.
    pub final_url: String,
    /// The main document's HTTP status, when it came over HTTP.
    pub status_code: Option<u16>,
    /// The DOM serialised after scripts and actions ran (empty for screenshot and PDF outputs).
    pub html: String,
    /// Requests the page made.
    pub network: Vec<NetworkEntry>,
    /// Time from lease to output.
    pub elapsed_ms: u64,
}

/// One request of the page.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkEntry {
    /// The URL.
    pub url: String,
    /// The method.
    pub method: String,
    /// The resource type (Document, Script, Image, ...).
    pub resource_type: String,
    /// The response status, if one came.
    pub status: Option<u16>,
    /// Why it failed, if it did.
    pub failed: Option<String>,
}

/// What to take from the page once it is ready.
#[derive(Debug, Clone)]
pub enum Output {
    /// Only the HTML.
    Content,
    /// An image.
    Screenshot(ScreenshotRequest),
    /// A PDF.
    Pdf(PdfRequest),
    /// The HTML and an image of the same moment (a scrape asking for both).
    ContentAndScreenshot(ScreenshotRequest),
}

/// The result of [`render`].
#[derive(Debug, Clone)]
pub struct Produced {
    /// The page (HTML, final URL, status, network log).
    pub page: Rendered,
    /// The image or PDF bytes, for those outputs.
    pub bytes: Option<Vec<u8>>,
    /// Their MIME type.
    pub content_type: &'static str,
}

const MAX_NETWORK_LOG: usize = 2_000;
/// Tallest full-page screenshot, in CSS pixels (Chromium's capture limit is about this).
const MAX_FULL_PAGE_HEIGHT: f64 = 16_384.0;
const IDLE_QUIET: Duration = Duration::from_millis(500);
const DEFAULT_VIEWPORT: ViewportSize = ViewportSize { width: PAGE_VIEWPORT.0, height: PAGE_VIEWPORT.1, device_scale_factor: None };

/// Renders `url` or `html` and returns the HTML.
pub async fn content(pool: &Pool, req: &RenderRequest, guard: FetchGuard) -> Result<Rendered, BrowserError> {
    Ok(render(pool, req, &Output::Content, guard).await?.page)
}

/// Renders and screenshots; returns the image and its MIME type.
pub async fn screenshot(pool: &Pool, req: &ScreenshotRequest, guard: FetchGuard) -> Result<(Vec<u8>, &'static str), BrowserError> {
    let out = render(pool, &req.render, &Output::Screenshot(req.clone()), guard).await?;
    Ok((out.bytes.unwrap_or_default(), out.content_type))
}

/// Renders and prints to PDF.
pub async fn pdf(pool: &Pool, req: &PdfRequest, guard: FetchGuard) -> Result<Vec<u8>, BrowserError> {
    let out = render(pool, &req.render, &Output::Pdf(req.clone()), guard).await?;
    Ok(out.bytes.unwrap_or_default())
}

/// Renders once, and once more on a fresh browser if the browser crashed under the render.
pub async fn render(pool: &Pool, req: &RenderRequest, output: &Output, guard: FetchGuard) -> Result<Produced, BrowserError> {
    let kind = match output {
        Output::Content => "content",
        Output::Screenshot(_) | Output::ContentAndScreenshot(_) => "screenshot",
        Output::Pdf(_) => "pdf",
    };
    let target = Target::parse(req)?;
    if let Target::Url(url) = &target {
        guard.check_resolved(url).await?;
    }
    let mut result = render_once(pool, req, &target, output, guard).await;
    if matches!(result, Err(BrowserError::BrowserCrashed { .. })) {
        tracing::warn!(kind, "browser crashed under a render; retrying on a fresh browser");
        result = render_once(pool, req, &target, output, guard).await;
    }
    let outcome = match &result {
        Ok(_) => "ok",
        Err(e) => {
            tracing::warn!(kind, code = e.code(), error = %e, "render failed");
            e.code()
        }
    };
    pool.metrics().renders.with_label_values(&[kind, outcome]).inc();
    if matches!(result, Err(BrowserError::RendererCrashed { .. })) {
        pool.metrics().renderer_crashes.inc();
    }
    result
}

/// What the page loads.
#[derive(Debug, Clone)]
enum Target {
    Url(Url),
    Html(String),
}

impl Target {
    fn parse(req: &RenderRequest) -> Result<Target, BrowserError> {
        match (&req.url, &req.html) {
            (Some(_), Some(_)) => Err(BrowserError::InvalidRequest("give either url or html, not both".into())),
            (None, None) => Err(BrowserError::InvalidRequest("give url or html".into())),
            (None, Some(html)) => Ok(Target::Html(html.clone())),
            (Some(raw), None) => {
                let url = Url::parse(raw).map_err(|e| BrowserError::InvalidRequest(format!("invalid url {raw}: {e}")))?;
                if !matches!(url.scheme(), "http" | "https") {
                    return Err(BrowserError::InvalidRequest(format!("url must be http or https, not {}", url.scheme())));
                }
                Ok(Target::Url(url))
            }
        }
    }

    fn navigate_url(&self) -> String {
        match self {
            Target::Url(u) => u.to_string(),
            Target::Html(html) => format!("data:text/html;base64,{}", base64::engine::general_purpose::STANDARD.encode(html)),
        }
    }
}

/// What the page's event tasks have seen.
#[derive(Debug, Clone)]
struct PageState {
    dom_loaders: HashSet<String>,
    load_loaders: HashSet<String>,
    inflight: HashSet<String>,
    last_activity: Instant,
    main_status: Option<u16>,
    main_url: Option<String>,
    forbidden: Option<ace_crawlers::Forbidden>,
    log: Vec<NetworkEntry>,
    /// Request id to its entry in `log`, so responses and failures land on the right one.
    log_index: std::collections::HashMap<String, usize>,
    /// Ends (failure text, or `None` for success) of requests whose start has not been
    /// processed yet: each event kind has its own stream, so their order is not guaranteed.
    early_ends: std::collections::HashMap<String, Option<String>>,
    /// Statuses of responses whose request's start has not been processed yet.
    early_status: std::collections::HashMap<String, u16>,
    /// The loaders of the documents the main frame committed, in order: one after the
    /// requested navigation's is a client-side redirect (meta refresh, `location = …`).
    main_loaders: Vec<String>,
}

/// A page being rendered under a deadline, failing fast if the browser or renderer dies.
struct Session {
    page: Page,
    deadline: Instant,
    timeout: Duration,
    browser_dead: CancellationToken,
    renderer_crashed: CancellationToken,
    state: watch::Receiver<PageState>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Session {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Session {
    /// Runs `fut` under the deadline; `awaited` names it in a timeout error.
    async fn step<T, F>(&self, awaited: &str, fut: F) -> Result<T, BrowserError>
    where
        F: std::future::Future<Output = Result<T, BrowserError>>,
    {
        tokio::select! {
            biased;
            _ = self.browser_dead.cancelled() => Err(BrowserError::BrowserCrashed { reason: format!("the browser died while waiting for {awaited}") }),
            _ = self.renderer_crashed.cancelled() => Err(BrowserError::RendererCrashed { during: format!("waiting for {awaited}") }),
            r = tokio::time::timeout_at(self.deadline.into(), fut) => match r {
                Ok(r) => r,
                Err(_) => Err(BrowserError::Timeout { awaited: awaited.to_owned(), after: self.timeout }),
            },
        }
    }

    async fn eval<T: serde::de::DeserializeOwned>(&self, expr: String) -> Result<T, BrowserError> {
        let r = self.page.evaluate(expr).await?;
        r.into_value::<T>().map_err(|e| BrowserError::Cdp(format!("unexpected script result: {e}")))
    }

    /// Polls until `selector` matches.
    async fn selector_appears(&self, selector: &str) -> Result<(), BrowserError> {
        let quoted = serde_json::to_string(selector).unwrap_or_default();
        let expr = format!("(() => {{ try {{ return !!document.querySelector({quoted}); }} catch (e) {{ return 'bad'; }} }})()");
        loop {
            let found: serde_json::Value = match self.eval(expr.clone()).await {
                // The page is being left (a client-side redirect): ask the next document.
                Err(BrowserError::Cdp(reason)) if reason.contains("context") || reason.contains("navigated") => serde_json::Value::Null,
                found => found?,
            };
            if found == serde_json::Value::Bool(true) {
                return Ok(());
            }
            if found == "bad" {
                return Err(BrowserError::InvalidRequest(format!("invalid CSS selector {selector}")));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for the navigation `loader` to reach `until`.
    async fn settled(&self, loader: Option<String>, until: WaitUntil) -> Result<(), BrowserError> {
        let mut rx = self.state.clone();
        loop {
            let wait_for = {
                let s = rx.borrow_and_update();
                if let Some(f) = &s.forbidden {
                    return Err(BrowserError::Forbidden(f.clone()));
                }
                let dom = loader.as_ref().is_none_or(|l| s.dom_loaders.contains(l) || s.load_loaders.contains(l));
                let load = loader.as_ref().is_none_or(|l| s.load_loaders.contains(l));
                match until {
                    WaitUntil::DomContentLoaded if dom => return Ok(()),
                    WaitUntil::Load if load => return Ok(()),
                    WaitUntil::NetworkIdle if load && s.inflight.is_empty() => {
                        let quiet = s.last_activity.elapsed();
                        if quiet >= IDLE_QUIET {
                            return Ok(());
                        }
                        Some(IDLE_QUIET - quiet)
                    }
                    _ => None,
                }
            };
            match wait_for {
                Some(d) => {
                    let _ = tokio::time::timeout(d, rx.changed()).await;
                }
                None => {
                    if rx.changed().await.is_err() {
                        return Err(BrowserError::Cdp("the page's event stream ended".into()));
                    }
                }
            }
        }
    }

    fn inflight(&self) -> usize {
        self.state.borrow().inflight.len()
    }

    /// Waits for the navigation `loader` to reach `until`, following the client-side
    /// redirects the page makes meanwhile (a script's `location.replace` before load, a
    /// meta refresh), counted in `redirects`, up to [`MAX_CLIENT_REDIRECTS`]. Returns the
    /// loader of the document arrived at.
    async fn arrive(&self, mut loader: Option<String>, until: WaitUntil, redirects: &mut usize) -> Result<Option<String>, BrowserError> {
        loop {
            let redirect = self.redirected_from(loader.as_deref());
            tokio::select! {
                settled = self.settled(loader.clone(), until) => return settled.map(|()| loader),
                next = redirect => {
                    self.count_redirect(redirects).await?;
                    loader = Some(next);
                }
            }
        }
    }

    /// Counts one more client-side redirect; an error past [`MAX_CLIENT_REDIRECTS`].
    async fn count_redirect(&self, redirects: &mut usize) -> Result<(), BrowserError> {
        *redirects += 1;
        if *redirects <= MAX_CLIENT_REDIRECTS {
            return Ok(());
        }
        Err(BrowserError::Navigation {
            url: self.page.url().await.ok().flatten().unwrap_or_default(),
            reason: format!("the page redirected itself more than {MAX_CLIENT_REDIRECTS} times"),
        })
    }

    /// Waits until the main frame commits a document after `loader`'s: a client-side
    /// redirect. Pending for ever if none comes (or there is no loader to follow).
    async fn redirected_from(&self, loader: Option<&str>) -> String {
        let Some(loader) = loader else { return std::future::pending().await };
        let mut rx = self.state.clone();
        loop {
            {
                let s = rx.borrow_and_update();
                if let Some(at) = s.main_loaders.iter().position(|l| l == loader) {
                    if let Some(next) = s.main_loaders.get(at + 1..).and_then(|rest| rest.last()) {
                        return next.clone();
                    }
                }
            }
            if rx.changed().await.is_err() {
                return std::future::pending().await;
            }
        }
    }
}

async fn render_once(pool: &Pool, req: &RenderRequest, target: &Target, output: &Output, guard: FetchGuard) -> Result<Produced, BrowserError> {
    let started = Instant::now();
    let cfg = pool.config();
    let timeout = Duration::from_millis(req.timeout.unwrap_or(cfg.default_timeout_ms).clamp(1, cfg.max_timeout_ms));
    let lease = tokio::time::timeout(timeout, pool.acquire_page())
        .await
        .map_err(|_| BrowserError::Timeout { awaited: "a free browser context".into(), after: timeout })??;
    let dead = lease.browser_dead().clone();
    match render_on(lease, req, target, output, guard, started, timeout).await {
        // A command cut off by a dying connection shows up as a plain CDP error first; if the
        // browser is found dead just after, it was the browser, and a retry may succeed.
        Err(BrowserError::Cdp(reason)) => {
            if tokio::time::timeout(Duration::from_secs(1), dead.cancelled()).await.is_ok() {
                Err(BrowserError::BrowserCrashed { reason })
            } else {
                Err(BrowserError::Cdp(reason))
            }
        }
        other => other,
    }
}

async fn render_on(
    lease: Lease,
    req: &RenderRequest,
    target: &Target,
    output: &Output,
    guard: FetchGuard,
    started: Instant,
    timeout: Duration,
) -> Result<Produced, BrowserError> {
    let deadline = started + timeout;
    let mut session = tokio::time::timeout_at(deadline.into(), open(&lease, req, target, guard, deadline, timeout))
        .await
        .map_err(|_| BrowserError::Timeout { awaited: "the page to open".into(), after: timeout })??;
    let opened = started.elapsed();

    // Navigate and wait.
    let nav = session
        .step("the navigation to start", async {
            let r = session.page.execute(NavigateParams::new(target.navigate_url())).await?;
            Ok(r.result.clone())
        })
        .await?;
    if let Some(err) = nav.error_text.filter(|e| !e.is_empty()) {
        let url = match target {
            Target::Url(u) => u.to_string(),
            Target::Html(_) => "the given HTML".into(),
        };
        if let Some(f) = session.state.borrow().forbidden.clone() {
            return Err(BrowserError::Forbidden(f));
        }
        return Err(BrowserError::Navigation { url, reason: err });
    }
    let loader = nav.loader_id.map(|l| l.inner().clone());
    let awaited = match req.wait_until {
        WaitUntil::Load => "the load event".to_owned(),
        WaitUntil::DomContentLoaded => "DOMContentLoaded".to_owned(),
        WaitUntil::NetworkIdle => "networkidle".to_owned(),
    };
    let mut redirects = 0;
    let arrived = session.step(&awaited, session.arrive(loader, req.wait_until, &mut redirects)).await;
    let mut loader = match arrived {
        Err(BrowserError::Timeout { after, .. }) if req.wait_until == WaitUntil::NetworkIdle => {
            let n = session.inflight();
            return Err(BrowserError::Timeout { awaited: format!("networkidle ({n} requests still in flight)"), after });
        }
        r => r?,
    };
    let loaded = started.elapsed();
    if let Some(sel) = &req.wait_for_selector {
        session.step(&format!("selector {sel:?}"), session.selector_appears(sel)).await?;
    }
    for (index, action) in req.actions.iter().enumerate() {
        run_action(&session, index, action).await?;
    }

    // A page may send itself elsewhere once loaded (a meta refresh, `location = …`): a
    // screenshot or HTML taken then would hang or show the page being left. Such a redirect
    // is followed like the navigation, with the same wait, and the output taken again.
    let (html, bytes, content_type) = loop {
        let redirect = session.redirected_from(loader.as_deref());
        let next = tokio::select! {
            produced = produce(&session, output) => match produced {
                // A command that met the page being left fails; the redirect follows at once.
                Err(BrowserError::Cdp(reason)) => {
                    let redirect = session.redirected_from(loader.as_deref());
                    match tokio::time::timeout(Duration::from_secs(1), redirect).await {
                        Ok(next) => next,
                        Err(_) => return Err(BrowserError::Cdp(reason)),
                    }
                }
                produced => break produced?,
            },
            next = redirect => next,
        };
        session.count_redirect(&mut redirects).await?;
        let awaited = format!("{awaited} after a client-side redirect");
        loader = session.step(&awaited, session.arrive(Some(next), req.wait_until, &mut redirects)).await?;
    };
    let done = started.elapsed();
    // Each CDP event kind arrives on its own stream, so a request's end can be processed
    // after the page's load event: give requests still in flight a moment to record it.
    let settle = tokio::time::Instant::now() + Duration::from_millis(100);
    while !session.state.borrow().inflight.is_empty() {
        if !matches!(tokio::time::timeout_at(settle, session.state.changed()).await, Ok(Ok(()))) {
            break;
        }
    }
    let state = session.state.borrow().clone();
    let page_url = match target {
        Target::Url(u) => u.to_string(),
        Target::Html(_) => "about:html".to_owned(),
    };
    let final_url = match target {
        Target::Html(_) => page_url.clone(),
        Target::Url(_) => state.main_url.clone().unwrap_or_else(|| page_url.clone()),
    };
    drop(session);
    tracing::debug!(
        leased_ms = lease.waited().as_millis() as u64,
        opened_ms = opened.as_millis() as u64,
        loaded_ms = loaded.as_millis() as u64,
        produced_ms = done.as_millis() as u64,
        settled_ms = started.elapsed().as_millis() as u64,
        "render phases"
    );
    drop(lease);
    Ok(Produced {
        page: Rendered {
            url: page_url,
            final_url,
            status_code: state.main_status,
            html,
            network: state.log,
            elapsed_ms: started.elapsed().as_millis() as u64,
        },
        bytes,
        content_type,
    })
}

/// Client-side redirects a render follows before giving up on the page.
const MAX_CLIENT_REDIRECTS: usize = 5;

/// Takes the output from the page as it is: its HTML (only the content output needs it:
/// serialising a large DOM costs), and the screenshot or PDF.
async fn produce(session: &Session, output: &Output) -> Result<(String, Option<Vec<u8>>, &'static str), BrowserError> {
    let html: String = match output {
        Output::Content | Output::ContentAndScreenshot(_) => {
            session
                .step("the page's HTML", session.eval(
                    "(document.doctype ? new XMLSerializer().serializeToString(document.doctype) : '') + (document.documentElement ? document.documentElement.outerHTML : '')".into(),
                ))
                .await?
        }
        Output::Screenshot(_) | Output::Pdf(_) => String::new(),
    };
    let (bytes, content_type) = match output {
        Output::Content => (None, "text/html; charset=utf-8"),
        Output::Screenshot(s) | Output::ContentAndScreenshot(s) => {
            let image = session.step("the screenshot", take_screenshot(&session.page, s)).await?;
            (Some(image), s.format.content_type())
        }
        Output::Pdf(p) => (Some(session.step("the PDF", print_pdf(&session.page, p)).await?), "application/pdf"),
    };
    Ok((html, bytes, content_type))
}

/// Opens a page in the lease's context, configured per the request, with its event tasks.
async fn open(
    lease: &Lease,
    req: &RenderRequest,
    target: &Target,
    guard: FetchGuard,
    deadline: Instant,
    timeout: Duration,
) -> Result<Session, BrowserError> {
    let browser_dead = lease.browser_dead().clone();
    let vp = req.viewport.unwrap_or(DEFAULT_VIEWPORT);
    if vp.width == 0 || vp.height == 0 || vp.width > 10_000 || vp.height > 10_000 {
        return Err(BrowserError::InvalidRequest("viewport width and height must be between 1 and 10000".into()));
    }
    // Downloads refused, crashes reported, the default viewport: the lease's page has them.
    let page = lease.new_page().await?;
    let scale = vp.device_scale_factor.unwrap_or(1.0);
    if (vp.width, vp.height) != PAGE_VIEWPORT || scale != 1.0 {
        page.execute(SetDeviceMetricsOverrideParams::new(vp.width as i64, vp.height as i64, scale, false)).await?;
    }
    if let Some(ua) = &req.user_agent {
        page.execute(SetUserAgentOverrideParams::new(ua.clone())).await?;
    }
    if !req.headers.is_empty() {
        let headers = serde_json::to_value(&req.headers).unwrap_or_default();
        page.execute(SetExtraHttpHeadersParams::new(Headers::new(headers))).await?;
    }
    if !req.cookies.is_empty() {
        let mut cookies = Vec::new();
        for c in &req.cookies {
            let mut p = CookieParam::new(c.name.clone(), c.value.clone());
            p.url = c.url.clone().or_else(|| match (target, &c.domain) {
                (Target::Url(u), None) => Some(u.to_string()),
                _ => None,
            });
            p.domain = c.domain.clone();
            p.path = c.path.clone();
            p.secure = c.secure;
            p.http_only = c.http_only;
            if p.url.is_none() && p.domain.is_none() {
                return Err(BrowserError::InvalidRequest(format!("cookie {} needs a url or domain when rendering HTML", c.name)));
            }
            cookies.push(p);
        }
        page.execute(SetCookiesParams::new(cookies)).await?;
    }

    let initial = PageState {
        dom_loaders: HashSet::new(),
        load_loaders: HashSet::new(),
        inflight: HashSet::new(),
        last_activity: Instant::now(),
        main_status: None,
        main_url: None,
        forbidden: None,
        log: Vec::new(),
        log_index: std::collections::HashMap::new(),
        early_ends: std::collections::HashMap::new(),
        early_status: std::collections::HashMap::new(),
        main_loaders: Vec::new(),
    };
    let (tx, rx) = watch::channel(initial);
    let renderer_crashed = CancellationToken::new();
    let mut tasks = Vec::new();
    tasks.push(track_events(&page, tx.clone(), renderer_crashed.clone()).await?);
    tasks.push(dismiss_dialogs(&page).await?);
    let blocked = req.block_resources.clone();
    if !blocked.is_empty() || !guard.allows_everything() {
        tasks.push(intercept(&page, blocked, guard, tx).await?);
        page.execute(FetchEnable::builder().pattern(RequestPattern::builder().url_pattern("*").build()).build()).await?;
    }
    Ok(Session { page, deadline, timeout, browser_dead, renderer_crashed, state: rx, tasks })
}

/// Follows lifecycle and network events into the page state; fires `crashed` on a renderer crash.
async fn track_events(page: &Page, tx: watch::Sender<PageState>, crashed: CancellationToken) -> Result<JoinHandle<()>, BrowserError> {
    let mut lifecycle = page.event_listener::<EventLifecycleEvent>().await?;
    let mut sent = page.event_listener::<EventRequestWillBeSent>().await?;
    let mut finished = page.event_listener::<EventLoadingFinished>().await?;
    let mut failed = page.event_listener::<EventLoadingFailed>().await?;
    let mut responses = page.event_listener::<EventResponseReceived>().await?;
    let mut crashes = page.event_listener::<EventTargetCrashed>().await?;
    let mut navigated = page.event_listener::<EventFrameNavigated>().await?;
    Ok(tokio::spawn(async move {
        loop {
            tokio::select! {
                Some(e) = navigated.next() => if e.frame.parent_id.is_none() {
                    tx.send_modify(|s| s.main_loaders.push(e.frame.loader_id.inner().clone()));
                },
                Some(e) = lifecycle.next() => tx.send_modify(|s| match e.name.as_str() {
                    "DOMContentLoaded" => { s.dom_loaders.insert(e.loader_id.inner().clone()); }
                    "load" => { s.load_loaders.insert(e.loader_id.inner().clone()); }
                    _ => {}
                }),
                Some(e) = sent.next() => tx.send_modify(|s| {
                    let id = e.request_id.inner().clone();
                    let early_end = s.early_ends.remove(&id);
                    if early_end.is_none() && !s.log_index.contains_key(&id) {
                        s.inflight.insert(id.clone());
                    }
                    s.last_activity = Instant::now();
                    if s.log.len() < MAX_NETWORK_LOG && !s.log_index.contains_key(&id) {
                        let index = s.log.len();
                        let status = s.early_status.remove(&id);
                        s.log_index.insert(id, index);
                        s.log.push(NetworkEntry {
                            url: e.request.url.clone(),
                            method: e.request.method.clone(),
                            resource_type: e.r#type.as_ref().map(|t| format!("{t:?}")).unwrap_or_default(),
                            status,
                            failed: early_end.flatten(),
                        });
                    }
                }),
                Some(e) = finished.next() => tx.send_modify(|s| {
                    let id = e.request_id.inner();
                    if !s.inflight.remove(id) && !s.log_index.contains_key(id) {
                        s.early_ends.insert(id.clone(), None);
                    }
                    s.last_activity = Instant::now();
                }),
                Some(e) = failed.next() => tx.send_modify(|s| {
                    let id = e.request_id.inner();
                    let was_inflight = s.inflight.remove(id);
                    s.last_activity = Instant::now();
                    match s.log_index.get(id) {
                        Some(&i) => s.log[i].failed = Some(e.error_text.clone()),
                        None if !was_inflight => {
                            s.early_ends.insert(id.clone(), Some(e.error_text.clone()));
                        }
                        None => {}
                    }
                }),
                Some(e) = responses.next() => tx.send_modify(|s| {
                    let status = u16::try_from(e.response.status).ok();
                    if e.request_id.inner() == e.loader_id.inner() {
                        s.main_status = status;
                        s.main_url = Some(e.response.url.clone());
                    }
                    match (s.log_index.get(e.request_id.inner()), status) {
                        (Some(&i), _) => s.log[i].status = status,
                        (None, Some(code)) => {
                            s.early_status.insert(e.request_id.inner().clone(), code);
                        }
                        (None, None) => {}
                    }
                }),
                Some(_) = crashes.next() => crashed.cancel(),
                else => break,
            }
        }
    }))
}

/// Dismisses every JavaScript dialog (alert, confirm, prompt, beforeunload) so none blocks.
async fn dismiss_dialogs(page: &Page) -> Result<JoinHandle<()>, BrowserError> {
    let mut dialogs = page.event_listener::<EventJavascriptDialogOpening>().await?;
    let page = page.clone();
    Ok(tokio::spawn(async move {
        while let Some(d) = dialogs.next().await {
            tracing::debug!(message = %d.message, "dismissing a JavaScript dialog");
            let _ = page.execute(HandleJavaScriptDialogParams::new(false)).await;
        }
    }))
}

/// Answers paused requests: blocked resource types and guard-refused targets fail, the rest go on.
async fn intercept(
    page: &Page,
    blocked: Vec<ResourceKind>,
    guard: FetchGuard,
    tx: watch::Sender<PageState>,
) -> Result<JoinHandle<()>, BrowserError> {
    let mut paused = page.event_listener::<EventRequestPaused>().await?;
    let page = page.clone();
    Ok(tokio::spawn(async move {
        while let Some(e) = paused.next().await {
            let page = page.clone();
            let blocked = blocked.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                let id = e.request_id.clone();
                if blocked.iter().any(|b| b.matches(&e.resource_type)) {
                    let _ = page.execute(FailRequestParams::new(id, ErrorReason::BlockedByClient)).await;
                    return;
                }
                if !guard.allows_everything() {
                    if let Ok(url) = Url::parse(&e.request.url) {
                        if matches!(url.scheme(), "http" | "https" | "ws" | "wss") {
                            if let Err(f) = guard.check_resolved(&url).await {
                                if e.resource_type == ResourceType::Document {
                                    tx.send_modify(|s| s.forbidden = Some(f.clone()));
                                }
                                let _ = page.execute(FailRequestParams::new(id, ErrorReason::AccessDenied)).await;
                                return;
                            }
                        }
                    }
                }
                let _ = page.execute(ContinueRequestParams::new(id)).await;
            });
        }
    }))
}

async fn run_action(s: &Session, index: usize, action: &Action) -> Result<(), BrowserError> {
    let fail = |kind: &str, e: BrowserError| match e {
        BrowserError::Cdp(reason) => BrowserError::Action { index, kind: kind.to_owned(), reason },
        other => other,
    };
    match action {
        Action::Wait { milliseconds } => {
            s.step(&format!("action {index} (wait {milliseconds} ms)"), async {
                tokio::time::sleep(Duration::from_millis(*milliseconds)).await;
                Ok(())
            })
            .await
        }
        Action::Click { selector } => s
            .step(&format!("action {index} (click on {selector:?})"), async {
                s.selector_appears(selector).await?;
                s.page.find_element(selector.clone()).await?.click().await?;
                Ok(())
            })
            .await
            .map_err(|e| fail("click", e)),
        Action::Write { selector: Some(selector), text } => s
            .step(&format!("action {index} (write into {selector:?})"), async {
                s.selector_appears(selector).await?;
                s.page.find_element(selector.clone()).await?.click().await?.type_str(text).await?;
                Ok(())
            })
            .await
            .map_err(|e| fail("write", e)),
        Action::Write { selector: None, text } => s
            .step(&format!("action {index} (write into the focused element)"), async {
                s.page.execute(InsertTextParams::new(text.clone())).await?;
                Ok(())
            })
            .await
            .map_err(|e| fail("write", e)),
        Action::Press { key } => s
            .step(&format!("action {index} (press {key})"), async {
                s.page.find_element("body").await?.press_key(key).await?;
                Ok(())
            })
            .await
            .map_err(|e| fail("press", e)),
        Action::Scroll { direction } => {
            let sign = match direction {
                ScrollDirection::Down => "",
                ScrollDirection::Up => "-",
            };
            s.step(&format!("action {index} (scroll)"), async {
                let _: serde_json::Value = s.eval(format!("window.scrollBy(0, {sign}window.innerHeight); true")).await?;
                Ok(())
            })
            .await
            .map_err(|e| fail("scroll", e))
        }
        Action::WaitForSelector { selector } => s.step(&format!("action {index} (selector {selector:?})"), s.selector_appears(selector)).await,
    }
}

async fn take_screenshot(page: &Page, req: &ScreenshotRequest) -> Result<Vec<u8>, BrowserError> {
    let format = match req.format {
        ImageFormat::Png => CaptureScreenshotFormat::Png,
        ImageFormat::Jpeg => CaptureScreenshotFormat::Jpeg,
        ImageFormat::Webp => CaptureScreenshotFormat::Webp,
    };
    let mut params = CaptureScreenshotParams { format: Some(format), ..CaptureScreenshotParams::default() };
    if let (Some(q), ImageFormat::Jpeg | ImageFormat::Webp) = (req.quality, req.format) {
        params.quality = Some(i64::from(q.min(100)));
    }
    if let Some(c) = req.clip {
        if c.width <= 0.0 || c.height <= 0.0 {
            return Err(BrowserError::InvalidRequest("clip width and height must be positive".into()));
        }
        params.clip = Some(Clip { x: c.x, y: c.y, width: c.width, height: c.height, scale: 1.0 });
        params.capture_beyond_viewport = Some(true);
    } else if req.full_page {
        // Chromium cannot capture arbitrarily tall surfaces; past the cap the image is cut.
        let size = page.layout_metrics().await?.css_content_size;
        let width = size.width.max(1.0);
        let height = size.height.clamp(1.0, MAX_FULL_PAGE_HEIGHT);
        params.clip = Some(Clip { x: 0.0, y: 0.0, width, height, scale: 1.0 });
        params.capture_beyond_viewport = Some(true);
    }
    let data = page.execute(params).await?.result.data;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(AsRef::<str>::as_ref(&data))
        .map_err(|e| BrowserError::Cdp(format!("screenshot data is not base64: {e}")))?;
    match req.thumbnail_width {
        Some(w) => thumbnail(&bytes, w, req.format, req.quality),
        None => Ok(bytes),
    }
}

/// Scales an image down to `width` (never up), keeping the aspect and the format.
pub fn thumbnail(bytes: &[u8], width: u32, format: ImageFormat, quality: Option<u8>) -> Result<Vec<u8>, BrowserError> {
    if width == 0 {
        return Err(BrowserError::InvalidRequest("thumbnailWidth must be at least 1".into()));
    }
    let img = image::load_from_memory(bytes).map_err(|e| BrowserError::Image(e.to_string()))?;
    if img.width() <= width {
        return Ok(bytes.to_vec());
    }
    let height = ((u64::from(img.height()) * u64::from(width)) / u64::from(img.width())).max(1) as u32;
    let small = img.resize_exact(width, height, image::imageops::FilterType::Triangle);
    let mut out = Cursor::new(Vec::new());
    let encoded = match format {
        ImageFormat::Png => small.write_to(&mut out, image::ImageFormat::Png),
        ImageFormat::Webp => small.to_rgba8().write_to(&mut out, image::ImageFormat::WebP),
        ImageFormat::Jpeg => {
            let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality.unwrap_or(80).clamp(1, 100));
            small.to_rgb8().write_with_encoder(enc)
        }
    };
    encoded.map_err(|e| BrowserError::Image(e.to_string()))?;
    Ok(out.into_inner())
}

async fn print_pdf(page: &Page, req: &PdfRequest) -> Result<Vec<u8>, BrowserError> {
    if let Some(scale) = req.scale {
        if !(0.1..=2.0).contains(&scale) {
            return Err(BrowserError::InvalidRequest("scale must be between 0.1 and 2".into()));
        }
    }
    let params = PrintToPdfParams {
        landscape: Some(req.landscape),
        print_background: Some(req.print_background.unwrap_or(true)),
        scale: req.scale,
        paper_width: req.paper_width,
        paper_height: req.paper_height,
        ..PrintToPdfParams::default()
    };
    Ok(page.pdf(params).await?)
}
