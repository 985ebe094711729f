//! Port 9004: Firecrawl's v1 and v2 API, so the official SDKs work unmodified.
//!
//! Every endpoint translates a Firecrawl request into a job on the one queue and a job's
//! results back into Firecrawl's shapes (`../shared/design/compat.md` lists what the SDKs
//! send and need):
//!
//! - `POST /v{1,2}/scrape` queues a `scrape` job and waits for it: the answer is the page's
//!   document, or the job's error with its status (408 when it ran out of time).
//! - `POST /v{1,2}/crawl` queues a `crawl` job whose `scrapeOptions` make each page a
//!   document; `GET .../crawl/{id}` pages through them with `?skip=`, handing out an absolute
//!   `next` only while more exist; `DELETE` cancels; `.../errors` lists failed pages.
//! - `POST /v{1,2}/batch/scrape` queues a `scrape` job over a list of URLs, read back like a
//!   crawl.
//! - `POST /v{1,2}/map` runs a `map` job and answers its URLs (strings in v1, objects in v2).
//!
//! Tenancy, rate limits, quotas, retries, webhooks and usage are the queue's, as for any job;
//! a Firecrawl webhook gets Firecrawl's events ([`events`]).

mod crawl;
pub(crate) mod events;
mod map;
mod scrape;

use std::time::Duration;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use crate::error::{ApiError, Code};
use crate::store::JobRecord;
use crate::AppState;

/// The routes of port 9004.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/{version}/scrape", post(scrape::scrape))
        .route("/{version}/batch/scrape", post(scrape::batch))
        .route("/{version}/batch/scrape/{id}", get(crawl::status).delete(crawl::cancel))
        .route("/{version}/batch/scrape/{id}/errors", get(crawl::errors))
        .route("/{version}/crawl", post(crawl::start))
        .route("/{version}/crawl/{id}", get(crawl::status).delete(crawl::cancel))
        .route("/{version}/crawl/{id}/errors", get(crawl::errors))
        .route("/{version}/map", post(map::map))
        .with_state(state)
}

async fn index() -> Json<Value> {
    Json(json!({
        "service": "scraper",
        "compatible": "Firecrawl API v1 and v2",
        "endpoints": ["/v2/scrape", "/v2/crawl", "/v2/crawl/{id}", "/v2/batch/scrape", "/v2/batch/scrape/{id}", "/v2/map"],
    }))
}

/// Which of Firecrawl's API versions a request used (`/v1/...` or `/v2/...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Version {
    V1,
    V2,
}

impl Version {
    fn as_str(self) -> &'static str {
        match self {
            Version::V1 => "v1",
            Version::V2 => "v2",
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Version {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Version, ApiError> {
        let Path(params) = Path::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found("route"))?;
        match params.iter().find(|(k, _)| k == "version").map(|(_, v)| v.as_str()) {
            Some("v1") => Ok(Version::V1),
            Some("v2") => Ok(Version::V2),
            _ => Err(ApiError::new(Code::NotFound, "no such route: Firecrawl's API is served under /v1 and /v2")),
        }
    }
}

/// A Firecrawl request body: a JSON object with a `url` (or `urls`), whose other fields are
/// options; unknown fields are ignored.
pub(crate) fn body_object(body: Value) -> Result<Map<String, Value>, ApiError> {
    match body {
        Value::Object(mut map) => {
            // The SDKs' `origin` and `integration` say who called; they are not options.
            for k in ["origin", "integration"] {
                map.remove(k);
            }
            Ok(map)
        }
        _ => Err(ApiError::new(Code::InvalidRequest, "the body must be a JSON object")),
    }
}

/// The `url` field of a body, required.
pub(crate) fn take_url(map: &mut Map<String, Value>) -> Result<String, ApiError> {
    match map.remove("url") {
        Some(Value::String(url)) if !url.trim().is_empty() => Ok(url.trim().to_owned()),
        Some(_) => Err(ApiError::new(Code::InvalidUrl, "url must be a string")),
        None => Err(ApiError::new(Code::InvalidRequest, "url is required")),
    }
}

/// Firecrawl's `webhook`: a URL, or `{"url", "metadata", "events", "secret"}`. The job
/// remembers to post Firecrawl's events ([`events`]) with the caller's metadata, only those
/// named in `events` (`started`, `page`, `completed`, `failed`) when it is given. `secret`
/// (this service's addition) signs each delivery as a job webhook's secret does
/// (`X-Ace-Signature`).
pub(crate) fn take_webhook(map: &mut Map<String, Value>) -> Result<Option<crate::api::jobs::WebhookSpec>, ApiError> {
    let mut secret = None;
    let url = match map.remove("webhook") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(url)) => url,
        Some(Value::Object(o)) => {
            if let Some(meta) = o.get("metadata").filter(|m| m.is_object()) {
                map.insert("webhookMetadata".into(), meta.clone());
            }
            if let Some(events) = o.get("events").filter(|e| e.is_array()) {
                map.insert("webhookEvents".into(), events.clone());
            }
            secret = match o.get("secret") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => return Err(ApiError::new(Code::InvalidRequest, "webhook.secret must be a string")),
            };
            match o.get("url") {
                Some(Value::String(url)) => url.clone(),
                _ => return Err(ApiError::new(Code::InvalidRequest, "webhook.url must be a string")),
            }
        }
        Some(_) => return Err(ApiError::new(Code::InvalidRequest, "webhook must be a URL or an object with a url")),
    };
    map.insert("webhookShape".into(), Value::String("firecrawl".into()));
    Ok(Some(crate::api::jobs::WebhookSpec { url, secret }))
}

/// A Firecrawl document from a page result: the formats it holds and its metadata.
pub(crate) fn document(record: &Value) -> Value {
    let mut doc = Map::new();
    for key in ["markdown", "html", "rawHtml", "links", "images", "screenshot", "json", "warning"] {
        if let Some(v) = record.get(key).filter(|v| !v.is_null()) {
            doc.insert(key.to_owned(), v.clone());
        }
    }
    let metadata = match record.get("metadata") {
        Some(Value::Object(m)) => Value::Object(m.clone()),
        _ => json!({
            "sourceURL": record.get("url"),
            "url": record.get("finalUrl").or(record.get("url")),
            "statusCode": record.get("statusCode"),
            "title": record.get("title"),
        }),
    };
    doc.insert("metadata".into(), metadata);
    Value::Object(doc)
}

/// A failed job's error in the API's shape, with the status its code calls for.
pub(crate) fn job_error(job: &JobRecord) -> ApiError {
    let message = job.error.clone().unwrap_or_else(|| "the job failed".to_owned());
    let code = match job.error_code.as_deref().unwrap_or_default() {
        "invalid_url" => Code::InvalidUrl,
        "invalid_request" => Code::InvalidRequest,
        "target_forbidden" => Code::TargetForbidden,
        "timeout" => Code::Timeout,
        "dns_failure" | "network_error" | "too_many_redirects" | "too_large" | "navigation_failed" => Code::NavigationFailed,
        "browser_unavailable" | "unavailable" => Code::Unavailable,
        "pool_saturated" => Code::PoolSaturated,
        "render_failed" | "browser_crashed" | "renderer_crashed" => Code::RenderFailed,
        "action_failed" => Code::ActionFailed,
        _ => Code::Internal,
    };
    ApiError::new(code, message)
}

/// Waits until job `id` has finished, or `limit` has passed (`None`).
pub(crate) async fn wait_for(state: &AppState, id: &str, limit: Duration) -> Result<Option<JobRecord>, ApiError> {
    let deadline = tokio::time::Instant::now() + limit;
    let mut wakeups = state.events.subscribe();
    loop {
        if let Some(job) = state.store.get_job(None, id).await? {
            if job.status.is_terminal() {
                return Ok(Some(job));
            }
        } else {
            return Err(ApiError::not_found("job"));
        }
        // Wakeups come from this process's workers; a separate worker process is seen by
        // polling.
        let woken = async {
            loop {
                match wakeups.recv().await {
                    Ok(job) if job == id => return,
                    Ok(_) => continue,
                    Err(_) => return,
                }
            }
        };
        tokio::select! {
            _ = woken => {}
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            _ = tokio::time::sleep_until(deadline) => return Ok(None),
            _ = state.shutdown.cancelled() => return Err(ApiError::new(Code::Unavailable, "the service is shutting down")),
        }
    }
}

/// When a job's results stop being served, as Firecrawl states it (ISO 8601).
pub(crate) fn expires_at(job: &JobRecord) -> String {
    let at = chrono::DateTime::from_timestamp_millis(job.created_at + 24 * 3_600_000).unwrap_or_else(chrono::Utc::now);
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

