//! A crawl job's stored frontier against a real SQLite store: pages, done marks and
//! discovered URLs land together and only under the lease; a takeover or a retry keeps them,
//! and the end of the job (success, failure or cancellation) drops them.

use ace_orchestrator::store::*;
use serde_json::json;

const T0: i64 = 1_800_000_000_000;
const LEASE: i64 = 30_000;

fn row(url: &str, seq: i64) -> FrontierRow {
    FrontierRow { url: url.into(), depth: 1, parent: Some("http://e.com/".into()), seq, done: false }
}

/// A store in `dir` with tenant `t`.
async fn store(dir: &std::path::Path) -> SqliteStore {
    let s = SqliteStore::open(&format!("sqlite://{}", dir.join("f.db").display())).await.unwrap();
    let t = TenantRecord { id: "t".into(), name: "t".into(), plan: "pro".into(), created_at: T0 };
    let key = KeyRecord { id: "k".into(), tenant_id: Some("t".into()), prefix: "p".into(), hash: "h".into(), created_at: T0, revoked_at: None };
    s.create_tenant(&t, 10, &key).await.unwrap();
    s
}

/// Queues crawl job `id` at `T0`.
async fn crawl_job(s: &SqliteStore, id: &str) {
    let job = NewJob {
        id: id.into(),
        tenant_id: "t".into(),
        kind: "crawl".into(),
        url: "http://e.com/".into(),
        options: json!({}),
        webhook_url: None,
        webhook_secret: None,
        idempotency_key: None,
        request_hash: id.into(),
        max_attempts: 3,
    };
    s.create_job(&job, T0).await.unwrap();
}

#[tokio::test]
async fn pages_and_their_links_land_together_under_the_lease_and_survive_a_takeover() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path()).await;
    crawl_job(&s, "j").await;
    s.claim_job("A", T0, T0 + LEASE).await.unwrap().unwrap();

    // The start page discovers 1,200 URLs (several multi-row inserts), one of them twice.
    let mut discovered: Vec<FrontierRow> = (0..1200).map(|i| row(&format!("http://e.com/p{i}"), i + 1)).collect();
    discovered.push(row("http://e.com/p7", 5000));
    let rec = json!({ "url": "http://e.com/" });
    assert!(s.add_crawl_page("j", "A", &rec, &rec, "http://e.com/", &discovered).await.unwrap());
    assert!(s.add_crawl_page("j", "A", &json!({ "url": "http://e.com/p0" }), &rec, "http://e.com/p0", &[]).await.unwrap());
    // A stranger's write is fenced out, and changes nothing.
    assert!(!s.add_crawl_page("j", "B", &rec, &rec, "http://e.com/p1", &[row("http://e.com/x", 9999)]).await.unwrap());

    let frontier = s.crawl_frontier("j").await.unwrap();
    assert_eq!(frontier.len(), 1201, "start + 1,200 distinct URLs; the stranger's URL is not there");
    let done: Vec<&str> = frontier.iter().filter(|r| r.done).map(|r| r.url.as_str()).collect();
    assert_eq!(done, ["http://e.com/", "http://e.com/p0"]);
    let p7 = frontier.iter().find(|r| r.url == "http://e.com/p7").unwrap();
    assert_eq!(p7.seq, 8, "the first discovery of a URL stands");
    let queued: Vec<i64> = frontier.iter().filter(|r| !r.done).map(|r| r.seq).collect();
    assert!(queued.windows(2).all(|w| w[0] < w[1]), "queued URLs come back in discovery order");

    // A's lease runs out; C takes over and finds A's results and frontier intact.
    let c = s.claim_job("C", T0 + LEASE + 1, T0 + 2 * LEASE).await.unwrap().unwrap();
    assert_eq!(c.attempts, 2);
    assert_eq!(s.results("j", -1, 100).await.unwrap().len(), 2, "a crawl's recorded pages are kept");
    assert_eq!(s.crawl_frontier("j").await.unwrap().len(), 1201);
    assert!(!s.add_crawl_page("j", "A", &rec, &rec, "http://e.com/p2", &[]).await.unwrap(), "A is fenced out now");
}

#[tokio::test]
async fn the_frontier_outlives_a_retry_and_ends_with_its_job() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path()).await;
    let rec = json!({ "url": "http://e.com/" });
    let links = [row("http://e.com/a", 1), row("http://e.com/b", 2)];
    let retry = Finish::Retry { run_at: T0, code: "network_error".into(), message: "reset".into() };
    let ends = [
        ("ok", Some(Finish::Succeeded { usage: Vec::new(), summary: "done".into() })),
        ("bad", Some(Finish::Failed { code: "invalid_request".into(), message: "no".into() })),
        ("gone", None),
    ];
    for (id, end) in ends {
        crawl_job(&s, id).await;
        // Each job is claimed, records its start page, and fails in a way worth retrying.
        let claimed = s.claim_job(id, T0, T0 + LEASE).await.unwrap().unwrap();
        assert_eq!(claimed.id, id);
        assert!(s.add_crawl_page(id, id, &rec, &rec, "http://e.com/", &links).await.unwrap());
        assert!(s.finish_job(id, id, &retry, T0).await.unwrap().is_some());
        assert_eq!(s.crawl_frontier(id).await.unwrap().len(), 3, "{id}: a retry resumes from the frontier");

        s.claim_job(id, T0 + 1, T0 + LEASE).await.unwrap().unwrap();
        assert_eq!(s.crawl_frontier(id).await.unwrap().len(), 3, "{id}");
        match end {
            Some(finish) => assert!(s.finish_job(id, id, &finish, T0 + 2).await.unwrap().is_some()),
            None => assert!(matches!(s.cancel_job("t", id, T0 + 2).await.unwrap(), CancelOutcome::Cancelled(_))),
        }
        assert!(s.crawl_frontier(id).await.unwrap().is_empty(), "{id}: the frontier ends with the job");
        assert_eq!(s.results(id, -1, 10).await.unwrap().len(), 1, "{id}: the results stay");
    }
}
