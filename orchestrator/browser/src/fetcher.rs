//! [`ChromiumRenderer`]: the crawlers' [`Renderer`] seam, implemented on the pool.

use std::time::Duration;

use ace_crawlers::{FetchError, FetchGuard, NetworkRequest, RenderOptions, RenderedPage, Renderer};
use async_trait::async_trait;
use url::Url;

use crate::render::{self, Action, Output, RenderRequest, ScreenshotRequest, ViewportSize, WaitUntil};
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
        let actions = firecrawl_actions(&opts.actions).map_err(|reason| FetchError::InvalidUrl { url: url.to_string(), reason })?;
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
            viewport: opts.mobile.then_some(MOBILE_VIEWPORT),
            user_agent: opts.mobile.then(|| MOBILE_USER_AGENT.to_owned()),
            actions,
            ..RenderRequest::default()
        };
        let output = match opts.screenshot {
            None => Output::Content,
            Some(spec) => Output::ContentAndScreenshot(ScreenshotRequest { full_page: spec.full_page, ..ScreenshotRequest::default() }),
        };
        let out = render::render(&self.pool, &req, &output, self.guard).await.map_err(|e| to_fetch_error(url, e))?;
        let screenshot = out.bytes;
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
            screenshot,
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

/// The viewport of a `mobile` render: a common phone, at its pixel ratio.
const MOBILE_VIEWPORT: ViewportSize = ViewportSize { width: 390, height: 844, device_scale_factor: Some(3.0) };
const MOBILE_USER_AGENT: &str =
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";

/// Reads action objects in the render API's shape or Firecrawl's, whose `wait` may name a
/// selector instead of a duration. Actions that only make sense in Firecrawl's cloud
/// (`screenshot`, `scrape`, `executeJavascript`, `pdf`) are refused by name.
fn firecrawl_actions(actions: &[serde_json::Value]) -> Result<Vec<Action>, String> {
    actions
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let kind = a.get("type").and_then(serde_json::Value::as_str).unwrap_or_default();
            let a = match (kind, a.get("selector").and_then(serde_json::Value::as_str)) {
                ("wait", Some(selector)) => serde_json::json!({ "type": "waitForSelector", "selector": selector }),
                _ => a.clone(),
            };
            serde_json::from_value::<Action>(a).map_err(|e| format!("action {i} ({kind:?}) is not supported: {e}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn firecrawl_actions_map_onto_render_actions() {
        let actions = firecrawl_actions(&[
            json!({"type": "wait", "milliseconds": 10}),
            json!({"type": "wait", "selector": "#x"}),
            json!({"type": "click", "selector": "#b"}),
            json!({"type": "write", "text": "hi"}),
            json!({"type": "press", "key": "Enter"}),
            json!({"type": "scroll", "direction": "up"}),
        ])
        .unwrap();
        assert!(matches!(&actions[1], Action::WaitForSelector { selector } if selector == "#x"));
        assert!(matches!(&actions[3], Action::Write { selector: None, text } if text == "hi"));
        let err = firecrawl_actions(&[json!({"type": "executeJavascript", "script": "1"})]).unwrap_err();
        assert!(err.contains("executeJavascript"), "{err}");
    }
}
