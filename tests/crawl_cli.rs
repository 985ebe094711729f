//! `ace-web crawl` as a user runs it: the real binary against the crawl fixture site.

use std::process::Command;

use ace_fixtures::crawl_sites::CrawlSiteConfig;
use ace_fixtures::FixtureServer;
use serde_json::Value;

fn ace_web(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ace-web")).args(args).env("ACE_ALLOW_PRIVATE_NETWORKS", "1").output().expect("run ace-web")
}

#[tokio::test]
async fn crawls_into_a_folder_with_extracted_formats_and_sitemap_orphans() {
    let site = FixtureServer::start_crawl_site(CrawlSiteConfig::default()).await;
    let out = tempfile::tempdir().unwrap();
    let start = site.url("/");
    let dir = out.path().to_str().unwrap();
    let run = tokio::task::spawn_blocking({
        let (start, dir) = (start.clone(), dir.to_owned());
        move || ace_web(&["crawl", &start, "--out", &dir, "--include", "^/(about|orphan|deep|$)", "--format", "markdown,text", "--attempts", "1"])
    });
    let output = run.await.unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("from sitemaps"), "{stderr}");
    let index = std::fs::read_to_string(out.path().join("index.jsonl")).unwrap();
    let records: Vec<Value> = index.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let about = records.iter().find(|r| r["url"].as_str().unwrap().ends_with("/about.html")).expect("about.html in the index");
    assert_eq!(about["formats"]["markdown"]["file"], "about.html.md");
    let host = format!("127.0.0.1_{}", site.addr.port());
    let md = std::fs::read_to_string(out.path().join("pages").join(&host).join("about.html.md")).unwrap();
    assert!(md.contains("About"), "{md}");
    assert!(out.path().join("pages").join(&host).join("about.html.txt").exists());
    assert!(records.iter().any(|r| r["url"].as_str().unwrap().ends_with("/orphan-2.html")), "the gzip sitemap's orphan: {index}");
    assert_eq!(site.state.hits("/about.html"), 1);
}

#[test]
fn render_without_the_browser_pool_is_refused_clearly() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    let output = ace_web(&["crawl", "http://127.0.0.1:9/", "--out", dir, "--render", "always"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("needs the browser pool"), "{stderr}");
    let output = ace_web(&["crawl", "not a url", "--out", dir]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("is not a URL"));
}
