//! The pool against real Chromium: crashes, kills, saturation, recycling, memory, reaping.

mod common;

use std::time::{Duration, Instant};

use ace_browser::{render, BrowserError, RenderRequest};
use ace_crawlers::FetchGuard;
use chromiumoxide::cdp::browser_protocol::page::NavigateParams;
use serde_json::json;

const OPEN: FetchGuard = FetchGuard { allow_loopback: true, allow_private: true };

fn req(v: serde_json::Value) -> RenderRequest {
    serde_json::from_value(v).expect("valid request")
}

async fn settle(pool: &ace_browser::Pool) {
    for _ in 0..50 {
        if pool.status().contexts_in_use == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_renderer_crash_fails_that_page_only() {
    let site = common::fixtures().await;
    let pool = common::pool(|_| {});
    let lease = pool.acquire().await.unwrap();
    let pid = lease.browser_pid();
    let page = lease.new_page().await.unwrap();
    // Navigating a tab to chrome://crash kills its renderer; the browser must live on.
    let _ = tokio::time::timeout(Duration::from_secs(5), page.execute(NavigateParams::new("chrome://crash"))).await;
    drop(page);
    drop(lease);
    settle(&pool).await;
    let ok = render::content(&pool, &req(json!({"url": format!("{site}/js")})), OPEN).await.unwrap();
    assert!(ok.html.contains("static"));
    assert_eq!(pool.pids(), vec![pid], "the same browser serves on");
    assert_eq!(pool.status().crashes, 0);
    pool.shutdown().await;
    assert!(!common::exists(pid));
}

#[tokio::test]
async fn killing_chromium_mid_render_still_succeeds_on_a_fresh_browser() {
    let site = common::fixtures().await;
    let pool = common::pool(|_| {});
    // Warm one browser so we know whom to kill.
    render::content(&pool, &req(json!({"html": "<p>warm</p>"})), OPEN).await.unwrap();
    settle(&pool).await;
    let victim = pool.pids()[0];
    let victims = common::tree(victim);
    let render = {
        let pool = pool.clone();
        let site = site.clone();
        tokio::spawn(async move { render::content(&pool, &req(json!({"url": format!("{site}/slow"), "timeout": 20000})), OPEN).await })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    std::process::Command::new("kill").args(["-9", &victim.to_string()]).status().unwrap();
    let page = render.await.unwrap().expect("the render is retried on a new browser");
    assert!(page.html.contains("slow page"));
    let status = pool.status();
    assert!(status.crashes >= 1 && status.restarts >= 1, "{status:?}");
    assert!(!pool.pids().contains(&victim));
    // The killed browser was reaped: no zombie left behind.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!common::exists(victim), "the killed Chromium {victim} was not reaped");
    pool.shutdown().await;
    for pid in victims {
        assert!(!common::exists(pid), "process {pid} of the killed browser is left");
    }
}

#[tokio::test]
async fn a_full_queue_answers_saturated_and_waiters_time_out() {
    let pool = common::pool(|c| {
        c.max_browsers = 1;
        c.max_contexts_per_browser = 1;
        c.queue_limit = 1;
        c.acquire_timeout_ms = 800;
    });
    let held = pool.acquire().await.unwrap();
    let waiter = {
        let pool = pool.clone();
        tokio::spawn(async move { pool.acquire().await.map(|_| ()) })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(pool.status().queue_length, 1);
    match pool.acquire().await {
        Err(e @ BrowserError::Saturated { .. }) => assert_eq!(e.code(), "pool_saturated"),
        other => panic!("expected saturation, got {other:?}"),
    }
    let waited = waiter.await.unwrap();
    assert!(matches!(waited, Err(BrowserError::AcquireTimeout { .. })), "{waited:?}");
    drop(held);
    settle(&pool).await;
    let again = pool.acquire().await.unwrap();
    assert_eq!(pool.status().contexts_in_use, 1);
    drop(again);
    pool.shutdown().await;
}

#[tokio::test]
async fn extra_chromium_flags_reach_the_browser() {
    // An operator's flag is added after the pool's own: here a user agent every page sees.
    let pool = common::pool(|c| c.extra_args = vec!["--user-agent=AceExtraFlagTest/1.0".into()]);
    let page = req(json!({"html": "<p id=ua></p><script>document.getElementById('ua').textContent = navigator.userAgent</script>"}));
    let out = render::content(&pool, &page, OPEN).await.unwrap();
    assert!(out.html.contains("AceExtraFlagTest/1.0"), "{}", out.html);
    pool.shutdown().await;
}

/// An executable that is a script running Chromium without `exec` is refused with a clear
/// error, and the browser it started is killed: the pool could only have stopped the script.
#[tokio::test]
async fn a_wrapper_script_that_does_not_exec_is_refused_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let browser = std::env::var("ACE_CHROMIUM").map(std::path::PathBuf::from).unwrap_or_else(|_| ace_browser::default_executable());
    let script = dir.path().join("chromium-wrapper");
    std::fs::write(&script, format!("#!/bin/sh\n{} \"$@\"\n", browser.display())).unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let marker = format!("--ace-wrapper-test={}", std::process::id());
    let pool = common::pool(|c| {
        c.executable = script.clone();
        c.extra_args = vec![marker.clone()];
    });
    let err = render::content(&pool, &req(json!({"html": "<p>hi</p>"})), OPEN).await.unwrap_err();
    assert!(err.to_string().contains("without exec"), "{err}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let left: Vec<String> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains(&marker))
        .collect();
    assert!(left.is_empty(), "left running: {left:?}");
    pool.shutdown().await;
}

/// A context costs one renderer process per page, nothing more: Chromium opens a window for
/// each new context, and left to itself loads two WebUI pages for that window's omnibox popup
/// and warms a spare renderer for a context no render uses again (4 renderers a page).
#[tokio::test]
async fn a_fresh_context_costs_one_renderer_per_page() {
    let site = common::fixtures().await;
    let pool = common::pool(|c| c.spare_page = false);
    let mut leases = Vec::new();
    for n in 0..3 {
        let lease = pool.acquire_page().await.unwrap();
        let page = lease.new_page().await.unwrap();
        page.execute(NavigateParams::new(format!("{site}/page/{n}"))).await.unwrap();
        page.wait_for_navigation().await.unwrap();
        leases.push((lease, page));
    }
    let browser = leases[0].0.browser_pid();
    let renderers = || {
        common::tree(browser)
            .into_iter()
            .filter(|p| std::fs::read(format!("/proc/{p}/cmdline")).is_ok_and(|c| String::from_utf8_lossy(&c).contains("--type=renderer")))
            .count()
    };
    // Spares and popups start within moments of a navigation; give them the time.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // The three pages and the blank tab Chromium starts with.
    assert!(renderers() <= 4, "{} renderer processes for 3 pages", renderers());
    drop(leases);
    pool.shutdown().await;
}

/// A render that gets the browser's spare page (opened before it was asked for) sees nothing
/// of the render before it, and a new spare is opened once it ends; sessions get no spare.
#[tokio::test]
async fn a_spare_page_is_fresh_and_replaced() {
    let site = common::fixtures().await;
    let pool = common::pool(|_| {});
    let spare_ready = |pool: &ace_browser::Pool| pool.status().detail.iter().any(|b| b.spare_ready);
    let wait_for_spare = |pool: ace_browser::Pool| async move {
        for _ in 0..100 {
            if spare_ready(&pool) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no spare page was opened: {:?}", pool.status());
    };
    let first = render::content(
        &pool,
        &req(json!({"url": format!("{site}/echo"), "cookies": [{"name": "secret", "value": "tenant-a"}]})),
        OPEN,
    )
    .await
    .unwrap();
    assert!(first.html.contains("secret=tenant-a"));
    wait_for_spare(pool.clone()).await;
    let lease = pool.acquire_page().await.unwrap();
    assert!(!spare_ready(&pool), "the lease took the spare: {:?}", pool.status());
    drop(lease);
    wait_for_spare(pool.clone()).await;
    // A session opens its own pages: it gets a context without one, and leaves the spare.
    let session = pool.acquire().await.unwrap();
    assert!(spare_ready(&pool));
    drop(session);
    let second = render::content(&pool, &req(json!({"url": format!("{site}/echo")})), OPEN).await.unwrap();
    assert!(!second.html.contains("tenant-a"), "a cookie reached the spare page: {}", second.html);
    // Not at the default size: the spare page is resized for this render.
    let third = render::content(
        &pool,
        &req(json!({"html": "<p id=w></p><script>w.textContent = innerWidth + 'x' + innerHeight</script>", "viewport": {"width": 400, "height": 300}})),
        OPEN,
    )
    .await
    .unwrap();
    assert!(third.html.contains("400x300"), "{}", third.html);
    wait_for_spare(pool.clone()).await;
    let fourth = render::content(&pool, &req(json!({"html": "<p id=w></p><script>w.textContent = innerWidth + 'x' + innerHeight</script>"})), OPEN)
        .await
        .unwrap();
    assert!(fourth.html.contains("1280x720"), "{}", fourth.html);
    pool.shutdown().await;
}

#[tokio::test]
async fn contexts_are_isolated_between_leases() {
    let site = common::fixtures().await;
    let pool = common::pool(|_| {});
    let first = render::content(
        &pool,
        &req(json!({"url": format!("{site}/echo"), "cookies": [{"name": "secret", "value": "tenant-a"}],
                    "actions": [{"type": "wait", "milliseconds": 1}]})),
        OPEN,
    )
    .await
    .unwrap();
    assert!(first.html.contains("secret=tenant-a"));
    let second = render::content(&pool, &req(json!({"url": format!("{site}/echo")})), OPEN).await.unwrap();
    assert!(!second.html.contains("tenant-a"), "a cookie crossed leases: {}", second.html);
    pool.shutdown().await;
}

/// Many renders stay within the configured process and memory bounds, recycle browsers, and
/// leave no Chromium behind after shutdown. CI runs `RENDERS` (default 100); the
/// benchmark (`bench/render.sh`) runs 1,000.
#[tokio::test]
async fn many_renders_stay_within_bounds_and_shutdown_leaves_nothing() {
    let site = common::fixtures().await;
    let renders: usize = std::env::var("RENDERS").ok().and_then(|s| s.parse().ok()).unwrap_or(100);
    let pool = common::pool(|c| {
        c.max_browsers = 2;
        c.max_contexts_per_browser = 4;
        c.pages_per_browser = 30;
    });
    let started = Instant::now();
    let mut seen = std::collections::BTreeSet::new();
    let mut peak_memory = 0u64;
    let mut peak_browsers = 0usize;
    let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(6));
    let mut tasks = Vec::new();
    for i in 0..renders {
        let permit = sem.clone().acquire_owned().await.unwrap();
        let pool2 = pool.clone();
        let url = format!("{site}/page/{i}");
        tasks.push(tokio::spawn(async move {
            let r = render::content(&pool2, &req(json!({"url": url})), OPEN).await;
            drop(permit);
            r.map(|p| p.html.contains(&format!("Page {i}")))
        }));
        if i % 20 == 0 {
            for pid in pool.pids() {
                seen.extend(common::tree(pid));
            }
            peak_memory = peak_memory.max(pool.memory_bytes());
            peak_browsers = peak_browsers.max(pool.status().browsers);
        }
    }
    for t in tasks {
        assert!(t.await.unwrap().expect("render"), "wrong page rendered");
    }
    settle(&pool).await;
    let status = pool.status();
    eprintln!(
        "{renders} renders in {:?}; peak {peak_browsers} browsers, peak memory {} MiB; {status:?}",
        started.elapsed(),
        peak_memory >> 20
    );
    assert_eq!(status.pages_served, renders as u64);
    assert!(status.restarts as usize >= renders / 30 - 2, "browsers were recycled: {status:?}");
    // Draining browsers may briefly add to max_browsers; at rest we are within it.
    assert!(peak_browsers <= 4, "peak {peak_browsers} browsers");
    assert!(status.browsers <= 2, "{status:?}");
    assert!(peak_memory < 1536 << 20, "peak memory {} MiB", peak_memory >> 20);
    let memory_now = pool.memory_bytes();
    assert!(memory_now < 1024 << 20, "memory at rest {} MiB", memory_now >> 20);
    for pid in pool.pids() {
        seen.extend(common::tree(pid));
    }
    pool.shutdown().await;
    assert_eq!(pool.status().browsers, 0);
    // Children of a closed browser exit just after it; give them a moment. A pid counts as
    // left only if it is still Chromium (pids are reused on a busy machine).
    let mut left: Vec<u32> = Vec::new();
    for _ in 0..30 {
        left = seen.iter().copied().filter(|p| common::is_chromium(*p)).collect();
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(left.is_empty(), "Chromium processes left after shutdown: {left:?}");
    assert!(matches!(pool.acquire().await, Err(BrowserError::ShutDown)));
}
