//! A crawl job killed with SIGKILL resumes from its stored frontier when the restarted
//! service reclaims it: every page fetched exactly once overall, every result recorded once.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use ace_fixtures::crawl_sites::CrawlSiteConfig;
use ace_fixtures::FixtureServer;
use common::{eventually, Service};
use serde_json::{json, Value};

const MINUTE: Duration = Duration::from_secs(60);
const CHAIN_PAGES: u64 = 12;

fn chain_hits(site: &FixtureServer) -> HashMap<String, u64> {
    site.state.hits.lock().unwrap().iter().filter(|(p, _)| p.starts_with("/chain/")).map(|(p, n)| (p.clone(), *n)).collect()
}

#[tokio::test]
async fn killed_crawl_resumes_without_refetching_or_losing_pages() {
    let dir = tempfile::tempdir().unwrap();
    let site = FixtureServer::start_crawl_site(CrawlSiteConfig::default()).await;
    let env = [("ACE_LEASE_SECONDS", "2")];
    let mut svc = Service::start(dir.path(), &env);
    let (_, key) = svc.tenant("pro").await;
    // A second between requests: room to kill the process between two pages even when the
    // machine is loaded and a status poll is slow.
    let options = json!({ "delay": 1.0, "includePaths": ["^/chain/"], "limit": 100 });
    let id = svc.submit_ok(&key, json!({ "kind": "crawl", "url": site.url("/chain/0"), "options": options })).await;

    // Kill once at least 4 pages are recorded and every page requested so far is recorded,
    // so no request is in flight (the next one is due up to a second later).
    eventually(MINUTE, "four pages recorded and none in flight", || async {
        let doc = svc.job(&key, &id).await;
        let done = doc["progress"]["done"].as_u64().unwrap_or(0);
        let requested: u64 = chain_hits(&site).values().sum();
        (done >= 4 && requested == done).then_some(())
    })
    .await;
    svc.kill9();
    let before = chain_hits(&site);
    assert!(before.len() < CHAIN_PAGES as usize, "killed mid-crawl: {before:?}");

    let svc = Service::start(dir.path(), &env);
    let doc = svc.wait_status(&key, &id, &["succeeded", "failed"], MINUTE).await;
    assert_eq!(doc["status"], "succeeded", "{doc}");
    assert_eq!(doc["attempts"], 2, "taken over after the lease ran out");

    let hits = chain_hits(&site);
    assert_eq!(hits.len() as u64, CHAIN_PAGES, "every page reached: {hits:?}");
    for (path, n) in &hits {
        assert_eq!(*n, 1, "{path} fetched {n} times over both processes");
    }
    let results = svc.client.get(svc.url(&format!("/v1/jobs/{id}/results"))).bearer_auth(&key).send().await.unwrap().text().await.unwrap();
    let mut urls: Vec<String> = results
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["url"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(urls.len() as u64, CHAIN_PAGES, "one result per page: {results}");
    urls.sort();
    urls.dedup();
    assert_eq!(urls.len() as u64, CHAIN_PAGES, "no page recorded twice");
    assert_eq!(doc["progress"]["done"], CHAIN_PAGES, "{doc}");
    let (_, usage) = svc.get_json(&key, "/v1/usage").await;
    assert_eq!(usage["usage"]["pages_fetched"], CHAIN_PAGES, "pages of both attempts billed once: {usage}");
}
