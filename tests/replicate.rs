//! Black-box tests of replication: port 9002 of the real binary (submit, read, replay,
//! downloads, refusals) and the `ace-web replicate` command, against the replica fixture
//! site on loopback.

mod common;

use std::io::{Read, Write};
use std::process::Command;
use std::time::Duration;

use ace_fixtures::replica_sites::ReplicaSite;
use common::Service;
use serde_json::{json, Value};

/// A GET sent as written (no client-side dot-segment removal), answered status and body.
fn raw_get(base: &str, path: &str) -> (u16, String) {
    let addr = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let status = response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, response)
}

#[tokio::test(flavor = "multi_thread")]
async fn replicate_api_copies_replays_and_hands_over_archives() {
    let site = ReplicaSite::start().await;
    let dir = tempfile::tempdir().unwrap();
    let svc = Service::start(dir.path(), &[]);
    let (_, key) = svc.tenant("pro").await;
    let (_, other_key) = svc.tenant("pro").await;
    let api = |path: &str| format!("{}{path}", svc.replicator);

    let r = svc
        .client
        .post(api("/v1/replicate"))
        .bearer_auth(&key)
        .json(&json!({ "url": site.url("/replica/"), "outputs": ["dir", "zip", "warc", "wacz"], "maxAssetBytes": 1048576, "qa": { "samples": 2 } }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let doc: Value = r.json().await.unwrap();
    let id = doc["id"].as_str().unwrap().to_owned();
    assert_eq!(doc["kind"], "replicate");
    assert_eq!(doc["links"]["replay"], format!("/r/{id}/"));

    let replica = replica_when_done(&svc, &key, &api(&format!("/v1/replicas/{id}")), Duration::from_secs(60), "replica done").await;
    assert_eq!(replica["pages"], 3, "{replica}");
    assert_eq!(replica["entry"], "replica/index.html");
    let missing = replica["missing"].as_array().unwrap();
    let reason = |suffix: &str| {
        missing
            .iter()
            .find(|m| m["url"].as_str().unwrap().ends_with(suffix))
            .map(|m| m["reason"].clone())
    };
    assert_eq!(reason("/replica/missing.png"), Some(json!("not_found")));
    assert_eq!(reason("/replica/huge.bin"), Some(json!("too_large")));
    assert_eq!(replica["fidelity"]["pages"], 2, "{replica}");
    eprintln!("API QA of the static copy: {}", replica["fidelity"]);

    // Another tenant cannot see it; QA is honestly not built.
    let r = svc
        .client
        .get(api(&format!("/v1/replicas/{id}")))
        .bearer_auth(&other_key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let qa: Value = svc
        .client
        .get(api(&format!("/v1/replicas/{id}/qa")))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(qa["pages"].as_array().map(Vec::len), Some(2), "{qa}");
    assert_eq!(qa["escaped"], 0, "a static copy never reaches back to the origin: {qa}");

    // Replay: the copy from its own origin, sandboxed.
    let r = svc.client.get(api(&format!("/r/{id}/replica/"))).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("sandbox") && csp.contains("default-src 'self'"), "{csp}");
    let html = r.text().await.unwrap();
    assert!(html.contains("Replica fixture") && html.contains("href=\"css/main_q"), "{html}");
    assert!(!html.contains(&site.addr.to_string()));
    let css = svc.client.get(api(&format!("/r/{id}/replica/css/base.css"))).send().await.unwrap();
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    assert!(css.text().await.unwrap().contains("@import \"fonts.css\""));
    assert_eq!(svc.client.get(api("/r/job_doesnotexist/")).send().await.unwrap().status(), 404);

    // Nothing outside the replica is served, however the path is spelled.
    std::fs::write(dir.path().join("secret.txt"), "top secret").unwrap();
    for path in [
        format!("/r/{id}/../../../secret.txt"),
        format!("/r/{id}/%2e%2e/%2e%2e/%2e%2e/secret.txt"),
        format!("/r/{id}/replica/..%2f..%2f..%2f..%2fsecret.txt"),
        format!("/r/{id}/..%5c..%5c..%5csecret.txt"),
        format!("/r/{id}//etc/passwd"),
        format!("/r/{id}/report.json"),
    ] {
        let (status, body) = raw_get(&svc.replicator, &path);
        assert!(matches!(status, 400 | 404), "{path}: {status}");
        assert!(
            !body.contains("top secret")
                && !body.contains("root:")
                && !body.contains("\"missing\""),
            "{path}: {body}"
        );
    }

    // Downloads.
    let zip = svc
        .client
        .get(api(&format!("/v1/replicas/{id}/download.zip")))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(zip.status(), 200);
    assert_eq!(zip.headers()["content-type"], "application/zip");
    let bytes = zip.bytes().await.unwrap();
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).expect("valid zip");
    assert!(archive.by_name("replica/index.html").is_ok());
    assert_eq!(archive.len() as u64, replica["files"].as_u64().unwrap());
    let warc = svc
        .client
        .get(api(&format!("/v1/replicas/{id}/archive.warc.gz")))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(warc.status(), 200);
    let warc_path = dir.path().join("downloaded.warc.gz");
    std::fs::write(&warc_path, warc.bytes().await.unwrap()).unwrap();
    let check = Command::new("warcio").arg("check").arg(&warc_path).output().unwrap_or_else(|e| {
        panic!("this test needs warcio from PyPI (scripts/install-deps.sh test): {e}")
    });
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
    let wacz = svc
        .client
        .get(api(&format!("/v1/replicas/{id}/archive.wacz")))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(wacz.status(), 200);
    let wacz_path = dir.path().join("downloaded.wacz");
    std::fs::write(&wacz_path, wacz.bytes().await.unwrap()).unwrap();
    let validate =
        Command::new("wacz").arg("validate").arg("-f").arg(&wacz_path).output().unwrap_or_else(
            |e| panic!("this test needs wacz from PyPI (scripts/install-deps.sh test): {e}"),
        );
    assert!(validate.status.success(), "{}", String::from_utf8_lossy(&validate.stdout));

    // What is not built is refused, not faked.
    let r = svc
        .client
        .post(api("/v1/replicate"))
        .bearer_auth(&key)
        .json(&json!({ "url": site.url("/replica/"), "outputs": ["tarball"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = svc
        .client
        .post(api("/v1/replicate"))
        .bearer_auth(&key)
        .json(&json!({ "url": site.url("/replica/"), "qa": { "samples": 500 } }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = svc
        .client
        .post(api("/v1/replicate"))
        .bearer_auth(&key)
        .json(&json!({ "url": "file:///etc/passwd" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = svc
        .client
        .post(api("/v1/replicate"))
        .json(&json!({ "url": site.url("/replica/") }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn rendered_replica_with_qa_matches_the_original() {
    let site = ReplicaSite::start().await;
    let dir = tempfile::tempdir().unwrap();
    let svc = Service::start(dir.path(), &[]);
    let (_, key) = svc.tenant("pro").await;
    let api = |path: &str| format!("{}{path}", svc.replicator);
    let body = json!({ "url": site.url("/replica/"), "render": true, "maxAssetBytes": 1048576, "qa": { "samples": 3 } });
    let r =
        svc.client.post(api("/v1/replicate")).bearer_auth(&key).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    let doc: Value = r.json().await.unwrap();
    let id = doc["id"].as_str().unwrap().to_owned();
    let replica = replica_when_done(&svc, &key, &api(&format!("/v1/replicas/{id}")), Duration::from_secs(120), "rendered replica done").await;
    assert_eq!(replica["fidelity"]["pages"], 3, "{replica}");
    assert_eq!(replica["fidelity"]["escaped"], 0, "{replica}");
    assert!(replica["fidelity"]["minPixelMatch"].as_f64().unwrap() >= 0.99, "{replica}");
    let qa: Value = svc
        .client
        .get(api(&format!("/v1/replicas/{id}/qa")))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pages = qa["pages"].as_array().unwrap();
    assert_eq!(pages.len(), 3);
    for p in pages {
        assert!(
            p["pixelMatch"].as_f64().unwrap() >= 0.99
                && p["escaped"].as_array().unwrap().is_empty(),
            "{p}"
        );
    }
    eprintln!("API QA: {}", replica["fidelity"]);
    let diff = svc
        .client
        .get(api(&format!("/v1/replicas/{id}/qa/diff-0.png")))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(diff.status(), 200);
    assert_eq!(diff.headers()["content-type"], "image/png");
    // What scripts loaded is served by the replay.
    let json =
        svc.client.get(api(&format!("/r/{id}/replica/data/items.json"))).send().await.unwrap();
    assert_eq!(json.text().await.unwrap(), "[\"alpha\",\"beta\"]");
}

#[tokio::test(flavor = "multi_thread")]
async fn replicate_command_writes_folder_warc_and_report() {
    let site = ReplicaSite::start().await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("copy");
    let warc = dir.path().join("copy.warc.gz");
    let url = site.url("/replica/");
    let run = tokio::task::spawn_blocking({
        let (out, warc) = (out.clone(), warc.clone());
        move || {
            Command::new(env!("CARGO_BIN_EXE_ace-web"))
                .args(["replicate", &url, "--max-pages", "2", "--allow-private-networks"])
                .arg("--out")
                .arg(&out)
                .arg("--warc")
                .arg(&warc)
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let report: Value = serde_json::from_slice(&run.stdout).expect("JSON report on stdout");
    assert_eq!(report["pages"], 2, "{report}");
    assert_eq!(report["hitPageLimit"], true);
    assert!(out.join("replica/index.html").is_file() && warc.is_file());
    assert!(String::from_utf8_lossy(&run.stderr).contains("ace-web replicate: 2 pages"));

    let archived = Command::new(env!("CARGO_BIN_EXE_ace-web"))
        .args(["replicate", &site.url("/replica/"), "--allow-private-networks", "--out"])
        .arg(dir.path().join("archived"))
        .arg("--wacz")
        .arg(dir.path().join("copy.wacz"))
        .output()
        .unwrap();
    assert!(archived.status.success(), "{}", String::from_utf8_lossy(&archived.stderr));
    let validate = Command::new("wacz")
        .arg("validate")
        .arg("-f")
        .arg(dir.path().join("copy.wacz"))
        .output()
        .expect("wacz from PyPI");
    assert!(validate.status.success(), "{}", String::from_utf8_lossy(&validate.stdout));

    // Through the browser, with the fidelity check in the report.
    let url = site.url("/replica/");
    let rendered_out = dir.path().join("rendered");
    let run = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_ace-web"))
            .args([
                "replicate",
                &url,
                "--render",
                "--qa",
                "2",
                "--max-asset-bytes",
                "1048576",
                "--allow-private-networks",
                "--out",
            ])
            .arg(&rendered_out)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let report: Value = serde_json::from_slice(&run.stdout).expect("JSON report on stdout");
    assert_eq!(report["qa"]["pages"].as_array().map(Vec::len), Some(2), "{report}");
    assert_eq!(report["qa"]["escaped"], 0);
    assert!(report["qa"]["minPixelMatch"].as_f64().unwrap() >= 0.99, "{report}");
    assert!(dir.path().join("rendered/replica/data/items.json").is_file());
}

/// The replica document at `url` once its job succeeded (a failed job fails the test).
async fn replica_when_done(svc: &common::Service, key: &str, url: &str, within: Duration, what: &str) -> Value {
    common::eventually(within, what, || async {
        let doc: Value = svc.client.get(url).bearer_auth(key).send().await.ok()?.json().await.ok()?;
        match doc["status"].as_str() {
            Some("succeeded") => Some(doc),
            Some("failed") => panic!("replicate failed: {doc}\n{}", svc.log()),
            _ => None,
        }
    })
    .await
}
