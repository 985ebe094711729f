//! Crawls and batch scrapes: start, status with `next` paging, cancel, errors.
//!
//! A status page holds the documents from `skip` on, up to [`PAGE_DOCS`] documents or
//! [`PAGE_BYTES`] of JSON, whichever comes first; `next` is an absolute URL to the rest,
//! handed out only while more results exist, and never pointing at the same `skip`.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{body_object, document, expires_at, take_url, take_webhook, Version};
use crate::api::jobs::{cancel_job, submit, Submission};
use crate::auth::Tenant;
use crate::error::{ApiError, ApiJson, Code};
use crate::model::{JobKind, JobStatus};
use crate::store::JobRecord;
use crate::AppState;

/// Most documents on one status page.
const PAGE_DOCS: i64 = 100;
/// Most bytes of documents on one status page (Firecrawl pages by size too).
const PAGE_BYTES: usize = 8 * 1024 * 1024;

/// `?skip=N&limit=M` of a status request.
#[derive(Debug, Deserialize)]
pub(super) struct PageQuery {
    skip: Option<i64>,
    limit: Option<i64>,
}

/// The absolute URL of a status page, on the host the client called.
pub(super) fn status_url(headers: &HeaderMap, version: Version, what: &str, id: &str, skip: Option<i64>) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1:9004");
    let mut url = format!("http://{host}/{}/{what}/{id}", version.as_str());
    if let Some(skip) = skip {
        url.push_str(&format!("?skip={skip}"));
    }
    url
}

/// Start a crawl.
pub(super) async fn start(
    State(state): State<AppState>,
    version: Version,
    tenant: Tenant,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> Result<ApiJson<Value>, ApiError> {
    let mut options = body_object(body)?;
    let url = take_url(&mut options)?;
    let webhook = take_webhook(&mut options)?;
    // Every page becomes a document; Markdown unless the crawl says otherwise.
    match options.get_mut("scrapeOptions") {
        Some(Value::Object(scrape)) => {
            scrape.entry("formats").or_insert_with(|| json!(["markdown"]));
        }
        _ => {
            options.insert("scrapeOptions".into(), json!({ "formats": ["markdown"] }));
        }
    }
    // Firecrawl crawls below the start URL unless told to take the whole site.
    if !options.contains_key("crawlEntireDomain") && !options.contains_key("allowBackwardLinks") {
        options.insert("crawlEntireDomain".into(), json!(false));
    }
    let idempotency_key = headers.get("x-idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let job = submit(&state, &tenant, Submission { kind: JobKind::Crawl, url, options: Some(Value::Object(options)), webhook, idempotency_key, max_attempts: None }).await?;
    Ok(ApiJson(json!({ "success": true, "id": job.id, "url": status_url(&headers, version, "crawl", &job.id, None) })))
}

/// The tenant's crawl (or batch scrape) `id`; any other job is not found here.
async fn owned(state: &AppState, tenant: &Tenant, id: &str, batch: bool) -> Result<JobRecord, ApiError> {
    let job = state.store.get_job(Some(&tenant.id), id).await?.ok_or_else(|| ApiError::not_found("job"))?;
    let is_batch = job.kind == JobKind::Scrape.as_str() && job.options.get("urls").is_some();
    let is_crawl = job.kind == JobKind::Crawl.as_str();
    if (batch && is_batch) || (!batch && is_crawl) {
        Ok(job)
    } else {
        Err(ApiError::not_found(if batch { "batch scrape job" } else { "crawl job" }))
    }
}

/// Firecrawl's four status words.
fn status_word(status: JobStatus) -> &'static str {
    match status {
        JobStatus::Queued | JobStatus::Running => "scraping",
        JobStatus::Succeeded => "completed",
        JobStatus::Failed => "failed",
        JobStatus::Cancelled => "cancelled",
    }
}

async fn status_page(state: &AppState, job: &JobRecord, q: &PageQuery, headers: &HeaderMap, version: Version, what: &str) -> Result<Value, ApiError> {
    let skip = q.skip.unwrap_or(0);
    if skip < 0 {
        return Err(ApiError::new(Code::InvalidRequest, "skip must not be negative"));
    }
    let limit = q.limit.unwrap_or(PAGE_DOCS).clamp(1, PAGE_DOCS);
    let rows = state.store.results(&job.id, skip - 1, limit + 1).await?;
    let mut more = rows.len() as i64 > limit;
    let mut data = Vec::new();
    let mut bytes = 0usize;
    let mut next_skip = skip;
    for (idx, record) in rows.into_iter().take(limit as usize) {
        if record.get("error").is_some() && record.get("metadata").is_none() {
            // Pages that produced no document are listed by `.../errors`.
            next_skip = idx + 1;
            continue;
        }
        let doc = document(&record);
        let size = doc.to_string().len();
        if !data.is_empty() && bytes + size > PAGE_BYTES {
            more = true;
            break;
        }
        bytes += size;
        data.push(doc);
        next_skip = idx + 1;
    }
    let completed = job.progress_done;
    let total = job.progress_total.unwrap_or(completed).max(completed);
    let mut body = json!({
        "success": true,
        "status": status_word(job.status),
        "completed": completed,
        "total": total,
        "creditsUsed": completed,
        "expiresAt": expires_at(job),
        "data": data,
    });
    if more && next_skip > skip {
        body["next"] = Value::String(status_url(headers, version, what, &job.id, Some(next_skip)));
    }
    if job.status == JobStatus::Failed {
        body["error"] = json!(job.error);
    }
    Ok(body)
}

/// Which kind of job a status, cancel or errors route is about: `/crawl/...` or
/// `/batch/scrape/...`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Resource {
    batch: bool,
}

impl Resource {
    fn path(self) -> &'static str {
        if self.batch { "batch/scrape" } else { "crawl" }
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Resource {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Resource, Self::Rejection> {
        Ok(Resource { batch: parts.uri.path().contains("/batch/scrape/") })
    }
}

/// A crawl's (or batch scrape's) status and a page of its documents.
pub(super) async fn status(
    State(state): State<AppState>,
    version: Version,
    what: Resource,
    tenant: Tenant,
    Path((_, id)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Result<ApiJson<Value>, ApiError> {
    let job = owned(&state, &tenant, &id, what.batch).await?;
    Ok(ApiJson(status_page(&state, &job, &q, &headers, version, what.path()).await?))
}

/// Cancel a crawl or batch scrape (409 if it already finished).
pub(super) async fn cancel(State(state): State<AppState>, _v: Version, what: Resource, tenant: Tenant, Path((_, id)): Path<(String, String)>) -> Result<ApiJson<Value>, ApiError> {
    owned(&state, &tenant, &id, what.batch).await?;
    cancel_job(&state, &tenant, &id).await?;
    Ok(ApiJson(json!({ "success": true, "status": "cancelled" })))
}

async fn error_list(state: &AppState, job: &JobRecord) -> Result<Value, ApiError> {
    let mut errors = Vec::new();
    let mut robots_blocked = Vec::new();
    let mut after = -1;
    loop {
        let rows = state.store.results(&job.id, after, 1_000).await?;
        if rows.is_empty() {
            break;
        }
        for (idx, record) in rows {
            after = idx;
            let Some(error) = record.get("error") else { continue };
            let url = record.get("url").cloned().unwrap_or(Value::Null);
            if record.get("errorCode").and_then(Value::as_str) == Some("robots_disallowed") {
                robots_blocked.push(url);
                continue;
            }
            let mut e = Map::new();
            e.insert("id".into(), json!(format!("{}-{idx}", job.id)));
            e.insert("url".into(), url);
            e.insert("error".into(), error.clone());
            e.insert("code".into(), record.get("errorCode").cloned().unwrap_or(Value::Null));
            errors.push(Value::Object(e));
        }
    }
    Ok(json!({ "success": true, "errors": errors, "robotsBlocked": robots_blocked }))
}

/// Pages of a crawl (or batch) that failed, and those robots.txt kept it from.
pub(super) async fn errors(State(state): State<AppState>, _v: Version, what: Resource, tenant: Tenant, Path((_, id)): Path<(String, String)>) -> Result<ApiJson<Value>, ApiError> {
    let job = owned(&state, &tenant, &id, what.batch).await?;
    Ok(ApiJson(error_list(&state, &job).await?))
}
