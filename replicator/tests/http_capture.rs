//! `render: false` against the replica fixture site on loopback: what the copy holds, what the
//! report lists, where files land, and the copy loaded in Chromium with the origin stopped.

mod common;

use ace_browser::render::{self, RenderRequest, WaitUntil};
use ace_crawlers::FetchGuard;
use ace_fixtures::replica_sites::{ReplicaSite, SCRIPT_FILES, STATIC_FILES};
use ace_replicator::capture::canonical;
use ace_replicator::{replicate, Replica, ReplicateOptions};
use tokio_util::sync::CancellationToken;
use url::Url;

use common::{files_under, loopback_fetcher, serve_copy};

async fn copy_of(site: &ReplicaSite) -> Replica {
    let start = Url::parse(&site.url("/replica/")).unwrap();
    let opts =
        ReplicateOptions { max_asset_bytes: Some(1024 * 1024), ..ReplicateOptions::default() };
    replicate(loopback_fetcher(), start, &opts, &CancellationToken::new()).await.expect("replicate")
}

#[tokio::test(flavor = "multi_thread")]
async fn static_capture_copies_the_static_parts_and_lists_what_is_missing() {
    let site = ReplicaSite::start().await;
    let replica = copy_of(&site).await;
    let outer = tempfile::tempdir().unwrap();
    let out = outer.path().join("nested").join("copy");
    replica.site.write_dir(&out).unwrap();

    // Nothing outside the output folder.
    let top: Vec<_> =
        std::fs::read_dir(outer.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(top, ["nested"]);
    let nested: Vec<_> = std::fs::read_dir(outer.path().join("nested"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(nested, ["copy"]);
    let files = files_under(&out);
    for f in &files {
        assert!(
            f.split('/').all(|s| s != ".." && s != "." && !s.contains('\\') && !s.contains(':')),
            "unsafe name {f}"
        );
    }

    // Every static part was captured, the other host's asset in its own folder.
    for path in STATIC_FILES {
        let url = canonical(&Url::parse(&site.url(&format!("/replica/{path}"))).unwrap());
        assert!(
            replica.capture.resolve(&url).is_ok(),
            "{url} not captured; report: {:#?}",
            replica.report
        );
    }
    let cdn_folder = format!("_hosts/127.0.0.1_{}/", site.cdn.port());
    assert!(
        files.iter().any(|f| f.starts_with(&cdn_folder) && f.ends_with("pixel.svg")),
        "{files:?}"
    );
    // What only scripts load is not seen by a static capture (render: true is for that).
    for path in SCRIPT_FILES {
        let url = canonical(&Url::parse(&site.url(&format!("/replica/{path}"))).unwrap());
        assert!(replica.capture.resolve(&url).is_err(), "{url}");
    }

    // The report names what is missing, why, and who referred to it.
    let missing =
        |suffix: &str| replica.report.missing.iter().find(|m| m.url.ends_with(suffix)).cloned();
    let start = site.url("/replica/");
    let not_found = missing("/replica/missing.png").expect("404 listed");
    assert_eq!(
        (not_found.reason.as_str(), not_found.referrer.as_deref()),
        ("not_found", Some(start.as_str()))
    );
    assert_eq!(missing("/replica/huge.bin").expect("huge listed").reason, "too_large");
    let looped = replica
        .report
        .missing
        .iter()
        .find(|m| m.url.contains("/replica/loop"))
        .expect("loop listed");
    assert_eq!(looped.reason, "redirect_loop");

    // Pages, query strings, deduplication, integrity, hostile names.
    // The layout mirrors the URL paths; a root index.html leads to the start page.
    assert_eq!(replica.report.entry.as_deref(), Some("replica/index.html"));
    assert!(std::fs::read_to_string(out.join("index.html"))
        .unwrap()
        .contains("url=replica/index.html"));
    assert!(files.contains(&"replica/page2.html".to_owned()), "{files:?}");
    assert!(
        files.iter().any(|f| f.starts_with("replica/sub/page3_q") && f.ends_with(".html")),
        "{files:?}"
    );
    let logos: Vec<_> = files.iter().filter(|f| f.starts_with("replica/img/logo_q")).collect();
    assert_eq!(logos.len(), 2, "{files:?}");
    assert!(
        replica.site.duplicates >= 1
            && files.iter().filter(|f| f.starts_with("replica/img/same-")).count() == 1,
        "{files:?}"
    );
    assert!(
        files.iter().any(|f| f.ends_with("escape.svg"))
            && files.iter().any(|f| f.ends_with("win.svg"))
            && files.iter().any(|f| f.ends_with("evil.svg")),
        "{files:?} {:#?}",
        replica.report.missing
    );
    let index = std::fs::read_to_string(out.join("replica/index.html")).unwrap();
    assert!(!index.contains("integrity") && !index.contains("crossorigin"), "{index}");
    assert!(index.contains("src=\"data:image/gif;base64,"), "data: URL kept");
    assert!(
        index.contains("href=\"javascript:void(0)\"")
            && index.contains("href=\"http://example.invalid/elsewhere\"")
    );
    assert!(index.contains("data-src=\"img/lazy.svg\""), "{index}");

    // No copied HTML or CSS points back at either host.
    for f in files.iter().filter(|f| f.ends_with(".html") || f.ends_with(".css")) {
        let text = std::fs::read_to_string(out.join(f)).unwrap();
        for host in [site.addr.to_string(), site.cdn.to_string()] {
            assert!(!text.contains(&host), "{f} still refers to {host}:\n{text}");
        }
    }
    let fonts = std::fs::read_to_string(out.join("replica/css/fonts.css")).unwrap();
    assert!(fonts.contains("url(\"../fonts/fixture_q"), "{fonts}");
    let report = &replica.report;
    assert_eq!(report.pages, 3, "{report:#?}");
    assert_eq!(report.files, files.len() as u64);
}

#[tokio::test(flavor = "multi_thread")]
async fn static_copy_loads_offline_under_any_prefix_without_escaping() {
    let mut site = ReplicaSite::start().await;
    let replica = copy_of(&site).await;
    let dir = tempfile::tempdir().unwrap();
    replica.site.write_dir(dir.path()).unwrap();
    let origins = [format!("http://{}", site.addr), format!("http://{}", site.cdn)];
    site.stop();
    let pool = common::pool();
    for prefix in ["/", "/some/deep/prefix/"] {
        let (base, server) = serve_copy(dir.path(), prefix).await;
        let req = RenderRequest {
            url: Some(format!("{base}replica/")),
            wait_until: WaitUntil::NetworkIdle,
            ..RenderRequest::default()
        };
        let page =
            render::content(&pool, &req, FetchGuard::allow_all()).await.expect("render the copy");
        let copy_origin = base.trim_end_matches(prefix).to_owned();
        for entry in &page.network {
            assert!(
                entry.url.starts_with(&copy_origin) || entry.url.starts_with("data:"),
                "request escaped the copy: {} (prefix {prefix}): {:#?}",
                entry.url,
                page.network
            );
            assert!(!origins.iter().any(|o| entry.url.starts_with(o.as_str())));
        }
        for wanted in [
            "css/main_q",
            "css/base.css",
            "css/fonts.css",
            "fonts/fixture_q",
            "img/hero.svg",
            "img/inline.svg",
            "frame.html",
            "img/frame.svg",
            "img/set1.svg",
            "pixel.svg",
        ] {
            let entry = page.network.iter().find(|e| e.url.contains(wanted));
            assert_eq!(
                entry.and_then(|e| e.status),
                Some(200),
                "{wanted} under {prefix}: {:#?}",
                page.network
            );
        }
        assert!(page.html.contains("Replica fixture"));
        server.abort();
    }
    pool.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn depth_include_and_exclude_bound_the_pages_not_their_requisites() {
    let site = ReplicaSite::start().await;
    let start = Url::parse(&site.url("/replica/")).unwrap();
    let pages_of = |replica: &Replica| -> Vec<String> {
        let mut pages: Vec<String> = replica
            .site
            .files
            .iter()
            .filter(|f| f.page)
            .map(|f| f.url.path().trim_start_matches("/replica/").to_owned())
            .collect();
        pages.sort();
        pages
    };
    let copy = |opts: ReplicateOptions| {
        let start = start.clone();
        async move {
            replicate(loopback_fetcher(), start, &opts, &CancellationToken::new())
                .await
                .expect("replicate")
        }
    };
    let small = ReplicateOptions { max_asset_bytes: Some(1024 * 1024), ..Default::default() };

    // maxDepth 0: the start page alone, with everything it loads.
    let replica = copy(ReplicateOptions { max_depth: Some(0), ..small.clone() }).await;
    assert_eq!(pages_of(&replica), [""], "{:#?}", replica.report);
    assert!(replica.site.files.iter().any(|f| f.url.path().ends_with("img/hero.svg")));
    // A link to a page left out stays a link to the original, not a broken local one.
    let index = replica.site.files.iter().find(|f| f.url == start).unwrap();
    let html = String::from_utf8_lossy(&index.body);
    assert!(html.contains(&format!("href=\"{}\"", site.url("/replica/page2.html"))), "{html}");

    // maxDepth 1 reaches both linked pages.
    let replica = copy(ReplicateOptions { max_depth: Some(1), ..small.clone() }).await;
    assert_eq!(pages_of(&replica), ["", "page2.html", "sub/page3.html"]);

    // includePaths: only matching pages are followed (the start page is always copied).
    let replica =
        copy(ReplicateOptions { include_paths: vec!["page2".into()], ..small.clone() }).await;
    assert_eq!(pages_of(&replica), ["", "page2.html"]);

    // excludePaths: matching pages are not followed, from any page.
    let replica =
        copy(ReplicateOptions { exclude_paths: vec!["^/replica/sub/".into()], ..small.clone() })
            .await;
    assert_eq!(pages_of(&replica), ["", "page2.html"]);

    // maxPages counts pages only.
    let replica = copy(ReplicateOptions { max_pages: Some(2), ..small.clone() }).await;
    assert_eq!(pages_of(&replica).len(), 2);
    assert!(replica.report.hit_page_limit);

    // A delay spaces the requests to each origin, as the crawler's politeness does: the
    // start page and its requisites on the site's own origin come one at a time, this far
    // apart at least.
    let started = std::time::Instant::now();
    let replica =
        copy(ReplicateOptions { max_depth: Some(0), delay: Some(0.05), ..small.clone() }).await;
    let own =
        replica.capture.exchanges.iter().filter(|e| e.url.port() == Some(site.addr.port())).count();
    assert!(own > 10, "{own}");
    let least = std::time::Duration::from_millis(50) * (own as u32 - 1);
    assert!(started.elapsed() >= least, "{own} requests in {:?}", started.elapsed());
    let bad = ReplicateOptions { delay: Some(-1.0), ..small.clone() };
    let err = replicate(loopback_fetcher(), start.clone(), &bad, &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("delay"), "{err}");

    // A bad regex is refused before anything is fetched.
    let bad = ReplicateOptions { include_paths: vec!["(".into()], ..small };
    let err = replicate(loopback_fetcher(), start.clone(), &bad, &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("includePaths"), "{err}");
    let bad = ReplicateOptions { keep_dom: true, ..ReplicateOptions::default() };
    let err =
        replicate(loopback_fetcher(), start, &bad, &CancellationToken::new()).await.unwrap_err();
    assert!(err.to_string().contains("keepDom"), "{err}");
}
