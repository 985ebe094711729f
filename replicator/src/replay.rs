//! Serving a copy: from a request path to a file inside the copy, and the headers that keep
//! a replayed page in its sandbox.
//!
//! [`resolve`] refuses any path that could name a file outside the copy, encoded or not
//! (`..`, `%2e%2e`, `%2f`, backslashes, NUL, absolute paths, symbolic links out); a folder
//! path serves its `index.html`. [`CSP`] is sent with every replayed file: the page runs in a
//! sandbox (an opaque origin, so it can reach neither the service's other pages nor other
//! replicas with credentials) and may load only from the replay origin, `data:` and `blob:`,
//! so a copy can never call back to the site it was taken from.
//!
//! ```
//! let dir = tempfile::tempdir().unwrap();
//! std::fs::write(dir.path().join("index.html"), "hi").unwrap();
//! assert!(ace_replicator::replay::resolve(dir.path(), "").is_ok());
//! assert!(ace_replicator::replay::resolve(dir.path(), "..%2f..%2fetc/passwd").is_err());
//! ```

use std::path::{Path, PathBuf};

use crate::paths::percent_decode;

/// The `Content-Security-Policy` of replayed files.
pub const CSP: &str = "sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads; \
     default-src 'self' data: blob: 'unsafe-inline' 'unsafe-eval'; form-action 'self'; base-uri 'none'";

/// Headers sent with every replayed file: the sandboxing [`CSP`]; CORS open to any origin,
/// because a sandboxed page is an opaque origin and fonts and `fetch` need CORS even from
/// the replay server itself; and no MIME sniffing.
pub const HEADERS: [(&str, &str); 3] = [
    ("content-security-policy", CSP),
    ("access-control-allow-origin", "*"),
    ("x-content-type-options", "nosniff"),
];

/// Why a path is not served.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReplayError {
    /// The path tries to leave the copy.
    #[error("path refused: {0}")]
    Refused(String),
    /// No such file in the copy.
    #[error("not in the copy: {0}")]
    NotFound(String),
}

/// The file `raw_path` (as it came in the request, still percent-encoded, relative to the
/// copy's root) names inside `root`.
pub fn resolve(root: &Path, raw_path: &str) -> Result<PathBuf, ReplayError> {
    let refused = || ReplayError::Refused(raw_path.to_owned());
    let raw_path = raw_path.split(['?', '#']).next().unwrap_or("");
    let mut rel = Vec::new();
    let segments: Vec<&str> = raw_path.split('/').collect();
    for (i, seg) in segments.iter().enumerate() {
        if seg.is_empty() {
            // A leading or doubled slash is harmless; a trailing one means the folder's index.
            if i + 1 == segments.len() {
                continue;
            }
            if i == 0 {
                continue;
            }
            return Err(refused());
        }
        let decoded = percent_decode(seg);
        if decoded == "."
            || decoded == ".."
            || decoded.contains(['/', '\\', '\0'])
            || decoded.contains(':') && i == 0
        {
            return Err(refused());
        }
        rel.push(decoded);
    }
    let mut path = root.to_path_buf();
    for seg in &rel {
        path.push(seg);
    }
    if path.is_dir() {
        path.push("index.html");
    }
    let canonical_root =
        root.canonicalize().map_err(|_| ReplayError::NotFound(raw_path.to_owned()))?;
    let canonical = path.canonicalize().map_err(|_| ReplayError::NotFound(raw_path.to_owned()))?;
    if !canonical.starts_with(&canonical_root) {
        return Err(refused());
    }
    if !canonical.is_file() {
        return Err(ReplayError::NotFound(raw_path.to_owned()));
    }
    Ok(canonical)
}

/// The `Content-Type` to send for a file of the copy.
pub fn content_type(path: &Path) -> &'static str {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "xhtml" => "application/xhtml+xml",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "txt" => "text/plain; charset=utf-8",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal_in_every_spelling_is_refused() {
        let outer = tempfile::tempdir().unwrap();
        let root = outer.path().join("copy");
        std::fs::create_dir_all(root.join("docs")).unwrap();
        std::fs::write(root.join("index.html"), "root").unwrap();
        std::fs::write(root.join("docs/index.html"), "docs").unwrap();
        std::fs::write(root.join("docs/a b.css"), "css").unwrap();
        std::fs::write(outer.path().join("secret.txt"), "secret").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(outer.path().join("secret.txt"), root.join("link.txt")).unwrap();
        assert_eq!(resolve(&root, "").unwrap(), root.join("index.html").canonicalize().unwrap());
        assert_eq!(
            resolve(&root, "docs/").unwrap(),
            root.join("docs/index.html").canonicalize().unwrap()
        );
        assert_eq!(
            resolve(&root, "docs").unwrap(),
            root.join("docs/index.html").canonicalize().unwrap()
        );
        assert!(resolve(&root, "docs/a%20b.css?x=1").is_ok());
        for bad in [
            "../secret.txt",
            "%2e%2e/secret.txt",
            "%2E%2E%2Fsecret.txt",
            "docs/..%2f..%2fsecret.txt",
            "..%5csecret.txt",
            "docs//../../secret.txt",
            "C:%5csecret.txt",
        ] {
            assert_eq!(resolve(&root, bad), Err(ReplayError::Refused(bad.to_owned())), "{bad}");
        }
        #[cfg(unix)]
        assert_eq!(resolve(&root, "link.txt"), Err(ReplayError::Refused("link.txt".into())));
        assert!(matches!(resolve(&root, "nope.html"), Err(ReplayError::NotFound(_))));
    }
}
