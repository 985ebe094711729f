//! `POST /v{1,2}/scrape` (waits for the page) and `POST /v{1,2}/batch/scrape` (a job).

use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::{json, Value};

use super::{body_object, document, job_error, take_url, take_webhook, wait_for, Version};
use crate::api::jobs::{cancel_silently, submit, Submission};
use crate::auth::Tenant;
use crate::error::{ApiError, ApiJson, Code};
use crate::model::{JobKind, JobStatus};
use crate::AppState;

/// How long a scrape may take when the request sets no `timeout` (Firecrawl's default).
const DEFAULT_TIMEOUT_MS: u64 = 60_000;
/// Time beyond the scrape's own timeout for queueing and writing the result.
const WAIT_SLACK: Duration = Duration::from_secs(5);
/// A scrape is tried at most twice (a crashed browser, a dropped connection); the caller is
/// waiting, and can retry itself.
const SCRAPE_ATTEMPTS: u32 = 2;

/// Scrape one page and answer its document.
pub(super) async fn scrape(State(state): State<AppState>, _v: Version, tenant: Tenant, ApiJson(body): ApiJson<Value>) -> Result<ApiJson<Value>, ApiError> {
    let mut options = body_object(body)?;
    let url = take_url(&mut options)?;
    let timeout_ms = match options.get("timeout") {
        None | Some(Value::Null) => DEFAULT_TIMEOUT_MS,
        Some(t) => t.as_u64().filter(|ms| (1..=300_000).contains(ms)).ok_or_else(|| ApiError::new(Code::InvalidRequest, "timeout must be milliseconds between 1 and 300000"))?,
    };
    options.insert("timeout".into(), json!(timeout_ms));
    options.entry("formats").or_insert_with(|| json!(["markdown"]));
    let job = submit(
        &state,
        &tenant,
        Submission { kind: JobKind::Scrape, url, options: Some(Value::Object(options)), webhook: None, idempotency_key: None, max_attempts: Some(SCRAPE_ATTEMPTS) },
    )
    .await?;
    let Some(done) = wait_for(&state, &job.id, Duration::from_millis(timeout_ms) + WAIT_SLACK).await? else {
        cancel_silently(&state, &tenant, &job.id).await;
        return Err(ApiError::new(Code::Timeout, format!("the scrape did not finish within its timeout of {timeout_ms} ms")));
    };
    match done.status {
        JobStatus::Succeeded => {
            let record = state.store.results(&done.id, -1, 1).await?.into_iter().next().map(|(_, r)| r).unwrap_or(Value::Null);
            Ok(ApiJson(json!({ "success": true, "data": document(&record) })))
        }
        JobStatus::Cancelled => Err(ApiError::new(Code::JobFinished, "the scrape was cancelled")),
        _ => Err(job_error(&done)),
    }
}

/// Start scraping a list of URLs; read back with `GET .../batch/scrape/{id}`.
pub(super) async fn batch(
    State(state): State<AppState>,
    version: Version,
    tenant: Tenant,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> Result<ApiJson<Value>, ApiError> {
    let mut options = body_object(body)?;
    let urls = match options.remove("urls") {
        Some(Value::Array(urls)) if !urls.is_empty() => urls,
        _ => return Err(ApiError::new(Code::InvalidRequest, "urls must be a non-empty list of URLs")),
    };
    // Firecrawl skips URLs it cannot use and lists them, unless asked to refuse them.
    let refuse_invalid = options.get("ignoreInvalidURLs").and_then(Value::as_bool) == Some(false);
    let (mut valid, mut invalid) = (Vec::new(), Vec::new());
    for u in urls {
        match u.as_str().map(str::trim) {
            Some(s) if url::Url::parse(s).is_ok_and(|p| matches!(p.scheme(), "http" | "https")) => valid.push(Value::String(s.to_owned())),
            _ => invalid.push(u),
        }
    }
    if valid.is_empty() || (refuse_invalid && !invalid.is_empty()) {
        return Err(ApiError::new(Code::InvalidUrl, format!("urls holds {} invalid URL(s): {}", invalid.len(), Value::Array(invalid.clone()))));
    }
    let webhook = take_webhook(&mut options)?;
    let first = valid[0].as_str().unwrap_or_default().to_owned();
    if version == Version::V1 {
        // v1 nests nothing: its scrape options sit beside `urls`, as in v2.
        options.remove("scrapeOptions");
    }
    options.entry("formats").or_insert_with(|| json!(["markdown"]));
    options.insert("urls".into(), Value::Array(valid));
    let idempotency_key = headers.get("x-idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let job = submit(&state, &tenant, Submission { kind: JobKind::Scrape, url: first, options: Some(Value::Object(options)), webhook, idempotency_key, max_attempts: None }).await?;
    let url = super::crawl::status_url(&headers, version, "batch/scrape", &job.id, None);
    Ok(ApiJson(json!({ "success": true, "id": job.id, "url": url, "invalidURLs": invalid })))
}
