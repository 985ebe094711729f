//! Fetching pages: the fetch guard, the [`Fetcher`] seam and the scrape engine.
//!
//! In flows a URL and [`FetchOptions`]; out flows a [`FetchedPage`] (final URL, status,
//! headers, body, timings) or a [`FetchError`] that says whether a retry may help. Engines
//! ask for "something that fetches a URL" ([`Fetcher`]); the orchestrator wires in the real
//! [`HttpFetcher`], whose every connection passes the [`FetchGuard`]: only http and https, and
//! no loopback, private, link-local or unspecified address unless the operator allows them,
//! checked after DNS resolution and again on every redirect hop. [`scrape::Scraper`] is the
//! scrape engine: one page, over HTTP or in the browser, made into a document;
//! [`crawl::Crawler`] the crawl engine, whose pages a [`RenderingFetcher`] can load in the
//! browser (a [`Renderer`]) when their content needs JavaScript.
//!
//! ```no_run
//! # async fn demo() -> Result<(), ace_crawlers::FetchError> {
//! use ace_crawlers::{FetchGuard, FetchOptions, Fetcher, HttpFetcher};
//! let fetcher = HttpFetcher::new(FetchGuard::deny_private(), FetchOptions::default())?;
//! let url = url::Url::parse("https://example.com/").unwrap();
//! let page = fetcher.fetch(&url, &FetchOptions::default()).await?;
//! println!("{} {}", page.status, page.final_url);
//! # Ok(()) }
//! ```

pub mod checkpoint;
pub mod crawl;
mod fetch;
mod guard;
pub mod links;
pub mod map;
pub mod normalize;
pub mod output;
pub mod politeness;
mod render;
pub mod retry;
pub mod scrape;
pub mod sitemap;

pub use fetch::{FetchOptions, FetchedPage, Fetcher, HttpFetcher};
pub use guard::{FetchGuard, Forbidden};
pub use render::{NetworkRequest, RenderOptions, RenderedPage, Renderer, RenderingFetcher, ScreenshotSpec, WaitUntil, DEFAULT_MAX_RENDERS};

use std::time::Duration;

/// Why a fetch did not produce a page.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FetchError {
    /// The URL is not http(s) or cannot be fetched as written.
    #[error("invalid URL {url}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The fetch guard refused the target (or a redirect hop).
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// The host name did not resolve.
    #[error("could not resolve {host}")]
    Dns {
        /// The host.
        host: String,
    },
    /// Connecting, TLS, or the connection broke.
    #[error("network error fetching {url}: {reason}")]
    Network {
        /// The URL.
        url: String,
        /// What failed, without internals.
        reason: String,
    },
    /// The response did not arrive in time.
    #[error("timed out after {after:?} fetching {url}")]
    Timeout {
        /// The URL.
        url: String,
        /// The limit that ran out.
        after: Duration,
    },
    /// Too many redirects, or a loop.
    #[error("too many redirects fetching {url} (limit {limit})")]
    TooManyRedirects {
        /// The URL.
        url: String,
        /// The limit.
        limit: usize,
    },
    /// The body was larger than allowed.
    #[error("response from {url} exceeds {limit} bytes")]
    TooLarge {
        /// The URL.
        url: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// The response is of a type the caller did not ask for (see
    /// [`FetchOptions::content_types`]); its body was not downloaded.
    #[error("{url} is {content_type}, not a type this fetch reads")]
    UnwantedContent {
        /// The URL.
        url: String,
        /// The response's `Content-Type`.
        content_type: String,
    },
    /// A document could not be read as what it claims to be (a sitemap that is not XML).
    #[error("cannot read {url}: {reason}")]
    BadContent {
        /// The URL.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The fetcher could not be built (TLS backend, say).
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

impl FetchError {
    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, FetchError::Network { .. } | FetchError::Timeout { .. } | FetchError::Dns { .. })
    }

    /// The snake_case code the API reports for this error.
    pub fn code(&self) -> &'static str {
        match self {
            FetchError::InvalidUrl { .. } => "invalid_url",
            FetchError::Forbidden(_) => "target_forbidden",
            FetchError::Dns { .. } => "dns_failure",
            FetchError::Network { .. } => "network_error",
            FetchError::Timeout { .. } => "timeout",
            FetchError::TooManyRedirects { .. } => "too_many_redirects",
            FetchError::TooLarge { .. } => "too_large",
            FetchError::UnwantedContent { .. } => "unsupported_content_type",
            FetchError::BadContent { .. } => "bad_content",
            FetchError::Client(_) => "internal",
        }
    }
}
