//! `render: true` through the real Chromium pool against the replica fixture: what scripts
//! load is in the copy, and the copy, served with every request outside it blocked, matches
//! the original's pixels and text (the fidelity QA of `ace_replicator::qa`).

mod common;

use std::sync::Arc;

use ace_browser::capture::PoolRecorder;
use ace_crawlers::FetchGuard;
use ace_fixtures::replica_sites::{ReplicaSite, SCRIPT_FILES, STATIC_FILES};
use ace_replicator::capture::canonical;
use ace_replicator::qa::check_page;
use ace_replicator::record::{PageRecorder, RecordOptions};
use ace_replicator::{replicate, replicate_with, ReplicateOptions};
use tokio_util::sync::CancellationToken;
use url::Url;

use common::{loopback_fetcher, serve_copy};

#[tokio::test(flavor = "multi_thread")]
async fn rendered_copy_keeps_what_scripts_load_and_matches_the_original() {
    let mut site = ReplicaSite::start().await;
    let pool = common::pool();
    let recorder: Arc<dyn PageRecorder> =
        Arc::new(PoolRecorder::new(pool.clone(), FetchGuard::allow_all()));
    let start = Url::parse(&site.url("/replica/")).unwrap();
    let replica = rendered_copy(&recorder, &start, ReplicateOptions::default()).await;
    for path in STATIC_FILES.iter().chain(SCRIPT_FILES) {
        let url = canonical(&Url::parse(&site.url(&format!("/replica/{path}"))).unwrap());
        assert!(
            replica.capture.resolve(&url).is_ok(),
            "{url} not captured; report: {:#?}",
            replica.report
        );
    }
    assert_eq!(replica.report.pages, 3, "{:#?}", replica.report);
    let reason = |suffix: &str| {
        replica.report.missing.iter().find(|m| m.url.ends_with(suffix)).map(|m| m.reason.clone())
    };
    let huge = replica
        .capture
        .exchanges
        .iter()
        .find(|e| e.url.path().ends_with("huge.bin"))
        .map(|e| (e.status, e.body.len(), e.headers.clone()));
    assert_eq!(
        reason("/replica/huge.bin").as_deref(),
        Some("too_large"),
        "{huge:?} {:#?}",
        replica.report.missing
    );
    assert_eq!(reason("/replica/missing.png").as_deref(), Some("not_found"));
    assert!(
        replica
            .report
            .missing
            .iter()
            .any(|m| m.url.contains("/replica/loop") && m.reason == "redirect_loop"),
        "{:#?}",
        replica.report.missing
    );

    let dir = tempfile::tempdir().unwrap();
    replica.site.write_dir(dir.path()).unwrap();
    let (base, server) = serve_copy(dir.path(), "/").await;
    let copy_origin = base.trim_end_matches('/').to_owned();
    for (original, copy) in
        [("/replica/", "replica/"), ("/replica/page2.html", "replica/page2.html")]
    {
        let original = Url::parse(&site.url(original)).unwrap();
        let copy = Url::parse(&format!("{base}{copy}")).unwrap();
        let qa = check_page(
            recorder.as_ref(),
            recorder.as_ref(),
            &original,
            &copy,
            &copy_origin,
            (1024, 768),
        )
        .await
        .expect("QA");
        eprintln!(
            "QA {original}: pixel match {:.4}, text similarity {:.4}, escaped {}, missing {:?}",
            qa.pixel_match,
            qa.text_similarity,
            qa.escaped.len(),
            qa.missing
        );
        if let Ok(dump) = std::env::var("ACE_QA_DUMP") {
            std::fs::write(
                format!("{dump}/diff-{}.png", copy.path().replace('/', "_")),
                &qa.diff_png,
            )
            .unwrap();
        }
        assert!(qa.escaped.is_empty(), "escaped: {:?}", qa.escaped);
        if original.path() == "/replica/" {
            // The script's call to the other host was kept in by the copy's policy.
            assert!(
                qa.contained.iter().any(|u| u.ends_with("/replica/cdn/beacon.json")),
                "{:?}",
                qa.contained
            );
        }
        assert!(qa.pixel_match >= 0.99, "{original}: pixel match {}", qa.pixel_match);
        assert!(qa.text_similarity >= 0.99, "{original}: text similarity {}", qa.text_similarity);
    }

    // The same through qa::run, which serves the copy itself and samples the pages.
    let report =
        ace_replicator::qa::run(recorder.as_ref(), recorder.as_ref(), &replica.site, dir.path(), 3)
            .await
            .unwrap();
    eprintln!(
        "QA run: {} pages, min pixel match {:.4}, mean text {:.4}, escaped {}, missing {}",
        report.pages.len(),
        report.min_pixel_match,
        report.mean_text_similarity,
        report.escaped,
        report.missing
    );
    assert_eq!((report.pages.len(), report.errors.len(), report.escaped), (3, 0, 0), "{report:#?}");
    assert!(report.min_pixel_match >= 0.99, "{report:#?}");

    // Without the containment policy the same copy lets the script reach the other host:
    // the policy, not luck, is what keeps the copy to itself.
    let open_site = ace_replicator::site::build(&replica.capture, false);
    let qa = start_page_qa(recorder.as_ref(), &open_site, &start).await;
    assert!(
        qa.escaped.iter().any(|u| u.ends_with("/replica/cdn/beacon.json")),
        "escaped: {:?}",
        qa.escaped
    );
    assert!(qa.contained.is_empty(), "{:?}", qa.contained);

    // With the origin gone, the copy still runs its scripts on what was recorded.
    site.stop();
    let opts =
        RecordOptions { allow_only: Some(vec![copy_origin.clone()]), ..RecordOptions::default() };
    let page =
        recorder.record(&Url::parse(&format!("{base}replica/")).unwrap(), &opts).await.unwrap();
    assert!(page.blocked.is_empty(), "{:?}", page.blocked);
    assert!(page.text.contains("Injected: alpha, beta"), "{}", page.text);
    server.abort();
    pool.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn static_copy_qa_shows_what_it_misses() {
    let site = ReplicaSite::start().await;
    let pool = common::pool();
    let recorder: Arc<dyn PageRecorder> =
        Arc::new(PoolRecorder::new(pool.clone(), FetchGuard::allow_all()));
    let start = Url::parse(&site.url("/replica/")).unwrap();
    let replica = replicate(
        loopback_fetcher(),
        start.clone(),
        &ReplicateOptions::default(),
        &CancellationToken::new(),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    replica.site.write_dir(dir.path()).unwrap();
    let (base, server) = serve_copy(dir.path(), "/").await;
    let copy = Url::parse(&format!("{base}replica/")).unwrap();
    let qa = check_page(
        recorder.as_ref(),
        recorder.as_ref(),
        &start,
        &copy,
        base.trim_end_matches('/'),
        (1024, 768),
    )
    .await
    .unwrap();
    eprintln!(
        "QA of the static copy: pixel match {:.4}, text similarity {:.4}, escaped {}, missing {:?}",
        qa.pixel_match,
        qa.text_similarity,
        qa.escaped.len(),
        qa.missing
    );
    // A static copy cannot know what scripts load: QA must say so.
    assert!(qa.escaped.is_empty(), "{:?}", qa.escaped);
    for path in ["img/injected.svg", "data/items.json", "css/js-loaded.css"] {
        assert!(
            qa.missing.iter().any(|m| m.ends_with(path)),
            "{path} not reported missing: {:?}",
            qa.missing
        );
    }
    assert!(qa.text_similarity < 1.0, "{}", qa.text_similarity);
    server.abort();
    pool.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn keep_dom_saves_the_page_as_scripts_left_it() {
    let site = ReplicaSite::start().await;
    let pool = common::pool();
    let recorder: Arc<dyn PageRecorder> =
        Arc::new(PoolRecorder::new(pool.clone(), FetchGuard::allow_all()));
    let start = Url::parse(&site.url("/replica/")).unwrap();
    let opts = ReplicateOptions { keep_dom: true, max_pages: Some(1), ..Default::default() };
    let replica = rendered_copy(&recorder, &start, opts).await;
    let page = replica.site.files.iter().find(|f| f.url == start).expect("the start page");
    let html = String::from_utf8_lossy(&page.body);
    // What the script put in the page is in the file; the script that put it there is not.
    assert!(html.contains("Injected: alpha, beta"), "{html}");
    assert!(html.contains("injected.svg"), "{html}");
    assert!(!html.contains("js/app.js"), "{html}");
    assert!(!html.to_ascii_lowercase().contains("<script"), "{html}");
    assert!(html.contains("Content-Security-Policy"), "{html}");
    // The WARC side keeps what the server sent.
    let served = replica.capture.resolve(&start).unwrap();
    assert!(String::from_utf8_lossy(&served.body).contains("js/app.js"));

    let qa = start_page_qa(recorder.as_ref(), &replica.site, &start).await;
    eprintln!(
        "QA of the DOM copy: pixel match {:.4}, text similarity {:.4}, escaped {:?}, missing {:?}",
        qa.pixel_match, qa.text_similarity, qa.escaped, qa.missing
    );
    assert!(qa.escaped.is_empty(), "{:?}", qa.escaped);
    assert!(qa.pixel_match >= 0.99, "pixel match {}", qa.pixel_match);
    assert!(qa.text_similarity >= 0.99, "text similarity {}", qa.text_similarity);
    pool.shutdown().await;
}

/// The fidelity QA of `site`'s start page, the copy written to a folder and served on loopback.
async fn start_page_qa(
    recorder: &dyn PageRecorder,
    site: &ace_replicator::site::Site,
    start: &Url,
) -> ace_replicator::qa::PageQa {
    let dir = tempfile::tempdir().unwrap();
    site.write_dir(dir.path()).unwrap();
    let (base, server) = serve_copy(dir.path(), "/").await;
    let copy = Url::parse(&format!("{base}replica/")).unwrap();
    let qa = check_page(recorder, recorder, start, &copy, base.trim_end_matches('/'), (1024, 768))
        .await
        .expect("QA");
    server.abort();
    qa
}

/// A `render: true` copy from `start` with `opts` (assets over 1 MiB left out).
async fn rendered_copy(
    recorder: &Arc<dyn PageRecorder>,
    start: &Url,
    opts: ReplicateOptions,
) -> ace_replicator::Replica {
    let opts = ReplicateOptions { render: true, max_asset_bytes: Some(1024 * 1024), ..opts };
    replicate_with(
        loopback_fetcher(),
        Some(recorder.clone()),
        start.clone(),
        &opts,
        &CancellationToken::new(),
    )
    .await
    .expect("render capture")
}
