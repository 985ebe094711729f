//! The official Firecrawl SDKs, unmodified, against port 9004 of the real binary: firecrawl-py
//! (PyPI) and @mendable/firecrawl-js (npm), each through its v2 client and its v1 client:
//! scrape with markdown and links, crawl with polling and paging through `next`, cancel,
//! map, batch scrape. The scripts are in `tests/sdk/`; `scripts/install-deps.sh test` installs
//! the SDKs under `~/.cache/ace-web/sdk` (or `$FIRECRAWL_SDK_DIR`: not an `ACE_` name, which the
//! service would read as its own configuration and refuse). A missing SDK fails the test.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use ace_fixtures::FixtureServer;
use common::Service;
use serde_json::Value;

fn sdk_dir() -> PathBuf {
    std::env::var_os("FIRECRAWL_SDK_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/ace-web/sdk"))
}

/// Runs `program script` with the service's coordinates and returns the summary it printed.
async fn run_sdk(program: PathBuf, script: &str, svc: &Service, key: &str, site: &FixtureServer, extra_env: &[(&str, String)]) -> Value {
    assert!(program.exists(), "{} is missing: run `bash scripts/install-deps.sh test` to install the Firecrawl SDKs", program.display());
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sdk").join(script);
    let mut cmd = tokio::process::Command::new(&program);
    cmd.arg(&script)
        .env("ACE_API_URL", &svc.scraper)
        .env("ACE_KEY", key)
        .env("ACE_SITE", site.url("").trim_end_matches('/'))
        .kill_on_drop(true);
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let out = tokio::time::timeout(Duration::from_secs(300), cmd.output()).await.expect("the SDK script finished within 5 minutes").expect("run the SDK script");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{} failed ({}):\n{stdout}\n{stderr}\nservice log:\n{}", script.display(), out.status, svc.log());
    serde_json::from_str(stdout.lines().last().unwrap_or_default()).unwrap_or_else(|e| panic!("summary line: {e}: {stdout}"))
}

fn assert_each_page_fetched_once(site: &FixtureServer, count: u32) {
    for i in 0..count {
        assert_eq!(site.state.hits(&format!("/wide/{count}/p{i}.html")), 1, "page {i} of the wide site fetched once");
    }
}

#[tokio::test]
async fn firecrawl_py_works_unmodified() {
    let dir = tempfile::tempdir().unwrap();
    let site = FixtureServer::start().await;
    let svc = Service::start(dir.path(), &[]);
    let (_, key) = svc.tenant("pro").await;
    let summary = run_sdk(sdk_dir().join("venv/bin/python"), "firecrawl_py.py", &svc, &key, &site, &[]).await;
    assert_eq!(summary["crawl_docs"], 251, "{summary}");
    assert_eq!(summary["v1_crawl_docs"], 31, "{summary}");
    assert_eq!(summary["batch_docs"], 2, "{summary}");
    assert_eq!(summary["cancelled"], true, "{summary}");
    assert!(summary["map_links"].as_u64().unwrap() >= 41 && summary["v1_map_links"].as_u64().unwrap() >= 41, "{summary}");
    assert_each_page_fetched_once(&site, 250);
    assert_each_page_fetched_once(&site, 30);
}

#[tokio::test]
async fn firecrawl_js_works_unmodified() {
    let dir = tempfile::tempdir().unwrap();
    let site = FixtureServer::start().await;
    let svc = Service::start(dir.path(), &[]);
    let (_, key) = svc.tenant("pro").await;
    let modules = sdk_dir().join("node/node_modules");
    assert!(modules.join("@mendable/firecrawl-js").exists(), "@mendable/firecrawl-js is missing under {}: run `bash scripts/install-deps.sh test`", modules.display());
    let node = PathBuf::from(String::from_utf8(std::process::Command::new("sh").args(["-c", "command -v node"]).output().unwrap().stdout).unwrap().trim());
    let summary = run_sdk(node, "firecrawl_js.mjs", &svc, &key, &site, &[("ACE_SDK_NODE_MODULES", modules.display().to_string())]).await;
    assert_eq!(summary["crawlDocs"], 251, "{summary}");
    assert_eq!(summary["v1CrawlDocs"], 31, "{summary}");
    assert_eq!(summary["batchDocs"], 2, "{summary}");
    assert!(summary["mapLinks"].as_u64().unwrap() >= 41 && summary["v1MapLinks"].as_u64().unwrap() >= 41, "{summary}");
    assert_each_page_fetched_once(&site, 250);
}
