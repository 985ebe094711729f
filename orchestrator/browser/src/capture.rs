//! Recording a page for replication: every network response with its body, through CDP.
//!
//! [`record`] loads a page in a leased context, scrolls it to the bottom and back (lazy
//! images, infinite lists), waits for the network to go quiet, and returns each response
//! the browser received (redirect hops included, bodies read with `Network.getResponseBody`
//! once each request finished), the DOM after scripts ran, the visible text, and optionally
//! a screenshot. With `allow_only`, requests to any other origin are failed and listed: the
//! fidelity check uses that to load a copy with its origin blocked. [`PoolRecorder`] is the
//! replicator's [`PageRecorder`] seam over the pool.
//!
//! ```no_run
//! # async fn demo(pool: ace_browser::Pool) -> Result<(), ace_browser::BrowserError> {
//! use ace_replicator::record::RecordOptions;
//! let url = url::Url::parse("https://example.com/").unwrap();
//! let page = ace_browser::capture::record(&pool, &url, &RecordOptions::default(), ace_crawlers::FetchGuard::deny_private()).await?;
//! println!("{} responses", page.responses.len());
//! # Ok(()) }
//! ```

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ace_crawlers::FetchGuard;
use ace_replicator::record::{
    PageRecorder, RecordError, RecordOptions, RecordedPage, RecordedResponse,
};
use async_trait::async_trait;
use base64::Engine as _;
use chromiumoxide::cdp::browser_protocol::emulation::SetDeviceMetricsOverrideParams;
use chromiumoxide::cdp::browser_protocol::fetch::{
    ContinueRequestParams, EnableParams as FetchEnable, EventRequestPaused, FailRequestParams,
    RequestPattern,
};
use chromiumoxide::cdp::browser_protocol::network::{
    BlockedReason, ErrorReason, EventLoadingFailed, EventLoadingFinished, EventRequestWillBeSent,
    EventResponseReceived, GetResponseBodyParams, Headers,
};
use chromiumoxide::cdp::browser_protocol::page::{
    AddScriptToEvaluateOnNewDocumentParams, CaptureScreenshotFormat, CaptureScreenshotParams,
};
use chromiumoxide::Page;
use futures::StreamExt;
use tokio::task::JoinHandle;
use url::Url;

use crate::{BrowserError, Pool};

/// Quiet time after which the network counts as idle.
const IDLE: Duration = Duration::from_millis(500);
/// Scrolling stops after this many CSS pixels (endless pages).
const MAX_SCROLL: u32 = 40_000;

/// The replicator's browser seam over the pool.
#[derive(Debug, Clone)]
pub struct PoolRecorder {
    pool: Pool,
    guard: FetchGuard,
}

impl PoolRecorder {
    /// Records through `pool`, with every request checked against `guard`.
    pub fn new(pool: Pool, guard: FetchGuard) -> PoolRecorder {
        PoolRecorder { pool, guard }
    }
}

#[async_trait]
impl PageRecorder for PoolRecorder {
    async fn record(&self, url: &Url, opts: &RecordOptions) -> Result<RecordedPage, RecordError> {
        record(&self.pool, url, opts, self.guard).await.map_err(|e| RecordError {
            code: e.code().to_owned(),
            message: e.to_string(),
            retryable: e.is_retryable(),
        })
    }
}

/// A response's URL, status and headers, until its body is read.
type Meta = (String, u16, Vec<(String, String)>);
/// A body being read: the response's index and its bytes, if the browser kept them.
type BodyTask = JoinHandle<Option<(usize, Vec<u8>)>>;

#[derive(Default)]
struct State {
    urls: HashMap<String, String>,
    meta: HashMap<String, Meta>,
    inflight: HashSet<String>,
    /// Requests whose end arrived before their start or response (events of different kinds
    /// come on different streams, so their order between kinds is not kept).
    ended: HashSet<String>,
    responses: Vec<RecordedResponse>,
    requests: Vec<String>,
    failed: Vec<(String, String)>,
    blocked: Vec<String>,
    refused: Vec<String>,
    bodies: Vec<BodyTask>,
    last_activity: Option<Instant>,
}

/// Loads `url` and records it (see the module docs).
pub async fn record(
    pool: &Pool,
    url: &Url,
    opts: &RecordOptions,
    guard: FetchGuard,
) -> Result<RecordedPage, BrowserError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(BrowserError::InvalidRequest(format!(
            "url must be http or https, not {}",
            url.scheme()
        )));
    }
    guard.check_resolved(url).await?;
    let lease = pool.acquire_page().await?;
    let page = lease.new_page().await?;
    let dead = lease.browser_dead().clone();
    let work = record_on(&page, url, opts, guard);
    let result = tokio::select! {
        r = tokio::time::timeout(opts.timeout, work) => match r {
            Ok(r) => r,
            Err(_) => Err(BrowserError::Timeout { awaited: "the page to settle".into(), after: opts.timeout }),
        },
        _ = dead.cancelled() => Err(BrowserError::BrowserCrashed { reason: "the browser died while recording".into() }),
    };
    let _ = page.close().await;
    drop(lease);
    result
}

async fn record_on(
    page: &Page,
    url: &Url,
    opts: &RecordOptions,
    guard: FetchGuard,
) -> Result<RecordedPage, BrowserError> {
    let (w, h) = (opts.viewport.0.max(1), opts.viewport.1.max(1));
    if (w, h) != crate::pool::PAGE_VIEWPORT {
        page.execute(SetDeviceMetricsOverrideParams::new(i64::from(w), i64::from(h), 1.0, false))
            .await?;
    }
    let state = Arc::new(Mutex::new(State::default()));
    let mut tasks = vec![track(page, state.clone()).await?];
    if opts.allow_only.is_some() || !guard.allows_everything() {
        tasks.push(intercept(page, opts.allow_only.clone(), guard, state.clone()).await?);
        page.execute(
            FetchEnable::builder()
                .pattern(RequestPattern::builder().url_pattern("*").build())
                .build(),
        )
        .await?;
    }
    // A request the page's own Content-Security-Policy refuses may never become a network
    // event (a refused fetch() does not); the page's violation events name them all.
    page.execute(AddScriptToEvaluateOnNewDocumentParams::new(
        "addEventListener('securitypolicyviolation', e => { (window.__aceWebRefused = window.__aceWebRefused || []).push(e.blockedURI); }, true);",
    ))
    .await?;
    let outcome = async {
        page.goto(url.as_str()).await?;
        wait_until_complete(page).await?;
        if opts.scroll {
            let script = format!(
                "(async () => {{ const step = Math.max(200, innerHeight); for (let y = 0; y < document.documentElement.scrollHeight && y < {MAX_SCROLL}; y += step) {{ scrollTo(0, y); await new Promise(r => setTimeout(r, 120)); }} scrollTo(0, 0); await new Promise(r => setTimeout(r, 120)); return true; }})()"
            );
            page.evaluate(script).await?;
        }
        wait_idle(&state).await;
        let dom: String = eval(page, "(document.doctype ? new XMLSerializer().serializeToString(document.doctype) : '') + (document.documentElement ? document.documentElement.outerHTML : '')").await?;
        let text: String = eval(page, "document.body ? document.body.innerText : ''").await?;
        let refused: Vec<String> = eval(page, "(window.__aceWebRefused || []).filter(u => /^https?:/.test(u))").await?;
        state.lock().expect("state").refused.extend(refused);
        let screenshot = if opts.screenshot {
            let params = CaptureScreenshotParams { format: Some(CaptureScreenshotFormat::Png), ..CaptureScreenshotParams::default() };
            let data = page.execute(params).await?.result.data;
            Some(
                base64::engine::general_purpose::STANDARD
                    .decode(AsRef::<str>::as_ref(&data))
                    .map_err(|e| BrowserError::Cdp(format!("screenshot data is not base64: {e}")))?,
            )
        } else {
            None
        };
        let final_url = page.url().await?.unwrap_or_else(|| url.to_string());
        Ok::<_, BrowserError>((dom, text, screenshot, final_url))
    }
    .await;
    let bodies = std::mem::take(&mut state.lock().expect("state").bodies);
    let mut filled = Vec::new();
    for task in bodies {
        if let Ok(Some(b)) = task.await {
            filled.push(b);
        }
    }
    for t in &tasks {
        t.abort();
    }
    let (dom, text, screenshot, final_url) = outcome?;
    let mut s = state.lock().expect("state");
    for (i, body) in filled {
        if let Some(r) = s.responses.get_mut(i) {
            r.body = Some(body);
        }
    }
    Ok(RecordedPage {
        final_url,
        dom,
        text,
        responses: std::mem::take(&mut s.responses),
        requests: std::mem::take(&mut s.requests),
        blocked: std::mem::take(&mut s.blocked),
        failed: std::mem::take(&mut s.failed),
        refused: {
            let mut r = std::mem::take(&mut s.refused);
            r.sort();
            r.dedup();
            r
        },
        screenshot,
    })
}

async fn eval<T: serde::de::DeserializeOwned>(page: &Page, expr: &str) -> Result<T, BrowserError> {
    let r = page.evaluate(expr.to_owned()).await?;
    r.into_value::<T>().map_err(|e| BrowserError::Cdp(format!("unexpected script result: {e}")))
}

async fn wait_until_complete(page: &Page) -> Result<(), BrowserError> {
    loop {
        let state: String = eval(page, "document.readyState").await.unwrap_or_default();
        if state == "complete" {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn wait_idle(state: &Mutex<State>) {
    loop {
        let quiet = {
            let s = state.lock().expect("state");
            s.inflight.is_empty() && s.last_activity.is_none_or(|t| t.elapsed() >= IDLE)
        };
        if quiet {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn header_list(headers: &Headers) -> Vec<(String, String)> {
    match headers.inner() {
        serde_json::Value::Object(map) => map
            .iter()
            .flat_map(|(k, v)| {
                // Chromium joins repeated headers with newlines.
                let value = v.as_str().unwrap_or_default().to_owned();
                value
                    .split('\n')
                    .map(|part| (k.to_ascii_lowercase(), part.to_owned()))
                    .collect::<Vec<_>>()
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Follows network events into `state`; fetches each finished response's body.
async fn track(page: &Page, state: Arc<Mutex<State>>) -> Result<JoinHandle<()>, BrowserError> {
    let mut sent = page.event_listener::<EventRequestWillBeSent>().await?;
    let mut responses = page.event_listener::<EventResponseReceived>().await?;
    let mut finished = page.event_listener::<EventLoadingFinished>().await?;
    let mut failed = page.event_listener::<EventLoadingFailed>().await?;
    let page = page.clone();
    Ok(tokio::spawn(async move {
        loop {
            tokio::select! {
                Some(e) = sent.next() => {
                    let mut s = state.lock().expect("state");
                    let id = e.request_id.inner().clone();
                    s.last_activity = Some(Instant::now());
                    if let Some(r) = &e.redirect_response {
                        s.responses.push(RecordedResponse {
                            url: r.url.clone(),
                            status: u16::try_from(r.status).unwrap_or(0),
                            headers: header_list(&r.headers),
                            body: Some(Vec::new()),
                        });
                    }
                    if !e.request.url.starts_with("data:") {
                        if !s.ended.contains(&id) {
                            s.inflight.insert(id.clone());
                        }
                        s.requests.push(e.request.url.clone());
                        s.urls.insert(id, e.request.url.clone());
                    }
                }
                Some(e) = responses.next() => {
                    let mut s = state.lock().expect("state");
                    let r = &e.response;
                    if !r.url.starts_with("data:") {
                        let id = e.request_id.inner().clone();
                        s.meta.insert(id.clone(), (r.url.clone(), u16::try_from(r.status).unwrap_or(0), header_list(&r.headers)));
                        if s.ended.contains(&id) {
                            fetch_body(&mut s, &page, &e.request_id);
                        }
                    }
                }
                Some(e) = finished.next() => {
                    let mut s = state.lock().expect("state");
                    let id = e.request_id.inner().clone();
                    s.inflight.remove(&id);
                    s.ended.insert(id);
                    s.last_activity = Some(Instant::now());
                    fetch_body(&mut s, &page, &e.request_id);
                }
                Some(e) = failed.next() => {
                    let mut s = state.lock().expect("state");
                    let id = e.request_id.inner().clone();
                    s.inflight.remove(&id);
                    s.ended.insert(id.clone());
                    s.last_activity = Some(Instant::now());
                    s.meta.remove(&id);
                    if let Some(url) = s.urls.get(&id).cloned() {
                        if e.blocked_reason == Some(BlockedReason::Csp) {
                            s.refused.push(url);
                        } else {
                            s.failed.push((url, e.error_text.clone()));
                        }
                    }
                }
                else => break,
            }
        }
    }))
}

/// Records a finished response and fetches its body, once its metadata has arrived.
fn fetch_body(
    s: &mut State,
    page: &Page,
    request_id: &chromiumoxide::cdp::browser_protocol::network::RequestId,
) {
    let Some((url, status, headers)) = s.meta.remove(request_id.inner()) else { return };
    let index = s.responses.len();
    // A body shorter than its Content-Length (bytes on the wire, when not encoded) was not
    // kept whole by the browser: it is left out rather than stored cut.
    let encoded = headers.iter().any(|(n, _)| n == "content-encoding");
    let expected = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .filter(|_| !encoded);
    s.responses.push(RecordedResponse { url, status, headers, body: None });
    let page = page.clone();
    let request_id = request_id.clone();
    s.bodies.push(tokio::spawn(async move {
        let r = page.execute(GetResponseBodyParams::new(request_id)).await.ok()?;
        let body = if r.result.base64_encoded {
            base64::engine::general_purpose::STANDARD.decode(r.result.body.as_bytes()).ok()?
        } else {
            r.result.body.clone().into_bytes()
        };
        if expected.is_some_and(|n| body.len() < n) {
            return None;
        }
        Some((index, body))
    }));
}

/// Fails requests outside `allow_only` (recorded as blocked) or refused by the guard.
async fn intercept(
    page: &Page,
    allow_only: Option<Vec<String>>,
    guard: FetchGuard,
    state: Arc<Mutex<State>>,
) -> Result<JoinHandle<()>, BrowserError> {
    let mut paused = page.event_listener::<EventRequestPaused>().await?;
    let page = page.clone();
    Ok(tokio::spawn(async move {
        while let Some(e) = paused.next().await {
            let page = page.clone();
            let allow_only = allow_only.clone();
            let state = state.clone();
            tokio::spawn(async move {
                let id = e.request_id.clone();
                let url = e.request.url.clone();
                let local = url.starts_with("data:") || url.starts_with("blob:");
                if let Some(allowed) = &allow_only {
                    if !local && !allowed.iter().any(|o| url.starts_with(o.as_str())) {
                        state.lock().expect("state").blocked.push(url);
                        let _ = page
                            .execute(FailRequestParams::new(id, ErrorReason::BlockedByClient))
                            .await;
                        return;
                    }
                }
                if !guard.allows_everything() && !local {
                    let refused = match Url::parse(&url) {
                        Ok(u) => guard.check_resolved(&u).await.is_err(),
                        Err(_) => true,
                    };
                    if refused {
                        let _ = page
                            .execute(FailRequestParams::new(id, ErrorReason::AccessDenied))
                            .await;
                        return;
                    }
                }
                let _ = page.execute(ContinueRequestParams::new(id)).await;
            });
        }
    }))
}
