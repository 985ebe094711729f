//! The browser seam of `render: true`: [`PageRecorder`], something that loads a page in a real
//! browser and hands back every response it received (bodies included), the DOM after
//! scripts ran, and optionally a screenshot. The orchestrator wires in the Chromium pool
//! (`ace_browser::capture`); tests may wire in anything.

use std::time::Duration;

use async_trait::async_trait;
use url::Url;

/// How to record one page.
#[derive(Debug, Clone)]
pub struct RecordOptions {
    /// Whole-page limit.
    pub timeout: Duration,
    /// Viewport in CSS pixels.
    pub viewport: (u32, u32),
    /// Scroll to the bottom and back before settling, so lazy content loads.
    pub scroll: bool,
    /// When set, requests to any other origin are blocked (and listed as blocked).
    pub allow_only: Option<Vec<String>>,
    /// Take a PNG of the viewport once settled.
    pub screenshot: bool,
}

impl Default for RecordOptions {
    fn default() -> RecordOptions {
        RecordOptions {
            timeout: Duration::from_secs(30),
            viewport: (1280, 800),
            scroll: true,
            allow_only: None,
            screenshot: false,
        }
    }
}

/// One response the page received.
#[derive(Debug, Clone)]
pub struct RecordedResponse {
    /// The URL.
    pub url: String,
    /// HTTP status.
    pub status: u16,
    /// Response headers, names lower-case.
    pub headers: Vec<(String, String)>,
    /// The body (empty for redirects); `None` when the browser did not keep it (too large,
    /// evicted), in which case the capture fetches it over HTTP if the markup refers to it.
    pub body: Option<Vec<u8>>,
}

/// A page as a browser loaded it.
#[derive(Debug, Clone, Default)]
pub struct RecordedPage {
    /// The document's URL after redirects.
    pub final_url: String,
    /// The DOM after scripts ran.
    pub dom: String,
    /// `document.body.innerText`, for text comparisons.
    pub text: String,
    /// Every response, in arrival order (redirect hops included).
    pub responses: Vec<RecordedResponse>,
    /// Every URL the page requested.
    pub requests: Vec<String>,
    /// Requests refused because of [`RecordOptions::allow_only`].
    pub blocked: Vec<String>,
    /// Requests that failed, with why (those in `refused` not included).
    pub failed: Vec<(String, String)>,
    /// Requests the page's own Content-Security-Policy refused: they never left the browser.
    pub refused: Vec<String>,
    /// PNG of the viewport, when asked for.
    pub screenshot: Option<Vec<u8>>,
}

/// Why a page could not be recorded.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct RecordError {
    /// A snake_case code.
    pub code: String,
    /// A sentence.
    pub message: String,
    /// Whether a retry may help.
    pub retryable: bool,
}

/// Something that loads a page in a browser and records what it fetched.
#[async_trait]
pub trait PageRecorder: Send + Sync {
    /// Loads `url` and records it.
    async fn record(&self, url: &Url, opts: &RecordOptions) -> Result<RecordedPage, RecordError>;
}
