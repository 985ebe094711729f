//! Ports 9002 (replicator) and 9004 (scraper) until their engines land.
//!
//! Each answers its index with what it is and, on the endpoints api.md gives it, an honest
//! 501 `not_implemented` after authenticating the caller: clients learn the endpoint exists
//! and is not built yet, never a fake result.

use axum::routing::{any, get};
use axum::{Json, Router};
use serde_json::json;

use crate::auth::Caller;
use crate::error::{ApiError, Code};
use crate::AppState;

/// The routes of a service whose engine is not built yet.
pub fn pending(state: AppState, service: &'static str, endpoints: &'static [&'static str]) -> Router {
    let mut router = Router::new().route(
        "/",
        get(move || async move {
            Json(json!({ "service": service, "status": "engine not built yet", "endpoints": endpoints }))
        }),
    );
    for path in endpoints {
        router = router.route(
            path,
            any(move |_: Caller| async move {
                ApiError::new(Code::NotImplemented, format!("the {service} engine is not implemented yet"))
            }),
        );
    }
    router.with_state(state)
}

/// Endpoints of the replicator.
pub const REPLICATOR: &[&str] = &["/v1/replicate", "/v1/replicas/{id}", "/r/{id}/{*path}"];
/// Endpoints of the scraper (Firecrawl's shapes).
pub const SCRAPER: &[&str] = &[
    "/v1/scrape", "/v2/scrape", "/v1/crawl", "/v2/crawl", "/v1/crawl/{id}", "/v2/crawl/{id}",
    "/v1/map", "/v2/map", "/v1/batch/scrape", "/v2/batch/scrape",
];
