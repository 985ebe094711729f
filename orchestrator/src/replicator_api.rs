//! Port 9002: the replicator's API and the replay server.
//!
//! `POST /v1/replicate` queues a `replicate` job through the same path as `POST /v1/jobs`
//! (auth, fetch guard, quota, idempotency); `GET /v1/replicas/{id}` reads it with its report;
//! `download.zip`, `archive.warc.gz` and `archive.wacz` hand over the artifacts. `GET /r/{id}/...` replays the
//! copy: the replica's id is the capability (a browser loading a copy cannot send a bearer
//! key with every image request), each file goes out with the sandboxing headers of
//! [`ace_replicator::replay::HEADERS`], and any path that could leave the copy is refused.
//! `/v1/replicas/{id}/qa` is the fidelity report of a replica made with `qa: {"samples": N}`,
//! and `/v1/replicas/{id}/qa/diff-{n}.png` its diff images.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::api::jobs::{self, CreateJob, WebhookSpec};
use crate::auth::Tenant;
use crate::engine::replicate::SITE_DIR;
use crate::error::{ApiError, ApiJson, Code};
use crate::model::{job_document, JobKind, JobStatus};
use crate::store::JobRecord;
use crate::AppState;

/// The routes of port 9002.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/v1/replicate", post(create))
        .route("/v1/replicas/{id}", get(read))
        .route("/v1/replicas/{id}/download.zip", get(|s, t, p| artifact(s, t, p, "download.zip")))
        .route(
            "/v1/replicas/{id}/archive.warc.gz",
            get(|s, t, p| artifact(s, t, p, "archive.warc.gz")),
        )
        .route("/v1/replicas/{id}/archive.wacz", get(|s, t, p| artifact(s, t, p, "archive.wacz")))
        .route("/v1/replicas/{id}/report.json", get(|s, t, p| artifact(s, t, p, "report.json")))
        .route("/v1/replicas/{id}/qa", get(|s, t, p| artifact(s, t, p, "qa.json")))
        .route("/v1/replicas/{id}/qa/{diff}", get(qa_diff))
        .route(
            "/r/{id}",
            get(|Path(id): Path<String>| async move { Redirect::permanent(&format!("/r/{id}/")) }),
        )
        .route(
            "/r/{id}/",
            get(|s: State<AppState>, Path(id): Path<String>, uri: Uri| replay(s, id, uri)),
        )
        .route(
            "/r/{id}/{*path}",
            get(|s: State<AppState>, Path((id, _)): Path<(String, String)>, uri: Uri| {
                replay(s, id, uri)
            }),
        )
        .with_state(state)
}

async fn index() -> Json<Value> {
    Json(json!({
        "service": "replicator",
        "endpoints": ["POST /v1/replicate", "GET /v1/replicas/{id}", "GET /v1/replicas/{id}/download.zip",
                      "GET /v1/replicas/{id}/archive.warc.gz", "GET /v1/replicas/{id}/archive.wacz", "GET /v1/replicas/{id}/report.json", "GET /v1/replicas/{id}/qa",
                      "GET /v1/replicas/{id}/qa/diff-{n}.png", "GET /r/{id}/..."],
    }))
}

/// `POST /v1/replicate`: `{"url", ...options}` (see [`ace_replicator::ReplicateOptions`]).
async fn create(
    state: State<AppState>,
    tenant: Tenant,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let Value::Object(mut options) = body else {
        return Err(ApiError::new(Code::InvalidRequest, "the body must be a JSON object"));
    };
    let url = match options.remove("url") {
        Some(Value::String(u)) => u,
        _ => return Err(ApiError::new(Code::InvalidRequest, "url is required")),
    };
    let webhook = match options.remove("webhook") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            serde_json::from_value::<WebhookSpec>(v)
                .map_err(|e| ApiError::new(Code::InvalidRequest, format!("webhook: {e}")))?,
        ),
    };
    let idempotency_key = match options.remove("idempotencyKey") {
        Some(Value::String(k)) => Some(k),
        _ => None,
    };
    let req = CreateJob {
        kind: JobKind::Replicate.as_str().to_owned(),
        url,
        options: Some(Value::Object(options)),
        webhook,
        idempotency_key,
    };
    let (status, ApiJson(doc)) = jobs::create(state, tenant, headers, ApiJson(req)).await?;
    let mut doc = serde_json::to_value(doc).unwrap_or_default();
    add_links(&mut doc);
    Ok((status, Json(doc)).into_response())
}

fn add_links(doc: &mut Value) {
    let Some(id) = doc.get("id").and_then(Value::as_str).map(str::to_owned) else { return };
    doc["links"] = json!({
        "self": format!("/v1/replicas/{id}"),
        "qa": format!("/v1/replicas/{id}/qa"),
        "replay": format!("/r/{id}/"),
        "zip": format!("/v1/replicas/{id}/download.zip"),
        "warc": format!("/v1/replicas/{id}/archive.warc.gz"),
        "wacz": format!("/v1/replicas/{id}/archive.wacz"),
        "report": format!("/v1/replicas/{id}/report.json"),
    });
}

async fn owned_replica(state: &AppState, tenant: &Tenant, id: &str) -> Result<JobRecord, ApiError> {
    let job = state.store.get_job(Some(&tenant.id), id).await?;
    job.filter(|j| j.kind == JobKind::Replicate.as_str())
        .ok_or_else(|| ApiError::not_found("replica"))
}

async fn read_report(state: &AppState, id: &str) -> Option<Value> {
    let path = state.config.artifacts_dir().join(id).join("report.json");
    let bytes = tokio::fs::read(path).await.ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// `GET /v1/replicas/{id}`: the job, and once done its counts and missing references.
async fn read(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let job = owned_replica(&state, &tenant, &id).await?;
    let artifacts = state.store.artifacts(&job.id).await?;
    let mut doc = serde_json::to_value(job_document(&job, Some(&artifacts))).unwrap_or_default();
    add_links(&mut doc);
    if let Some(report) = read_report(&state, &job.id).await {
        for key in
            ["pages", "assets", "files", "bytes", "requests", "duplicates", "entry", "hitPageLimit"]
        {
            doc[key] = report[key].clone();
        }
        doc["missing"] = report["missing"].clone();
        doc["replay"] = json!(format!("/r/{}/{}", job.id, report["entry"].as_str().unwrap_or("")));
    }
    let qa_path = state.config.artifacts_dir().join(&job.id).join("qa.json");
    doc["fidelity"] = match tokio::fs::read(qa_path)
        .await
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
    {
        Some(qa) => json!({
            "pages": qa["pages"].as_array().map_or(0, Vec::len),
            "minPixelMatch": qa["minPixelMatch"], "meanPixelMatch": qa["meanPixelMatch"],
            "meanTextSimilarity": qa["meanTextSimilarity"], "escaped": qa["escaped"], "missing": qa["missing"],
        }),
        None => Value::Null,
    };
    Ok(Json(doc))
}

async fn artifact(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    name: &'static str,
) -> Result<Response, ApiError> {
    let job = owned_replica(&state, &tenant, &id).await?;
    let listed = state.store.artifacts(&job.id).await?.into_iter().find(|a| a.name == name);
    let Some(artifact) = listed else {
        let hint = match name {
            "download.zip" => " (ask for it with outputs: [\"zip\"])",
            "archive.warc.gz" => " (ask for it with outputs: [\"warc\"])",
            "archive.wacz" => " (ask for it with outputs: [\"wacz\"])",
            "qa.json" => " (ask for it with qa: {\"samples\": N})",
            _ => "",
        };
        return Err(ApiError::new(
            Code::NotFound,
            format!("{name} not found for this replica{hint}"),
        ));
    };
    let path = state.config.artifacts_dir().join(&job.id).join(artifact.name);
    let file = tokio::fs::File::open(&path).await.map_err(|_| ApiError::not_found("artifact"))?;
    let stream = futures::stream::unfold(file, |mut file| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(bytes::Bytes::from(buf)), file))
            }
            Err(e) => Some((Err(e), file)),
        }
    });
    let mut response =
        ([(header::CONTENT_TYPE, artifact.content_type)], axum::body::Body::from_stream(stream))
            .into_response();
    if !name.ends_with(".json") {
        let disposition = format!("attachment; filename=\"{}-{name}\"", job.id);
        if let Ok(value) = HeaderValue::from_str(&disposition) {
            response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
        }
    }
    Ok(response)
}

/// `GET /v1/replicas/{id}/qa/diff-{n}.png`.
async fn qa_diff(
    State(state): State<AppState>,
    tenant: Tenant,
    Path((id, diff)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let n: Option<u32> = diff
        .strip_prefix("diff-")
        .and_then(|d| d.strip_suffix(".png"))
        .and_then(|d| d.parse().ok());
    let Some(n) = n else { return Err(ApiError::not_found("diff image")) };
    let job = owned_replica(&state, &tenant, &id).await?;
    let name = format!("qa-diff-{n}.png");
    if !state.store.artifacts(&job.id).await?.iter().any(|a| a.name == name) {
        return Err(ApiError::not_found("diff image"));
    }
    let bytes = tokio::fs::read(state.config.artifacts_dir().join(&job.id).join(&name))
        .await
        .map_err(|_| ApiError::not_found("diff image"))?;
    Ok(([(header::CONTENT_TYPE, "image/png")], bytes).into_response())
}

/// `GET /r/{id}/{path}`: a file of a finished replica. The path is taken from the raw URI
/// (still percent-encoded) so that the resolver decodes it exactly once.
async fn replay(State(state): State<AppState>, id: String, uri: Uri) -> Response {
    let not_found = || {
        (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "not in this replica\n",
        )
            .into_response()
    };
    if !id.starts_with("job_") || !id[4..].chars().all(|c| c.is_ascii_alphanumeric()) {
        return not_found();
    }
    match state.store.get_job(None, &id).await {
        Ok(Some(job))
            if job.kind == JobKind::Replicate.as_str() && job.status == JobStatus::Succeeded => {}
        _ => return not_found(),
    }
    let prefix = format!("/r/{id}/");
    let path = uri.path().strip_prefix(prefix.as_str()).unwrap_or("").to_owned();
    let root = state.config.artifacts_dir().join(&id).join(SITE_DIR);
    let file =
        match tokio::task::spawn_blocking(move || ace_replicator::replay::resolve(&root, &path))
            .await
        {
            Ok(Ok(file)) => file,
            Ok(Err(ace_replicator::replay::ReplayError::Refused(_))) => {
                return (
                    StatusCode::BAD_REQUEST,
                    [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                    "path refused\n",
                )
                    .into_response();
            }
            _ => return not_found(),
        };
    let Ok(bytes) = tokio::fs::read(&file).await else { return not_found() };
    let mut response =
        ([(header::CONTENT_TYPE, ace_replicator::replay::content_type(&file))], bytes)
            .into_response();
    for (name, value) in ace_replicator::replay::HEADERS {
        response.headers_mut().insert(name, HeaderValue::from_static(value));
    }
    response
}
