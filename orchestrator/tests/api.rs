//! The orchestrator's router driven in-process (no sockets): auth, tenants, errors, OpenAPI.

use ace_orchestrator::config::Config;
use ace_orchestrator::{api, service_router, AppState};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use serde_json::{json, Value};
use tower::ServiceExt;

const ADMIN: &str = "ace_router_test_admin_key_000000";

async fn app(edit: impl FnOnce(&mut Config)) -> (tempfile::TempDir, Router) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config { data_dir: dir.path().to_owned(), admin_key: Some(ADMIN.into()), ..Config::default() };
    edit(&mut config);
    let (state, generated) = AppState::open(config, Default::default()).await.unwrap();
    assert!(generated.is_none(), "the configured admin key is used");
    let router = service_router("orchestrator", api::router(state.clone()), &state);
    (dir, router)
}

async fn call(app: &Router, method: &str, path: &str, key: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(k) = key {
        req = req.header("authorization", format!("Bearer {k}"));
    }
    let req = match body {
        Some(b) => req.header("content-type", "application/json").body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    }
    .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test]
async fn admin_creates_tenants_and_tenants_manage_only_their_keys() {
    let (_d, app) = app(|_| {}).await;
    let (status, created) = call(&app, "POST", "/v1/tenants", Some(ADMIN), Some(json!({"name": "acme"}))).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(created["plan"], "free");
    let key = created["api_key"].as_str().unwrap();
    assert!(key.starts_with(created["key_prefix"].as_str().unwrap()));
    let id = created["id"].as_str().unwrap();

    let (status, tenant) = call(&app, "GET", &format!("/v1/tenants/{id}"), Some(key), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(tenant["limits"]["pages_per_month"], 1000);
    let (status, _) = call(&app, "GET", "/v1/tenants", Some(key), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "listing tenants is the admin's");
    let (status, listed) = call(&app, "GET", "/v1/tenants", Some(ADMIN), None).await;
    assert_eq!((status, listed["tenants"].as_array().unwrap().len()), (StatusCode::OK, 1));

    let (_, other) = call(&app, "POST", "/v1/tenants", Some(ADMIN), Some(json!({"name": "globex", "plan": "pro"}))).await;
    let other_id = other["id"].as_str().unwrap();
    let (status, body) = call(&app, "GET", &format!("/v1/tenants/{other_id}/keys"), Some(key), None).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    let (status, _) = call(&app, "DELETE", &format!("/v1/keys/{}", other["key_id"].as_str().unwrap()), Some(key), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another tenant's key cannot be revoked");
    let (status, _) = call(&app, "POST", "/v1/jobs", Some(ADMIN), Some(json!({"kind": "scrape", "url": "https://example.com/"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the admin key is not a tenant");
}

#[tokio::test]
async fn quota_of_zero_pages_refuses_jobs_with_402() {
    let (_d, app) = app(|c| c.plans.0.get_mut("free").unwrap().pages_per_month = 0).await;
    let (_, created) = call(&app, "POST", "/v1/tenants", Some(ADMIN), Some(json!({"name": "broke"}))).await;
    let key = created["api_key"].as_str().unwrap();
    let (status, body) = call(&app, "POST", "/v1/jobs", Some(key), Some(json!({"kind": "scrape", "url": "https://example.com/"}))).await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED);
    assert_eq!(body["code"], "quota_exceeded");
    assert!(body["error"].as_str().unwrap().contains("0 pages"), "{body}");
}

#[tokio::test]
async fn unknown_routes_methods_and_keys_answer_in_the_error_shape() {
    let (_d, app) = app(|_| {}).await;
    for (method, path, key, status, code) in [
        ("GET", "/v1/nope", None, 404, "not_found"),
        ("PATCH", "/v1/jobs", Some(ADMIN), 405, "method_not_allowed"),
        ("GET", "/v1/jobs", None, 401, "unauthorized"),
        ("GET", "/v1/jobs", Some("Basic abc"), 401, "unauthorized"),
        ("GET", "/v1/jobs", Some("ace_0123456789abcdef_not_a_key"), 401, "unauthorized"),
    ] {
        let (got, body) = call(&app, method, path, key, None).await;
        assert_eq!(got.as_u16(), status, "{method} {path}");
        assert_eq!(body, json!({"success": false, "error": body["error"], "code": code}));
    }
}

#[tokio::test]
async fn checked_in_openapi_document_is_fresh() {
    let generated = api::openapi_json();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(path, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "orchestrator/openapi.json is stale: run `UPDATE_OPENAPI=1 cargo test -p ace-orchestrator --test api` and commit it"
    );
    let doc: Value = serde_json::from_str(&generated).unwrap();
    for path in ["/v1/jobs", "/v1/jobs/{id}", "/v1/jobs/{id}/events", "/v1/tenants", "/v1/keys/{key_id}", "/v1/usage"] {
        assert!(doc["paths"].get(path).is_some(), "{path} is documented");
    }
}
