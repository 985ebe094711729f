//! Port 9002 (replicator) until its engine lands.
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
