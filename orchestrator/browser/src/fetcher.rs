//! [`ChromiumRenderer`]: the crawlers' [`Renderer`] seam, implemented on the pool.

use std::time::Duration;

use ace_crawlers::{FetchError, FetchGuard, NetworkRequest, RenderOptions, RenderedPage, Renderer};
use async_trait::async_trait;
use url::Url;

use crate::render::{self, Output, RenderRequest, WaitUntil};
use crate::{BrowserError, Pool};

/// Renders pages for the crawler and replicator on the pooled browsers, under the same
/// fetch guard as the HTTP fetcher.
#[derive(Debug, Clone)]
pub struct ChromiumRenderer {
    pool: Pool,
    guard: FetchGuard,
}

impl ChromiumRenderer {
    /// A renderer on `pool` that refuses what `guard` refuses.
    pub fn new(pool: Pool, guard: FetchGuard) -> ChromiumRenderer {
        ChromiumRenderer { pool, guard }
    }
}

#[async_trait]
impl Renderer for ChromiumRenderer {
    async fn render(&self, url: &Url, opts: &RenderOptions) -> Result<RenderedPage, FetchError> {
        let req = RenderRequest {
            url: Some(url.to_string()),
            wait_until: match opts.wait_until {
                ace_crawlers::WaitUntil::Load => WaitUntil::Load,
                ace_crawlers::WaitUntil::DomContentLoaded => WaitUntil::DomContentLoaded,
                ace_crawlers::WaitUntil::NetworkIdle => WaitUntil::NetworkIdle,
            },
            wait_for_selector: opts.wait_for_selector.clone(),
            timeout: Some(opts.timeout.as_millis().max(1) as u64),
            headers: opts.headers.iter().cloned().collect(),
            ..RenderRequest::default()
        };
        let out = render::render(&self.pool, &req, &Output::Content, self.guard).await.map_err(|e| to_fetch_error(url, e))?;
        let page = out.page;
        Ok(RenderedPage {
            url: url.clone(),
            final_url: Url::parse(&page.final_url).unwrap_or_else(|_| url.clone()),
            status: page.status_code,
            html: page.html,
            network: page
                .network
                .into_iter()
                .map(|n| NetworkRequest { url: n.url, method: n.method, resource_type: n.resource_type, status: n.status, failed: n.failed })
                .collect(),
            elapsed: Duration::from_millis(page.elapsed_ms),
        })
    }
}

/// Browser failures in the seam's terms: timeouts stay timeouts, refusals stay refusals, and
/// everything a retry may cure (crashes, a full pool, navigation errors) is a network error.
fn to_fetch_error(url: &Url, e: BrowserError) -> FetchError {
    match e {
        BrowserError::Forbidden(f) => FetchError::Forbidden(f),
        BrowserError::Timeout { after, .. } | BrowserError::AcquireTimeout { waited: after } => {
            FetchError::Timeout { url: url.to_string(), after }
        }
        BrowserError::InvalidRequest(reason) => FetchError::InvalidUrl { url: url.to_string(), reason },
        BrowserError::Launch { .. } | BrowserError::ShutDown => FetchError::Client(e.to_string()),
        other => FetchError::Network { url: url.to_string(), reason: other.to_string() },
    }
}
