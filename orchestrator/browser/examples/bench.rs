//! Load generator for `bench/render.sh`: screenshots a list of URLs at a given concurrency,
//! either through ace-web's `POST /v1/screenshot` (`http` mode, sampling `/v1/pool` memory) or
//! with a bare chromiumoxide loop in one warm browser (`bare` mode, the upper bound), or through
//! the pool in this process (`pool` mode: the render path without the HTTP hop).
//!
//! ```text
//! bench http <base-url> <api-key> <concurrency> <urls-file>
//! bench pool <chromium> <concurrency> <urls-file> [pause-ms before each page]
//! bench bare <chromium> <concurrency> <urls-file>
//! bench bare-ctx <chromium> <concurrency> <urls-file>   (a fresh incognito context per page)
//! ```
//! Prints one line: `mode=... pages=... ok=... secs=... pages_per_sec=... peak_memory_mib=...`.
//!
//! For A/B runs: `BARE_FLAGS="--flag ..."` adds Chromium flags (the bare loops and `pool`);
//! `NOCACHE=1` makes the bare loop open each page blank, turn the HTTP cache off and then
//! navigate (what a fresh context loses in cache alone, without a new renderer process);
//! `SPARE=0` runs `pool` without its spare page.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chromiumoxide::cdp::browser_protocol::page::CaptureScreenshotFormat;
use chromiumoxide::cdp::browser_protocol::target::{CreateBrowserContextParams, CreateTargetParams};
use chromiumoxide::handler::viewport::Viewport;
use chromiumoxide::page::ScreenshotParams;
use chromiumoxide::{Browser, BrowserConfig};
use futures::StreamExt;

fn urls(file: &str) -> Vec<String> {
    std::fs::read_to_string(file).expect("urls file").lines().filter(|l| !l.trim().is_empty()).map(str::to_owned).collect()
}

/// Runs `work` over `urls` with `concurrency` workers; returns (ok count, elapsed).
async fn drive<F, Fut>(urls: Vec<String>, concurrency: usize, work: F) -> (usize, Duration)
where
    F: Fn(String) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let queue = Arc::new(std::sync::Mutex::new(urls));
    let ok = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (queue, ok, work) = (queue.clone(), ok.clone(), work.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let next = queue.lock().unwrap().pop();
                let Some(url) = next else { return };
                if work(url).await {
                    ok.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    (ok.load(Ordering::Relaxed), started.elapsed())
}

#[tokio::main]
async fn main() {
    let _ = tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).with_writer(std::io::stderr).try_init();
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("http") => http(&args[2], &args[3], args[4].parse().unwrap(), &args[5]).await,
        Some("bare") => bare(&args[2], args[3].parse().unwrap(), &args[4], false).await,
        Some("bare-ctx") => bare(&args[2], args[3].parse().unwrap(), &args[4], true).await,
        Some("pool") => pooled(&args[2], args[3].parse().unwrap(), &args[4], args.get(5).and_then(|p| p.parse().ok()).unwrap_or(0)).await,
        _ => {
            eprintln!("usage: bench http <base-url> <api-key> <concurrency> <urls-file> | bench bare <chromium> <concurrency> <urls-file>");
            std::process::exit(2);
        }
    }
}

async fn http(base: &str, key: &str, concurrency: usize, file: &str) {
    let list = urls(file);
    let n = list.len();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(120)).build().unwrap();
    let peak = Arc::new(AtomicU64::new(0));
    let peak_browsers = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (client, peak, peak_browsers) = (client.clone(), peak.clone(), peak_browsers.clone());
        let (url, key) = (format!("{base}/v1/pool"), key.to_owned());
        tokio::spawn(async move {
            loop {
                if let Ok(r) = client.get(&url).bearer_auth(&key).send().await {
                    if let Ok(v) = r.json::<serde_json::Value>().await {
                        peak.fetch_max(v["memory_bytes"].as_u64().unwrap_or(0), Ordering::Relaxed);
                        peak_browsers.fetch_max(v["browsers"].as_u64().unwrap_or(0), Ordering::Relaxed);
                    }
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };
    let endpoint = format!("{base}/v1/screenshot");
    let key = key.to_owned();
    let (ok, took) = drive(list, concurrency, move |url| {
        let (client, endpoint, key) = (client.clone(), endpoint.clone(), key.clone());
        async move {
            match client.post(&endpoint).bearer_auth(&key).json(&serde_json::json!({ "url": url })).send().await {
                Ok(r) if r.status().is_success() => r.bytes().await.map(|b| b.len() > 1000).unwrap_or(false),
                Ok(r) => {
                    eprintln!("{url}: {}", r.status());
                    false
                }
                Err(e) => {
                    eprintln!("{url}: {e}");
                    false
                }
            }
        }
    })
    .await;
    sampler.abort();
    println!(
        "mode=http concurrency={concurrency} pages={n} ok={ok} secs={:.2} pages_per_sec={:.2} peak_memory_mib={} peak_browsers={}",
        took.as_secs_f64(),
        ok as f64 / took.as_secs_f64(),
        peak.load(Ordering::Relaxed) >> 20,
        peak_browsers.load(Ordering::Relaxed)
    );
}

/// One warm browser; with `isolate`, each page in a fresh incognito context (as the pool does).
async fn bare(chromium: &str, concurrency: usize, file: &str, isolate: bool) {
    let list = urls(file);
    let n = list.len();
    let profile = tempfile::tempdir().unwrap();
    let config = BrowserConfig::builder()
        .chrome_executable(chromium)
        .new_headless_mode()
        .no_sandbox()
        .user_data_dir(profile.path())
        .viewport(Viewport { width: 1280, height: 720, ..Viewport::default() })
        // chromiumoxide writes `--` before each argument itself: given with theirs, these
        // flags reached Chromium as `----disable-gpu` and the like, and did nothing.
        .args(["disable-gpu", "disable-quic", "no-first-run", "disable-background-networking", "disable-component-update", "disable-sync"])
        .args(bare_flags().into_iter().map(|f| f.trim_start_matches('-').to_owned()))
        .build()
        .unwrap();
    let (browser, mut handler) = Browser::launch(config).await.expect("launch Chromium");
    let pump = tokio::spawn(async move { while handler.next().await.is_some() {} });
    let browser = Arc::new(browser);
    let shared = browser.clone();
    let (ok, took) = drive(list, concurrency, move |url| {
        let browser = shared.clone();
        async move {
            let mut target = CreateTargetParams::new(url.as_str());
            let context = if isolate { browser.create_browser_context(CreateBrowserContextParams::default()).await.ok() } else { None };
            target.browser_context_id = context.clone();
            let nocache = std::env::var("NOCACHE").is_ok_and(|v| v == "1");
            if nocache {
                target.url = "about:blank".into();
            }
            let Ok(page) = browser.new_page(target).await else { return false };
            if nocache {
                let _ = page.execute(chromiumoxide::cdp::browser_protocol::network::SetCacheDisabledParams::new(true)).await;
                let _ = page.goto(url.as_str()).await;
            }
            let shot = page.screenshot(ScreenshotParams::builder().format(CaptureScreenshotFormat::Png).build()).await;
            let _ = page.close().await;
            if let Some(c) = context {
                let _ = browser.dispose_browser_context(c).await;
            }
            shot.map(|b| b.len() > 1000).unwrap_or(false)
        }
    })
    .await;
    println!(
        "mode={} concurrency={concurrency} pages={n} ok={ok} secs={:.2} pages_per_sec={:.2}",
        if isolate { "bare-ctx" } else { "bare" },
        took.as_secs_f64(),
        ok as f64 / took.as_secs_f64()
    );
    if let Ok(mut browser) = Arc::try_unwrap(browser) {
        let _ = browser.close().await;
        let _ = browser.wait().await;
    }
    pump.abort();
}

/// The Chromium flags `BARE_FLAGS` adds, for A/B runs.
fn bare_flags() -> Vec<String> {
    std::env::var("BARE_FLAGS").unwrap_or_default().split_whitespace().map(String::from).collect()
}

/// The pool in this process, rendering as `/v1/screenshot` does, without the HTTP hop.
async fn pooled(chromium: &str, concurrency: usize, file: &str, pause_ms: u64) {
    let list = urls(file);
    let n = list.len();
    // SPARE=0 turns the spare page off, to measure what it saves.
    let spare_page = std::env::var("SPARE").map_or(true, |v| v != "0");
    // BARE_FLAGS (the name the bare loop reads) adds Chromium flags here too, for A/B runs.
    let extra_args = bare_flags();
    let pool = ace_browser::Pool::start(ace_browser::PoolConfig { executable: chromium.into(), spare_page, extra_args, ..Default::default() }).unwrap();
    let warm: ace_browser::render::ScreenshotRequest = serde_json::from_value(serde_json::json!({ "url": list[0] })).unwrap();
    let _ = ace_browser::render::screenshot(&pool, &warm, ace_crawlers::FetchGuard::allow_all()).await;
    let shared = pool.clone();
    let busy = Arc::new(AtomicU64::new(0));
    let total = busy.clone();
    let (ok, took) = drive(list, concurrency, move |url| {
        let (pool, busy) = (shared.clone(), busy.clone());
        async move {
            tokio::time::sleep(Duration::from_millis(pause_ms)).await;
            let req: ace_browser::render::ScreenshotRequest = serde_json::from_value(serde_json::json!({ "url": url })).unwrap();
            let started = Instant::now();
            let ok = match ace_browser::render::screenshot(&pool, &req, ace_crawlers::FetchGuard::allow_all()).await {
                Ok((b, _)) => b.len() > 1000,
                Err(e) => {
                    eprintln!("{url}: {e}");
                    false
                }
            };
            busy.fetch_add(started.elapsed().as_millis() as u64, Ordering::Relaxed);
            ok
        }
    })
    .await;
    println!(
        "mode=pool concurrency={concurrency} pages={n} ok={ok} secs={:.2} pages_per_sec={:.2} mean_latency_ms={}",
        took.as_secs_f64(),
        ok as f64 / took.as_secs_f64(),
        total.load(Ordering::Relaxed) / n.max(1) as u64
    );
    pool.shutdown().await;
}
