//! Helpers for the replicator's integration tests: a fetcher allowed onto loopback, a static
//! server for a copy (through the replay resolver), and a Chromium pool.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ace_crawlers::{FetchGuard, FetchOptions, HttpFetcher};
use axum::http::{header, StatusCode, Uri};
use axum::response::IntoResponse;

pub fn loopback_fetcher() -> Arc<HttpFetcher> {
    let guard = FetchGuard { allow_loopback: true, allow_private: false };
    Arc::new(HttpFetcher::new(guard, FetchOptions::default()).expect("fetcher"))
}

/// Serves the folder `root` under `prefix` (e.g. `/some/prefix/`) on a free loopback port.
/// Returns the base URL of the copy.
pub async fn serve_copy(
    root: &Path,
    prefix: &'static str,
) -> (String, tokio::task::JoinHandle<()>) {
    let root: PathBuf = root.to_owned();
    let app = axum::Router::new().fallback(move |uri: Uri| {
        let root = root.clone();
        async move {
            let Some(rel) = uri.path().strip_prefix(prefix) else {
                return StatusCode::NOT_FOUND.into_response();
            };
            match ace_replicator::replay::resolve(&root, rel) {
                Ok(file) => {
                    let body = std::fs::read(&file).unwrap_or_default();
                    let ct = ace_replicator::replay::content_type(&file);
                    // No CSP: a request it refused would never show in the network log, and the
                    // tests must see every request the copy tries to make.
                    ([(header::CONTENT_TYPE, ct), (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")], body)
                        .into_response()
                }
                Err(_) => StatusCode::NOT_FOUND.into_response(),
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr: SocketAddr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}{prefix}"), task)
}

/// A small pool. Panics with a clear message without Chromium: these tests must not skip.
pub fn pool() -> ace_browser::Pool {
    let mut config = ace_browser::PoolConfig {
        min_browsers: 0,
        max_browsers: 1,
        ..ace_browser::PoolConfig::default()
    };
    if let Ok(exe) = std::env::var("ACE_CHROMIUM") {
        config.executable = exe.into();
    }
    match ace_browser::Pool::start(config) {
        Ok(p) => p,
        Err(e) => panic!("this test needs a real Chromium (scripts/install-deps.sh test): {e}"),
    }
}

/// Every file under `dir`, relative, `/`-separated, sorted.
pub fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let entry = entry.unwrap();
            let ft = entry.file_type().unwrap();
            assert!(!ft.is_symlink(), "symlink in the copy: {:?}", entry.path());
            if ft.is_dir() {
                stack.push(entry.path());
            } else {
                out.push(
                    entry.path().strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/"),
                );
            }
        }
    }
    out.sort();
    out
}
