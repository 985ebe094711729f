//! `ace-web`: one binary for every service of ACE Web Automation.
//!
//! `main` only parses the command line, loads the configuration and sets up logging; the
//! work is in the library crates (`ace-orchestrator` first).

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use ace_orchestrator::config::{Config, FlagOverrides};
use ace_orchestrator::{server, AppState};
use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use tokio_util::sync::CancellationToken;

/// How long after SIGINT/SIGTERM the process exits even if something has not wound down.
const HARD_STOP: Duration = Duration::from_millis(9_500);

#[derive(Debug, Parser)]
#[command(name = "ace-web", version, about = "ACE Web Automation: render, scrape, crawl, extract and replicate websites.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start every service (dashboard 9000, orchestrator 9001, replicator 9002, extractor 9003,
    /// scraper 9004, health 9099) with job workers, in one process.
    Serve(ServeArgs),
    /// Run only job workers and webhook delivery against the configured store (scale-out).
    Worker(ServeArgs),
    /// Crawl a site without a server: every page and a JSONL index into a folder.
    Crawl(CrawlArgs),
    /// Copy a site for offline use without a server: a browsable folder, optionally a WARC, a
    /// WACZ and a zip; the report (JSON) goes to stdout.
    Replicate(ReplicateArgs),
    /// Extract a page's main content: HTML on stdin to stdout, or a folder of pages with --batch.
    Extract(ExtractArgs),
    /// Print the OpenAPI description of the orchestrator's API.
    Openapi,
}

#[derive(Debug, Args)]
struct ExtractArgs {
    /// text, markdown, html or json.
    #[arg(long, default_value = "text")]
    format: String,
    /// The page's URL, for resolving its links.
    #[arg(long)]
    url: Option<String>,
    /// Extract every *.html and *.html.gz file in this folder (one JSON line per file).
    #[arg(long, value_name = "IN_DIR", requires = "out")]
    batch: Option<PathBuf>,
    /// Where --batch writes its JSON lines.
    #[arg(long, value_name = "OUT.jsonl")]
    out: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ReplicateArgs {
    /// The start page.
    url: String,
    /// Output folder for the browsable copy.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Load each page in Chromium and keep every response (what scripts load too).
    #[arg(long)]
    render: bool,
    /// Seconds between two requests to one host (robots.txt Crawl-delay can raise it).
    #[arg(long, value_name = "SECONDS")]
    delay: Option<f64>,
    /// With --render: save each page as its DOM after scripts ran (scripts removed).
    #[arg(long, requires = "render")]
    keep_dom: bool,
    /// Leave pages without the policy that keeps the copy from requesting other hosts.
    #[arg(long)]
    allow_external: bool,
    /// Check the fidelity of this many pages (screenshots of original and copy, pixel match,
    /// escaped requests, missing references, text similarity); needs Chromium.
    #[arg(long, value_name = "N")]
    qa: Option<usize>,
    /// Do not copy: check the fidelity of the copy already in this folder (any tool's) on the
    /// pages given with --qa-page, print the QA report and write its diff images to --out.
    #[arg(long, value_name = "DIR", requires = "qa_page")]
    check_copy: Option<PathBuf>,
    /// With --check-copy: an original page's path and its file in the copy, as
    /// /PATH=FILE (repeatable), e.g. /docs/=docs/index.html.
    #[arg(long, value_name = "PATH=FILE")]
    qa_page: Vec<String>,
    /// Also write a WARC 1.1 (gzip per record) here.
    #[arg(long, value_name = "FILE")]
    warc: Option<PathBuf>,
    /// Also write a WACZ 1.1.1 here.
    #[arg(long, value_name = "FILE")]
    wacz: Option<PathBuf>,
    /// Also write the copy as a zip here.
    #[arg(long, value_name = "FILE")]
    zip: Option<PathBuf>,
    /// Most pages to copy (their requisites are not counted).
    #[arg(long)]
    max_pages: Option<u64>,
    /// Most link hops from the start page.
    #[arg(long)]
    max_depth: Option<u32>,
    /// Largest single file copied, in bytes (default 50 MiB).
    #[arg(long)]
    max_asset_bytes: Option<u64>,
    /// Requests in flight at once (default 16).
    #[arg(long)]
    concurrency: Option<usize>,
    /// Only follow links whose path matches this regex (repeatable).
    #[arg(long, value_name = "REGEX")]
    include: Vec<String>,
    /// Skip links whose path matches this regex (repeatable).
    #[arg(long, value_name = "REGEX")]
    exclude: Vec<String>,
    /// Do not read or obey robots.txt.
    #[arg(long)]
    ignore_robots: bool,
    /// Allow loopback and private addresses (also ACE_ALLOW_PRIVATE_NETWORKS=1).
    #[arg(long, env = "ACE_ALLOW_PRIVATE_NETWORKS", value_parser = clap::builder::BoolishValueParser::new(), default_value = "false")]
    allow_private_networks: bool,
}

#[derive(Debug, Args)]
struct CrawlArgs {
    /// Where to start.
    url: String,
    /// Output folder: pages/<host>/<path> and index.jsonl.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Most pages to fetch.
    #[arg(long)]
    limit: Option<u64>,
    /// Most link hops from the start page.
    #[arg(long)]
    depth: Option<u32>,
    /// Only follow URLs whose path matches this regex (repeatable).
    #[arg(long, value_name = "REGEX")]
    include: Vec<String>,
    /// Skip URLs whose path matches this regex (repeatable).
    #[arg(long, value_name = "REGEX")]
    exclude: Vec<String>,
    /// Fetches in flight at once.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Do not read or obey robots.txt.
    #[arg(long)]
    ignore_robots: bool,
    /// Follow links to other sites.
    #[arg(long)]
    allow_external: bool,
    /// Follow links to subdomains.
    #[arg(long)]
    allow_subdomains: bool,
    /// Allow loopback and private addresses (also ACE_ALLOW_PRIVATE_NETWORKS=1).
    #[arg(long, env = "ACE_ALLOW_PRIVATE_NETWORKS", value_parser = clap::builder::BoolishValueParser::new(), default_value = "false")]
    allow_private_networks: bool,
    /// never: plain HTTP (the default). auto: also load app-shell pages (whose content needs
    /// JavaScript) in headless Chromium; always: load every HTML page in it. Links are then
    /// taken from the rendered page; robots.txt and sitemaps stay plain HTTP. auto and always
    /// start a small browser pool for the crawl (ACE_CHROMIUM names the executable).
    #[arg(long, value_name = "auto|always|never", default_value = "never")]
    render: String,
    /// Also write each HTML page's main content: markdown (.md), text (.txt) or html
    /// (.main.html), beside the raw page (repeatable, or comma-separated). raw: only the page.
    #[arg(long, value_name = "FORMAT", value_delimiter = ',', default_value = "raw")]
    format: Vec<String>,
    /// Seconds between two requests to one host (robots.txt Crawl-delay can raise it).
    #[arg(long, value_name = "SECONDS")]
    delay: Option<f64>,
    /// Requests in flight at once to one host (default: --concurrency).
    #[arg(long, value_name = "N")]
    per_host_concurrency: Option<usize>,
    /// Sitemaps: include (seed the crawl with them), skip, or only (crawl just their URLs).
    #[arg(long, value_name = "include|skip|only", default_value = "include")]
    sitemap: String,
    /// Tries per page on network errors, 5xx and 429 (1: no retries).
    #[arg(long, value_name = "N", default_value_t = 3)]
    attempts: u32,
    /// Whole-request timeout per page, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    timeout: u64,
    /// Largest page body, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 10 * 1024 * 1024)]
    max_body: u64,
    /// Leave answers that are not HTML out (only their headers are read).
    #[arg(long)]
    skip_non_html: bool,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// TOML configuration file (overridden by ACE_* variables, which flags override).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address to bind every service to.
    #[arg(long)]
    bind: Option<std::net::IpAddr>,
    /// Directory for the database and artifacts.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Store URL (sqlite://PATH).
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
    /// Job workers in this process.
    #[arg(long)]
    workers: Option<usize>,
    /// Allow fetching loopback and private addresses.
    #[arg(long)]
    allow_private_networks: bool,
    /// A service's port, as SERVICE=PORT (repeatable), e.g. --port orchestrator=9101.
    #[arg(long = "port", value_name = "SERVICE=PORT")]
    ports: Vec<String>,
}

impl ServeArgs {
    fn load(&self) -> anyhow::Result<Config> {
        let mut flags = FlagOverrides {
            bind: self.bind,
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            workers: self.workers,
            allow_private_networks: self.allow_private_networks.then_some(true),
            ..FlagOverrides::default()
        };
        for spec in &self.ports {
            let (service, port) = spec.split_once('=').context("--port takes SERVICE=PORT")?;
            let port: u16 = port.parse().with_context(|| format!("--port {spec}: {port:?} is not a port number"))?;
            flags.ports.insert(service.to_owned(), port.into());
        }
        Ok(Config::load(self.config.as_deref(), &flags)?)
    }
}

/// The log filter when `RUST_LOG` is unset. chromiumoxide's handler warns about every CDP
/// event it cannot parse, and Chromium sends some on every request
/// (`requestWillBeSentExtraInfo`, whose newer fields its types lack): two dozen lines per
/// render that say nothing about the render. Its one error, a broken connection, is also
/// logged by the pool, which knows whether the browser was being closed on purpose.
const DEFAULT_LOG: &str = "info,chromiumoxide::handler=off";

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| DEFAULT_LOG.into()))
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ace-web: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli));
    // Anything still running (a stuck connection) must not hold the exit.
    runtime.shutdown_timeout(Duration::from_millis(200));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ace-web: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Crawl(args) => crawl(args).await,
        Command::Replicate(args) => replicate(args).await,
        Command::Extract(args) => {
            let format: ace_extractors::Format = args.format.parse()?;
            match (args.batch, args.out) {
                (Some(dir), Some(out)) => {
                    let report = ace_extractors::run_batch(&dir, &out, format)?;
                    eprintln!("ace-web extract: {report:?}");
                }
                _ => ace_extractors::run_single(std::io::stdin().lock(), std::io::stdout().lock(), format, args.url.as_deref())?,
            }
            Ok(())
        }
        Command::Openapi => {
            print!("{}", ace_orchestrator::api::openapi_json());
            Ok(())
        }
        Command::Serve(args) => {
            let config = args.load()?;
            let listeners = server::bind(&config).await?;
            let shutdown = CancellationToken::new();
            let (state, generated) = AppState::open(config, shutdown.clone()).await?;
            announce(generated.as_deref(), &listeners);
            supervise(shutdown, server::serve(state, listeners)).await
        }
        Command::Worker(args) => {
            let config = args.load()?;
            anyhow::ensure!(config.workers > 0, "configuration error: workers: `ace-web worker` needs at least 1");
            let shutdown = CancellationToken::new();
            let (state, generated) = AppState::open(config, shutdown.clone()).await?;
            announce(generated.as_deref(), &server::Listeners(Vec::new()));
            supervise(shutdown, async move {
                server::work(state).await;
                Ok(())
            })
            .await
        }
    }
}

/// Prints the generated admin key (once, at first start) and where each service listens.
/// Tests and scripts read these lines from stdout.
fn announce(generated_admin_key: Option<&str>, listeners: &server::Listeners) {
    let mut out = std::io::stdout().lock();
    if let Some(key) = generated_admin_key {
        let _ = writeln!(out, "ace-web: generated admin key (shown only now, stored hashed): {key}");
    }
    for (name, addr) in listeners.addresses() {
        let _ = writeln!(out, "ace-web: {name} listening on http://{addr}");
    }
    let _ = writeln!(out, "ace-web: ready");
    let _ = out.flush();
}

/// Runs `work` until it ends or a signal arrives; after a signal, gives it until [`HARD_STOP`].
async fn supervise(shutdown: CancellationToken, work: impl std::future::Future<Output = anyhow::Result<()>>) -> anyhow::Result<()> {
    tokio::pin!(work);
    tokio::select! {
        result = &mut work => return result,
        _ = signal() => {}
    }
    tracing::info!("shutting down: no new work; running jobs get the grace period, then go back to the queue");
    shutdown.cancel();
    match tokio::time::timeout(HARD_STOP, work).await {
        Ok(result) => result,
        Err(_) => {
            tracing::warn!("services did not stop in time; exiting anyway (leases will expire)");
            Ok(())
        }
    }
}

async fn signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

async fn crawl(args: CrawlArgs) -> anyhow::Result<()> {
    use ace_crawlers::crawl::{CrawlOptions, Crawler, NonHtml};
    use ace_crawlers::retry::RetryPolicy;
    use ace_crawlers::scrape::RenderMode;
    use ace_crawlers::sitemap::SitemapMode;
    use ace_crawlers::output::DirWriter;
    use ace_crawlers::{FetchGuard, FetchOptions, HttpFetcher};

    let start = url::Url::parse(&args.url).with_context(|| format!("{:?} is not a URL", args.url))?;
    let regexes = |list: &[String]| -> anyhow::Result<Vec<regex::Regex>> {
        list.iter().map(|r| regex::Regex::new(r).with_context(|| format!("bad regex {r:?}"))).collect()
    };
    let guard = if args.allow_private_networks { FetchGuard::allow_all() } else { FetchGuard::deny_private() };
    let guard_check = guard.check_resolved(&start).await;
    guard_check.map_err(|e| anyhow::anyhow!("{e} (pass --allow-private-networks to crawl local addresses)"))?;
    let render = match args.render.as_str() {
        "auto" => RenderMode::Auto,
        "always" => RenderMode::Always,
        "never" => RenderMode::Never,
        other => anyhow::bail!("--render takes auto, always or never, not {other:?}"),
    };
    let mut formats = Vec::new();
    for f in &args.format {
        match f.as_str() {
            "raw" | "rawHtml" => {}
            "markdown" => formats.push(ace_extractors::OutputFormat::Markdown),
            "text" => formats.push(ace_extractors::OutputFormat::Text),
            "html" => formats.push(ace_extractors::OutputFormat::Html),
            other => anyhow::bail!("--format takes raw, markdown, text or html, not {other:?}"),
        }
    }
    let sitemap = match args.sitemap.as_str() {
        "include" => SitemapMode::Include,
        "skip" => SitemapMode::Skip,
        "only" => SitemapMode::Only,
        other => anyhow::bail!("--sitemap takes include, skip or only, not {other:?}"),
    };
    let delay = match args.delay {
        Some(d) if !(0.0..=600.0).contains(&d) => anyhow::bail!("--delay takes seconds between 0 and 600"),
        d => d.map(Duration::from_secs_f64),
    };
    let fetch = FetchOptions {
        timeout: Duration::from_secs(args.timeout.max(1)),
        max_body_bytes: args.max_body,
        follow_redirects: false,
        read_timeout: Some(ace_crawlers::crawl::CRAWL_READ_TIMEOUT),
        ..FetchOptions::default()
    };
    let fetcher = std::sync::Arc::new(HttpFetcher::new(guard, fetch.clone())?);
    let opts = CrawlOptions {
        per_host_concurrency: args.per_host_concurrency,
        delay,
        sitemap,
        retry: RetryPolicy { attempts: args.attempts.max(1), ..RetryPolicy::default() },
        non_html: if args.skip_non_html { NonHtml::Skip } else { NonHtml::Record },
        fetch,
        max_depth: args.depth,
        limit: args.limit,
        include_paths: regexes(&args.include)?,
        exclude_paths: regexes(&args.exclude)?,
        allow_external_links: args.allow_external,
        allow_subdomains: args.allow_subdomains,
        ignore_robots: args.ignore_robots,
        concurrency: args.concurrency.max(1),
        ..CrawlOptions::default()
    };
    let writer = DirWriter::with_formats(&args.out, &formats).with_context(|| format!("cannot write to {}", args.out.display()))?;
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    let cancel = CancellationToken::new();
    let on_signal = cancel.clone();
    tokio::spawn(async move {
        signal().await;
        on_signal.cancel();
    });
    let mut crawler = Crawler::new(fetcher, opts);
    let pool = match render {
        RenderMode::Never => None,
        mode => {
            let pool = browser_pool().with_context(|| format!("--render {} needs Chromium", args.render))?;
            crawler = crawler.with_renderer(std::sync::Arc::new(ace_browser::ChromiumRenderer::new(pool.clone(), guard)), mode);
            Some(pool)
        }
    };
    let crawl = tokio::spawn(async move { crawler.run(start, tx, cancel).await });
    let mut written = Ok(());
    while let Some(page) = rx.recv().await {
        if let Err(e) = writer.write(page) {
            written = Err(e);
            break;
        }
    }
    // Dropping the receiver ends the crawl early when writing failed; either way the
    // browsers are closed before the process reports.
    drop(rx);
    let summary = crawl.await;
    if let Some(pool) = &pool {
        pool.shutdown().await;
    }
    written?;
    let summary = summary?;
    let totals = writer.finish()?;
    eprintln!(
        "ace-web crawl: {} pages fetched ({} rendered, {} errors, {} from sitemaps, {} disallowed by robots.txt, {} trap URLs, {} non-HTML and {} query variants of static files skipped){}; {} files, {} bytes in {}",
        summary.fetched,
        summary.rendered,
        summary.errors,
        summary.sitemap_urls,
        summary.disallowed_by_robots,
        summary.trapped,
        summary.non_html_skipped,
        summary.static_variants,
        if summary.hit_limit { ", stopped at the limit" } else if summary.cancelled { ", interrupted" } else { "" },
        totals.files,
        totals.bytes,
        args.out.display()
    );
    Ok(())
}

/// The small browser pool a command without a server renders in: one Chromium, the
/// executable from `ACE_CHROMIUM` when set. Browsers start on first use; shut it down at the end.
fn browser_pool() -> Result<ace_browser::Pool, ace_browser::BrowserError> {
    let mut config = ace_browser::PoolConfig { max_browsers: 1, ..ace_browser::PoolConfig::default() };
    if let Ok(exe) = std::env::var("ACE_CHROMIUM") {
        config.executable = exe.into();
    }
    ace_browser::Pool::start(config)
}

async fn replicate(args: ReplicateArgs) -> anyhow::Result<()> {
    use ace_crawlers::{FetchGuard, FetchOptions, HttpFetcher};
    use ace_replicator::{Output, ReplicateOptions};

    let start = url::Url::parse(&args.url).with_context(|| format!("{:?} is not a URL", args.url))?;
    let guard = if args.allow_private_networks { FetchGuard::allow_all() } else { FetchGuard::deny_private() };
    let guard_check = guard.check_resolved(&start).await;
    guard_check.map_err(|e| anyhow::anyhow!("{e} (pass --allow-private-networks to copy local addresses)"))?;
    if let Some(dir) = &args.check_copy {
        let mut pages = Vec::new();
        for spec in &args.qa_page {
            let (path, file) = spec.split_once('=').context("--qa-page takes /PATH=FILE")?;
            pages.push((start.join(path).with_context(|| format!("bad page path {path:?}"))?, file.trim_start_matches('/').to_owned()));
        }
        let pool = browser_pool().context("--check-copy needs Chromium")?;
        let originals = ace_browser::capture::PoolRecorder::new(pool.clone(), guard);
        let copies = ace_browser::capture::PoolRecorder::new(pool.clone(), FetchGuard::allow_all());
        let qa = ace_replicator::qa::check_copy(&originals, &copies, dir, &pages).await;
        pool.shutdown().await;
        let qa = qa?;
        std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
        for (n, page) in qa.pages.iter().enumerate() {
            std::fs::write(args.out.join(format!("qa-diff-{n}.png")), &page.diff_png)?;
        }
        println!("{}", serde_json::to_string_pretty(&qa)?);
        return Ok(());
    }
    let mut outputs = vec![Output::Dir];
    outputs.extend(args.warc.is_some().then_some(Output::Warc));
    outputs.extend(args.wacz.is_some().then_some(Output::Wacz));
    outputs.extend(args.zip.is_some().then_some(Output::Zip));
    let opts = ReplicateOptions {
        max_pages: args.max_pages,
        max_depth: args.max_depth,
        include_paths: args.include,
        exclude_paths: args.exclude,
        render: args.render,
        outputs,
        max_asset_bytes: args.max_asset_bytes,
        concurrency: args.concurrency,
        ignore_robots_txt: args.ignore_robots,
        keep_dom: args.keep_dom,
        block_external: !args.allow_external,
        delay: args.delay,
        ..ReplicateOptions::default()
    };
    let fetcher = std::sync::Arc::new(HttpFetcher::new(guard, FetchOptions::default())?);
    let cancel = CancellationToken::new();
    let on_signal = cancel.clone();
    tokio::spawn(async move {
        signal().await;
        on_signal.cancel();
    });
    let qa_samples = args.qa.unwrap_or(0);
    let pool = if args.render || qa_samples > 0 {
        Some(browser_pool().context("--render and --qa need Chromium")?)
    } else {
        None
    };
    let originals = pool.as_ref().map(|p| std::sync::Arc::new(ace_browser::capture::PoolRecorder::new(p.clone(), guard)));
    let recorder: Option<std::sync::Arc<dyn ace_replicator::record::PageRecorder>> =
        if args.render { originals.clone().map(|r| r as std::sync::Arc<dyn ace_replicator::record::PageRecorder>) } else { None };
    let result = ace_replicator::replicate_with(fetcher, recorder, start, &opts, &cancel).await;
    let replica = match result {
        Ok(r) => r,
        Err(e) => {
            if let Some(p) = &pool {
                p.shutdown().await;
            }
            return Err(e.into());
        }
    };
    replica.site.write_dir(&args.out)?;
    let mut qa = None;
    if let (Some(pool), Some(originals)) = (&pool, &originals) {
        if qa_samples > 0 {
            let copies = ace_browser::capture::PoolRecorder::new(pool.clone(), FetchGuard::allow_all());
            qa = Some(ace_replicator::qa::run(originals.as_ref(), &copies, &replica.site, &args.out, qa_samples).await?);
        }
        pool.shutdown().await;
    }
    if let Some(path) = &args.warc {
        let mut file = std::io::BufWriter::new(std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?);
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        ace_replicator::warc::write(&replica.capture, &name, &mut file).with_context(|| format!("cannot write {}", path.display()))?;
        file.flush()?;
    }
    if let Some(path) = &args.wacz {
        let file = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        ace_replicator::wacz::write(&replica.capture, std::io::BufWriter::new(file))?.flush()?;
    }
    if let Some(path) = &args.zip {
        let file = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        replica.site.write_zip(std::io::BufWriter::new(file))?.flush()?;
    }
    let report = &replica.report;
    let mut doc = serde_json::to_value(report)?;
    if let Some(qa) = &qa {
        doc["qa"] = serde_json::to_value(qa)?;
        eprintln!(
            "ace-web replicate: QA of {} pages: min pixel match {:.4}, mean {:.4}, text similarity {:.4}, {} escaped requests, {} missing references, {} kept in by the copy's policy",
            qa.pages.len(),
            qa.min_pixel_match,
            qa.mean_pixel_match,
            qa.mean_text_similarity,
            qa.escaped,
            qa.missing,
            qa.contained
        );
    }
    println!("{}", serde_json::to_string_pretty(&doc)?);
    eprintln!(
        "ace-web replicate: {} pages, {} assets, {} files, {} bytes in {} ({} requests, {} duplicates stored once, {} missing){} in {} ms",
        report.pages,
        report.assets,
        report.files,
        report.bytes,
        args.out.display(),
        report.requests,
        report.duplicates,
        report.missing.len(),
        if report.hit_page_limit { ", stopped at --max-pages" } else if report.cancelled { ", interrupted" } else { "" },
        report.elapsed_ms
    );
    Ok(())
}
