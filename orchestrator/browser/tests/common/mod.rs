//! Fixture pages on loopback and pool helpers shared by the integration tests.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use ace_browser::{Pool, PoolConfig};
use axum::http::{header, HeaderMap};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::Router;

/// Starts the fixture site on 127.0.0.1 and returns its base URL.
pub async fn fixtures() -> String {
    let app = Router::new()
        .route("/js", get(|| async { Html(JS_PAGE) }))
        .route("/busy", get(|| async { Html(BUSY_PAGE) }))
        .route("/hang", get(|| async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            "never"
        }))
        .route("/slow", get(|| async {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            Html("<html><body><h1 id=slow>slow page</h1></body></html>")
        }))
        .route("/alert", get(|| async { Html(ALERT_PAGE) }))
        // Pages that send the browser elsewhere as soon as they load, as moved pages do.
        .route("/moved", get(|| async { Html(r#"<html><head><meta http-equiv="refresh" content="0; URL=/js"></head><body>Redirecting...</body></html>"#) }))
        .route("/moved-by-script", get(|| async { Html("<html><body>Redirecting...<script>location.replace('/page/7')</script></body></html>") }))
        // Each sends the browser on to the next as soon as it has loaded.
        .route("/chain/{n}", get(|axum::extract::Path(n): axum::extract::Path<u32>| async move {
            Html(format!(r#"<html><head><meta http-equiv="refresh" content="0; URL=/chain/{}"></head><body>{n}</body></html>"#, n + 1))
        }))
        .route("/heavy", get(|| async { Html(heavy_page()) }))
        .route("/form", get(|| async { Html(FORM_PAGE) }))
        .route("/image", get(|| async { Html(IMAGE_PAGE) }))
        .route("/pixel.png", get(|| async { ([(header::CONTENT_TYPE, "image/png")], PIXEL_PNG.to_vec()) }))
        .route("/echo", get(|headers: HeaderMap| async move { Html(echo_page(&headers)) }))
        .route("/page/{n}", get(|axum::extract::Path(n): axum::extract::Path<u32>| async move {
            Html(format!("<!doctype html><html><head><title>Page {n}</title></head><body><h1>Page {n}</h1><p>{}</p></body></html>", "text ".repeat(200)))
        }))
        .route("/download", get(|| async {
            ([(header::CONTENT_TYPE, "application/octet-stream"), (header::CONTENT_DISPOSITION, "attachment; filename=x.bin")], vec![0u8; 1024]).into_response()
        }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind fixtures");
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// A small pool for one test. Panics with a clear message if Chromium is missing: a test that
/// needs Chromium must fail, not skip.
pub fn pool(tweak: impl FnOnce(&mut PoolConfig)) -> Pool {
    let mut config = PoolConfig { min_browsers: 0, ping_interval_ms: 500, ..PoolConfig::default() };
    if let Ok(exe) = std::env::var("ACE_CHROMIUM") {
        config.executable = exe.into();
    }
    tweak(&mut config);
    match Pool::start(config) {
        Ok(p) => p,
        Err(e) => panic!("these tests need a real Chromium: {e}"),
    }
}

/// Whether a process still exists (zombies count as existing: they were not reaped).
pub fn exists(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Whether `pid` exists and is a Chromium process (zombies included: they were not reaped).
pub fn is_chromium(pid: u32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.contains("(chromium") || stat.contains("(chrome")
}

/// `pid` and its descendants now.
pub fn tree(pid: u32) -> Vec<u32> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(p) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else { continue };
        let Some(close) = stat.rfind(')') else { continue };
        let ppid: u32 = stat[close + 2..].split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        all.push((p, ppid));
    }
    let mut out = vec![pid];
    let mut i = 0;
    while i < out.len() {
        let cur = out[i];
        for (p, pp) in &all {
            if *pp == cur && !out.contains(p) {
                out.push(*p);
            }
        }
        i += 1;
    }
    out
}

const JS_PAGE: &str = r#"<!doctype html><html><head><title>js</title></head><body><div id="out">static</div>
<script>setTimeout(() => { const p = document.createElement('p'); p.id = 'late'; p.textContent = 'rendered by javascript'; document.body.appendChild(p); }, 150);</script>
</body></html>"#;

const BUSY_PAGE: &str = r#"<!doctype html><html><body><h1>busy</h1>
<script>function again() { fetch('/hang').catch(() => {}); setTimeout(again, 200); } again();</script></body></html>"#;

const ALERT_PAGE: &str = r#"<!doctype html><html><body><h1>alerts</h1>
<script>alert('first'); confirm('second?'); prompt('third?'); const p = document.createElement('p'); p.id = 'after'; p.textContent = 'after dialogs'; document.body.appendChild(p);</script></body></html>"#;

const FORM_PAGE: &str = r#"<!doctype html><html><body><input id="name"><button id="go" onclick="document.getElementById('result').textContent = 'hello ' + document.getElementById('name').value">go</button>
<div id="result"></div><div style="height:5000px"></div><p id="bottom">bottom</p>
<script>document.getElementById('name').addEventListener('keydown', e => { if (e.key === 'Enter') { const d = document.createElement('div'); d.id = 'entered'; d.textContent = 'enter pressed'; document.body.appendChild(d); } });</script></body></html>"#;

const IMAGE_PAGE: &str = r#"<!doctype html><html><body><img id="img" src="/pixel.png"></body></html>"#;

/// A 1x1 PNG.
const PIXEL_PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63,
    0xF8, 0xCF, 0xC0, 0xF0, 0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44,
    0xAE, 0x42, 0x60, 0x82,
];

fn heavy_page() -> String {
    let mut s = String::from("<!doctype html><html><head><title>heavy</title><style>.c{padding:2px;border:1px solid #888;background:linear-gradient(#fff,#ccd)}</style></head><body>");
    for i in 0..20_000 {
        s.push_str(&format!("<div class=c>row {i} <b>bold</b> <i>italic</i></div>"));
    }
    s.push_str("<script>for (let i = 0; i < 200000; i++) { Math.sqrt(i); }</script></body></html>");
    s
}

fn echo_page(headers: &HeaderMap) -> String {
    let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    format!(
        "<html><body><p id=ua>{}</p><p id=cookie>{}</p><p id=x>{}</p></body></html>",
        get("user-agent"),
        get("cookie"),
        get("x-ace-test")
    )
}
