//! Port 9004 in Firecrawl's shapes, v1 and v2, driven over HTTP against the real binary:
//! scrape formats and errors, crawl start/status/paging/cancel/errors, rendering crawls,
//! webhook events, batch scrape.

mod common;

use std::time::Duration;

use ace_fixtures::js_site::{JS_SITE_DISALLOWED, JS_SITE_PAGES};
use ace_fixtures::FixtureServer;
use common::{eventually, Service};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

const MINUTE: Duration = Duration::from_secs(60);

/// Polls a crawl (or batch) status until it is no longer `scraping`.
async fn finished(svc: &Service, key: &str, path: &str) -> Value {
    eventually(MINUTE, "the job finishes", || async {
        let (_, s) = get(svc, key, path).await;
        (s["status"] != "scraping").then_some(s)
    })
    .await
}

fn signed_with(secret: &str, body: &[u8], header: &str) -> bool {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    header == format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The sentence the script-only site writes into the page at `url`, if it is one of its pages.
fn sentence_of<'a>(site: &FixtureServer, url: &str) -> Option<&'a str> {
    JS_SITE_PAGES.iter().find(|(path, _)| site.url(path) == url).map(|(_, sentence)| *sentence)
}

async fn post(svc: &Service, key: &str, path: &str, body: Value) -> (u16, Value) {
    let r = svc.client.post(format!("{}{path}", svc.scraper)).bearer_auth(key).json(&body).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn get(svc: &Service, key: &str, url: &str) -> (u16, Value) {
    let url = if url.starts_with("http") { url.to_owned() } else { format!("{}{url}", svc.scraper) };
    let r = svc.client.get(url).bearer_auth(key).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn scrape_answers_documents_in_both_versions_and_errors_in_firecrawls_shape() {
    let dir = tempfile::tempdir().unwrap();
    let site = FixtureServer::start().await;
    let svc = Service::start(dir.path(), &[]);
    let (_, key) = svc.tenant("pro").await;

    for version in ["v1", "v2"] {
        let formats = if version == "v1" { json!(["markdown", "html", "rawHtml", "links"]) } else { json!([{"type": "markdown"}, "html", "rawHtml", "links"]) };
        let body = json!({ "url": site.url("/page/alpha"), "formats": formats, "onlyMainContent": true, "origin": "test", "someFutureOption": 1 });
        let (status, out) = post(&svc, &key, &format!("/{version}/scrape"), body).await;
        assert_eq!(status, 200, "{out}");
        assert_eq!(out["success"], true);
        let data = &out["data"];
        assert!(data["markdown"].as_str().unwrap().contains("Page alpha"), "{data}");
        assert!(data["rawHtml"].as_str().unwrap().contains("<h1>Page alpha</h1>"), "{data}");
        assert!(data["html"].as_str().is_some(), "{data}");
        assert!(data["links"].is_array(), "{data}");
        let meta = &data["metadata"];
        assert_eq!(meta["title"], "Page alpha", "{meta}");
        assert_eq!(meta["statusCode"], 200);
        assert_eq!(meta["sourceURL"], site.url("/page/alpha"));
        assert!(meta["scrapeId"].as_str().unwrap().starts_with("job_"), "{meta}");
        assert_eq!(meta["creditsUsed"], 1);
    }
    // Markdown is the default format; a 404 page is still a document, with its status.
    let (status, out) = post(&svc, &key, "/v2/scrape", json!({ "url": site.url("/status/404") })).await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["data"]["metadata"]["statusCode"], 404);
    assert!(out["data"].get("markdown").is_some() && out["data"].get("rawHtml").is_none(), "{out}");

    // includeTags / excludeTags and the selector schema of the json format.
    let (status, out) = post(&svc, &key, "/v1/scrape", json!({ "url": site.url("/page/beta"), "formats": ["markdown", "json"],
        "excludeTags": ["h1"], "onlyMainContent": false, "jsonOptions": {"schema": {"fields": {"heading": {"selector": "h1"}, "title": {"selector": "title"}}}} })).await;
    assert_eq!(status, 200, "{out}");
    assert!(!out["data"]["markdown"].as_str().unwrap().contains("# Page beta"), "{out}");
    assert_eq!(out["data"]["json"], json!({"heading": null, "title": "Page beta"}), "the schema reads the trimmed page: {out}");

    // Errors: {"success": false, "error", "code"} with Firecrawl's statuses.
    let (status, out) = post(&svc, &key, "/v2/scrape", json!({ "formats": ["markdown"] })).await;
    assert_eq!((status, &out["success"]), (400, &json!(false)), "{out}");
    assert!(out["error"].as_str().unwrap().contains("url"), "{out}");
    let (status, out) = post(&svc, &key, "/v2/scrape", json!({ "url": "notaurl" })).await;
    assert_eq!((status, out["code"].as_str()), (400, Some("invalid_url")), "{out}");
    let (status, out) = post(&svc, &key, "/v2/scrape", json!({ "url": site.url("/page/a"), "formats": ["summary"] })).await;
    assert_eq!(status, 400, "{out}");
    assert!(out["error"].as_str().unwrap().contains("summary"), "{out}");
    let (status, out) = post(&svc, &key, "/v2/scrape", json!({ "url": site.url("/slow/5000"), "timeout": 1000 })).await;
    assert_eq!((status, out["code"].as_str()), (408, Some("timeout")), "{out}");
    let (status, _) = post(&svc, "fc-not-a-key", "/v2/scrape", json!({ "url": site.url("/page/a") })).await;
    assert_eq!(status, 401);
    let (status, _) = post(&svc, &key, "/v3/scrape", json!({ "url": site.url("/page/a") })).await;
    assert_eq!(status, 404);
    let r = svc.client.post(format!("{}/v2/scrape", svc.scraper)).bearer_auth(&key).header("content-type", "application/json").body("{oops").send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["success"], false);
    // A refused connection is the page's error, not a hang.
    let closed = ace_fixtures::ClosedPort::new();
    let (status, out) = post(&svc, &key, "/v2/scrape", json!({ "url": format!("http://{}/", closed.addr) })).await;
    assert_eq!(status, 502, "{out}");
    assert_eq!(out["success"], false);
}

#[tokio::test]
async fn crawls_page_through_next_and_cancel_and_errors_answer() {
    let dir = tempfile::tempdir().unwrap();
    let site = FixtureServer::start().await;
    let svc = Service::start(dir.path(), &[]);
    let (_, key) = svc.tenant("pro").await;

    let (status, out) = post(&svc, &key, "/v1/crawl", json!({ "url": site.url("/site/index.html"), "excludePaths": ["^/site/cal/"],
        "limit": 50, "scrapeOptions": {"formats": ["markdown", "links"]}, "origin": "js-sdk@4",
        "webhook": {"url": site.url("/webhook"), "metadata": {"mine": 7}, "events": ["completed", "failed"]} })).await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["success"], true);
    let id = out["id"].as_str().unwrap().to_owned();
    assert_eq!(out["url"], format!("{}/v1/crawl/{id}", svc.scraper));
    let first = eventually(MINUTE, "the crawl completes", || async {
        let (_, s) = get(&svc, &key, &format!("/v1/crawl/{id}")).await;
        (s["status"] != "scraping").then_some(s)
    })
    .await;
    assert_eq!(first["status"], "completed", "{first}");
    assert!(first["expiresAt"].as_str().unwrap().ends_with('Z'));
    let completed = first["completed"].as_i64().unwrap();
    assert!(completed >= 7, "{first}");
    assert!(first.get("next").is_none(), "no next on the last page: {first}");
    let docs = first["data"].as_array().unwrap();
    assert!(docs.iter().all(|d| d["markdown"].is_string() && d["links"].is_array() && d["metadata"]["sourceURL"].is_string()), "{first}");
    assert!(docs.iter().any(|d| d["metadata"]["statusCode"] == 404), "the 404 page is a document with its status");

    // The webhook speaks Firecrawl's event shape, with the caller's metadata.
    let delivered = eventually(MINUTE, "the completion webhook", || async {
        let deliveries = site.state.deliveries.lock().unwrap();
        deliveries.first().map(|d| serde_json::from_slice::<Value>(&d.body).unwrap())
    })
    .await;
    assert_eq!(delivered["type"], "crawl.completed", "{delivered}");
    assert_eq!((delivered["id"].as_str(), &delivered["metadata"], &delivered["success"]), (Some(id.as_str()), &json!({"mine": 7}), &json!(true)));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(site.state.deliveries.lock().unwrap().len(), 1, "only the events asked for: no crawl.started, no crawl.page");

    // Paging: two documents a page, `next` absolute, each skip new, together every document.
    let mut url = format!("{}/v1/crawl/{id}?limit=2", svc.scraper);
    let mut paged = Vec::new();
    let mut skips = std::collections::HashSet::new();
    loop {
        let (status, page) = get(&svc, &key, &url).await;
        assert_eq!(status, 200, "{page}");
        paged.extend(page["data"].as_array().unwrap().iter().cloned());
        let Some(next) = page.get("next").and_then(Value::as_str) else { break };
        assert!(next.starts_with(&format!("{}/v1/crawl/{id}?skip=", svc.scraper)), "{next}");
        assert!(skips.insert(next.to_owned()), "next repeats: {next}");
        url = format!("{next}&limit=2");
    }
    assert_eq!(paged.len(), docs.len());

    // Finished crawls cannot be cancelled (409); the errors endpoint lists failed pages.
    let r = svc.client.delete(format!("{}/v1/crawl/{id}", svc.scraper)).bearer_auth(&key).send().await.unwrap();
    assert_eq!(r.status(), 409);
    let (status, errors) = get(&svc, &key, &format!("/v1/crawl/{id}/errors")).await;
    assert_eq!(status, 200, "{errors}");
    assert!(errors["errors"].is_array() && errors["robotsBlocked"].is_array(), "{errors}");

    // A crawl stays below its start URL's folder unless told to take the whole site.
    for (body, expect_outside) in [(json!({}), false), (json!({"crawlEntireDomain": true}), true), (json!({"allowBackwardLinks": true}), true)] {
        let mut body = body;
        body["url"] = json!(site.url("/site/deep/d.html"));
        let (_, out) = post(&svc, &key, "/v1/crawl", body.clone()).await;
        let id = out["id"].as_str().unwrap().to_owned();
        let done = eventually(MINUTE, "the crawl completes", || async {
            let (_, s) = get(&svc, &key, &format!("/v1/crawl/{id}")).await;
            (s["status"] != "scraping").then_some(s)
        })
        .await;
        let outside = done["data"].as_array().unwrap().iter().any(|d| !d["metadata"]["sourceURL"].as_str().unwrap().contains("/site/deep/"));
        assert_eq!(outside, expect_outside, "{body}: {done}");
    }

    // A crawl with no end is cancelled while it runs.
    let (_, out) = post(&svc, &key, "/v2/crawl", json!({ "url": site.url("/site/cal/2026/1"), "limit": 10000, "maxDiscoveryDepth": 10000,
        "scrapeOptions": {"formats": ["markdown"]}, "crawlEntireDomain": true, "delay": 1 })).await;
    let id = out["id"].as_str().unwrap().to_owned();
    let r = svc.client.delete(format!("{}/v2/crawl/{id}", svc.scraper)).bearer_auth(&key).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "cancelled");
    let (_, s) = get(&svc, &key, &format!("/v2/crawl/{id}")).await;
    assert_eq!(s["status"], "cancelled", "{s}");

    // Another tenant's crawl does not exist for this one; a scrape job is not a crawl.
    let (_, other) = svc.tenant("pro").await;
    assert_eq!(get(&svc, &other, &format!("/v2/crawl/{id}")).await.0, 404);
    let scrape_id = svc.submit_ok(&key, json!({ "kind": "scrape", "url": site.url("/page/x") })).await;
    assert_eq!(get(&svc, &key, &format!("/v2/crawl/{scrape_id}")).await.0, 404);
    // A crawl renders pages or not, but takes no screenshots and runs no actions.
    let (status, out) = post(&svc, &key, "/v2/crawl", json!({ "url": site.url("/site/index.html"), "scrapeOptions": {"formats": ["screenshot"]} })).await;
    assert_eq!(status, 400, "{out}");
}

#[tokio::test]
async fn batch_scrapes_list_invalid_urls_and_read_back_like_crawls() {
    let dir = tempfile::tempdir().unwrap();
    let site = FixtureServer::start().await;
    let svc = Service::start(dir.path(), &[]);
    let (_, key) = svc.tenant("pro").await;
    let closed = ace_fixtures::ClosedPort::new();
    let urls = json!([site.url("/page/one"), site.url("/page/two"), "not a url", format!("http://{}/", closed.addr), site.url("/page/three")]);
    let hook = json!({ "url": site.url("/webhook"), "events": ["started", "page"] });
    let (status, out) = post(&svc, &key, "/v2/batch/scrape", json!({ "urls": urls, "formats": ["markdown"], "origin": "python-sdk@4", "webhook": hook })).await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["invalidURLs"], json!(["not a url"]));
    let id = out["id"].as_str().unwrap().to_owned();
    let done = eventually(MINUTE, "the batch completes", || async {
        let (_, s) = get(&svc, &key, &format!("/v2/batch/scrape/{id}")).await;
        (s["status"] != "scraping").then_some(s)
    })
    .await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["total"], 4);
    assert_eq!(done["completed"], 4);
    let titles: Vec<&str> = done["data"].as_array().unwrap().iter().map(|d| d["metadata"]["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Page one", "Page two", "Page three"], "{done}");
    let (_, errors) = get(&svc, &key, &format!("/v2/batch/scrape/{id}/errors")).await;
    assert_eq!(errors["errors"].as_array().unwrap().len(), 1, "{errors}");
    assert_eq!(errors["errors"][0]["url"], format!("http://{}/", closed.addr));
    let (_, usage) = svc.get_json(&key, "/v1/usage").await;
    assert_eq!(usage["usage"]["pages_fetched"], 3, "each scraped page is billed once: {usage}");
    // The webhook asked for the start and the pages, not the end: a page event per URL, the
    // failed one with its error.
    let events = eventually(MINUTE, "the batch's webhook events", || async {
        let d = site.state.deliveries.lock().unwrap().clone();
        (d.len() >= 5).then(|| d.iter().map(|d| serde_json::from_slice::<Value>(&d.body).unwrap()).collect::<Vec<_>>())
    })
    .await;
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["batch_scrape.started", "batch_scrape.page", "batch_scrape.page", "batch_scrape.page", "batch_scrape.page"], "{events:?}");
    let titles: Vec<&str> = events.iter().filter_map(|e| e["data"][0]["metadata"]["title"].as_str()).collect();
    assert_eq!(titles, ["Page one", "Page two", "Page three"], "{events:?}");
    let failed: Vec<&Value> = events.iter().filter(|e| e["success"] == false).collect();
    assert_eq!(failed.len(), 1, "{events:?}");
    assert!(failed[0]["error"].as_str().is_some_and(|e| !e.is_empty()) && failed[0]["data"] == json!([]), "{events:?}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(site.state.deliveries.lock().unwrap().len(), 5, "no batch_scrape.completed: not asked for");
    let (status, _) = post(&svc, &key, "/v1/batch/scrape", json!({ "urls": [] })).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn scrapes_render_app_shells_take_screenshots_and_run_actions_in_the_browser() {
    let dir = tempfile::tempdir().unwrap();
    let site = FixtureServer::start().await;
    let svc = Service::start(dir.path(), &[]);
    let (_, key) = svc.tenant("pro").await;
    let url = site.url("/app-shell");

    // Over HTTP the page is an empty shell; `auto` notices and renders it.
    let (status, out) = post(&svc, &key, "/v2/scrape", json!({ "url": url, "formats": ["markdown"] })).await;
    assert_eq!(status, 200, "{out}");
    assert!(out["data"]["markdown"].as_str().unwrap().contains("written by JavaScript"), "{out}");
    let (_, never) = post(&svc, &key, "/v2/scrape", json!({ "url": url, "formats": ["markdown"], "render": "never" })).await;
    assert!(!never["data"]["markdown"].as_str().unwrap().contains("written by JavaScript"), "{never}");
    let (status, out) = post(&svc, &key, "/v2/scrape", json!({ "url": url, "formats": ["screenshot"], "render": "never" })).await;
    assert_eq!(status, 400, "a screenshot needs the browser: {out}");

    // Screenshot, actions and markdown from one render.
    let body = json!({ "url": url, "formats": [{"type": "screenshot", "fullPage": true}, "markdown"],
        "actions": [{"type": "wait", "selector": "#more"}, {"type": "click", "selector": "#more"}, {"type": "wait", "milliseconds": 50}] });
    let (status, out) = post(&svc, &key, "/v2/scrape", body).await;
    assert_eq!(status, 200, "{out}");
    assert!(out["data"]["markdown"].as_str().unwrap().contains("Revealed by a click"), "{out}");
    let shot = out["data"]["screenshot"].as_str().unwrap();
    let png = shot.strip_prefix("data:image/png;base64,").expect("a PNG data URL");
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD.decode(png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");

    // An action Firecrawl's cloud has and this service does not is refused by name.
    let (status, out) = post(&svc, &key, "/v2/scrape", json!({ "url": url, "actions": [{"type": "executeJavascript", "script": "1"}] })).await;
    assert_eq!(status, 400, "{out}");
    assert!(out["error"].as_str().unwrap().contains("executeJavascript"), "{out}");
    let (_, usage) = svc.get_json(&key, "/v1/usage").await;
    assert!(usage["usage"]["pages_rendered"].as_i64().unwrap() >= 2, "renders are metered: {usage}");
}

#[tokio::test]
async fn map_lists_sitemap_and_linked_urls_as_v1_strings_and_v2_objects() {
    let dir = tempfile::tempdir().unwrap();
    // Its drip and stall pages hold a link crawl open: the `timeout` bounds each map.
    let site = FixtureServer::start_crawl_site(ace_fixtures::crawl_sites::CrawlSiteConfig::default()).await;
    let svc = Service::start(dir.path(), &[]);
    let (_, key) = svc.tenant("pro").await;

    let (status, v1) = post(&svc, &key, "/v1/map", json!({ "url": site.url("/"), "timeout": 6000, "origin": "python-sdk@4" })).await;
    assert_eq!(status, 200, "{v1}");
    assert_eq!(v1["success"], true);
    let urls: Vec<&str> = v1["links"].as_array().unwrap().iter().map(|l| l.as_str().expect("v1 links are strings")).collect();
    assert!(urls.contains(&site.url("/orphan-1.html").as_str()), "a page only the sitemap names: {urls:?}");
    assert!(urls.contains(&site.url("/about.html").as_str()), "a linked page: {urls:?}");
    let mut unique = urls.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), urls.len(), "no URL twice");

    let (status, v2) = post(&svc, &key, "/v2/map", json!({ "url": site.url("/"), "search": "orphan", "limit": 2, "timeout": 6000 })).await;
    assert_eq!(status, 200, "{v2}");
    let links = v2["links"].as_array().unwrap();
    assert_eq!(links.len(), 2, "{v2}");
    assert!(links.iter().all(|l| l["url"].as_str().unwrap().contains("orphan")), "{v2}");

    let (_, skip) = post(&svc, &key, "/v2/map", json!({ "url": site.url("/"), "sitemap": "skip", "timeout": 6000 })).await;
    assert!(!skip["links"].to_string().contains("orphan-1"), "without sitemaps, orphans stay unknown: {skip}");
    let (status, out) = post(&svc, &key, "/v2/map", json!({ "url": "ftp://example.com/" })).await;
    assert_eq!(status, 400, "{out}");
    let (status, out) = post(&svc, &key, "/v2/map", json!({ "url": site.url("/"), "sitemap": "sometimes" })).await;
    assert_eq!(status, 400, "{out}");
}

#[tokio::test]
async fn crawls_render_script_only_sites_as_render_says() {
    let dir = tempfile::tempdir().unwrap();
    let site = FixtureServer::start_js_site().await;
    let svc = Service::start(dir.path(), &[]);
    let (_, key) = svc.tenant("pro").await;

    // Over HTTP only, the site is its empty shell.
    let (status, out) = post(&svc, &key, "/v2/crawl", json!({ "url": site.url("/"), "scrapeOptions": {"formats": ["markdown"], "render": "never"} })).await;
    assert_eq!(status, 200, "{out}");
    let never = finished(&svc, &key, &format!("/v2/crawl/{}", out["id"].as_str().unwrap())).await;
    assert_eq!((&never["status"], never["data"].as_array().unwrap().len()), (&json!("completed"), 1), "{never}");
    assert!(!never["data"][0]["markdown"].as_str().unwrap().contains(JS_SITE_PAGES[0].1), "{never}");

    // By default (`auto`) app shells are rendered: every page, each with its content.
    let (status, out) = post(&svc, &key, "/v1/crawl", json!({ "url": site.url("/"), "scrapeOptions": {"formats": ["markdown"]} })).await;
    assert_eq!(status, 200, "{out}");
    let auto = finished(&svc, &key, &format!("/v1/crawl/{}", out["id"].as_str().unwrap())).await;
    assert_eq!(auto["status"], "completed", "{auto}");
    let docs = auto["data"].as_array().unwrap();
    assert_eq!(docs.len(), JS_SITE_PAGES.len(), "{auto}");
    for doc in docs {
        let url = doc["metadata"]["sourceURL"].as_str().unwrap();
        let sentence = sentence_of(&site, url).unwrap_or_else(|| panic!("{url} is not a page of the site"));
        assert!(doc["markdown"].as_str().unwrap().contains(sentence), "{doc}");
    }
    assert_eq!(site.state.hits(JS_SITE_DISALLOWED), 0, "robots.txt holds for links found by rendering");

    // The job API's crawl takes `render` too; `always` renders every page, and renders are billed.
    let id = svc.submit_ok(&key, json!({ "kind": "crawl", "url": site.url("/"), "options": {"render": "always"} })).await;
    svc.wait_status(&key, &id, &["succeeded"], MINUTE).await;
    let results = svc.client.get(svc.url(&format!("/v1/jobs/{id}/results"))).bearer_auth(&key).send().await.unwrap().text().await.unwrap();
    let records: Vec<Value> = results.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(records.len(), JS_SITE_PAGES.len(), "{results}");
    assert!(records.iter().all(|r| r["rendered"] == true && r["statusCode"] == 200), "{results}");
    let (_, usage) = svc.get_json(&key, "/v1/usage").await;
    assert_eq!(usage["usage"]["pages_rendered"], 2 * JS_SITE_PAGES.len(), "{usage}");
    let r = svc.submit(&key, json!({ "kind": "crawl", "url": site.url("/"), "options": {"render": "sometimes"} })).await;
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn crawl_webhooks_announce_the_start_every_page_and_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let site = FixtureServer::start_js_site().await;
    let receiver = FixtureServer::start().await;
    let svc = Service::start(dir.path(), &[]);
    let (_, key) = svc.tenant("pro").await;

    // No `events` list: every event. The first delivery fails and is retried.
    let hook = json!({ "url": receiver.url("/webhook/fail-first/1"), "metadata": {"run": 2}, "secret": "s3cret" });
    let (status, out) = post(&svc, &key, "/v2/crawl", json!({ "url": site.url("/"), "scrapeOptions": {"formats": ["markdown"]}, "webhook": hook })).await;
    assert_eq!(status, 200, "{out}");
    let id = out["id"].as_str().unwrap().to_owned();
    let done = finished(&svc, &key, &format!("/v2/crawl/{id}")).await;
    assert_eq!(done["status"], "completed", "{done}");

    let deliveries = eventually(MINUTE, "the webhook's events, the failed one retried", || async {
        let d = receiver.state.deliveries.lock().unwrap().clone();
        let ok = |kind: &str| d.iter().filter(|d| d.answered == 200 && serde_json::from_slice::<Value>(&d.body).unwrap()["type"] == kind).count();
        (ok("crawl.started") == 1 && ok("crawl.completed") == 1 && ok("crawl.page") == JS_SITE_PAGES.len()).then_some(d)
    })
    .await;
    assert_eq!(deliveries.len(), JS_SITE_PAGES.len() + 3, "each event once, and the failed one again");
    let bodies: Vec<Value> = deliveries.iter().map(|d| serde_json::from_slice(&d.body).unwrap()).collect();
    for (d, body) in deliveries.iter().zip(&bodies) {
        let sig = d.headers["x-ace-signature"].to_str().unwrap();
        assert!(signed_with("s3cret", &d.body, sig), "{sig}");
        assert_eq!(d.headers["x-ace-event"].to_str().unwrap(), body["type"].as_str().unwrap());
        assert_eq!((body["id"].as_str(), &body["metadata"], &body["success"]), (Some(id.as_str()), &json!({"run": 2}), &json!(true)), "{body}");
    }
    assert_eq!((deliveries[0].answered.as_u16(), &bodies[0]["type"]), (500, &json!("crawl.started")), "the start comes first");
    let retried = bodies.iter().rposition(|b| b["type"] == "crawl.started").unwrap();
    assert_eq!(bodies[retried]["webhookId"], bodies[0]["webhookId"], "a retry is the same delivery");
    let completed = bodies.iter().position(|b| b["type"] == "crawl.completed").unwrap();
    assert!(bodies.iter().rposition(|b| b["type"] == "crawl.page").unwrap() < completed, "the end after every page");
    let mut announced = Vec::new();
    for page in bodies.iter().filter(|b| b["type"] == "crawl.page") {
        let doc = &page["data"][0];
        let url = doc["metadata"]["sourceURL"].as_str().unwrap();
        assert!(doc["markdown"].as_str().unwrap().contains(sentence_of(&site, url).unwrap()), "{page}");
        announced.push(url.to_owned());
    }
    announced.sort();
    announced.dedup();
    assert_eq!(announced.len(), JS_SITE_PAGES.len(), "one page event per page, with its document");
}
