//! The pooled headless-Chromium orchestrator: a few Chromium processes shared safely and fast
//! by many renders, jobs and CDP clients.
//!
//! In flows a render request ([`RenderRequest`], [`ScreenshotRequest`], [`PdfRequest`]) or a
//! CDP client's WebSocket; out flows rendered HTML, an image, a PDF, or a proxied CDP session.
//! Every piece of work takes a [`Lease`] from the [`Pool`]: one fresh incognito browser
//! context on a pooled browser, disposed when the lease drops, so no cookie, storage or cache
//! crosses between tenants or jobs. The pool launches Chromium itself (so it owns, kills and
//! reaps the process), watches each browser's CDP handler loop, pings it, evicts and replaces
//! browsers that die or hang, recycles them by page count and age, and answers
//! [`BrowserError::Saturated`] when its queue is full.
//!
//! Key types: [`PoolConfig`] (documented limits), [`Pool`], [`Lease`], [`render`] (content,
//! screenshot, PDF), [`ChromiumRenderer`] (the crawlers' [`ace_crawlers::Renderer`] seam) and
//! [`cdp::proxy`] (the `/chromium` WebSocket).
//!
//! ```no_run
//! # async fn demo() -> Result<(), ace_browser::BrowserError> {
//! use ace_browser::{Pool, PoolConfig, RenderRequest};
//! use ace_crawlers::FetchGuard;
//! let pool = Pool::start(PoolConfig::default())?;
//! let req: RenderRequest = serde_json::from_str(r#"{"url": "https://example.com/"}"#).unwrap();
//! let page = ace_browser::render::content(&pool, &req, FetchGuard::deny_private()).await?;
//! println!("{} bytes of HTML from {}", page.html.len(), page.final_url);
//! pool.shutdown().await;
//! # Ok(()) }
//! ```

pub mod capture;
pub mod cdp;
mod config;
mod fetcher;
pub mod metrics;
mod pool;
mod process;
pub mod render;

pub use config::{default_executable, PoolConfig};
pub use fetcher::ChromiumRenderer;
pub use pool::{BrowserStatus, Lease, Pool, PoolStatus, SessionSlot};
pub use render::{Action, PdfRequest, RenderRequest, ScreenshotRequest};

use std::time::Duration;

/// Why a browser operation failed.
#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    /// The Chromium executable could not be found or started.
    #[error("cannot launch Chromium ({executable}): {reason}")]
    Launch {
        /// The executable tried.
        executable: String,
        /// What went wrong.
        reason: String,
    },
    /// The wait queue is full; the caller should come back later.
    #[error("the browser pool is saturated: {queued} requests already wait (limit {limit})")]
    Saturated {
        /// Requests waiting when this one arrived.
        queued: usize,
        /// The configured queue limit.
        limit: usize,
    },
    /// No context became free within the acquire timeout.
    #[error("no browser context became free within {waited:?}")]
    AcquireTimeout {
        /// How long the request waited.
        waited: Duration,
    },
    /// The pool is shutting down.
    #[error("the browser pool is shutting down")]
    ShutDown,
    /// The browser died or hung under this work; another browser replaces it, retry.
    #[error("the browser crashed during the render: {reason}")]
    BrowserCrashed {
        /// What was seen.
        reason: String,
    },
    /// The page's renderer process crashed (the browser itself is fine).
    #[error("the page's renderer crashed while {during}")]
    RendererCrashed {
        /// What the render was doing.
        during: String,
    },
    /// Something took longer than the request's timeout.
    #[error("timed out after {after:?} waiting for {awaited}")]
    Timeout {
        /// What was awaited (load, networkidle, selector "#x", click on "#b", ...).
        awaited: String,
        /// The timeout that ran out.
        after: Duration,
    },
    /// The navigation failed (connection refused, DNS, blocked, ...).
    #[error("navigation to {url} failed: {reason}")]
    Navigation {
        /// The URL.
        url: String,
        /// Chromium's error text.
        reason: String,
    },
    /// The fetch guard refused the target or a redirect hop.
    #[error(transparent)]
    Forbidden(#[from] ace_crawlers::Forbidden),
    /// The request itself is wrong (both url and html, a bad selector, a bad option).
    #[error("{0}")]
    InvalidRequest(String),
    /// An action could not be done (element missing, not clickable).
    #[error("action {index} ({kind}) failed: {reason}")]
    Action {
        /// Position in the list, from 0.
        index: usize,
        /// The action's type.
        kind: String,
        /// Why.
        reason: String,
    },
    /// A DevTools protocol command failed.
    #[error("DevTools command failed: {0}")]
    Cdp(String),
    /// Encoding or decoding an image failed.
    #[error("image processing failed: {0}")]
    Image(String),
}

impl BrowserError {
    /// Whether trying again (on another browser) may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            BrowserError::BrowserCrashed { .. }
                | BrowserError::RendererCrashed { .. }
                | BrowserError::Saturated { .. }
                | BrowserError::AcquireTimeout { .. }
                | BrowserError::Timeout { .. }
                | BrowserError::Navigation { .. }
                | BrowserError::Cdp(_)
        )
    }

    /// The snake_case code the API reports for this error.
    pub fn code(&self) -> &'static str {
        match self {
            BrowserError::Launch { .. } | BrowserError::ShutDown => "unavailable",
            BrowserError::Saturated { .. } => "pool_saturated",
            BrowserError::AcquireTimeout { .. } | BrowserError::Timeout { .. } => "timeout",
            BrowserError::BrowserCrashed { .. } => "browser_crashed",
            BrowserError::RendererCrashed { .. } => "renderer_crashed",
            BrowserError::Navigation { .. } => "navigation_failed",
            BrowserError::Forbidden(_) => "target_forbidden",
            BrowserError::InvalidRequest(_) => "invalid_request",
            BrowserError::Action { .. } => "action_failed",
            BrowserError::Cdp(_) | BrowserError::Image(_) => "render_failed",
        }
    }
}

impl From<chromiumoxide::error::CdpError> for BrowserError {
    fn from(e: chromiumoxide::error::CdpError) -> BrowserError {
        BrowserError::Cdp(e.to_string())
    }
}
