//! Starts the real `ace-web` binary on free loopback ports and talks to it over HTTP.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub const ADMIN_KEY: &str = "ace_test_admin_key_0123456789abcdef";

/// A running `ace-web serve`.
pub struct Service {
    child: Option<Child>,
    pub data_dir: PathBuf,
    pub orchestrator: String,
    pub dashboard: String,
    pub health: String,
    pub scraper: String,
    pub extractor: String,
    pub replicator: String,
    pub client: reqwest::Client,
}

/// Environment every test service gets unless a test overrides it: fast polling and retries
/// so tests do not wait on production timings.
const DEFAULT_ENV: &[(&str, &str)] = &[
    ("ACE_ADMIN_KEY", ADMIN_KEY),
    ("ACE_ALLOW_PRIVATE_NETWORKS", "1"),
    ("ACE_POLL_INTERVAL_MS", "100"),
    ("ACE_RETRY_BASE_MS", "200"),
    ("ACE_RETRY_MAX_MS", "1000"),
    ("ACE_WORKERS", "2"),
];

impl Service {
    /// Starts the service on `data_dir` with `env` over the defaults; waits until it is ready.
    pub fn start(data_dir: &Path, env: &[(&str, &str)]) -> Service {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(data_dir.join("service.log"))
            .expect("open service log");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ace-web"));
        cmd.arg("serve").arg("--data-dir").arg(data_dir);
        for service in ["dashboard", "orchestrator", "replicator", "extractor", "scraper", "health"] {
            cmd.arg("--port").arg(format!("{service}=0"));
        }
        for (k, v) in DEFAULT_ENV.iter().chain(env) {
            cmd.env(k, v);
        }
        cmd.env("RUST_LOG", "info").stdout(Stdio::piped()).stderr(Stdio::from(log)).stdin(Stdio::null());
        let mut child = cmd.spawn().expect("spawn ace-web");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut addrs = std::collections::HashMap::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) if line == "ace-web: ready" => break,
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix("ace-web: ") {
                        if let Some((name, url)) = rest.split_once(" listening on ") {
                            addrs.insert(name.to_owned(), url.to_owned());
                        }
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let log = std::fs::read_to_string(data_dir.join("service.log")).unwrap_or_default();
                    panic!("ace-web did not become ready within 30 s; its log:\n{log}");
                }
            }
        }
        let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
        Service {
            child: Some(child),
            data_dir: data_dir.to_owned(),
            orchestrator: addrs["orchestrator"].clone(),
            dashboard: addrs["dashboard"].clone(),
            health: addrs["health"].clone(),
            scraper: addrs["scraper"].clone(),
            extractor: addrs["extractor"].clone(),
            replicator: addrs["replicator"].clone(),
            client,
        }
    }

    /// Starts `ace-web worker` on the same data directory; killed when dropped.
    pub fn start_worker(&self, env: &[(&str, &str)]) -> Worker {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.data_dir.join("worker.log")).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ace-web"));
        cmd.arg("worker").arg("--data-dir").arg(&self.data_dir);
        for (k, v) in DEFAULT_ENV.iter().chain(env) {
            cmd.env(k, v);
        }
        let child = cmd.stdout(Stdio::null()).stderr(Stdio::from(log)).stdin(Stdio::null()).spawn().expect("spawn ace-web worker");
        Worker(child)
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// SIGKILL: the process gets no chance to clean up.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("kill -9");
            child.wait().expect("reap");
        }
    }

    /// SIGTERM, then waits; returns the exit status and how long the exit took.
    pub fn terminate(&mut self) -> (ExitStatus, Duration) {
        let mut child = self.child.take().expect("running");
        let started = Instant::now();
        let status = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().expect("kill -TERM");
        assert!(status.success());
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                return (status, started.elapsed());
            }
            if started.elapsed() > Duration::from_secs(30) {
                let _ = child.kill();
                panic!("ace-web did not exit within 30 s of SIGTERM");
            }
            #[allow(clippy::disallowed_methods)] // a plain thread polling a child process, not async code
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data_dir.join("service.log")).unwrap_or_default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.orchestrator, path)
    }

    /// Creates a tenant on `plan`; returns (tenant id, key).
    pub async fn tenant(&self, plan: &str) -> (String, String) {
        let r = self
            .client
            .post(self.url("/v1/tenants"))
            .bearer_auth(ADMIN_KEY)
            .json(&json!({ "name": format!("tenant on {plan}"), "plan": plan }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "create tenant");
        let body: Value = r.json().await.unwrap();
        (body["id"].as_str().unwrap().to_owned(), body["api_key"].as_str().unwrap().to_owned())
    }

    pub async fn submit(&self, key: &str, body: Value) -> reqwest::Response {
        self.client.post(self.url("/v1/jobs")).bearer_auth(key).json(&body).send().await.unwrap()
    }

    /// Submits and expects 202; returns the job id.
    pub async fn submit_ok(&self, key: &str, body: Value) -> String {
        let r = self.submit(key, body).await;
        let status = r.status();
        let text = r.text().await.unwrap();
        assert_eq!(status, 202, "submit: {text}");
        let doc: Value = serde_json::from_str(&text).unwrap();
        doc["id"].as_str().unwrap().to_owned()
    }

    pub async fn get_json(&self, key: &str, path: &str) -> (u16, Value) {
        let r = self.client.get(self.url(path)).bearer_auth(key).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn job(&self, key: &str, id: &str) -> Value {
        let (status, doc) = self.get_json(key, &format!("/v1/jobs/{id}")).await;
        assert_eq!(status, 200, "get job {id}: {doc}");
        doc
    }

    /// Polls until the job's status is one of `statuses`.
    pub async fn wait_status(&self, key: &str, id: &str, statuses: &[&str], within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let doc = self.job(key, id).await;
            if statuses.contains(&doc["status"].as_str().unwrap_or_default()) {
                return doc;
            }
            if Instant::now() > deadline {
                panic!("job {id} not in {statuses:?} within {within:?}: {doc}\nlog:\n{}", self.log());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Polls `check` until it returns Some, or panics after `within`.
pub async fn eventually<T, F, Fut>(within: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if Instant::now() > deadline {
            panic!("{what}: not within {within:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A running `ace-web worker`.
pub struct Worker(Child);

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
