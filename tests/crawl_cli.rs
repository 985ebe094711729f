//! `ace-web crawl` as a user runs it: the real binary against the crawl fixture site, and
//! against the script-only site with and without its own browser pool.

use std::process::Command;

use ace_fixtures::crawl_sites::CrawlSiteConfig;
use ace_fixtures::js_site::{JS_SITE_DISALLOWED, JS_SITE_PAGES};
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

/// The crawl's records by URL path, from `index.jsonl` in `dir`.
fn records(dir: &std::path::Path) -> Vec<Value> {
    let index = std::fs::read_to_string(dir.join("index.jsonl")).unwrap();
    index.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[tokio::test]
async fn render_auto_and_always_crawl_a_script_only_site_that_never_sees_as_one_shell() {
    let site = FixtureServer::start_js_site().await;
    for mode in ["never", "auto", "always"] {
        let out = tempfile::tempdir().unwrap();
        let (start, dir) = (site.url("/"), out.path().to_str().unwrap().to_owned());
        let output = tokio::task::spawn_blocking(move || ace_web(&["crawl", &start, "--out", &dir, "--render", mode, "--format", "markdown"])).await.unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{mode}: {stderr}");
        let records = records(out.path());
        let pages_dir = out.path().join("pages").join(format!("127.0.0.1_{}", site.addr.port()));
        if mode == "never" {
            assert_eq!(records.len(), 1, "over HTTP the site is its shell: {records:?}");
            assert_eq!(records[0]["rendered"], false);
            let html = std::fs::read_to_string(pages_dir.join("index.html")).unwrap();
            assert!(!html.contains(JS_SITE_PAGES[0].1), "{html}");
            assert!(stderr.contains("(0 rendered"), "{stderr}");
            continue;
        }
        assert_eq!(records.len(), JS_SITE_PAGES.len(), "{mode}: {records:?}");
        for (path, sentence) in JS_SITE_PAGES {
            let record = records.iter().find(|r| r["url"] == site.url(path)).unwrap_or_else(|| panic!("{mode}: {path} missing: {records:?}"));
            assert_eq!(record["rendered"], true, "{mode} {path}");
            let file = out.path().join(record["file"].as_str().unwrap());
            let html = std::fs::read_to_string(&file).unwrap();
            assert!(html.contains(sentence), "{mode} {path}: the rendered DOM is what is written: {html}");
            let md = std::fs::read_to_string(format!("{}.md", file.display())).unwrap();
            assert!(md.contains(sentence), "{mode} {path}: {md}");
        }
        assert!(stderr.contains(&format!("({} rendered", JS_SITE_PAGES.len())), "{stderr}");
        assert_eq!(site.state.hits(JS_SITE_DISALLOWED), 0, "robots.txt holds for links found by rendering");
    }
}

#[test]
fn bad_render_modes_and_urls_are_refused_clearly() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    let output = ace_web(&["crawl", "http://127.0.0.1:9/", "--out", dir, "--render", "sometimes"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--render takes auto, always or never"), "{stderr}");
    let output = ace_web(&["crawl", "not a url", "--out", dir]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("is not a URL"));
}
