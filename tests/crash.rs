//! What happens to jobs when the process dies: killed with SIGKILL, or stopped with SIGTERM.

mod common;

use std::time::Duration;

use ace_fixtures::FixtureServer;
use common::{eventually, Service};
use serde_json::{json, Value};

const MINUTE: Duration = Duration::from_secs(60);

/// kill -9 in the middle of a job; on restart the job is taken over once its lease expires,
/// and it completes exactly once: one result, one webhook, one page billed.
#[tokio::test]
async fn killed_mid_job_completes_exactly_once_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let site = FixtureServer::start().await;
    let env = [("ACE_LEASE_SECONDS", "2")];
    let mut svc = Service::start(dir.path(), &env);
    let (_, key) = svc.tenant("pro").await;
    let id = svc
        .submit_ok(&key, json!({ "kind": "scrape", "url": site.url("/slow/1500"), "webhook": { "url": site.url("/webhook"), "secret": "k" } }))
        .await;
    svc.wait_status(&key, &id, &["running"], MINUTE).await;
    eventually(MINUTE, "the worker's request reaches the site", || async { (site.state.hits("/slow/1500") == 1).then_some(()) }).await;
    svc.kill9();

    let svc = Service::start(dir.path(), &env);
    let doc = svc.wait_status(&key, &id, &["succeeded", "failed"], MINUTE).await;
    assert_eq!(doc["status"], "succeeded", "{doc}");
    assert_eq!(doc["attempts"], 2, "the dead worker's attempt counts");
    assert_eq!(site.state.hits("/slow/1500"), 2, "fetched again by the new process");

    let results = svc.client.get(svc.url(&format!("/v1/jobs/{id}/results"))).bearer_auth(&key).send().await.unwrap().text().await.unwrap();
    assert_eq!(results.lines().count(), 1, "exactly one result: {results}");
    let (_, usage) = svc.get_json(&key, "/v1/usage").await;
    assert_eq!(usage["usage"]["pages_fetched"], 1, "billed once: {usage}");
    eventually(MINUTE, "webhook delivered", || async { (!site.state.deliveries.lock().unwrap().is_empty()).then_some(()) }).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(site.state.deliveries.lock().unwrap().len(), 1, "announced once");
    let (_, tasks) = svc.get_json(&key, &format!("/v1/agents/tasks?job={id}")).await;
    let tasks = tasks["tasks"].as_array().unwrap().clone();
    assert_eq!(tasks.len(), 2);
    assert_eq!((tasks[0]["status"].as_str(), tasks[0]["outcome"].as_str()), (Some("abandoned"), Some("lease_expired")));
    assert_eq!(tasks[1]["status"], "succeeded");
    let events = svc.client.get(svc.url(&format!("/v1/jobs/{id}/events"))).bearer_auth(&key).send().await.unwrap().text().await.unwrap();
    assert_eq!(events.matches("event: done").count(), 1, "{events}");
    assert_eq!(events.matches("event: page").count(), 1, "{events}");
}

/// SIGTERM while a job runs: the service stops taking work, gives the job its grace period,
/// hands it back to the queue (the attempt is not counted), and exits 0 within 10 s. The next
/// start finishes it.
#[tokio::test]
async fn sigterm_hands_running_job_back_and_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let site = FixtureServer::start().await;
    let env = [("ACE_SHUTDOWN_GRACE_SECONDS", "1")];
    let mut svc = Service::start(dir.path(), &env);
    let (_, key) = svc.tenant("pro").await;
    let slow = svc.submit_ok(&key, json!({ "kind": "scrape", "url": site.url("/slow/4000") })).await;
    svc.wait_status(&key, &slow, &["running"], MINUTE).await;
    let quick = svc.submit_ok(&key, json!({ "kind": "scrape", "url": site.url("/page/quick") })).await;
    svc.wait_status(&key, &quick, &["succeeded"], MINUTE).await;

    let (status, took) = svc.terminate();
    assert!(status.success(), "exit status {status:?}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let log = svc.log();
    assert!(log.contains("handed back to the queue at shutdown"), "{log}");

    let svc = Service::start(dir.path(), &env);
    let doc = svc.wait_status(&key, &slow, &["succeeded", "failed"], MINUTE).await;
    assert_eq!(doc["status"], "succeeded", "{doc}");
    assert_eq!(doc["attempts"], 1, "a hand-back is not an attempt");
    let (_, tasks) = svc.get_json(&key, &format!("/v1/agents/tasks?job={slow}")).await;
    let outcomes: Vec<Value> = tasks["tasks"].as_array().unwrap().iter().map(|t| t["outcome"].clone()).collect();
    assert!(outcomes.contains(&json!("handed_back_at_shutdown")), "{outcomes:?}");
}

/// Scale-out: an API-only node (`workers = 0`) queues jobs, and a separate `ace-web worker`
/// process on the same store runs them.
#[tokio::test]
async fn separate_worker_process_runs_jobs_queued_by_an_api_only_node() {
    let dir = tempfile::tempdir().unwrap();
    let site = FixtureServer::start().await;
    let svc = Service::start(dir.path(), &[("ACE_WORKERS", "0")]);
    let (_, key) = svc.tenant("pro").await;
    let id = svc.submit_ok(&key, json!({ "kind": "scrape", "url": site.url("/page/remote") })).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(svc.job(&key, &id).await["status"], "queued", "no worker in the API node");

    let _worker = svc.start_worker(&[]);
    let doc = svc.wait_status(&key, &id, &["succeeded", "failed"], MINUTE).await;
    assert_eq!(doc["status"], "succeeded", "{doc}");
    assert_eq!(site.state.hits("/page/remote"), 1);
}

/// kill -9 gives the service no chance to stop its browsers: Linux must (the launch asks it
/// to kill each Chromium when its parent goes), or every crash would leave browsers running.
#[tokio::test]
async fn killed_service_leaves_no_browser_behind() {
    let dir = tempfile::tempdir().unwrap();
    let site = FixtureServer::start().await;
    let mut svc = Service::start(dir.path(), &[]);
    let (_, key) = svc.tenant("pro").await;
    let r = svc.client.post(svc.url("/v1/content")).bearer_auth(&key).json(&json!({ "url": site.url("/app-shell") })).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let browsers = chromium_children(svc.pid());
    assert!(!browsers.is_empty(), "the render ran in a browser the service started");
    svc.kill9();
    eventually(MINUTE, "the dead service's browsers are gone", || async {
        browsers.iter().all(|pid| !alive(*pid)).then_some(())
    })
    .await;
}

/// Chromium processes whose parent is `pid` (Linux /proc).
fn chromium_children(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(p) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else { continue };
        // pid (comm) state ppid ...: comm may hold spaces, so split after its ')'.
        let Some((head, rest)) = stat.rsplit_once(')') else { continue };
        let ppid = rest.split_whitespace().nth(1).and_then(|v| v.parse::<u32>().ok());
        if ppid == Some(pid) && head.contains("chrom") {
            found.push(p);
        }
    }
    found
}

/// Whether `pid` is a live process (a zombie counts as gone: it no longer runs).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().next() != Some("Z")))
        .unwrap_or(false)
}
