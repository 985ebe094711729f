//! Site replication: a URL in, an offline copy out that looks the same with the origin gone.
//!
//! The engine is not built yet (the `replicate` job kind answers 501 `not_implemented`);
//! this crate holds its seam so the orchestrator and the API agree on its shape:
//! [`ReplicateOptions`] is the request of `POST /v1/replicate` and of `replicate` jobs, and
//! [`Output`] names the artifacts a replica can produce. Capture will use the crawler's
//! [`ace_crawlers::Fetcher`] for `render: false` and a browser renderer for `render: true`.
//!
//! ```
//! let opts: ace_replicator::ReplicateOptions = serde_json::from_str("{}").unwrap();
//! assert_eq!(opts.outputs, vec![ace_replicator::Output::Dir]);
//! assert!(!opts.render);
//! ```

use serde::{Deserialize, Serialize};

/// A kind of artifact a replica is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Output {
    /// A browsable directory.
    Dir,
    /// The directory as a zip.
    Zip,
    /// WARC 1.1, gzip per record.
    Warc,
    /// A WACZ package.
    Wacz,
}

/// What to copy and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ReplicateOptions {
    /// Most pages to copy.
    pub max_pages: Option<u64>,
    /// Most link hops from the start page.
    pub max_depth: Option<u32>,
    /// Regexes on the path a page must match to be copied.
    pub include_paths: Vec<String>,
    /// Regexes on the path that exclude a page.
    pub exclude_paths: Vec<String>,
    /// Load pages in a browser and record what scripts fetch.
    pub render: bool,
    /// Which artifacts to write.
    pub outputs: Vec<Output>,
}

impl Default for ReplicateOptions {
    fn default() -> ReplicateOptions {
        ReplicateOptions {
            max_pages: None,
            max_depth: None,
            include_paths: Vec::new(),
            exclude_paths: Vec::new(),
            render: false,
            outputs: vec![Output::Dir],
        }
    }
}

/// What went wrong making a replica.
#[derive(Debug, thiserror::Error)]
pub enum ReplicateError {
    /// The start URL cannot be copied.
    #[error("cannot replicate {url}: {reason}")]
    StartUrl {
        /// The URL.
        url: url::Url,
        /// Why.
        reason: String,
    },
}
