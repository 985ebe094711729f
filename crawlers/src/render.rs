//! The browser seam: [`Renderer`], something that loads a URL in a real browser and returns
//! the DOM after scripts ran. The orchestrator wires in the Chromium pool (`ace-browser`).

use std::time::Duration;

use async_trait::async_trait;
use url::Url;

use crate::FetchError;

/// When a rendered page counts as loaded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum WaitUntil {
    /// The `load` event.
    #[default]
    Load,
    /// `DOMContentLoaded`.
    DomContentLoaded,
    /// `load`, then no request in flight for 500 ms.
    NetworkIdle,
}

/// How to render.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// When the page counts as loaded.
    pub wait_until: WaitUntil,
    /// A CSS selector that must match before the DOM is taken.
    pub wait_for_selector: Option<String>,
    /// Whole-render limit.
    pub timeout: Duration,
    /// Extra request headers.
    pub headers: Vec<(String, String)>,
    /// Steps to take once loaded, as Firecrawl's and the render API's action objects
    /// (`{"type": "click", "selector": "#more"}`); the renderer says which it cannot do.
    pub actions: Vec<serde_json::Value>,
    /// Take a PNG of the page as well.
    pub screenshot: Option<ScreenshotSpec>,
    /// Load as a phone would (narrow viewport, mobile user agent).
    pub mobile: bool,
}

/// How to take a screenshot along with the DOM.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScreenshotSpec {
    /// The whole scrollable page instead of the viewport.
    pub full_page: bool,
}

impl Default for RenderOptions {
    fn default() -> RenderOptions {
        RenderOptions {
            wait_until: WaitUntil::Load,
            wait_for_selector: None,
            timeout: Duration::from_secs(30),
            headers: Vec::new(),
            actions: Vec::new(),
            screenshot: None,
            mobile: false,
        }
    }
}

/// A page as a browser rendered it.
#[derive(Debug, Clone)]
pub struct RenderedPage {
    /// The URL asked for.
    pub url: Url,
    /// The main document's URL after redirects.
    pub final_url: Url,
    /// The main document's HTTP status, when known.
    pub status: Option<u16>,
    /// The serialised DOM.
    pub html: String,
    /// Requests the page made.
    pub network: Vec<NetworkRequest>,
    /// Time the render took.
    pub elapsed: Duration,
    /// The PNG asked for with [`RenderOptions::screenshot`].
    pub screenshot: Option<Vec<u8>>,
}

/// One request a rendered page made.
#[derive(Debug, Clone)]
pub struct NetworkRequest {
    /// The URL.
    pub url: String,
    /// The method.
    pub method: String,
    /// Document, Script, Image, ...
    pub resource_type: String,
    /// Response status, if one came.
    pub status: Option<u16>,
    /// Why it failed, if it did.
    pub failed: Option<String>,
}

/// Something that renders a URL in a browser. Engines depend on this, never on Chromium.
#[async_trait]
pub trait Renderer: Send + Sync {
    /// Renders `url`; errors say whether a retry may help ([`FetchError::is_retryable`]).
    async fn render(&self, url: &Url, opts: &RenderOptions) -> Result<RenderedPage, FetchError>;
}
