//! Browser endpoints on port 9001: `/v1/content`, `/v1/screenshot`, `/v1/pdf`, `/v1/pool` and
//! the `/chromium` CDP WebSocket. Thin: the work is in `ace-browser`.

use std::time::{Duration, Instant};

use ace_finance::{Metric, UsageEvent};

use ace_browser::render::{self, RenderRequest};
use ace_browser::{BrowserError, PdfRequest, Pool, ScreenshotRequest};
use ace_crawlers::FetchGuard;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};

use crate::api::jobs::check_quota;
use crate::auth::{Caller, Tenant};
use crate::model::now_ms;
use crate::error::{ApiError, ApiJson, Code, ErrorBody};
use crate::AppState;

fn pool(state: &AppState) -> Result<&Pool, ApiError> {
    state.browser.as_ref().filter(|p| p.is_running()).ok_or_else(|| ApiError::new(Code::Unavailable, "the browser pool is not available"))
}

fn guard(state: &AppState) -> FetchGuard {
    if state.config.allow_private_networks {
        FetchGuard::allow_all()
    } else {
        FetchGuard::deny_private()
    }
}

/// One table from browser failures to API errors.
fn api_error(e: BrowserError) -> ApiError {
    let code = match &e {
        BrowserError::Saturated { .. } => Code::PoolSaturated,
        BrowserError::AcquireTimeout { .. } | BrowserError::Timeout { .. } => Code::Timeout,
        BrowserError::Forbidden(_) => Code::TargetForbidden,
        BrowserError::InvalidRequest(_) => Code::InvalidRequest,
        BrowserError::Navigation { .. } => Code::NavigationFailed,
        BrowserError::Action { .. } => Code::ActionFailed,
        BrowserError::BrowserCrashed { .. } | BrowserError::RendererCrashed { .. } | BrowserError::Cdp(_) | BrowserError::Image(_) => {
            Code::RenderFailed
        }
        BrowserError::Launch { .. } | BrowserError::ShutDown => return ApiError::internal(e),
    };
    let mut err = ApiError::new(code, e.to_string());
    if code == Code::PoolSaturated {
        err.retry_after = Some(Duration::from_secs(1));
    }
    err
}

/// Before a synchronous render: the tenant's quota has room. Returns when the render began.
async fn metered(state: &AppState, tenant: &Tenant) -> Result<Instant, ApiError> {
    check_quota(state, tenant).await?;
    Ok(Instant::now())
}

/// After a successful synchronous render: one page rendered and its browser seconds, billed
/// as a render job would be.
async fn meter(state: &AppState, tenant: &Tenant, started: Instant) -> Result<(), ApiError> {
    let usage = [
        UsageEvent { metric: Metric::PagesRendered, quantity: 1 },
        UsageEvent { metric: Metric::RenderSeconds, quantity: started.elapsed().as_secs().max(1) as i64 },
    ];
    state.store.record_usage(&tenant.id, &usage, now_ms()).await?;
    Ok(())
}

/// `POST /v1/content`: the rendered HTML (`text/html`), or with `Accept: application/json`
/// `{"success", "url", "finalUrl", "statusCode", "html", "network"}`.
#[utoipa::path(post, path = "/v1/content", tag = "browser",
    request_body(content = Object, description = "RenderRequest: {url | html, waitUntil (load, domcontentloaded, networkidle), waitForSelector, timeout (ms), viewport {width, height, deviceScaleFactor}, blockResources [image, font, media, stylesheet, script], headers, cookies [{name, value, url?, domain?, path?}], userAgent, actions [{type: wait|click|write|press|scroll|waitForSelector, ...}]}"),
    responses((status = 200, description = "The rendered HTML (text/html, with X-Final-Url and X-Status-Code), or with Accept: application/json {success, url, finalUrl, statusCode, html, network}"),
        (status = 400, description = "Bad input", body = ErrorBody),
        (status = 401, description = "No valid key", body = ErrorBody),
        (status = 402, description = "Monthly page quota used up", body = ErrorBody),
        (status = 403, description = "Target refused by the fetch guard", body = ErrorBody),
        (status = 408, description = "The render ran out of time; the message says what was awaited", body = ErrorBody),
        (status = 422, description = "An action could not be done", body = ErrorBody),
        (status = 429, description = "Over the rate limit, or the pool's queue is full (`pool_saturated`)", body = ErrorBody),
        (status = 502, description = "The page could not be loaded or rendered", body = ErrorBody),
        (status = 503, description = "No browser pool", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn content(State(state): State<AppState>, tenant: Tenant, headers: HeaderMap, ApiJson(req): ApiJson<RenderRequest>) -> Result<Response, ApiError> {
    let started = metered(&state, &tenant).await?;
    let page = render::content(pool(&state)?, &req, guard(&state)).await.map_err(api_error)?;
    meter(&state, &tenant, started).await?;
    let wants_json = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("application/json"));
    if wants_json {
        let mut body = serde_json::to_value(&page).map_err(ApiError::internal)?;
        body["success"] = true.into();
        return Ok(axum::Json(body).into_response());
    }
    let mut response = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page.html).into_response();
    if let Ok(v) = HeaderValue::from_str(&page.final_url) {
        response.headers_mut().insert("x-final-url", v);
    }
    if let Some(status) = page.status_code {
        response.headers_mut().insert("x-status-code", HeaderValue::from(status));
    }
    Ok(response)
}

/// `POST /v1/screenshot`: the image.
#[utoipa::path(post, path = "/v1/screenshot", tag = "browser",
    request_body(content = Object, description = "The render request plus format (png, jpeg, webp), quality, fullPage, clip {x, y, width, height}, thumbnailWidth"),
    responses((status = 200, description = "The image (image/png, image/jpeg or image/webp)"),
        (status = 400, description = "Bad input", body = ErrorBody),
        (status = 401, description = "No valid key", body = ErrorBody),
        (status = 402, description = "Monthly page quota used up", body = ErrorBody),
        (status = 403, description = "Target refused by the fetch guard", body = ErrorBody),
        (status = 408, description = "The render ran out of time; the message says what was awaited", body = ErrorBody),
        (status = 422, description = "An action could not be done", body = ErrorBody),
        (status = 429, description = "Over the rate limit, or the pool's queue is full (`pool_saturated`)", body = ErrorBody),
        (status = 502, description = "The page could not be loaded or rendered", body = ErrorBody),
        (status = 503, description = "No browser pool", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn screenshot(State(state): State<AppState>, tenant: Tenant, ApiJson(req): ApiJson<ScreenshotRequest>) -> Result<Response, ApiError> {
    let started = metered(&state, &tenant).await?;
    let (bytes, content_type) = render::screenshot(pool(&state)?, &req, guard(&state)).await.map_err(api_error)?;
    meter(&state, &tenant, started).await?;
    Ok(([(header::CONTENT_TYPE, content_type)], bytes).into_response())
}

/// `POST /v1/pdf`: the PDF.
#[utoipa::path(post, path = "/v1/pdf", tag = "browser",
    request_body(content = Object, description = "The render request plus landscape, printBackground, scale, paperWidth, paperHeight (inches)"),
    responses((status = 200, description = "The PDF (application/pdf)"),
        (status = 400, description = "Bad input", body = ErrorBody),
        (status = 401, description = "No valid key", body = ErrorBody),
        (status = 402, description = "Monthly page quota used up", body = ErrorBody),
        (status = 403, description = "Target refused by the fetch guard", body = ErrorBody),
        (status = 408, description = "The render ran out of time; the message says what was awaited", body = ErrorBody),
        (status = 422, description = "An action could not be done", body = ErrorBody),
        (status = 429, description = "Over the rate limit, or the pool's queue is full (`pool_saturated`)", body = ErrorBody),
        (status = 502, description = "The page could not be loaded or rendered", body = ErrorBody),
        (status = 503, description = "No browser pool", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn pdf(State(state): State<AppState>, tenant: Tenant, ApiJson(req): ApiJson<PdfRequest>) -> Result<Response, ApiError> {
    let started = metered(&state, &tenant).await?;
    let bytes = render::pdf(pool(&state)?, &req, guard(&state)).await.map_err(api_error)?;
    meter(&state, &tenant, started).await?;
    Ok(([(header::CONTENT_TYPE, "application/pdf")], bytes).into_response())
}

/// `GET /v1/pool`: browsers, contexts in use, queue, pages served, restarts.
#[utoipa::path(get, path = "/v1/pool", tag = "browser",
    responses((status = 200, description = "Browsers (pid, contexts in use, pages served, age, memory), queue, restarts"),
        (status = 401, description = "No valid key", body = ErrorBody), (status = 503, description = "No browser pool", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn pool_status(State(state): State<AppState>, _caller: Caller) -> Result<Response, ApiError> {
    Ok(axum::Json(pool(&state)?.status()).into_response())
}

/// `GET /chromium?token=KEY`: a CDP session in its own context on a pooled browser. An
/// unknown token is refused with 401 before the upgrade (by the [`Tenant`] extractor).
#[utoipa::path(get, path = "/chromium", tag = "browser",
    params(("token" = String, Query, description = "The tenant's API key (WebSocket clients cannot send headers)")),
    responses((status = 101, description = "A CDP WebSocket on a browser context of the tenant's own (puppeteer.connect, chromium.connectOverCDP)"),
        (status = 401, description = "No valid key", body = ErrorBody), (status = 429, description = "The tenant's session limit is reached", body = ErrorBody),
        (status = 503, description = "No browser pool", body = ErrorBody)))]
pub async fn chromium(State(state): State<AppState>, tenant: Tenant, ws: WebSocketUpgrade) -> Result<Response, ApiError> {
    let pool = pool(&state)?.clone();
    let limit = tenant.plan.limits.browser_sessions;
    Ok(ace_browser::cdp::upgrade(pool, tenant.id, limit, ws))
}
