//! The browser endpoints of port 9001 end to end, on real Chromium: render, screenshot, usage, 408
//! naming what was awaited, 429 `pool_saturated`, `/v1/pool`, 401 on the `/chromium`
//! upgrade, and the `screenshot` job kind writing its artifact.

use std::time::Duration;

use ace_orchestrator::config::Config;
use ace_orchestrator::{api, service_router, AppState};
use axum::response::Html;
use axum::routing::get;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

const ADMIN: &str = "admin_key_for_browser_api_tests_0123456789";

async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test]
async fn browser_endpoints_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config { data_dir: dir.path().to_owned(), admin_key: Some(ADMIN.into()), allow_private_networks: true, ..Config::default() };
    config.browser.max_browsers = 1;
    config.browser.max_contexts_per_browser = 1;
    config.browser.queue_limit = 0;
    let (state, _) = AppState::open(config, CancellationToken::new()).await.unwrap();
    assert!(state.browser.is_some(), "these tests need a real Chromium (apt-get install -y chromium chromium-headless-shell)");
    let base = serve(service_router("orchestrator", api::router(state.clone()), &state)).await;
    let site = serve(axum::Router::new().route("/", get(|| async { Html("<h1 id=t>fixture</h1>") }))).await;
    tokio::spawn(ace_orchestrator::worker::run(state.clone()));

    let http = reqwest::Client::new();
    let tenant: Value = http
        .post(format!("{base}/v1/tenants"))
        .bearer_auth(ADMIN)
        .json(&json!({"name": "t", "plan": "pro"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = tenant["api_key"].as_str().unwrap().to_owned();

    let r = http.post(format!("{base}/v1/content")).bearer_auth(&key).json(&json!({"url": format!("{site}/")})).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-status-code"], "200");
    assert!(r.text().await.unwrap().contains("fixture"));

    let r = http.post(format!("{base}/v1/screenshot")).bearer_auth(&key).json(&json!({"html": "<h1>x</h1>", "format": "webp"})).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // Synchronous renders are billed like render jobs: a page and its browser seconds each.
    let usage: Value = http.get(format!("{base}/v1/usage")).bearer_auth(&key).send().await.unwrap().json().await.unwrap();
    assert_eq!(usage["usage"]["pages_rendered"], 2, "{usage}");
    assert!(usage["usage"]["render_seconds"].as_i64().unwrap() >= 2, "{usage}");
    assert_eq!(r.headers()["content-type"], "image/webp");

    let r = http
        .post(format!("{base}/v1/content"))
        .bearer_auth(&key)
        .json(&json!({"html": "<p>x</p>", "waitForSelector": "#never", "timeout": 4000}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 408);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "timeout");
    assert!(body["error"].as_str().unwrap().contains("#never"), "{body}");

    // One context, no queue: a second render while one runs is answered 429 at once.
    let slow = {
        let (http, base, key) = (http.clone(), base.clone(), key.clone());
        tokio::spawn(async move {
            http.post(format!("{base}/v1/content")).bearer_auth(&key).json(&json!({"html": "<p>x</p>", "waitForSelector": "#never", "timeout": 3000})).send().await.unwrap().status()
        })
    };
    tokio::time::sleep(Duration::from_millis(700)).await;
    let r = http.post(format!("{base}/v1/pdf")).bearer_auth(&key).json(&json!({"html": "<p>x</p>"})).send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "pool_saturated");
    assert_eq!(slow.await.unwrap(), 408);

    let pool: Value = http.get(format!("{base}/v1/pool")).bearer_auth(&key).send().await.unwrap().json().await.unwrap();
    assert_eq!(pool["browsers"], 1);
    assert!(pool["pages_served"].as_u64().unwrap() >= 3, "{pool}");
    for field in ["contexts_in_use", "queue_length", "restarts"] {
        assert!(pool.get(field).is_some(), "{field} missing: {pool}");
    }

    let upgrade = |token: &str| {
        http.get(format!("{base}/chromium?token={token}"))
            .header("connection", "Upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
            .send()
    };
    assert_eq!(upgrade("ace_0000000000000000").await.unwrap().status(), 401);

    // The screenshot job kind runs on the pool and stores its image.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let job: Value = http
        .post(format!("{base}/v1/jobs"))
        .bearer_auth(&key)
        .json(&json!({"kind": "screenshot", "url": format!("{site}/"), "options": {"format": "jpeg", "thumbnailWidth": 200}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = job["id"].as_str().expect("job accepted").to_owned();
    let mut done = Value::Null;
    for _ in 0..100 {
        done = http.get(format!("{base}/v1/jobs/{id}")).bearer_auth(&key).send().await.unwrap().json().await.unwrap();
        if done["status"] == "succeeded" || done["status"] == "failed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(done["status"], "succeeded", "{done}");
    let r = http.get(format!("{base}/v1/jobs/{id}/artifacts/screenshot.jpg")).bearer_auth(&key).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.unwrap().starts_with(&[0xFF, 0xD8]));

    state.shutdown.cancel();
    state.browser.as_ref().unwrap().shutdown().await;
}
