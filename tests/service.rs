//! Black-box tests of `ace-web serve`: the real binary on free loopback ports, driven over
//! HTTP, against fixture sites served by this test process.

mod common;

use std::time::Duration;

use ace_fixtures::FixtureServer;
use common::{eventually, Service, ADMIN_KEY};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

const MINUTE: Duration = Duration::from_secs(60);

#[tokio::test]
async fn scrape_job_lifecycle_results_artifacts_and_events() {
    let dir = tempfile::tempdir().unwrap();
    let site = FixtureServer::start().await;
    let svc = Service::start(dir.path(), &[]);
    let (_, key) = svc.tenant("pro").await;

    let id = svc.submit_ok(&key, json!({ "kind": "scrape", "url": site.url("/page/alpha") })).await;
    let doc = svc.wait_status(&key, &id, &["succeeded", "failed"], MINUTE).await;
    assert_eq!(doc["status"], "succeeded", "{doc}");
    assert_eq!(doc["progress"], json!({ "done": 1, "total": 1 }));
    assert_eq!(doc["attempts"], 1);
    for field in ["created_at", "started_at", "finished_at"] {
        assert!(doc[field].as_str().is_some_and(|t| t.ends_with('Z')), "{field}: {doc}");
    }

    // Results: one JSON line with the page's facts.
    let r = svc.client.get(svc.url(&format!("/v1/jobs/{id}/results?format=jsonl"))).bearer_auth(&key).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "application/x-ndjson");
    let text = r.text().await.unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert_eq!(lines[0]["title"], "Page alpha");
    assert_eq!(lines[0]["statusCode"], 200);
    assert!(lines[0]["rawHtml"].as_str().unwrap().contains("<h1>Page alpha</h1>"));
    assert!(lines[0]["headers"]["content-type"].as_str().unwrap().starts_with("text/html"));

    // The same as CSV, with a header row.
    let csv = svc.client.get(svc.url(&format!("/v1/jobs/{id}/results?format=csv"))).bearer_auth(&key).send().await.unwrap().text().await.unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let row = reader.records().next().unwrap().unwrap();
    let title_col = headers.iter().position(|h| h == "title").unwrap();
    assert_eq!(&row[title_col], "Page alpha");

    // The raw page as an artifact, listed in the document.
    assert_eq!(doc["artifacts"][0]["name"], "page.html");
    let r = svc.client.get(svc.url(&format!("/v1/jobs/{id}/artifacts/page.html"))).bearer_auth(&key).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("Page alpha"));
    let (status, err) = svc.get_json(&key, &format!("/v1/jobs/{id}/artifacts/..%2Fservice.log")).await;
    assert_eq!((status, err["code"].as_str()), (404, Some("not_found")));

    // Events, replayed in full for a finished job: progress..., page, done.
    let body = svc.client.get(svc.url(&format!("/v1/jobs/{id}/events"))).bearer_auth(&key).send().await.unwrap().text().await.unwrap();
    let kinds: Vec<&str> = body.lines().filter_map(|l| l.strip_prefix("event: ")).collect();
    assert_eq!(kinds.first(), Some(&"progress"), "{body}");
    assert!(kinds.contains(&"page"), "{body}");
    assert_eq!(kinds.last(), Some(&"done"), "{body}");
    let done: Value = serde_json::from_str(body.lines().rev().find_map(|l| l.strip_prefix("data: ")).unwrap()).unwrap();
    assert_eq!(done["status"], "succeeded");
    assert_eq!(site.state.hits("/page/alpha"), 1, "fetched exactly once");
}

#[tokio::test]
async fn crawl_job_records_every_page_of_the_site_once() {
    let dir = tempfile::tempdir().unwrap();
    let site = FixtureServer::start().await;
    let svc = Service::start(dir.path(), &[]);
    let (_, key) = svc.tenant("pro").await;
    let id = svc
        .submit_ok(&key, json!({ "kind": "crawl", "url": site.url("/site/index.html"), "options": { "excludePaths": ["^/site/cal/"] } }))
        .await;
    let doc = svc.wait_status(&key, &id, &["succeeded", "failed"], MINUTE).await;
    assert_eq!(doc["status"], "succeeded", "{doc}");
    let text = svc.client.get(svc.url(&format!("/v1/jobs/{id}/results"))).bearer_auth(&key).send().await.unwrap().text().await.unwrap();
    let records: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let mut urls: Vec<&str> = records.iter().map(|r| r["url"].as_str().unwrap()).collect();
    urls.sort();
    urls.dedup();
    assert_eq!(urls.len(), records.len(), "one record per URL");
    assert!(records.iter().any(|r| r["title"] == "deep/d.html" && r["depth"] == 2), "{text}");
    assert!(records.iter().all(|r| !r["url"].as_str().unwrap().contains("/cal/")), "excludePaths applies");
    assert_eq!(doc["progress"]["done"], records.len() as i64);
    let (_, usage) = svc.get_json(&key, "/v1/usage").await;
    assert_eq!(usage["usage"]["pages_fetched"], records.len() as i64, "every page is billed");
    for options in [json!({ "includePaths": ["("] }), json!({ "limit": -1 }), json!({ "timeout": "soon" })] {
        let r = svc.submit(&key, json!({ "kind": "crawl", "url": site.url("/site/"), "options": options })).await;
        assert_eq!(r.status(), 400, "{options}");
        assert_eq!(r.json::<Value>().await.unwrap()["code"], "invalid_request");
    }
}

#[tokio::test]
async fn events_stream_live_and_resume_after_last_event_id() {
    let dir = tempfile::tempdir().unwrap();
    let site = FixtureServer::start().await;
    let svc = Service::start(dir.path(), &[]);
    let (_, key) = svc.tenant("pro").await;
    let id = svc.submit_ok(&key, json!({ "kind": "scrape", "url": site.url("/slow/700") })).await;

    // Subscribed while the job runs: the stream ends by itself after `done`.
    let started = std::time::Instant::now();
    let body = svc.client.get(svc.url(&format!("/v1/jobs/{id}/events"))).bearer_auth(&key).send().await.unwrap().text().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(400), "the stream waited for the job");
    let ids: Vec<i64> = body.lines().filter_map(|l| l.strip_prefix("id: ")).map(|v| v.parse().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase: {ids:?}");
    assert!(body.contains("event: done"), "{body}");

    // Resuming after the second event replays only what came after it.
    let resumed = svc
        .client
        .get(svc.url(&format!("/v1/jobs/{id}/events")))
        .bearer_auth(&key)
        .header("last-event-id", ids[1].to_string())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let resumed_ids: Vec<i64> = resumed.lines().filter_map(|l| l.strip_prefix("id: ")).map(|v| v.parse().unwrap()).collect();
    assert_eq!(resumed_ids, ids[2..].to_vec());
}

fn verify_signature(secret: &str, body: &[u8], header: &str) -> bool {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    header == format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[tokio::test]
async fn webhook_is_signed_retried_and_delivered_once() {
    let dir = tempfile::tempdir().unwrap();
    let site = FixtureServer::start().await;
    let svc = Service::start(dir.path(), &[]);
    let (_, key) = svc.tenant("pro").await;
    let hook = site.url("/webhook/fail-first/1");
    let id = svc
        .submit_ok(&key, json!({ "kind": "scrape", "url": site.url("/page/hooked"), "webhook": { "url": hook, "secret": "s3cret" } }))
        .await;
    svc.wait_status(&key, &id, &["succeeded"], MINUTE).await;

    let deliveries = eventually(MINUTE, "a successful webhook delivery", || async {
        let d = site.state.deliveries.lock().unwrap().clone();
        d.iter().any(|d| d.answered == 200).then_some(d)
    })
    .await;
    assert_eq!(deliveries.len(), 2, "first answered 500 and was retried once");
    assert_eq!(deliveries[0].answered, 500);
    for d in &deliveries {
        let sig = d.headers["x-ace-signature"].to_str().unwrap();
        assert!(verify_signature("s3cret", &d.body, sig), "signature {sig} must be HMAC-SHA256 of the body");
        assert!(!verify_signature("wrong", &d.body, sig));
        let doc: Value = serde_json::from_slice(&d.body).unwrap();
        assert_eq!((doc["id"].as_str(), doc["status"].as_str()), (Some(id.as_str()), Some("succeeded")));
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(site.state.deliveries.lock().unwrap().len(), 2, "no delivery after the successful one");
}

#[tokio::test]
async fn cancel_running_job_and_refuse_cancelling_finished_one() {
    let dir = tempfile::tempdir().unwrap();
    let site = FixtureServer::start().await;
    let svc = Service::start(dir.path(), &[]);
    let (_, key) = svc.tenant("pro").await;
    let id = svc
        .submit_ok(&key, json!({ "kind": "scrape", "url": site.url("/slow/3000"), "webhook": { "url": site.url("/webhook") } }))
        .await;
    svc.wait_status(&key, &id, &["running"], MINUTE).await;

    let r = svc.client.delete(svc.url(&format!("/v1/jobs/{id}"))).bearer_auth(&key).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let doc: Value = r.json().await.unwrap();
    assert_eq!(doc["status"], "cancelled");

    // It stays cancelled after the page would have arrived, and produced no result.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let doc = svc.job(&key, &id).await;
    assert_eq!(doc["status"], "cancelled", "{doc}");
    let results = svc.client.get(svc.url(&format!("/v1/jobs/{id}/results"))).bearer_auth(&key).send().await.unwrap().text().await.unwrap();
    assert_eq!(results, "", "a cancelled attempt writes no results");
    let deliveries = site.state.deliveries.lock().unwrap().clone();
    assert_eq!(deliveries.len(), 1, "the cancellation is announced once");
    assert_eq!(serde_json::from_slice::<Value>(&deliveries[0].body).unwrap()["status"], "cancelled");

    let r = svc.client.delete(svc.url(&format!("/v1/jobs/{id}"))).bearer_auth(&key).send().await.unwrap();
    assert_eq!(r.status(), 409);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "job_finished");
}

#[tokio::test]
async fn tenants_are_isolated_and_revoked_keys_stop_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let site = FixtureServer::start().await;
    let svc = Service::start(dir.path(), &[]);
    let (a_id, a_key) = svc.tenant("pro").await;
    let (_, b_key) = svc.tenant("pro").await;
    let id = svc.submit_ok(&a_key, json!({ "kind": "scrape", "url": site.url("/page/private") })).await;
    svc.wait_status(&a_key, &id, &["succeeded"], MINUTE).await;

    for path in [
        format!("/v1/jobs/{id}"),
        format!("/v1/jobs/{id}/results"),
        format!("/v1/jobs/{id}/events"),
        format!("/v1/jobs/{id}/artifacts/page.html"),
        format!("/v1/agents/tasks?job={id}"),
        format!("/v1/tenants/{a_id}/keys"),
    ] {
        let (status, body) = svc.get_json(&b_key, &path).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert_eq!(body["code"], "not_found");
    }
    let r = svc.client.delete(svc.url(&format!("/v1/jobs/{id}"))).bearer_auth(&b_key).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let (_, list) = svc.get_json(&b_key, "/v1/jobs").await;
    assert_eq!(list["jobs"], json!([]), "B lists none of A's jobs");

    // A second key for A works; revoking it stops it on the next request.
    let r = svc.client.post(svc.url(&format!("/v1/tenants/{a_id}/keys"))).bearer_auth(&a_key).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    let second = created["api_key"].as_str().unwrap();
    assert_eq!(svc.get_json(second, "/v1/jobs").await.0, 200);
    let (_, keys) = svc.get_json(&a_key, &format!("/v1/tenants/{a_id}/keys")).await;
    let listed = keys["keys"].as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|k| k.get("api_key").is_none() && k["prefix"].as_str().unwrap().len() == 12));
    let r = svc.client.delete(svc.url(&format!("/v1/keys/{}", created["id"].as_str().unwrap()))).bearer_auth(&a_key).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let (status, body) = svc.get_json(second, "/v1/jobs").await;
    assert_eq!((status, body["code"].as_str()), (401, Some("unauthorized")));
    assert_eq!(svc.get_json(&a_key, "/v1/jobs").await.0, 200, "the first key still works");

    // The agents' task log shows who did the job.
    let (_, tasks) = svc.get_json(&a_key, &format!("/v1/agents/tasks?job={id}")).await;
    assert_eq!(tasks["tasks"][0]["agent"], "scraper");
    assert_eq!(tasks["tasks"][0]["status"], "succeeded");
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after_and_quota_402() {
    let dir = tempfile::tempdir().unwrap();
    let site = FixtureServer::start().await;
    let svc = Service::start(
        dir.path(),
        &[
            ("ACE_PLANS__TINY__REQUESTS_PER_MINUTE", "3"),
            ("ACE_PLANS__TINY__CONCURRENT_JOBS", "1"),
            ("ACE_PLANS__TINY__BROWSER_SESSIONS", "1"),
            ("ACE_PLANS__TINY__PAGES_PER_MONTH", "1000"),
            ("ACE_PLANS__ONEPAGE__REQUESTS_PER_MINUTE", "600"),
            ("ACE_PLANS__ONEPAGE__CONCURRENT_JOBS", "1"),
            ("ACE_PLANS__ONEPAGE__BROWSER_SESSIONS", "1"),
            ("ACE_PLANS__ONEPAGE__PAGES_PER_MONTH", "1"),
        ],
    );
    let (_, tiny) = svc.tenant("tiny").await;
    for _ in 0..3 {
        assert_eq!(svc.get_json(&tiny, "/v1/jobs").await.0, 200);
    }
    let r = svc.client.get(svc.url("/v1/jobs")).bearer_auth(&tiny).send().await.unwrap();
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=20).contains(&wait), "Retry-After {wait}");
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "rate_limited");
    let (_, other) = svc.tenant("tiny").await;
    assert_eq!(svc.get_json(&other, "/v1/jobs").await.0, 200, "another tenant has its own bucket");

    let (_, one) = svc.tenant("onepage").await;
    let id = svc.submit_ok(&one, json!({ "kind": "scrape", "url": site.url("/page/one") })).await;
    svc.wait_status(&one, &id, &["succeeded"], MINUTE).await;
    let r = svc.submit(&one, json!({ "kind": "scrape", "url": site.url("/page/two") })).await;
    assert_eq!(r.status(), 402);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "quota_exceeded");
    let (_, usage) = svc.get_json(&one, "/v1/usage").await;
    assert_eq!(usage["usage"]["pages_fetched"], 1, "{usage}");
    assert_eq!(usage["pages_this_month"], 1);
}

#[tokio::test]
async fn bad_input_gets_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let svc = Service::start(dir.path(), &[("ACE_MAX_REQUEST_BYTES", "4096")]);
    let (_, key) = svc.tenant("pro").await;
    let post = |body: String, content_type: &'static str| {
        svc.client.post(svc.url("/v1/jobs")).bearer_auth(&key).header("content-type", content_type).body(body).send()
    };
    let cases: Vec<(reqwest::Response, u16, &str)> = vec![
        (post("{\"kind\": ".into(), "application/json").await.unwrap(), 400, "invalid_json"),
        (post("{\"kind\": 5, \"url\": \"http://x/\"}".into(), "application/json").await.unwrap(), 400, "invalid_request"),
        (post("{\"url\": \"http://x/\"}".into(), "application/json").await.unwrap(), 400, "invalid_request"),
        (post("kind=scrape".into(), "text/plain").await.unwrap(), 415, "unsupported_media_type"),
        (post(format!("{{\"kind\":\"scrape\",\"url\":\"http://a/{}\"}}", "x".repeat(8000)), "application/json").await.unwrap(), 413, "payload_too_large"),
        (post("{\"kind\":\"mine\",\"url\":\"http://a/\"}".into(), "application/json").await.unwrap(), 400, "invalid_kind"),
        (post("{\"kind\":\"extract\",\"url\":\"http://a/\"}".into(), "application/json").await.unwrap(), 501, "not_implemented"),
        (post("{\"kind\":\"scrape\",\"url\":\"not a url\"}".into(), "application/json").await.unwrap(), 400, "invalid_url"),
        (post("{\"kind\":\"scrape\",\"url\":\"file:///etc/passwd\"}".into(), "application/json").await.unwrap(), 400, "invalid_url"),
        (post("{\"kind\":\"scrape\",\"url\":\"http://a/\",\"options\":[1]}".into(), "application/json").await.unwrap(), 400, "invalid_request"),
    ];
    for (response, status, code) in cases {
        assert_eq!(response.status().as_u16(), status, "{code}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["success"], false);
        assert_eq!(body["code"], code, "{body}");
        assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()));
    }
    // Unknown fields are ignored, not rejected.
    let r = post("{\"kind\":\"scrape\",\"url\":\"http://127.0.0.1:9/\",\"origin\":\"sdk\"}".into(), "application/json").await.unwrap();
    assert_eq!(r.status(), 202);
    // Auth, routes and methods answer in the same shape.
    for (r, status, code) in [
        (svc.client.get(svc.url("/v1/jobs")).send().await.unwrap(), 401, "unauthorized"),
        (svc.client.get(svc.url("/v1/jobs")).bearer_auth("ace_nope_nope_nope").send().await.unwrap(), 401, "unauthorized"),
        (svc.client.get(svc.url("/v1/nothing")).send().await.unwrap(), 404, "not_found"),
        (svc.client.put(svc.url("/v1/jobs")).bearer_auth(&key).send().await.unwrap(), 405, "method_not_allowed"),
        (svc.client.post(svc.url("/v1/tenants")).bearer_auth(&key).json(&json!({"name": "x"})).send().await.unwrap(), 403, "forbidden"),
        (svc.client.get(svc.url("/v1/jobs?cursor=abc")).bearer_auth(&key).send().await.unwrap(), 400, "invalid_cursor"),
        (svc.client.get(svc.url("/v1/jobs?limit=1000")).bearer_auth(&key).send().await.unwrap(), 400, "invalid_request"),
    ] {
        assert_eq!(r.status().as_u16(), status, "{code}");
        assert_eq!(r.json::<Value>().await.unwrap()["code"], code);
    }
    let r = svc.client.post(svc.url("/v1/tenants")).bearer_auth(ADMIN_KEY).json(&json!({"name": "x", "plan": "gold"})).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.json::<Value>().await.unwrap()["error"].as_str().unwrap().contains("gold"));
}

#[tokio::test]
async fn idempotency_keys_and_cursor_paging() {
    let dir = tempfile::tempdir().unwrap();
    let site = FixtureServer::start().await;
    let svc = Service::start(dir.path(), &[]);
    let (_, key) = svc.tenant("pro").await;
    let body = json!({ "kind": "scrape", "url": site.url("/page/once"), "idempotency_key": "order-42" });
    let first = svc.submit_ok(&key, body.clone()).await;
    let again = svc.submit_ok(&key, body).await;
    assert_eq!(first, again, "the same key and request name the same job");
    let r = svc.submit(&key, json!({ "kind": "scrape", "url": site.url("/page/other"), "idempotency_key": "order-42" })).await;
    assert_eq!(r.status(), 409);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "idempotency_conflict");
    svc.wait_status(&key, &first, &["succeeded"], MINUTE).await;
    assert_eq!(site.state.hits("/page/once"), 1);

    let mut ids = vec![first];
    for n in 0..4 {
        ids.push(svc.submit_ok(&key, json!({ "kind": "scrape", "url": site.url(&format!("/page/p{n}")) })).await);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/jobs?limit=2&cursor={c}"),
            None => "/v1/jobs?limit=2".to_owned(),
        };
        let (status, page) = svc.get_json(&key, &path).await;
        assert_eq!(status, 200);
        seen.extend(page["jobs"].as_array().unwrap().iter().map(|j| j["id"].as_str().unwrap().to_owned()));
        match page.get("next_cursor").and_then(Value::as_str) {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    ids.reverse();
    assert_eq!(seen, ids, "newest first, each exactly once across pages");
    let (_, only) = svc.get_json(&key, "/v1/jobs?kind=crawl").await;
    assert_eq!(only["jobs"], json!([]));
}

#[tokio::test]
async fn network_errors_are_retried_with_backoff_until_success() {
    let dir = tempfile::tempdir().unwrap();
    let site = FixtureServer::start().await;
    let svc = Service::start(dir.path(), &[]);
    let (_, key) = svc.tenant("pro").await;
    let id = svc.submit_ok(&key, json!({ "kind": "scrape", "url": site.url("/broken-first/2") })).await;
    let doc = svc.wait_status(&key, &id, &["succeeded", "failed"], MINUTE).await;
    assert_eq!(doc["status"], "succeeded", "{doc}");
    assert_eq!(doc["attempts"], 3);
    assert_eq!(site.state.hits("/broken-first/2"), 3);
    let (_, tasks) = svc.get_json(&key, &format!("/v1/agents/tasks?job={id}")).await;
    let statuses: Vec<&str> = tasks["tasks"].as_array().unwrap().iter().map(|t| t["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["failed", "failed", "succeeded"]);

    // A target that never answers fails for good after max_attempts, with the reason.
    let closed = ace_fixtures::ClosedPort::new();
    let id = svc.submit_ok(&key, json!({ "kind": "scrape", "url": format!("http://127.0.0.1:{}/", closed.port()) })).await;
    let doc = svc.wait_status(&key, &id, &["succeeded", "failed"], MINUTE).await;
    assert_eq!(doc["status"], "failed");
    assert_eq!(doc["attempts"], 3);
    assert_eq!(doc["error_code"], "network_error");
    assert!(doc["error"].as_str().unwrap().contains("after 3 attempts"), "{doc}");
}

#[tokio::test]
async fn private_targets_are_refused_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let site = FixtureServer::start().await;
    let svc = Service::start(dir.path(), &[("ACE_ALLOW_PRIVATE_NETWORKS", "0")]);
    let (_, key) = svc.tenant("pro").await;
    let port = site.addr.port();
    for url in [
        format!("http://127.0.0.1:{port}/page/x"),
        format!("http://localhost:{port}/page/x"),
        format!("http://[::1]:{port}/"),
        "http://10.0.0.7/".to_owned(),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
    ] {
        let r = svc.submit(&key, json!({ "kind": "scrape", "url": url })).await;
        assert_eq!(r.status(), 403, "{url}");
        assert_eq!(r.json::<Value>().await.unwrap()["code"], "target_forbidden", "{url}");
    }
    let r = svc.submit(&key, json!({ "kind": "scrape", "url": "http://example.com/", "webhook": { "url": format!("http://127.0.0.1:{port}/webhook") } })).await;
    assert_eq!(r.status(), 403, "webhooks are guarded too");
    assert_eq!(site.state.hits("/page/x"), 0);
}

#[tokio::test]
async fn health_metrics_dashboard_and_pending_services() {
    let dir = tempfile::tempdir().unwrap();
    let site = FixtureServer::start().await;
    let svc = Service::start(dir.path(), &[]);
    let (_, key) = svc.tenant("pro").await;
    let id = svc.submit_ok(&key, json!({ "kind": "scrape", "url": site.url("/page/m") })).await;
    svc.wait_status(&key, &id, &["succeeded"], MINUTE).await;

    let c = &svc.client;
    assert_eq!(c.get(format!("{}/healthz", svc.health)).send().await.unwrap().status(), 200);
    let ready: Value = c.get(format!("{}/readyz", svc.health)).send().await.unwrap().json().await.unwrap();
    assert_eq!(ready["status"], "ready");
    let metrics = c.get(format!("{}/metrics", svc.health)).send().await.unwrap().text().await.unwrap();
    for needle in [
        "ace_http_requests_total{method=\"POST\",route=\"/v1/jobs\",service=\"orchestrator\",status=\"202\"} 1",
        "ace_jobs{status=\"succeeded\"} 1",
        "ace_queue_depth 0",
        "ace_job_duration_seconds_count{kind=\"scrape\"} 1",
    ] {
        assert!(metrics.contains(needle), "missing {needle} in\n{metrics}");
    }
    assert!(!metrics.contains(&key[..12]) && !metrics.contains("tn_"), "no tenant ids or keys in labels");
    let promtool = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool is needed for this test: apt-get install -y prometheus (scripts/test.sh does)");
    use std::io::Write;
    promtool.stdin.as_ref().unwrap().write_all(metrics.as_bytes()).unwrap();
    let out = promtool.wait_with_output().unwrap();
    assert!(out.status.success(), "promtool check metrics: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));

    let page = c.get(&svc.dashboard).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("orchestrator") && page.contains(&svc.orchestrator), "{page}");
    let r = c.get(&svc.scraper).send().await.unwrap().json::<Value>().await.unwrap();
    assert_eq!(r["service"], "scraper", "{r}");

    let served: Value = c.get(svc.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    let checked_in: Value = serde_json::from_str(include_str!("../orchestrator/openapi.json")).unwrap();
    assert_eq!(served, checked_in, "the served OpenAPI document is the checked-in one");
}

#[test]
fn bad_configuration_is_refused_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    for (env, expected) in [("ACE_WORKERS", "workers"), ("ACE_PORTS__HEALTH", "health"), ("ACE_LEASE_SECONDS", "lease_seconds")] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ace-web"))
            .args(["serve", "--data-dir"])
            .arg(dir.path())
            .env(env, if env == "ACE_LEASE_SECONDS" { "1" } else { "lots" })
            .output()
            .unwrap();
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.to_lowercase().contains(expected), "{env}: {stderr}");
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ace-web")).arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ace-web "));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ace-web")).args(["serve", "--help"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("--data-dir"));
}

#[tokio::test]
async fn extractor_service_and_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let site = FixtureServer::start().await;
    let svc = Service::start(dir.path(), &[]);
    let (_, key) = svc.tenant("pro").await;
    let html = "<html lang=\"en\"><head><title>The title</title><meta name=\"description\" content=\"About it\"></head><body>\
        <nav><a href=\"/\">Home</a> <a href=\"/about\">About</a></nav><article><h1>Main heading</h1>\
        <p>The first paragraph holds the real content of this page, with a <a href=\"/more\">link</a> inside a sentence.</p>\
        <p>A second paragraph follows with more words so that the page has a body worth extracting.</p></article>\
        <footer>Copyright and cookies</footer></body></html>";
    let url = format!("{}/v1/extract", svc.extractor);
    let body = json!({ "html": html, "url": "https://example.com/a/", "formats": ["markdown", "text", "metadata", "links"] });
    let r = svc.client.post(&url).bearer_auth(&key).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let out: Value = r.json().await.unwrap();
    assert_eq!(out["success"], true);
    let data = &out["data"];
    assert!(data["markdown"].as_str().unwrap().contains("# Main heading"), "{data}");
    assert!(data["text"].as_str().unwrap().contains("The first paragraph"), "{data}");
    assert!(!data["text"].as_str().unwrap().contains("Copyright"), "boilerplate removed: {data}");
    assert_eq!(data["metadata"]["title"], "The title");
    assert!(data["links"].to_string().contains("https://example.com/more"), "links are absolute: {data}");

    // From a URL, fetched through the guard.
    let r = svc.client.post(&url).bearer_auth(&key).json(&json!({ "url": site.url("/page/extracted"), "formats": ["text"] })).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.json::<Value>().await.unwrap()["data"]["text"].as_str().unwrap().contains("Fixture content for Page extracted"));
    // Errors in the API's shape.
    assert_eq!(svc.client.post(&url).json(&body).send().await.unwrap().status(), 401);
    let r = svc.client.post(&url).bearer_auth(&key).json(&json!({ "formats": ["text"] })).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "invalid_request");

    // The command line: HTML on stdin, Markdown on stdout.
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ace-web"))
        .args(["extract", "--format", "markdown", "--url", "https://example.com/a/"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(html.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("# Main heading"));
}
