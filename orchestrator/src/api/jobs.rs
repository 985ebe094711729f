//! `/v1/jobs`: create, read, list, cancel, stream events, export results, download artifacts.

use std::convert::Infallible;
use std::time::Duration;

use ace_finance::BillingPeriod;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Tenant;
use crate::error::{ApiError, ApiJson, Code, ErrorBody};
use crate::model::{job_document, now_ms, JobDocument, JobKind, JobStatus};
use crate::store::{CancelOutcome, CreateOutcome, JobFilter, JobRecord, NewJob};
use crate::AppState;

/// `POST /v1/jobs` body. Unknown fields are ignored.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateJob {
    /// scrape, crawl, map, replicate, extract, screenshot or pdf.
    pub kind: String,
    /// The target, http or https.
    pub url: String,
    /// Kind-specific options. scrape: `formats`, `onlyMainContent`, `includeTags`,
    /// `excludeTags`, `waitFor`, `timeout` (ms), `headers`, `actions`, `mobile`, `render`, or
    /// `urls` for a batch. crawl: `limit`, `maxDepth`, `includePaths`, `excludePaths` (regexes
    /// on the path), `allowExternalLinks`, `allowSubdomains`, `crawlEntireDomain`,
    /// `ignoreRobotsTxt`, `sitemap` (include, skip, only), `delay` (seconds), `maxConcurrency`,
    /// `timeout`, `headers`, `scrapeOptions` (each page's record becomes a document in its
    /// formats) and `render`: `auto` (the default) loads a page over HTTP and renders it in the
    /// browser pool when it is an app shell whose content needs JavaScript, `always` renders
    /// every HTML page, `never` only fetches over HTTP; links are then followed from the
    /// rendered page, and each record says whether it was `rendered`. A crawl's `render` may
    /// also sit in its `scrapeOptions` (Firecrawl's shape). Without the browser pool, `auto`
    /// fetches over HTTP and `always` is refused.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub options: Option<Value>,
    /// Where to POST the job document when it finishes.
    #[serde(default)]
    pub webhook: Option<WebhookSpec>,
    /// Submitting the same key again returns the first job instead of a new one.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// A webhook target.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookSpec {
    /// http(s) URL.
    pub url: String,
    /// HMAC-SHA256 key for `X-Ace-Signature`.
    #[serde(default)]
    pub secret: Option<String>,
}

/// A page of jobs.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobList {
    /// Newest first.
    pub jobs: Vec<JobDocument>,
    /// Pass as `cursor` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// `GET /v1/jobs` query.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    /// Only this status.
    pub status: Option<String>,
    /// Only this kind.
    pub kind: Option<String>,
    /// Page size, 1 to 100 (default 20).
    pub limit: Option<i64>,
    /// From a previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// `GET /v1/jobs/{id}/results` query.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ResultsQuery {
    /// `jsonl` (default) or `csv`.
    pub format: Option<String>,
}

const MAX_URL_LEN: usize = 8 * 1024;

/// Submit a job.
#[utoipa::path(post, path = "/v1/jobs", tag = "jobs", request_body = CreateJob,
    responses(
        (status = 202, description = "Queued (or the job an idempotency key already names)", body = JobDocument),
        (status = 400, description = "Bad input", body = ErrorBody),
        (status = 401, description = "No valid key", body = ErrorBody),
        (status = 402, description = "Monthly page quota used up", body = ErrorBody),
        (status = 403, description = "Target refused by the fetch guard", body = ErrorBody),
        (status = 409, description = "Idempotency key reused with a different request", body = ErrorBody),
        (status = 429, description = "Over the rate limit", body = ErrorBody),
        (status = 501, description = "Kind not built yet", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    tenant: Tenant,
    headers: HeaderMap,
    ApiJson(req): ApiJson<CreateJob>,
) -> Result<(StatusCode, ApiJson<JobDocument>), ApiError> {
    let kind = JobKind::parse(&req.kind).ok_or_else(|| {
        let known: Vec<_> = JobKind::ALL.iter().map(|k| k.as_str()).collect();
        ApiError::new(Code::InvalidKind, format!("unknown job kind {:?}; expected one of {}", req.kind, known.join(", ")))
    })?;
    let idempotency_key = req
        .idempotency_key
        .or_else(|| headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned));
    let submission = Submission { kind, url: req.url, options: req.options, webhook: req.webhook, idempotency_key, max_attempts: None };
    let record = submit(&state, &tenant, submission).await?;
    Ok((StatusCode::ACCEPTED, ApiJson(job_document(&record, Some(&[])))))
}

/// A job to queue, from `POST /v1/jobs` or a Firecrawl-shaped endpoint.
#[derive(Debug)]
pub(crate) struct Submission {
    /// What to do.
    pub kind: JobKind,
    /// The target as given.
    pub url: String,
    /// Kind-specific options.
    pub options: Option<Value>,
    /// Where to post the outcome.
    pub webhook: Option<WebhookSpec>,
    /// Dedupe key.
    pub idempotency_key: Option<String>,
    /// Attempts before failing, over the configured default.
    pub max_attempts: Option<u32>,
}

/// Validates and queues a job for `tenant`: the kind's engine exists and accepts the
/// options, the URLs pass the fetch guard, the quota has room, the idempotency key fits.
pub(crate) async fn submit(state: &AppState, tenant: &Tenant, req: Submission) -> Result<JobRecord, ApiError> {
    let kind = req.kind;
    let Some(engine) = state.engines.get(kind) else {
        return Err(ApiError::new(Code::NotImplemented, format!("job kind {:?} is not implemented yet", kind.as_str())));
    };
    let url = checked_url(state, "url", &req.url).await?;
    let options = match req.options {
        None | Some(Value::Null) => json!({}),
        Some(v @ Value::Object(_)) => v,
        Some(_) => return Err(ApiError::new(Code::InvalidRequest, "options must be a JSON object")),
    };
    engine.validate(&options).map_err(|message| ApiError::new(Code::InvalidRequest, message))?;
    if let Some(hook) = &req.webhook {
        checked_url(state, "webhook.url", &hook.url).await?;
    }
    let idempotency_key = req.idempotency_key;
    if idempotency_key.as_ref().is_some_and(|k| k.is_empty() || k.len() > 255) {
        return Err(ApiError::new(Code::InvalidRequest, "idempotency_key must be 1 to 255 characters"));
    }
    check_quota(state, tenant).await?;
    let canonical = json!({ "kind": kind.as_str(), "url": url.as_str(), "options": options, "webhook": req.webhook });
    let job = NewJob {
        id: format!("job_{}", uuid::Uuid::now_v7().simple()),
        tenant_id: tenant.id.clone(),
        kind: kind.as_str().to_owned(),
        url: url.to_string(),
        options,
        webhook_url: req.webhook.as_ref().map(|w| w.url.clone()),
        webhook_secret: req.webhook.as_ref().and_then(|w| w.secret.clone()),
        idempotency_key,
        request_hash: hex::encode(Sha256::digest(canonical.to_string().as_bytes())),
        max_attempts: req.max_attempts.unwrap_or(state.config.max_attempts),
    };
    let record = match state.store.create_job(&job, now_ms()).await? {
        CreateOutcome::Created(record) => {
            state.wake.notify_one();
            record
        }
        CreateOutcome::Existing(record) => record,
        CreateOutcome::Conflict => {
            return Err(ApiError::new(Code::IdempotencyConflict, "this idempotency key was already used for a different request"))
        }
    };
    Ok(record)
}

/// 402 once the tenant's pages this month (fetched and rendered) reach its plan's quota.
pub(crate) async fn check_quota(state: &AppState, tenant: &Tenant) -> Result<(), ApiError> {
    let period = BillingPeriod::containing(chrono::Utc::now());
    let used = state.store.pages_in_period(&tenant.id, period.start.timestamp_millis()).await?;
    if used >= tenant.plan.limits.pages_per_month as i64 {
        return Err(ApiError::new(
            Code::QuotaExceeded,
            format!("the monthly quota of {} pages on plan {:?} is used up", tenant.plan.limits.pages_per_month, tenant.plan.name),
        ));
    }
    Ok(())
}

pub(crate) async fn checked_url(state: &AppState, field: &str, raw: &str) -> Result<url::Url, ApiError> {
    if raw.len() > MAX_URL_LEN {
        return Err(ApiError::new(Code::InvalidUrl, format!("{field} is longer than {MAX_URL_LEN} characters")));
    }
    let url = url::Url::parse(raw).map_err(|e| ApiError::new(Code::InvalidUrl, format!("{field} is not a valid URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ApiError::new(Code::InvalidUrl, format!("{field} must be an http or https URL")));
    }
    state.http.guard().check_resolved(&url).await.map_err(|e| ApiError::new(Code::TargetForbidden, e.to_string()))?;
    Ok(url)
}

async fn owned_job(state: &AppState, tenant: &Tenant, id: &str) -> Result<JobRecord, ApiError> {
    state.store.get_job(Some(&tenant.id), id).await?.ok_or_else(|| ApiError::not_found("job"))
}

/// Read a job.
#[utoipa::path(get, path = "/v1/jobs/{id}", tag = "jobs", params(("id" = String, Path, description = "Job id")),
    responses((status = 200, body = JobDocument), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get(State(state): State<AppState>, tenant: Tenant, Path(id): Path<String>) -> Result<ApiJson<JobDocument>, ApiError> {
    let job = owned_job(&state, &tenant, &id).await?;
    let artifacts = state.store.artifacts(&job.id).await?;
    Ok(ApiJson(job_document(&job, Some(&artifacts))))
}

/// List the tenant's jobs, newest first.
#[utoipa::path(get, path = "/v1/jobs", tag = "jobs", params(ListQuery),
    responses((status = 200, body = JobList), (status = 400, body = ErrorBody)), security(("bearer" = [])))]
pub async fn list(State(state): State<AppState>, tenant: Tenant, Query(q): Query<ListQuery>) -> Result<ApiJson<JobList>, ApiError> {
    let limit = q.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::new(Code::InvalidRequest, "limit must be between 1 and 100"));
    }
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(JobStatus::parse(s).ok_or_else(|| ApiError::new(Code::InvalidRequest, format!("unknown status {s:?}")))?),
    };
    let before_seq = match q.cursor.as_deref() {
        None | Some("") => None,
        Some(c) => Some(c.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| ApiError::new(Code::InvalidCursor, "cursor was not handed out by this API"))?),
    };
    let filter = JobFilter { status, kind: q.kind.filter(|k| !k.is_empty()), before_seq, limit: limit + 1 };
    let mut jobs = state.store.list_jobs(&tenant.id, &filter).await?;
    let next_cursor = if jobs.len() as i64 > limit {
        jobs.truncate(limit as usize);
        jobs.last().map(|j| j.seq.to_string())
    } else {
        None
    };
    Ok(ApiJson(JobList { jobs: jobs.iter().map(|j| job_document(j, None)).collect(), next_cursor }))
}

/// Cancel a queued or running job.
#[utoipa::path(delete, path = "/v1/jobs/{id}", tag = "jobs", params(("id" = String, Path, description = "Job id")),
    responses((status = 200, body = JobDocument), (status = 404, body = ErrorBody), (status = 409, description = "Already finished", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn cancel(State(state): State<AppState>, tenant: Tenant, Path(id): Path<String>) -> Result<ApiJson<JobDocument>, ApiError> {
    let job = cancel_job(&state, &tenant, &id).await?;
    let artifacts = state.store.artifacts(&job.id).await?;
    Ok(ApiJson(job_document(&job, Some(&artifacts))))
}

/// Cancels the tenant's job `id` if it has not finished: 404 if not theirs, 409 if done.
pub(crate) async fn cancel_job(state: &AppState, tenant: &Tenant, id: &str) -> Result<JobRecord, ApiError> {
    match state.store.cancel_job(&tenant.id, id, now_ms()).await? {
        CancelOutcome::Cancelled(job) => {
            let _ = state.events.send(job.id.clone());
            state.webhooks_wake.notify_one();
            Ok(job)
        }
        CancelOutcome::AlreadyFinished(job) => {
            Err(ApiError::new(Code::JobFinished, format!("the job has already finished ({})", job.status.as_str())))
        }
        CancelOutcome::NotFound => Err(ApiError::not_found("job")),
    }
}

/// Cancels a job nobody waits for any more; a job that finished meanwhile stays finished.
pub(crate) async fn cancel_silently(state: &AppState, tenant: &Tenant, id: &str) {
    if let Err(e) = cancel_job(state, tenant, id).await {
        tracing::debug!(job = id, error = %e.message, "abandoned job was not cancelled");
    }
}

/// Server-Sent Events: `progress`, `page` and `done` (which carries the job document).
#[utoipa::path(get, path = "/v1/jobs/{id}/events", tag = "jobs", params(("id" = String, Path, description = "Job id")),
    responses((status = 200, description = "text/event-stream; resumes after Last-Event-ID"), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn events(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    owned_job(&state, &tenant, &id).await?;
    let last_seen: i64 = headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut wakeups = state.events.subscribe();
    let stream = async_stream::stream! {
        let mut after = last_seen;
        let mut last_pass = false;
        loop {
            let Ok(batch) = state.store.events_after(&id, after, 200).await else { break };
            let full = batch.len() == 200;
            let mut done = false;
            for event in batch {
                after = event.seq;
                done |= event.kind == "done";
                yield Ok(Event::default().id(event.seq.to_string()).event(event.kind).data(event.data.to_string()));
            }
            if done {
                break;
            }
            if full {
                continue;
            }
            if last_pass {
                break;
            }
            // The job may have ended after this batch was read: one more pass sends what it
            // wrote last (its `done` event), or ends a client already past it.
            match state.store.get_job(None, &id).await {
                Ok(Some(job)) if !job.status.is_terminal() => {}
                Ok(Some(_)) => {
                    last_pass = true;
                    continue;
                }
                _ => break,
            }
            tokio::select! {
                _ = state.shutdown.cancelled() => break,
                _ = wait_for_job(&mut wakeups, &id) => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    };
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

async fn wait_for_job(rx: &mut tokio::sync::broadcast::Receiver<String>, id: &str) {
    loop {
        match rx.recv().await {
            Ok(job) if job == id => return,
            Ok(_) => continue,
            Err(_) => return,
        }
    }
}

/// Export one record per page as JSON Lines or CSV.
#[utoipa::path(get, path = "/v1/jobs/{id}/results", tag = "jobs", params(("id" = String, Path, description = "Job id"), ResultsQuery),
    responses((status = 200, description = "application/x-ndjson or text/csv"), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn results(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    Query(q): Query<ResultsQuery>,
) -> Result<Response, ApiError> {
    let job = owned_job(&state, &tenant, &id).await?;
    let csv = match q.format.as_deref() {
        None | Some("jsonl") => false,
        Some("csv") => true,
        Some(other) => return Err(ApiError::new(Code::InvalidRequest, format!("unknown format {other:?}; use jsonl or csv"))),
    };
    let store = state.store.clone();
    let stream = async_stream::stream! {
        let mut after = -1;
        let mut columns: Option<Vec<String>> = None;
        loop {
            let batch = match store.results(&job.id, after, 500).await {
                Ok(batch) => batch,
                Err(e) => {
                    tracing::error!(error = %e, "reading results failed mid-stream");
                    yield Err(std::io::Error::other("results could not be read"));
                    break;
                }
            };
            if batch.is_empty() {
                break;
            }
            let mut chunk = Vec::new();
            for (idx, record) in &batch {
                after = *idx;
                if csv {
                    let cols = columns.get_or_insert_with(|| {
                        let cols: Vec<String> = record.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
                        chunk.extend(csv_line(cols.iter().map(String::as_str)));
                        cols
                    });
                    let values: Vec<String> = cols.iter().map(|c| csv_cell(record.get(c))).collect();
                    chunk.extend(csv_line(values.iter().map(String::as_str)));
                } else {
                    chunk.extend(record.to_string().into_bytes());
                    chunk.push(b'\n');
                }
            }
            yield Ok::<_, std::io::Error>(chunk);
        }
    };
    let content_type = if csv { "text/csv; charset=utf-8" } else { "application/x-ndjson" };
    Ok(([(header::CONTENT_TYPE, content_type)], Body::from_stream(stream)).into_response())
}

fn csv_cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn csv_line<'a>(cells: impl Iterator<Item = &'a str>) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new().from_writer(Vec::new());
    let cells: Vec<&str> = cells.collect();
    let _ = writer.write_record(&cells);
    writer.into_inner().unwrap_or_default()
}

/// Download one artifact.
#[utoipa::path(get, path = "/v1/jobs/{id}/artifacts/{name}", tag = "jobs",
    params(("id" = String, Path, description = "Job id"), ("name" = String, Path, description = "Artifact name")),
    responses((status = 200, description = "The file"), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn artifact(
    State(state): State<AppState>,
    tenant: Tenant,
    Path((id, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let job = owned_job(&state, &tenant, &id).await?;
    let listed = state.store.artifacts(&job.id).await?.into_iter().find(|a| a.name == name);
    let Some(artifact) = listed.filter(|_| is_safe_name(&name)) else {
        return Err(ApiError::not_found("artifact"));
    };
    let path = state.config.artifacts_dir().join(&job.id).join(&artifact.name);
    let bytes = tokio::fs::read(&path).await.map_err(|_| ApiError::not_found("artifact"))?;
    Ok(([(header::CONTENT_TYPE, artifact.content_type)], bytes).into_response())
}

/// Artifact names are plain file names: no separators, no leading dot.
fn is_safe_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name.len() <= 200
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifact_names_cannot_escape() {
        assert!(is_safe_name("page.html"));
        for bad in ["", "../x", "a/b", ".hidden", "a\\b", "%2e%2e"] {
            assert!(!is_safe_name(bad), "{bad}");
        }
    }

    #[test]
    fn csv_cells_quote_and_flatten() {
        let line = csv_line(["a,b", "plain", "say \"hi\""].into_iter());
        assert_eq!(String::from_utf8(line).unwrap(), "\"a,b\",plain,\"say \"\"hi\"\"\"\n");
        assert_eq!(csv_cell(Some(&json!({"k": 1}))), "{\"k\":1}");
        assert_eq!(csv_cell(None), "");
    }
}
