//! Port 9003: `POST /v1/extract`, content extraction from given HTML or a fetched URL.

use ace_crawlers::{FetchOptions, Fetcher};
use ace_extractors::{extract, Input, Options, OutputFormat, Schema};
use axum::extract::State;
use axum::routing::post;
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::Tenant;
use crate::error::{ApiError, ApiJson, Code};
use crate::AppState;

/// `POST /v1/extract` body. Unknown fields are ignored.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtractRequest {
    /// The page's HTML (or give `url`).
    #[serde(default)]
    pub html: Option<String>,
    /// A page to fetch (through the fetch guard), or the base URL for `html`'s links.
    #[serde(default)]
    pub url: Option<String>,
    /// Formats to produce (default markdown).
    #[serde(default)]
    pub formats: Vec<OutputFormat>,
    /// Selector schema for the `json` format.
    #[serde(default)]
    pub schema: Option<Schema>,
    /// Restrict to the main content (default true).
    #[serde(default)]
    pub only_main_content: Option<bool>,
}

/// The extractor service's routes.
pub fn router(state: AppState) -> Router {
    Router::new().route("/v1/extract", post(extract_handler)).with_state(state)
}

async fn extract_handler(State(state): State<AppState>, _tenant: Tenant, ApiJson(req): ApiJson<ExtractRequest>) -> Result<ApiJson<Value>, ApiError> {
    let (bytes, content_type, base) = match (req.html, &req.url) {
        (Some(html), url) => (html.into_bytes(), None, url.clone()),
        (None, Some(url)) => {
            let parsed = url::Url::parse(url).map_err(|e| ApiError::new(Code::InvalidUrl, format!("url is not a valid URL: {e}")))?;
            state.http.guard().check_resolved(&parsed).await.map_err(|e| ApiError::new(Code::TargetForbidden, e.to_string()))?;
            let page = state.http.fetch(&parsed, &FetchOptions::default()).await.map_err(|e| {
                let code = if e.code() == "target_forbidden" { Code::TargetForbidden } else { Code::InvalidUrl };
                ApiError::new(code, format!("could not fetch the page: {e}"))
            })?;
            let content_type = page.header("content-type").map(str::to_owned);
            (page.body.to_vec(), content_type, Some(page.final_url.to_string()))
        }
        (None, None) => return Err(ApiError::new(Code::InvalidRequest, "give the page as `html` or `url`")),
    };
    let opts = Options { formats: req.formats, schema: req.schema, only_main_content: req.only_main_content.unwrap_or(true) };
    let extracted = tokio::task::spawn_blocking(move || {
        extract(&Input { bytes: &bytes, content_type: content_type.as_deref(), base_url: base.as_deref() }, &opts)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(|e| ApiError::new(Code::InvalidRequest, e.to_string()))?;
    Ok(ApiJson(json!({ "success": true, "data": extracted })))
}
