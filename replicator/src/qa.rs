//! Fidelity QA: does the copy look and read like the original, with the origin out of reach?
//!
//! For a sampled page, [`check_page`] loads the original and the copy in a browser at the
//! same viewport (the copy with every request outside the copy's origin blocked), compares
//! the two screenshots pixel by pixel ([`compare`]: a pixel matches when no channel differs
//! by more than [`TOLERANCE`], which absorbs anti-aliasing), draws a diff image, lists the
//! requests the copy tried to make elsewhere (escaped) and the references that failed inside
//! the copy (missing), and compares the visible text ([`text_similarity`]).
//!
//! ```
//! let a = ace_replicator::qa::text_similarity("the quick brown fox", "the quick brown fox");
//! assert_eq!(a, 1.0);
//! assert!(ace_replicator::qa::text_similarity("a b c d", "a b x y") < 0.6);
//! ```

use std::collections::HashMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::{ImageFormat, Rgba, RgbaImage};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::record::{PageRecorder, RecordError, RecordOptions};
use crate::site::Site;

/// Largest per-channel difference (0-255) at which two pixels still match.
pub const TOLERANCE: u8 = 16;

/// The result of comparing two screenshots.
#[derive(Debug, Clone)]
pub struct PixelComparison {
    /// Share of pixels that match, 0.0 to 1.0 (pixels outside the smaller image count as different).
    pub match_ratio: f64,
    /// A PNG: matching pixels dimmed, differing ones red.
    pub diff_png: Vec<u8>,
}

/// Why two screenshots could not be compared.
#[derive(Debug, thiserror::Error)]
#[error("cannot decode a screenshot: {0}")]
pub struct ImageError(String);

/// Compares two PNG (or JPEG/WebP) screenshots.
pub fn compare(a: &[u8], b: &[u8]) -> Result<PixelComparison, ImageError> {
    let a = image::load_from_memory(a).map_err(|e| ImageError(e.to_string()))?.to_rgba8();
    let b = image::load_from_memory(b).map_err(|e| ImageError(e.to_string()))?.to_rgba8();
    let (w, h) = (a.width().max(b.width()), a.height().max(b.height()));
    let mut diff = RgbaImage::new(w, h);
    let mut same: u64 = 0;
    for y in 0..h {
        for x in 0..w {
            let pa = (x < a.width() && y < a.height()).then(|| a.get_pixel(x, y));
            let pb = (x < b.width() && y < b.height()).then(|| b.get_pixel(x, y));
            let out = match (pa, pb) {
                (Some(pa), Some(pb))
                    if pa.0.iter().zip(pb.0.iter()).all(|(p, q)| p.abs_diff(*q) <= TOLERANCE) =>
                {
                    same += 1;
                    let grey = ((u16::from(pa[0]) + u16::from(pa[1]) + u16::from(pa[2])) / 3 / 3
                        + 170) as u8;
                    Rgba([grey, grey, grey, 255])
                }
                _ => Rgba([255, 0, 0, 255]),
            };
            diff.put_pixel(x, y, out);
        }
    }
    let total = u64::from(w) * u64::from(h);
    let mut png = Vec::new();
    diff.write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
        .map_err(|e| ImageError(e.to_string()))?;
    Ok(PixelComparison {
        match_ratio: if total == 0 { 1.0 } else { same as f64 / total as f64 },
        diff_png: png,
    })
}

/// Dice similarity of the two texts' word multisets, 0.0 to 1.0 (1.0 for two empty texts).
pub fn text_similarity(a: &str, b: &str) -> f64 {
    let words = |s: &str| {
        let mut m: HashMap<String, u64> = HashMap::new();
        for w in s.split_whitespace() {
            *m.entry(w.to_lowercase()).or_default() += 1;
        }
        m
    };
    let (wa, wb) = (words(a), words(b));
    let (na, nb): (u64, u64) = (wa.values().sum(), wb.values().sum());
    if na + nb == 0 {
        return 1.0;
    }
    let common: u64 = wa.iter().map(|(w, n)| (*n).min(wb.get(w).copied().unwrap_or(0))).sum();
    2.0 * common as f64 / (na + nb) as f64
}

/// The fidelity of one page of a copy.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageQa {
    /// The original page.
    pub url: String,
    /// The page in the copy.
    pub copy_url: String,
    /// Share of matching pixels, 0.0 to 1.0.
    pub pixel_match: f64,
    /// Requests the copy tried to send outside itself (blocked).
    pub escaped: Vec<String>,
    /// Requests inside the copy that failed or were answered 4xx/5xx.
    pub missing: Vec<String>,
    /// Requests outside the copy that the copy's own Content-Security-Policy refused
    /// (see [`crate::html::Rewrite::contain`]): they never left the browser, so they did not
    /// escape, but what they would have loaded is not in the copy.
    #[serde(default)]
    pub contained: Vec<String>,
    /// Similarity of the visible text, 0.0 to 1.0.
    pub text_similarity: f64,
    /// The diff image (PNG), not serialised.
    #[serde(skip)]
    pub diff_png: Vec<u8>,
}

/// Loads `original` and `copy` (whose origin is `copy_origin`, e.g. `http://127.0.0.1:1234`)
/// at the same viewport and compares them.
///
/// `originals` loads the original (under the service's fetch guard); `copies` loads the
/// copy, which is usually on loopback, with everything outside `copy_origin` blocked.
pub async fn check_page(
    originals: &dyn PageRecorder,
    copies: &dyn PageRecorder,
    original: &Url,
    copy: &Url,
    copy_origin: &str,
    viewport: (u32, u32),
) -> Result<PageQa, RecordError> {
    let shot = RecordOptions { viewport, screenshot: true, ..RecordOptions::default() };
    let before = originals.record(original, &shot).await?;
    let sandboxed = RecordOptions { allow_only: Some(vec![copy_origin.to_owned()]), ..shot };
    let after = copies.record(copy, &sandboxed).await?;
    let bad_image = |e: ImageError| RecordError {
        code: "screenshot_failed".into(),
        message: e.to_string(),
        retryable: true,
    };
    let (a, b) = (before.screenshot.unwrap_or_default(), after.screenshot.unwrap_or_default());
    let pixels = compare(&a, &b).map_err(bad_image)?;
    let mut missing: Vec<String> = after
        .responses
        .iter()
        .filter(|r| r.status >= 400 && r.url.starts_with(copy_origin))
        .map(|r| r.url.clone())
        .collect();
    missing.extend(
        after.failed.iter().filter(|(u, _)| !after.blocked.contains(u)).map(|(u, _)| u.clone()),
    );
    missing.sort();
    missing.dedup();
    missing.extend(after.refused.iter().filter(|u| u.starts_with(copy_origin)).cloned());
    missing.sort();
    missing.dedup();
    let mut escaped = after.blocked.clone();
    escaped.sort();
    escaped.dedup();
    let mut contained: Vec<String> =
        after.refused.iter().filter(|u| !u.starts_with(copy_origin)).cloned().collect();
    contained.sort();
    contained.dedup();
    Ok(PageQa {
        url: original.to_string(),
        copy_url: copy.to_string(),
        pixel_match: pixels.match_ratio,
        escaped,
        missing,
        contained,
        text_similarity: text_similarity(&before.text, &after.text),
        diff_png: pixels.diff_png,
    })
}

/// The fidelity of a copy: sampled pages and a summary.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QaReport {
    /// Pages checked.
    pub pages: Vec<PageQa>,
    /// Pages that could not be checked, with why.
    pub errors: Vec<(String, String)>,
    /// Lowest pixel match over the pages.
    pub min_pixel_match: f64,
    /// Mean pixel match.
    pub mean_pixel_match: f64,
    /// Mean text similarity.
    pub mean_text_similarity: f64,
    /// Escaped requests over all pages.
    pub escaped: usize,
    /// Missing references over all pages.
    pub missing: usize,
    /// Requests the copy's own policy kept in, over all pages.
    #[serde(default)]
    pub contained: usize,
}

/// Viewport of the QA screenshots.
pub const VIEWPORT: (u32, u32) = (1280, 800);

/// Checks up to `samples` pages of `site` (written at `dir`): the start page first, then
/// pages spread evenly over the rest. The copy is served for the check by [`serve_copy`].
pub async fn run(
    originals: &dyn PageRecorder,
    copies: &dyn PageRecorder,
    site: &Site,
    dir: &Path,
    samples: usize,
) -> Result<QaReport, std::io::Error> {
    let pages: Vec<_> = site.files.iter().filter(|f| f.page).collect();
    let mut picked: Vec<usize> = Vec::new();
    if let Some(i) = pages.iter().position(|f| Some(&f.path) == site.entry.as_ref()) {
        picked.push(i);
    }
    let want = samples.min(pages.len());
    let mut k = 0;
    while picked.len() < want && k < pages.len() {
        let i = k * pages.len() / want.max(1);
        if !picked.contains(&i) {
            picked.push(i);
        }
        k += 1;
    }
    for i in 0..pages.len() {
        if picked.len() >= want {
            break;
        }
        if !picked.contains(&i) {
            picked.push(i);
        }
    }
    let list: Vec<(Url, String)> =
        picked.into_iter().map(|i| (pages[i].url.clone(), pages[i].path.clone())).collect();
    check_copy(originals, copies, dir, &list).await
}

/// Checks any copy in folder `dir` (ours, or another tool's): each `(original, path)` pairs an
/// original page with the file that copies it, relative to `dir`.
pub async fn check_copy(
    originals: &dyn PageRecorder,
    copies: &dyn PageRecorder,
    dir: &Path,
    pages: &[(Url, String)],
) -> Result<QaReport, std::io::Error> {
    let server = serve_copy(dir.to_owned()).await?;
    let mut report = QaReport {
        pages: Vec::new(),
        errors: Vec::new(),
        min_pixel_match: 1.0,
        mean_pixel_match: 1.0,
        mean_text_similarity: 1.0,
        escaped: 0,
        missing: 0,
        contained: 0,
    };
    for (original, path) in pages {
        let copy_url = match Url::parse(&format!(
            "{}/{}",
            server.origin,
            crate::paths::relative_href("index.html", path)
        )) {
            Ok(u) => u,
            Err(e) => {
                report.errors.push((original.to_string(), e.to_string()));
                continue;
            }
        };
        match check_page(originals, copies, original, &copy_url, &server.origin, VIEWPORT).await {
            Ok(page) => report.pages.push(page),
            Err(e) => report.errors.push((original.to_string(), e.to_string())),
        }
    }
    server.task.abort();
    let n = report.pages.len().max(1) as f64;
    report.min_pixel_match = report.pages.iter().map(|p| p.pixel_match).fold(1.0, f64::min);
    report.mean_pixel_match = report.pages.iter().map(|p| p.pixel_match).sum::<f64>() / n;
    report.mean_text_similarity = report.pages.iter().map(|p| p.text_similarity).sum::<f64>() / n;
    report.escaped = report.pages.iter().map(|p| p.escaped.len()).sum();
    report.missing = report.pages.iter().map(|p| p.missing.len()).sum();
    report.contained = report.pages.iter().map(|p| p.contained.len()).sum();
    Ok(report)
}

/// A copy served on a loopback port for QA.
#[derive(Debug)]
pub struct CopyServer {
    /// `http://127.0.0.1:PORT`.
    pub origin: String,
    /// The server; abort it when done.
    pub task: tokio::task::JoinHandle<()>,
}

/// Serves the folder `dir` on a free loopback port (a small HTTP/1.1 server: GET and HEAD,
/// one request per connection), with paths resolved as the replay server resolves them.
pub async fn serve_copy(dir: PathBuf) -> Result<CopyServer, std::io::Error> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let origin = format!("http://{}", listener.local_addr()?);
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else { return };
            let dir = dir.clone();
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let line = String::from_utf8_lossy(&head).lines().next().unwrap_or("").to_owned();
                let mut parts = line.split_whitespace();
                let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
                let path =
                    target.split('?').next().unwrap_or("/").trim_start_matches('/').to_owned();
                let found =
                    tokio::task::spawn_blocking(move || crate::replay::resolve(&dir, &path))
                        .await
                        .ok()
                        .and_then(Result::ok);
                let (status, content_type, body) = match found {
                    Some(file) => match tokio::fs::read(&file).await {
                        Ok(b) => ("200 OK", crate::replay::content_type(&file), b),
                        Err(_) => ("404 Not Found", "text/plain", b"not found".to_vec()),
                    },
                    None => ("404 Not Found", "text/plain", b"not found".to_vec()),
                };
                let mut response = format!("HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n", body.len());
                // No CSP here, unlike the replay server: a request the policy refused would never
                // reach the network, so the check could not see it escape; the browser blocks and
                // records such requests itself. CORS stays open, as on the replay server.
                response.push_str("access-control-allow-origin: *\r\n");
                response.push_str("\r\n");
                let _ = sock.write_all(response.as_bytes()).await;
                if method != "HEAD" {
                    let _ = sock.write_all(&body).await;
                }
                let _ = sock.shutdown().await;
            });
        }
    });
    Ok(CopyServer { origin, task })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32, f: impl Fn(u32, u32) -> [u8; 4]) -> Vec<u8> {
        let img = RgbaImage::from_fn(w, h, |x, y| Rgba(f(x, y)));
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png).unwrap();
        out
    }

    #[test]
    fn pixel_match_counts_differing_pixels_within_tolerance() {
        let white = png(10, 10, |_, _| [255, 255, 255, 255]);
        let near = png(10, 10, |_, _| [250, 250, 250, 255]);
        let quarter =
            png(10, 10, |x, y| if x < 5 && y < 5 { [0, 0, 0, 255] } else { [255, 255, 255, 255] });
        assert_eq!(compare(&white, &near).unwrap().match_ratio, 1.0);
        let c = compare(&white, &quarter).unwrap();
        assert!((c.match_ratio - 0.75).abs() < 1e-9, "{}", c.match_ratio);
        let diff = image::load_from_memory(&c.diff_png).unwrap().to_rgba8();
        assert_eq!(diff.get_pixel(0, 0).0, [255, 0, 0, 255]);
        // A smaller image: the missing area counts as different.
        let small = png(10, 5, |_, _| [255, 255, 255, 255]);
        assert!((compare(&white, &small).unwrap().match_ratio - 0.5).abs() < 1e-9);
        assert!(compare(b"not an image", &white).is_err());
    }

    #[test]
    fn text_similarity_is_a_word_dice() {
        assert_eq!(text_similarity("", ""), 1.0);
        assert_eq!(text_similarity("a", ""), 0.0);
        assert!((text_similarity("one two three four", "one two three five") - 0.75).abs() < 1e-9);
        assert_eq!(text_similarity("Hello   World", "hello world"), 1.0);
    }
}
