//! Putting every service on its port, and winding them down.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::config::Config;
use crate::{api, firecrawl, health, webhook, worker, AppState};

/// The bound listeners, one per service, in [`crate::config::Ports::named`] order.
#[derive(Debug)]
pub struct Listeners(pub Vec<(&'static str, TcpListener)>);

impl Listeners {
    /// Service names with their bound addresses.
    pub fn addresses(&self) -> Vec<(&'static str, SocketAddr)> {
        self.0.iter().filter_map(|(name, l)| l.local_addr().ok().map(|a| (*name, a))).collect()
    }
}

/// Binds every service's port, failing with the service's name if one is taken.
pub async fn bind(config: &Config) -> anyhow::Result<Listeners> {
    let mut listeners = Vec::new();
    for (name, port) in config.ports.named() {
        let addr = SocketAddr::new(config.bind, port);
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot bind the {name} service to {addr}: {e} (set ports.{name} or ACE_PORTS__{})", name.to_uppercase()))?;
        listeners.push((name, listener));
    }
    Ok(Listeners(listeners))
}

/// Serves every service, runs the workers and the webhook dispatcher, and returns once
/// `state.shutdown` has fired and all of them have stopped.
pub async fn serve(state: AppState, listeners: Listeners) -> anyhow::Result<()> {
    let overview = ace_dashboard::Overview {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        services: listeners.addresses().iter().map(|(n, a)| ((*n).to_owned(), format!("http://{a}"))).collect(),
    };
    let mut tasks = tokio::task::JoinSet::new();
    for (name, listener) in listeners.0 {
        let routes = match name {
            "dashboard" => ace_dashboard::router(overview.clone()),
            "orchestrator" => api::router(state.clone()),
            "replicator" => crate::replicator_api::router(state.clone()),
            "extractor" => api::extract::router(state.clone()),
            "scraper" => firecrawl::router(state.clone()),
            _ => health::router(state.clone()),
        };
        let app = crate::service_router(name, routes, &state);
        let shutdown = state.shutdown.clone();
        tasks.spawn(async move {
            let result = axum::serve(listener, app).with_graceful_shutdown(shutdown.cancelled_owned()).await;
            if let Err(e) = result {
                tracing::error!(service = name, error = %e, "server stopped with an error");
            }
        });
    }
    tasks.spawn(worker::run(state.clone()));
    tasks.spawn(webhook::run(state.clone()));
    tasks.spawn(forget_idle_tenants(state.clone()));
    while tasks.join_next().await.is_some() {}
    if let Some(pool) = &state.browser {
        pool.shutdown().await;
    }
    Ok(())
}

/// Runs only workers and the webhook dispatcher (`ace-web worker`).
pub async fn work(state: AppState) {
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(worker::run(state.clone()));
    tasks.spawn(webhook::run(state.clone()));
    while tasks.join_next().await.is_some() {}
    if let Some(pool) = &state.browser {
        pool.shutdown().await;
    }
}

async fn forget_idle_tenants(state: AppState) {
    loop {
        tokio::select! {
            _ = state.shutdown.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(60)) => state.limiter.retain_recent(),
        }
    }
}
