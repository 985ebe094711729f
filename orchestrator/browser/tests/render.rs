//! Rendering against real Chromium and fixture pages on loopback.

mod common;

use std::time::{Duration, Instant};

use ace_browser::render::{self, ImageFormat};
use ace_browser::{BrowserError, PdfRequest, RenderRequest, ScreenshotRequest};
use ace_crawlers::FetchGuard;
use serde_json::json;

fn req(v: serde_json::Value) -> RenderRequest {
    serde_json::from_value(v).expect("valid request")
}

const OPEN: FetchGuard = FetchGuard { allow_loopback: true, allow_private: true };

#[tokio::test]
async fn content_that_only_javascript_creates_is_rendered() {
    let site = common::fixtures().await;
    let pool = common::pool(|_| {});
    let page = render::content(&pool, &req(json!({"url": format!("{site}/js"), "waitForSelector": "#late"})), OPEN).await.unwrap();
    assert!(page.html.contains("rendered by javascript"), "{}", page.html);
    assert!(page.html.starts_with("<!DOCTYPE html>"));
    assert_eq!(page.status_code, Some(200));
    assert_eq!(page.final_url, format!("{site}/js"));
    let html = render::content(&pool, &req(json!({"html": "<p id=x>given html</p><script>document.body.append('scripted')</script>"})), OPEN)
        .await
        .unwrap();
    assert!(html.html.contains("given html") && html.html.contains("scripted"), "{}", html.html);
    pool.shutdown().await;
}

#[tokio::test]
async fn pages_that_redirect_themselves_once_loaded_are_followed() {
    let site = common::fixtures().await;
    let pool = common::pool(|_| {});
    // A meta refresh: the screenshot used to wait on the page being left until the timeout.
    let started = Instant::now();
    let moved: ScreenshotRequest = serde_json::from_value(json!({"url": format!("{site}/moved"), "timeout": 15000})).unwrap();
    let shot = render::screenshot(&pool, &moved, OPEN).await;
    let (png, _) = shot.unwrap_or_else(|e| panic!("screenshot of a moved page: {e:?}"));
    assert!(png.starts_with(b"\x89PNG"));
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    let page = render::content(&pool, &req(json!({"url": format!("{site}/moved"), "waitForSelector": "#late"})), OPEN).await.unwrap();
    assert!(page.html.contains("rendered by javascript"), "{}", page.html);
    assert_eq!(page.final_url, format!("{site}/js"));
    // `location.replace` from a script, with the default wait.
    let page = render::content(&pool, &req(json!({"url": format!("{site}/moved-by-script")})), OPEN).await.unwrap();
    assert_eq!(page.final_url, format!("{site}/page/7"));
    assert!(page.html.contains("<h1>Page 7</h1>"), "{}", page.html);
    // Pages that send the browser on and on: followed up to a limit, then given up on with a
    // clear error, unless a capture lands between two of them first. Never the timeout.
    let chain: ScreenshotRequest = serde_json::from_value(json!({"url": format!("{site}/chain/0"), "timeout": 15000})).unwrap();
    let started = Instant::now();
    match render::screenshot(&pool, &chain, OPEN).await {
        Ok((png, _)) => assert!(png.starts_with(b"\x89PNG")),
        Err(BrowserError::Navigation { reason, .. }) => assert!(reason.contains("redirected itself more than 5 times"), "{reason}"),
        Err(other) => panic!("a chain of redirects: {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    pool.shutdown().await;
}

#[tokio::test]
async fn networkidle_on_a_page_that_never_goes_quiet_times_out_cleanly() {
    let site = common::fixtures().await;
    let pool = common::pool(|_| {});
    // Warm the pool so the 2 s budget is spent on the page, not on launching Chromium.
    render::content(&pool, &req(json!({"html": "<p>warm</p>"})), OPEN).await.unwrap();
    let started = Instant::now();
    let r = render::content(&pool, &req(json!({"url": format!("{site}/busy"), "waitUntil": "networkidle", "timeout": 2000})), OPEN).await;
    let took = started.elapsed();
    match r {
        Err(BrowserError::Timeout { awaited, after }) => {
            assert!(awaited.starts_with("networkidle"), "{awaited}");
            assert_eq!(after, Duration::from_millis(2000));
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(took < Duration::from_secs(4), "took {took:?}");
    // `load` on the same page is fine, and the timed-out context was given back.
    render::content(&pool, &req(json!({"url": format!("{site}/busy"), "waitUntil": "load"})), OPEN).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(pool.status().contexts_in_use, 0);
    // A quiet page reaches networkidle.
    let quiet = render::content(&pool, &req(json!({"url": format!("{site}/js"), "waitUntil": "networkidle"})), OPEN).await.unwrap();
    assert!(quiet.html.contains("rendered by javascript"));
    pool.shutdown().await;
}

#[tokio::test]
async fn a_page_stuck_in_a_script_loop_times_out_and_the_browser_serves_on() {
    let pool = common::pool(|_| {});
    render::content(&pool, &req(json!({"html": "<p>warm</p>"})), OPEN).await.unwrap();
    let started = Instant::now();
    // The loop starts after the load event, so what times out is the selector's wait (a loop
    // started by a timer could also beat the load event, and then the load would be awaited).
    let r = render::content(&pool, &req(json!({"html": "<p>spin</p><script>addEventListener('load', () => setTimeout(() => { while (true) {} }, 0))</script>", "waitForSelector": "#never", "timeout": 2000})), OPEN).await;
    assert!(matches!(&r, Err(BrowserError::Timeout { awaited, .. }) if awaited.contains("#never")), "{r:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let ok = render::content(&pool, &req(json!({"html": "<p id=ok>fine</p>"})), OPEN).await.unwrap();
    assert!(ok.html.contains("fine"));
    assert_eq!(pool.status().crashes, 0);
    pool.shutdown().await;
}

#[tokio::test]
async fn alert_confirm_and_prompt_are_dismissed() {
    let site = common::fixtures().await;
    let pool = common::pool(|_| {});
    let page = render::content(&pool, &req(json!({"url": format!("{site}/alert"), "timeout": 10000})), OPEN).await.unwrap();
    assert!(page.html.contains("after dialogs"), "{}", page.html);
    pool.shutdown().await;
}

#[tokio::test]
async fn a_heavy_page_screenshots_full_page_and_thumbnails() {
    let site = common::fixtures().await;
    let pool = common::pool(|_| {});
    // A 16,384-pixel JPEG of a heavy page: minutes on a loaded 2-core machine, not seconds.
    let shot: ScreenshotRequest =
        serde_json::from_value(json!({"url": format!("{site}/heavy"), "fullPage": true, "format": "jpeg", "quality": 60, "timeout": 120000})).unwrap();
    let (bytes, ct) = render::screenshot(&pool, &shot, OPEN).await.unwrap();
    assert_eq!(ct, "image/jpeg");
    let img = image::load_from_memory(&bytes).unwrap();
    assert_eq!(img.width(), 1280);
    assert_eq!(img.height(), 16_384, "full page height, capped");

    for format in ["png", "webp", "jpeg"] {
        let shot: ScreenshotRequest = serde_json::from_value(json!({"url": format!("{site}/js"), "format": format, "thumbnailWidth": 320})).unwrap();
        let (bytes, _) = render::screenshot(&pool, &shot, OPEN).await.unwrap();
        let img = image::load_from_memory(&bytes).unwrap();
        assert_eq!((img.width(), img.height()), (320, 180), "{format}");
    }
    let clip: ScreenshotRequest =
        serde_json::from_value(json!({"html": "<h1>clip</h1>", "clip": {"x": 0, "y": 0, "width": 100, "height": 50}})).unwrap();
    let (bytes, _) = render::screenshot(&pool, &clip, OPEN).await.unwrap();
    let img = image::load_from_memory(&bytes).unwrap();
    assert_eq!((img.width(), img.height()), (100, 50));
    assert_eq!(clip.format, ImageFormat::Png);
    pool.shutdown().await;
}

#[tokio::test]
async fn pdf_actions_headers_cookies_and_user_agent() {
    let site = common::fixtures().await;
    let pool = common::pool(|_| {});
    let pdf: PdfRequest = serde_json::from_value(json!({"url": format!("{site}/page/1")})).unwrap();
    let bytes = render::pdf(&pool, &pdf, OPEN).await.unwrap();
    assert!(bytes.starts_with(b"%PDF"));

    let page = render::content(
        &pool,
        &req(json!({"url": format!("{site}/form"), "actions": [
            {"type": "write", "selector": "#name", "text": "ace"},
            {"type": "press", "key": "Enter"},
            {"type": "click", "selector": "#go"},
            {"type": "scroll", "direction": "down"},
            {"type": "wait", "milliseconds": 50},
            {"type": "waitForSelector", "selector": "#entered"},
        ]})),
        OPEN,
    )
    .await
    .unwrap();
    assert!(page.html.contains("hello ace"), "{}", page.html);
    assert!(page.html.contains("enter pressed"));

    let page = render::content(
        &pool,
        &req(json!({"url": format!("{site}/echo"), "userAgent": "AceTest/1.0", "headers": {"X-Ace-Test": "yes"},
                    "cookies": [{"name": "session", "value": "abc"}]})),
        OPEN,
    )
    .await
    .unwrap();
    assert!(page.html.contains("<p id=\"ua\">AceTest/1.0</p>"), "{}", page.html);
    assert!(page.html.contains("<p id=\"cookie\">session=abc</p>"), "{}", page.html);
    assert!(page.html.contains("<p id=\"x\">yes</p>"), "{}", page.html);

    // A missing element in an action is an action error that names it, after the timeout (long
    // enough that opening the page never runs it out on a loaded machine).
    let r = render::content(&pool, &req(json!({"url": format!("{site}/form"), "timeout": 6000, "actions": [{"type": "click", "selector": "#nope"}]})), OPEN).await;
    match r {
        Err(BrowserError::Timeout { awaited, .. }) => assert!(awaited.contains("#nope"), "{awaited}"),
        other => panic!("{other:?}"),
    }
    pool.shutdown().await;
}

#[tokio::test]
async fn blocked_resources_downloads_and_the_fetch_guard() {
    let site = common::fixtures().await;
    let pool = common::pool(|_| {});
    let page = render::content(&pool, &req(json!({"url": format!("{site}/image"), "blockResources": ["image"]})), OPEN).await.unwrap();
    let img = page.network.iter().find(|n| n.url.ends_with("/pixel.png")).expect("image requested");
    assert!(img.failed.as_deref().unwrap_or("").starts_with("net::ERR_BLOCKED_BY_CLIENT"), "{img:?}");
    let page = render::content(&pool, &req(json!({"url": format!("{site}/image")})), OPEN).await.unwrap();
    assert_eq!(page.network.iter().find(|n| n.url.ends_with("/pixel.png")).unwrap().status, Some(200));

    // Without ACE_ALLOW_PRIVATE_NETWORKS loopback is refused before Chromium sees it.
    let r = render::content(&pool, &req(json!({"url": format!("{site}/js")})), FetchGuard::deny_private()).await;
    assert!(matches!(r, Err(BrowserError::Forbidden(_))), "{r:?}");
    // ... and a page may not pull loopback resources either.
    let r = render::content(&pool, &req(json!({"html": format!("<img src='{site}/pixel.png'>")})), FetchGuard::deny_private()).await.unwrap();
    let img = r.network.iter().find(|n| n.url.ends_with("/pixel.png")).unwrap();
    assert!(img.failed.as_deref().unwrap_or("").starts_with("net::ERR_ACCESS_DENIED"), "{img:?}");

    // A download is refused: the navigation fails instead of writing a file.
    let r = render::content(&pool, &req(json!({"url": format!("{site}/download"), "timeout": 5000})), OPEN).await;
    assert!(r.is_err() || !r.as_ref().unwrap().html.is_empty(), "{r:?}");
    assert!(matches!(render::content(&pool, &req(json!({"url": "file:///etc/passwd"})), OPEN).await, Err(BrowserError::InvalidRequest(_))));
    pool.shutdown().await;
}
