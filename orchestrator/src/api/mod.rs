//! The orchestrator's HTTP API on port 9001, and its OpenAPI description.

pub mod account;
pub mod extract;
pub mod browser;
pub mod jobs;
pub mod tenants;

use axum::routing::{delete, get, post};
use axum::Router;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::AppState;

/// The orchestrator's routes (without the shared layers; see [`crate::service_router`]).
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/jobs", post(jobs::create).get(jobs::list))
        .route("/v1/jobs/{id}", get(jobs::get).delete(jobs::cancel))
        .route("/v1/jobs/{id}/events", get(jobs::events))
        .route("/v1/jobs/{id}/results", get(jobs::results))
        .route("/v1/jobs/{id}/artifacts/{name}", get(jobs::artifact))
        .route("/v1/tenants", post(tenants::create).get(tenants::list))
        .route("/v1/tenants/{id}", get(tenants::get))
        .route("/v1/tenants/{id}/keys", post(tenants::create_key).get(tenants::list_keys))
        .route("/v1/keys/{key_id}", delete(tenants::revoke_key))
        .route("/v1/usage", get(account::usage))
        .route("/v1/agents", get(account::agents))
        .route("/v1/agents/tasks", get(account::tasks))
        .route("/v1/content", post(browser::content))
        .route("/v1/screenshot", post(browser::screenshot))
        .route("/v1/pdf", post(browser::pdf))
        .route("/v1/pool", get(browser::pool_status))
        .route("/chromium", get(browser::chromium))
        .route("/openapi.json", get(|| async { axum::Json(ApiDoc::openapi()) }))
        .with_state(state)
}

/// The OpenAPI description of port 9001.
#[derive(OpenApi)]
#[openapi(
    info(title = "ACE Web Automation", description = "Job API, tenants and keys, and the browser endpoints of the ace-web orchestrator (port 9001)."),
    paths(
        jobs::create, jobs::list, jobs::get, jobs::cancel, jobs::events, jobs::results, jobs::artifact,
        tenants::create, tenants::list, tenants::get, tenants::create_key, tenants::list_keys, tenants::revoke_key,
        account::usage, account::agents, account::tasks,
        browser::content, browser::screenshot, browser::pdf, browser::pool_status, browser::chromium,
    ),
    modifiers(&BearerAuth),
    tags((name = "jobs", description = "Submit and follow jobs"), (name = "tenants", description = "Tenants and API keys"),
         (name = "account", description = "Usage and agents"), (name = "browser", description = "Renders on the headless-Chromium pool, and CDP sessions"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
    }
}

/// The OpenAPI document as pretty JSON, as checked in at `orchestrator/openapi.json`.
pub fn openapi_json() -> String {
    ApiDoc::openapi().to_pretty_json().expect("the OpenAPI document serialises") + "\n"
}
