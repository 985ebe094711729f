//! The crate's one error type.

use std::path::PathBuf;

/// Everything that can go wrong while extracting.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// Reading or writing a file or stream failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The input is not text (NUL bytes and control characters dominate it).
    #[error("the input is binary data, not an HTML page")]
    Binary,
    /// A selector in a `json` schema does not parse.
    #[error("invalid CSS selector {selector:?} in the schema: {reason}")]
    InvalidSelector { selector: String, reason: String },
    /// The `json` schema is malformed.
    #[error("invalid extraction schema: {reason}")]
    InvalidSchema { reason: String },
    /// The `json` format was requested without a schema.
    #[error("the json format needs a schema")]
    MissingSchema,
    /// An unknown format name.
    #[error("unknown format {0:?}")]
    UnknownFormat(String),
    /// Serialising output failed.
    #[error("could not serialise the output: {0}")]
    Serialize(#[from] serde_json::Error),
}

impl ExtractError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ExtractError::Io { path: path.into(), source }
    }
}
