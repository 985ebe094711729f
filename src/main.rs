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
    /// Print the OpenAPI description of the orchestrator's API.
    Openapi,
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

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
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
