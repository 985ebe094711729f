//! Browser endpoints on port 9001: `/v1/content`, `/v1/screenshot`, `/v1/pdf`, `/v1/pool` and
//! the `/chromium` CDP WebSocket. Thin: the work is in `ace-browser`.

use std::time::Duration;

use ace_browser::render::{self, RenderRequest};
use ace_browser::{BrowserError, PdfRequest, Pool, ScreenshotRequest};
use ace_crawlers::FetchGuard;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};

use crate::auth::{Caller, Tenant};
use crate::error::{ApiError, ApiJson, Code};
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

/// `POST /v1/content`: the rendered HTML (`text/html`), or with `Accept: application/json`
/// `{"success", "url", "finalUrl", "statusCode", "html", "network"}`.
pub async fn content(State(state): State<AppState>, _tenant: Tenant, headers: HeaderMap, ApiJson(req): ApiJson<RenderRequest>) -> Result<Response, ApiError> {
    let page = render::content(pool(&state)?, &req, guard(&state)).await.map_err(api_error)?;
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
pub async fn screenshot(State(state): State<AppState>, _tenant: Tenant, ApiJson(req): ApiJson<ScreenshotRequest>) -> Result<Response, ApiError> {
    let (bytes, content_type) = render::screenshot(pool(&state)?, &req, guard(&state)).await.map_err(api_error)?;
    Ok(([(header::CONTENT_TYPE, content_type)], bytes).into_response())
}

/// `POST /v1/pdf`: the PDF.
pub async fn pdf(State(state): State<AppState>, _tenant: Tenant, ApiJson(req): ApiJson<PdfRequest>) -> Result<Response, ApiError> {
    let bytes = render::pdf(pool(&state)?, &req, guard(&state)).await.map_err(api_error)?;
    Ok(([(header::CONTENT_TYPE, "application/pdf")], bytes).into_response())
}

/// `GET /v1/pool`: browsers, contexts in use, queue, pages served, restarts.
pub async fn pool_status(State(state): State<AppState>, _caller: Caller) -> Result<Response, ApiError> {
    Ok(axum::Json(pool(&state)?.status()).into_response())
}

/// `GET /chromium?token=KEY`: a CDP session in its own context on a pooled browser. An
/// unknown token is refused with 401 before the upgrade (by the [`Tenant`] extractor).
pub async fn chromium(State(state): State<AppState>, tenant: Tenant, ws: WebSocketUpgrade) -> Result<Response, ApiError> {
    let pool = pool(&state)?.clone();
    let limit = tenant.plan.limits.browser_sessions;
    Ok(ace_browser::cdp::upgrade(pool, tenant.id, limit, ws))
}
