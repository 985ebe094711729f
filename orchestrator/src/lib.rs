//! The orchestrator: the job API, the store and queue, workers, tenants' auth, webhooks and
//! health of `ace-web`.
//!
//! A request flows in through a service router ([`service_router`]): the [`auth::Tenant`]
//! extractor authenticates the key and applies the tenant's rate limit, the handler validates
//! the job (fetch guard, quota) and the [`store::Store`] queues it. A worker
//! ([`worker::run`]) claims it under a lease and runs the kind's [`engine::Engine`]; the
//! outcome, usage, `done` event, agent task and webhook delivery are written in one
//! transaction, and [`webhook::run`] sends the delivery. [`server::serve`] puts every service
//! on its port; [`AppState::open`] builds what they share from a [`config::Config`].
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use ace_orchestrator::{config::Config, server, AppState};
//! let config = Config::default();
//! let shutdown = tokio_util::sync::CancellationToken::new();
//! let listeners = server::bind(&config).await?;
//! let (state, _generated_admin_key) = AppState::open(config, shutdown.clone()).await?;
//! server::serve(state, listeners).await?;
//! # Ok(()) }
//! ```

pub mod api;
pub mod auth;
pub mod browser_engines;
pub mod config;
pub mod engine;
pub mod error;
pub mod firecrawl;
pub mod health;
pub mod metrics;
pub mod model;
pub mod replicator_api;
pub mod server;
pub mod store;
pub mod webhook;
pub mod worker;

use std::sync::Arc;
use std::time::Duration;

use ace_crawlers::{FetchGuard, FetchOptions, HttpFetcher};
use ace_venture::{ApiKey, RateLimiter};
use axum::extract::DefaultBodyLimit;
use axum::Router;
use tokio::sync::{broadcast, Notify};
use tokio_util::sync::CancellationToken;
use tower_http::catch_panic::CatchPanicLayer;

use crate::config::Config;
use crate::engine::Engines;
use crate::metrics::{Metrics, ServiceLabel};
use crate::store::{KeyRecord, SqliteStore, Store};

/// What every service, worker and dispatcher of a process shares.
#[derive(Clone)]
pub struct AppState {
    /// Where everything is kept.
    pub store: Arc<dyn Store>,
    /// The configuration in effect.
    pub config: Arc<Config>,
    /// Per-tenant request rates.
    pub limiter: Arc<RateLimiter>,
    /// Engines by job kind.
    pub engines: Arc<Engines>,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// The guarded HTTP client (pages and webhooks).
    pub http: Arc<HttpFetcher>,
    /// Wakes a worker when a job is queued.
    pub wake: Arc<Notify>,
    /// Wakes the webhook dispatcher when a delivery is queued.
    pub webhooks_wake: Arc<Notify>,
    /// Ids of jobs with new events, for SSE streams in this process.
    pub events: broadcast::Sender<String>,
    /// Fired on SIGINT/SIGTERM: stop taking work.
    pub shutdown: CancellationToken,
    /// The headless-Chromium pool; `None` when Chromium is not installed (browser endpoints
    /// then answer 503 `unavailable`).
    pub browser: Option<ace_browser::Pool>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("engines", &self.engines).finish_non_exhaustive()
    }
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data directory could not be created.
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The store could not be opened or migrated.
    #[error("cannot open the store: {0}")]
    Store(#[from] store::StoreError),
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Http(#[from] ace_crawlers::FetchError),
}

impl AppState {
    /// Opens the store, installs or generates the admin key, and wires the engines.
    /// Returns the admin key when one was generated (to print once).
    pub async fn open(config: Config, shutdown: CancellationToken) -> Result<(AppState, Option<String>), StartError> {
        for dir in [config.data_dir.clone(), config.artifacts_dir()] {
            std::fs::create_dir_all(&dir).map_err(|source| StartError::DataDir { path: dir.display().to_string(), source })?;
        }
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&config.store_url()).await?);
        store.sync_plan_limits(&config.plans).await?;
        let generated = match &config.admin_key {
            Some(secret) => {
                store.set_admin_key(&admin_record(ApiKey::from_secret(secret.clone()))).await?;
                None
            }
            None if !store.has_admin_key().await? => {
                let key = ApiKey::generate();
                store.set_admin_key(&admin_record(key.clone())).await?;
                Some(key.secret)
            }
            None => None,
        };
        let guard = if config.allow_private_networks { FetchGuard::allow_all() } else { FetchGuard::deny_private() };
        let fetch = FetchOptions {
            timeout: Duration::from_secs(config.fetch_timeout_seconds),
            max_body_bytes: config.max_page_bytes,
            ..FetchOptions::default()
        };
        let http = Arc::new(HttpFetcher::new(guard, fetch.clone())?);
        let browser = browser_engines::start_pool(&config.browser);
        let renderer = browser.clone().map(|pool| Arc::new(ace_browser::ChromiumRenderer::new(pool, guard)) as Arc<dyn ace_crawlers::Renderer>);
        let engines = browser_engines::register(Engines::standard(http.clone(), renderer, fetch), browser.as_ref(), guard);
        let state = AppState {
            store,
            limiter: Arc::new(RateLimiter::new(&config.plans)),
            config: Arc::new(config),
            engines: Arc::new(engines),
            metrics: Metrics::new(),
            http,
            wake: Arc::new(Notify::new()),
            webhooks_wake: Arc::new(Notify::new()),
            events: broadcast::channel(1024).0,
            shutdown,
            browser,
        };
        Ok((state, generated))
    }
}

fn admin_record(key: ApiKey) -> KeyRecord {
    KeyRecord {
        id: "key_admin".into(),
        tenant_id: None,
        prefix: key.prefix,
        hash: key.hash,
        created_at: model::now_ms(),
        revoked_at: None,
    }
}

/// Adds what every service shares: JSON errors for unknown routes and methods, the body
/// limit, panics answered as 500 without internals, and request metrics.
pub fn service_router(service: &'static str, routes: Router, state: &AppState) -> Router {
    let label = ServiceLabel { service, metrics: state.metrics.clone() };
    routes
        .fallback(error::not_found_route)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(DefaultBodyLimit::max(state.config.max_request_bytes))
        .layer(CatchPanicLayer::custom(error::panic_response))
        .layer(axum::middleware::from_fn_with_state(label, metrics::track))
}
