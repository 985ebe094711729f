//! The `/chromium` CDP proxy driven by the real puppeteer-core and playwright-core from npm.
//!
//! Setup runs `npm install` (once) in Cargo's test temp dir; Node and npm must be on PATH.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use ace_browser::Pool;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::Value;

#[derive(serde::Deserialize)]
struct Token {
    token: Option<String>,
}

/// Like the orchestrator's route: a known token upgrades, anything else is 401 before the
/// upgrade. Tenant "a" and "b" may hold 2 sessions at once.
async fn chromium(State(pool): State<Pool>, Query(q): Query<Token>, ws: WebSocketUpgrade) -> Response {
    match q.token.as_deref() {
        Some(t @ ("key-a" | "key-b" | "key-c")) => ace_browser::cdp::upgrade(pool, t.to_owned(), 2, ws),
        _ => (StatusCode::UNAUTHORIZED, "invalid or revoked API key").into_response(),
    }
}

async fn proxy(pool: Pool) -> String {
    let _ = tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).with_test_writer().try_init();
    let app = Router::new().route("/chromium", get(chromium)).with_state(pool);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("ws://{addr}/chromium")
}

/// Installs the clients (once) and returns the directory holding the scripts and modules.
fn node_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cdp-clients");
    std::fs::create_dir_all(&dir).unwrap();
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/cdp");
    for f in ["package.json", "puppeteer.js", "playwright.js"] {
        std::fs::copy(src.join(f), dir.join(f)).unwrap();
    }
    if !dir.join("node_modules/puppeteer-core").exists() || !dir.join("node_modules/playwright-core").exists() {
        let status = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--ignore-scripts"])
            .current_dir(&dir)
            .env("PUPPETEER_SKIP_DOWNLOAD", "1")
            .status()
            .expect("these tests need Node and npm on PATH");
        assert!(status.success(), "npm install of puppeteer-core and playwright-core failed");
    }
    dir
}

async fn run_node(script: &str, args: &[String]) -> Value {
    let dir = node_dir();
    let mut cmd = tokio::process::Command::new("node");
    cmd.arg(dir.join(script)).args(args).current_dir(&dir).kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(120), cmd.output()).await.expect("node finished in time").expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{script} failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(stdout.lines().last().unwrap_or("")).unwrap_or_else(|e| panic!("{script} printed {stdout}: {e}"))
}

fn urls(v: &Value) -> Vec<String> {
    v["urls"].as_array().unwrap().iter().map(|u| u.as_str().unwrap().to_owned()).collect()
}

async fn settle(pool: &Pool) {
    for _ in 0..100 {
        if pool.status().contexts_in_use == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("contexts not returned: {:?}", pool.status());
}

#[tokio::test]
async fn puppeteer_clients_get_their_own_contexts() {
    let site = common::fixtures().await;
    let pool = common::pool(|c| c.max_browsers = 1);
    let ws = proxy(pool.clone()).await;
    let out = run_node("puppeteer.js", &[format!("{ws}?token=key-a"), format!("{ws}?token=key-b"), site.clone()]).await;
    let (a, b) = (&out["a"], &out["b"]);
    assert_eq!(a["text"], "hello puppeteer 111");
    assert_eq!(b["text"], "hello puppeteer 222");
    assert!(a["shotBytes"].as_u64().unwrap() > 1000);
    let (ua, ub) = (urls(a), urls(b));
    assert!(ua.iter().any(|u| u.ends_with("/page/111")), "{ua:?}");
    assert!(ub.iter().any(|u| u.ends_with("/page/222")), "{ub:?}");
    assert!(!ua.iter().any(|u| u.ends_with("/page/222")), "client a sees b's page: {ua:?}");
    assert!(!ub.iter().any(|u| u.ends_with("/page/111")), "client b sees a's page: {ub:?}");
    settle(&pool).await;
    assert_eq!(pool.status().browsers, 1, "both sessions shared one pooled browser");
    pool.shutdown().await;
}

#[tokio::test]
async fn playwright_clients_get_their_own_contexts() {
    let site = common::fixtures().await;
    let pool = common::pool(|c| c.max_browsers = 1);
    let ws = proxy(pool.clone()).await;
    let out = run_node("playwright.js", &[format!("{ws}?token=key-a"), format!("{ws}?token=key-b"), site.clone()]).await;
    let (a, b) = (&out["a"], &out["b"]);
    assert_eq!(a["text"], "hello playwright 333");
    assert_eq!(b["text"], "hello playwright 444");
    assert!(b["shotBytes"].as_u64().unwrap() > 1000);
    let (ua, ub) = (urls(a), urls(b));
    assert!(ua.iter().any(|u| u.ends_with("/page/333")), "{ua:?}");
    assert!(!ua.iter().any(|u| u.ends_with("/page/444")), "client a sees b's page: {ua:?}");
    assert!(!ub.iter().any(|u| u.ends_with("/page/333")), "client b sees a's page: {ub:?}");
    settle(&pool).await;
    pool.shutdown().await;
}

#[tokio::test]
async fn unknown_tokens_are_refused_and_session_limits_close_with_a_frame() {
    use async_tungstenite::tungstenite::Message;
    use futures::StreamExt;
    let pool = common::pool(|c| {
        c.max_browsers = 1;
        c.session_idle_ms = 1500;
    });
    let ws = proxy(pool.clone()).await;
    let refused = async_tungstenite::tokio::connect_async(format!("{ws}?token=nope")).await;
    match refused {
        Err(async_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), 401),
        other => panic!("expected 401, got {:?}", other.map(|_| ())),
    }
    let (_one, _) = async_tungstenite::tokio::connect_async(format!("{ws}?token=key-c")).await.unwrap();
    let (_two, _) = async_tungstenite::tokio::connect_async(format!("{ws}?token=key-c")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (mut three, _) = async_tungstenite::tokio::connect_async(format!("{ws}?token=key-c")).await.unwrap();
    match tokio::time::timeout(Duration::from_secs(5), three.next()).await.unwrap() {
        Some(Ok(Message::Close(Some(frame)))) => {
            assert_eq!(u16::from(frame.code), 1008);
            assert!(frame.reason.contains("session limit"), "{}", frame.reason);
        }
        other => panic!("expected a close frame, got {other:?}"),
    }
    // Idle sessions are closed with a frame too, and their contexts returned.
    let (mut idle, _) = async_tungstenite::tokio::connect_async(format!("{ws}?token=key-a")).await.unwrap();
    match tokio::time::timeout(Duration::from_secs(5), idle.next()).await.unwrap() {
        Some(Ok(Message::Close(Some(frame)))) => assert!(frame.reason.contains("idle"), "{}", frame.reason),
        other => panic!("expected an idle close frame, got {other:?}"),
    }
    drop((_one, _two));
    settle(&pool).await;
    assert_eq!(pool.sessions_of("key-c"), 0);
    pool.shutdown().await;
}
