//! The job queue's semantics against a real SQLite store, with explicit clock values so
//! lease expiry and retry times are exact, not slept for.

use ace_finance::{Metric, UsageEvent};
use ace_orchestrator::model::JobStatus;
use ace_orchestrator::store::*;
use serde_json::json;

const T0: i64 = 1_800_000_000_000;
const LEASE: i64 = 30_000;

async fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&format!("sqlite://{}", dir.path().join("q.db").display()))
        .await
        .unwrap();
    (dir, store)
}

async fn tenant(store: &SqliteStore, id: &str, max_jobs: u32) {
    let t = TenantRecord { id: id.into(), name: id.into(), plan: "pro".into(), created_at: T0 };
    let key = KeyRecord {
        id: format!("key_{id}"),
        tenant_id: Some(id.into()),
        prefix: format!("p_{id}"),
        hash: "h".into(),
        created_at: T0,
        revoked_at: None,
    };
    store.create_tenant(&t, max_jobs, &key).await.unwrap();
}

fn job(id: &str, tenant: &str) -> NewJob {
    NewJob {
        id: id.into(),
        tenant_id: tenant.into(),
        kind: "scrape".into(),
        url: "http://example.com/".into(),
        options: json!({}),
        webhook_url: Some("http://example.com/hook".into()),
        webhook_secret: None,
        idempotency_key: None,
        request_hash: id.into(),
        max_attempts: 3,
    }
}

async fn create(store: &SqliteStore, j: NewJob, at: i64) -> JobRecord {
    match store.create_job(&j, at).await.unwrap() {
        CreateOutcome::Created(r) => r,
        other => panic!("expected a new job, got {other:?}"),
    }
}

#[tokio::test]
async fn oldest_first_leases_expire_and_stale_workers_are_fenced_out() {
    let (_d, s) = store().await;
    tenant(&s, "t", 10).await;
    create(&s, job("j1", "t"), T0).await;
    create(&s, job("j2", "t"), T0 + 1).await;

    let a = s.claim_job("A", T0 + 10, T0 + 10 + LEASE).await.unwrap().unwrap();
    assert_eq!((a.id.as_str(), a.attempts, a.status), ("j1", 1, JobStatus::Running));
    let b = s.claim_job("B", T0 + 10, T0 + 10 + LEASE).await.unwrap().unwrap();
    assert_eq!(b.id, "j2");
    assert!(
        s.claim_job("C", T0 + 20, T0 + 20 + LEASE).await.unwrap().is_none(),
        "nothing else is due"
    );

    // A renews once, then goes silent; its lease runs out and C takes the job over.
    assert!(s.renew_lease("j1", "A", T0 + 40_000).await.unwrap());
    assert!(s.renew_lease("j2", "B", T0 + 100_000).await.unwrap());
    assert!(
        s.claim_job("C", T0 + 39_000, T0 + 39_000 + LEASE).await.unwrap().is_none(),
        "lease still held"
    );
    let taken = s.claim_job("C", T0 + 40_001, T0 + 40_001 + LEASE).await.unwrap().unwrap();
    assert_eq!((taken.id.as_str(), taken.attempts), ("j1", 2));

    // A wakes up: every write it tries is refused.
    assert!(!s.renew_lease("j1", "A", T0 + 90_000).await.unwrap());
    assert!(!s.add_result("j1", "A", &json!({"n": 1}), &json!({})).await.unwrap());
    assert!(!s.set_progress("j1", "A", 1, Some(1)).await.unwrap());
    let done = Finish::Succeeded {
        usage: vec![UsageEvent { metric: Metric::PagesFetched, quantity: 1 }],
        summary: "ok".into(),
    };
    assert!(s.finish_job("j1", "A", &done, T0 + 41_000).await.unwrap().is_none());

    // C finishes; its outcome, usage and webhook land once.
    assert!(s.add_result("j1", "C", &json!({"n": 2}), &json!({})).await.unwrap());
    let finished = s.finish_job("j1", "C", &done, T0 + 42_000).await.unwrap().unwrap();
    assert_eq!(finished.status, JobStatus::Succeeded);
    assert!(
        s.finish_job("j1", "C", &done, T0 + 43_000).await.unwrap().is_none(),
        "a second finish is refused"
    );
    assert_eq!(s.results("j1", -1, 10).await.unwrap().len(), 1);
    assert_eq!(s.usage("t", T0, T0 + 100_000).await.unwrap().pages_fetched, 1);
    let hooks = s.claim_webhooks(T0 + 50_000, T0 + 60_000, 10).await.unwrap();
    assert_eq!(hooks.iter().filter(|h| h.job_id == "j1").count(), 1);
    let tasks = s.agent_tasks("j1").await.unwrap();
    assert_eq!(tasks.len(), 2);
    assert_eq!(tasks[0].outcome.as_deref(), Some("lease_expired"));
}

#[tokio::test]
async fn tenants_at_their_concurrency_limit_wait_without_blocking_others() {
    let (_d, s) = store().await;
    tenant(&s, "busy", 1).await;
    tenant(&s, "calm", 1).await;
    create(&s, job("b1", "busy"), T0).await;
    create(&s, job("b2", "busy"), T0 + 1).await;
    create(&s, job("c1", "calm"), T0 + 2).await;
    let first = s.claim_job("W", T0 + 5, T0 + 5 + LEASE).await.unwrap().unwrap();
    assert_eq!(first.id, "b1");
    let second = s.claim_job("W", T0 + 5, T0 + 5 + LEASE).await.unwrap().unwrap();
    assert_eq!(second.id, "c1", "b2 waits: its tenant is at its limit");
    assert!(s.claim_job("W", T0 + 5, T0 + 5 + LEASE).await.unwrap().is_none());
    let failed = Finish::Failed { code: "x".into(), message: "y".into() };
    s.finish_job("b1", "W", &failed, T0 + 6).await.unwrap().unwrap();
    assert_eq!(s.claim_job("W", T0 + 7, T0 + 7 + LEASE).await.unwrap().unwrap().id, "b2");
}

#[tokio::test]
async fn retries_wait_for_their_time_and_hand_backs_do_not_count() {
    let (_d, s) = store().await;
    tenant(&s, "t", 5).await;
    create(&s, job("j", "t"), T0).await;
    s.claim_job("W", T0, T0 + LEASE).await.unwrap().unwrap();
    let retry = Finish::Retry {
        run_at: T0 + 5_000,
        code: "network_error".into(),
        message: "refused".into(),
    };
    let queued = s.finish_job("j", "W", &retry, T0 + 10).await.unwrap().unwrap();
    assert_eq!(
        (queued.status, queued.error_code.as_deref()),
        (JobStatus::Queued, Some("network_error"))
    );
    assert!(s.claim_job("W", T0 + 4_999, T0 + LEASE).await.unwrap().is_none(), "not before run_at");
    let again = s.claim_job("W", T0 + 5_000, T0 + 5_000 + LEASE).await.unwrap().unwrap();
    assert_eq!(again.attempts, 2);
    assert!(s.release_job("j", "W").await.unwrap());
    let back = s.get_job(None, "j").await.unwrap().unwrap();
    assert_eq!((back.status, back.attempts), (JobStatus::Queued, 1));
}

#[tokio::test]
async fn cancel_fences_the_worker_and_announces_once() {
    let (_d, s) = store().await;
    tenant(&s, "t", 5).await;
    tenant(&s, "other", 5).await;
    create(&s, job("j", "t"), T0).await;
    s.claim_job("W", T0, T0 + LEASE).await.unwrap().unwrap();
    assert!(matches!(s.cancel_job("other", "j", T0 + 1).await.unwrap(), CancelOutcome::NotFound));
    assert!(matches!(s.cancel_job("t", "j", T0 + 1).await.unwrap(), CancelOutcome::Cancelled(_)));
    assert!(matches!(
        s.cancel_job("t", "j", T0 + 2).await.unwrap(),
        CancelOutcome::AlreadyFinished(_)
    ));
    assert!(
        !s.renew_lease("j", "W", T0 + LEASE).await.unwrap(),
        "the worker learns at its next heartbeat"
    );
    let done = Finish::Succeeded { usage: vec![], summary: String::new() };
    assert!(s.finish_job("j", "W", &done, T0 + 3).await.unwrap().is_none());
    let events = s.events_after("j", 0, 100).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.kind == "done").count(), 1);
    assert_eq!(events.last().unwrap().data["status"], "cancelled");
}

#[tokio::test]
async fn idempotency_replays_and_conflicts_per_tenant() {
    let (_d, s) = store().await;
    tenant(&s, "t", 5).await;
    tenant(&s, "u", 5).await;
    let mut a = job("a", "t");
    a.idempotency_key = Some("k".into());
    create(&s, a.clone(), T0).await;
    let mut replay = a.clone();
    replay.id = "a2".into();
    assert!(
        matches!(s.create_job(&replay, T0 + 1).await.unwrap(), CreateOutcome::Existing(j) if j.id == "a")
    );
    replay.request_hash = "different".into();
    assert!(matches!(s.create_job(&replay, T0 + 2).await.unwrap(), CreateOutcome::Conflict));
    let mut other_tenant = a.clone();
    other_tenant.id = "b".into();
    other_tenant.tenant_id = "u".into();
    assert!(
        matches!(s.create_job(&other_tenant, T0 + 3).await.unwrap(), CreateOutcome::Created(_)),
        "keys are per tenant"
    );
}

#[tokio::test]
async fn concurrent_submissions_are_group_committed_and_a_bad_one_fails_alone() {
    let (_d, s) = store().await;
    tenant(&s, "t", 10).await;
    // Submitted at once, most of these wait for the writer together and share a commit;
    // one names a tenant that does not exist, which the foreign key refuses.
    let mut submissions = tokio::task::JoinSet::new();
    for n in 0..300 {
        let (s, owner) = (s.clone(), if n == 150 { "no-such-tenant" } else { "t" });
        submissions.spawn(async move {
            (n, s.create_job(&job(&format!("g{n:03}"), owner), T0 + n).await)
        });
    }
    let mut created = 0;
    while let Some(joined) = submissions.join_next().await {
        match joined.unwrap() {
            (150, outcome) => {
                assert!(outcome.is_err(), "the job of a missing tenant was stored: {outcome:?}")
            }
            (n, Ok(CreateOutcome::Created(r))) => {
                assert_eq!(
                    (r.id, r.status, r.created_at),
                    (format!("g{n:03}"), JobStatus::Queued, T0 + n)
                );
                created += 1;
            }
            (n, other) => panic!("job {n}: {other:?}"),
        }
    }
    assert_eq!(created, 299);
    let listed =
        s.list_jobs("t", &JobFilter { limit: 1000, ..JobFilter::default() }).await.unwrap();
    assert_eq!(listed.len(), 299);
    for r in &listed {
        let events = s.events_after(&r.id, 0, 10).await.unwrap();
        assert_eq!(events.len(), 1, "{} has its queued event, once", r.id);
        assert_eq!(events[0].data["status"], "queued");
    }
    assert!(s.get_job(None, "g150").await.unwrap().is_none());
}
