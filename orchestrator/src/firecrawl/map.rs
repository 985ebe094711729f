//! `POST /v{1,2}/map`: a site's URLs, answered when the `map` job is done: strings in v1,
//! `{"url", "title", "description"}` objects in v2.

use std::time::Duration;

use axum::extract::State;
use serde_json::{json, Value};

use super::{body_object, job_error, take_url, wait_for, Version};
use crate::api::jobs::{cancel_silently, submit, Submission};
use crate::auth::Tenant;
use crate::error::{ApiError, ApiJson, Code};
use crate::model::{JobKind, JobStatus};
use crate::AppState;

/// How long a map may take when the request sets no `timeout`.
const DEFAULT_TIMEOUT_MS: u64 = 60_000;
/// Time beyond the map's own budget for queueing and writing the result.
const WAIT_SLACK: Duration = Duration::from_secs(5);

/// Map a site.
pub(super) async fn map(State(state): State<AppState>, version: Version, tenant: Tenant, ApiJson(body): ApiJson<Value>) -> Result<ApiJson<Value>, ApiError> {
    let mut options = body_object(body)?;
    let url = take_url(&mut options)?;
    let timeout_ms = match options.get("timeout") {
        None | Some(Value::Null) => DEFAULT_TIMEOUT_MS,
        Some(t) => t.as_u64().filter(|ms| (1..=300_000).contains(ms)).ok_or_else(|| ApiError::new(Code::InvalidRequest, "timeout must be milliseconds between 1 and 300000"))?,
    };
    options.insert("timeout".into(), json!(timeout_ms));
    let job = submit(&state, &tenant, Submission { kind: JobKind::Map, url, options: Some(Value::Object(options)), webhook: None, idempotency_key: None, max_attempts: Some(1) }).await?;
    let Some(done) = wait_for(&state, &job.id, Duration::from_millis(timeout_ms) + WAIT_SLACK).await? else {
        cancel_silently(&state, &tenant, &job.id).await;
        return Err(ApiError::new(Code::Timeout, format!("the map did not finish within its timeout of {timeout_ms} ms")));
    };
    if done.status != JobStatus::Succeeded {
        return Err(job_error(&done));
    }
    let record = state.store.results(&done.id, -1, 1).await?.into_iter().next().map(|(_, r)| r).unwrap_or(Value::Null);
    let links = record.get("links").and_then(Value::as_array).cloned().unwrap_or_default();
    let links: Vec<Value> = match version {
        Version::V1 => links.iter().filter_map(|l| l.get("url").cloned()).collect(),
        Version::V2 => links,
    };
    Ok(ApiJson(json!({ "success": true, "links": links })))
}
