//! The WARC and the zip of a copy, read back by independent tools: `warcio` (PyPI, the
//! reference WARC library) and the zip reader.

mod common;

use std::process::Command;

use ace_fixtures::replica_sites::ReplicaSite;
use ace_replicator::{replicate, ReplicateOptions};
use tokio_util::sync::CancellationToken;
use url::Url;

fn warcio(args: &[&str]) -> std::process::Output {
    match Command::new("warcio").args(args).output() {
        Ok(out) => out,
        Err(e) => panic!(
            "this test needs warcio from PyPI (scripts/install-deps.sh test installs it): {e}"
        ),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn warc_passes_warcio_check_and_index_and_zip_reads_back() {
    let site = ReplicaSite::start().await;
    let start = Url::parse(&site.url("/replica/")).unwrap();
    let opts =
        ReplicateOptions { max_asset_bytes: Some(1024 * 1024), ..ReplicateOptions::default() };
    let replica = replicate(common::loopback_fetcher(), start, &opts, &CancellationToken::new())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let warc_path = dir.path().join("copy.warc.gz");
    let mut file = std::fs::File::create(&warc_path).unwrap();
    ace_replicator::warc::write(&replica.capture, "copy.warc.gz", &mut file).unwrap();
    drop(file);
    let warc = warc_path.to_str().unwrap();

    let check = warcio(&["check", "-v", warc]);
    let text = String::from_utf8_lossy(&check.stdout).into_owned()
        + &String::from_utf8_lossy(&check.stderr);
    assert!(check.status.success(), "warcio check failed:\n{text}");
    let records = 1 + 2 * replica.capture.exchanges.len();
    assert_eq!(text.matches("digest pass").count(), records, "{text}");
    assert!(!text.contains("fail"), "{text}");

    let index = warcio(&["index", "-f", "warc-type,warc-target-uri,http:status,offset", warc]);
    assert!(
        index.status.success(),
        "warcio index failed: {}",
        String::from_utf8_lossy(&index.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&index.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), records);
    assert_eq!(lines[0]["warc-type"], "warcinfo");
    for ex in &replica.capture.exchanges {
        let of = |kind: &str| {
            lines
                .iter()
                .filter(|l| l["warc-type"] == kind && l["warc-target-uri"] == ex.url.as_str())
                .count()
        };
        assert_eq!((of("response"), of("request")), (1, 1), "{}", ex.url);
    }
    // Redirect hops are recorded as they were answered.
    let hop = lines.iter().find(|l| {
        l["warc-type"] == "response"
            && l["warc-target-uri"].as_str().is_some_and(|u| u.ends_with("/replica/loop.png"))
    });
    assert_eq!(hop.expect("redirect recorded")["http:status"], "307");

    // The payload warcio extracts is what the site served.
    let css = lines
        .iter()
        .find(|l| {
            l["warc-type"] == "response"
                && l["warc-target-uri"].as_str().is_some_and(|u| u.ends_with("/css/base.css"))
        })
        .expect("base.css recorded");
    let extract = warcio(&["extract", "--payload", warc, css["offset"].as_str().unwrap()]);
    assert!(extract.status.success());
    assert_eq!(
        String::from_utf8_lossy(&extract.stdout),
        "@import 'fonts.css';\nbody { font-family: Fixture, sans-serif; background: #fafafa }\n"
    );

    // The zip holds exactly the copy's files, byte for byte.
    let bytes = replica.site.write_zip(std::io::Cursor::new(Vec::new())).unwrap().into_inner();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a valid zip");
    assert_eq!(zip.len(), replica.site.files.len());
    for f in &replica.site.files {
        let mut entry =
            zip.by_name(&f.path).unwrap_or_else(|_| panic!("{} not in the zip", f.path));
        let mut content = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut content).unwrap();
        assert_eq!(content, f.body.as_ref(), "{}", f.path);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn wacz_passes_wacz_validate() {
    let site = ReplicaSite::start().await;
    let start = Url::parse(&site.url("/replica/")).unwrap();
    let opts =
        ReplicateOptions { max_asset_bytes: Some(1024 * 1024), ..ReplicateOptions::default() };
    let replica = replicate(common::loopback_fetcher(), start, &opts, &CancellationToken::new())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("copy.wacz");
    let file = std::fs::File::create(&path).unwrap();
    ace_replicator::wacz::write(&replica.capture, file).unwrap();
    let out = match Command::new("wacz").arg("validate").arg("-f").arg(&path).output() {
        Ok(out) => out,
        Err(e) => {
            panic!("this test needs wacz from PyPI (scripts/install-deps.sh test installs it): {e}")
        }
    };
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && text.contains("Validation succeeded"),
        "wacz validate:\n{text}"
    );

    // The index and page list hold what was captured.
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
    let mut read = |name: &str| {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut zip.by_name(name).unwrap(), &mut s).unwrap();
        s
    };
    let cdxj = read("indexes/index.cdxj");
    assert_eq!(cdxj.lines().count(), replica.capture.exchanges.len());
    assert!(
        cdxj.lines()
            .any(|l| l.contains("/replica/css/base.css") && l.contains("\"status\":\"200\"")),
        "{cdxj}"
    );
    let pages = read("pages/pages.jsonl");
    assert_eq!(pages.lines().count(), 1 + 3, "{pages}");
    assert!(pages.contains("\"title\":\"Replica fixture\""), "{pages}");
}

/// The copy the replication benchmark makes of the Rust book (from the toolchain's docs,
/// served on loopback) gives a WARC that `warcio check` accepts and a WACZ that
/// `wacz validate` accepts.
#[tokio::test(flavor = "multi_thread")]
async fn rust_book_copy_passes_warcio_check_and_wacz_validate() {
    let sysroot = Command::new("rustc").args(["--print", "sysroot"]).output().expect("rustc");
    let book = std::path::PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim())
        .join("share/doc/rust/html/book");
    assert!(
        book.join("index.html").is_file(),
        "this test copies the Rust book at {} (rustup component add rust-docs)",
        book.display()
    );
    let server = ace_replicator::qa::serve_copy(book).await.unwrap();
    let start = Url::parse(&format!("{}/", server.origin)).unwrap();
    let replica = replicate(
        common::loopback_fetcher(),
        start,
        &ReplicateOptions::default(),
        &CancellationToken::new(),
    )
    .await
    .unwrap();
    server.task.abort();
    assert!(replica.report.pages > 100, "{:#?}", replica.report.pages);
    // What is missing is only the book's links to the other books, outside this folder.
    for m in &replica.report.missing {
        assert_eq!(m.reason, "not_found", "{m:?}");
    }

    let dir = tempfile::tempdir().unwrap();
    let warc_path = dir.path().join("book.warc.gz");
    let mut file = std::fs::File::create(&warc_path).unwrap();
    ace_replicator::warc::write(&replica.capture, "book.warc.gz", &mut file).unwrap();
    drop(file);
    let check = warcio(&["check", warc_path.to_str().unwrap()]);
    assert!(check.status.success(), "warcio check: {}", String::from_utf8_lossy(&check.stderr));
    let index = warcio(&["index", warc_path.to_str().unwrap()]);
    let records = String::from_utf8_lossy(&index.stdout).lines().count();
    assert_eq!(records, 1 + 2 * replica.capture.exchanges.len());

    let wacz_path = dir.path().join("book.wacz");
    let file = std::fs::File::create(&wacz_path).unwrap();
    ace_replicator::wacz::write(&replica.capture, file).unwrap();
    let out = Command::new("wacz").arg("validate").arg("-f").arg(&wacz_path).output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && text.contains("Validation succeeded"),
        "wacz validate:\n{text}"
    );
}
