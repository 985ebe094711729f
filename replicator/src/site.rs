//! From a [`Capture`] to the files of the copy: paths, rewritten HTML and CSS, the folder and
//! the zip.
//!
//! Every successful response gets a path ([`crate::paths::local_path`]); assets with
//! identical bytes share the first one's file. HTML and CSS are then rewritten so each
//! reference points at its file by a relative link. A reference the capture could not fetch
//! points where its file would be (so the copy never reaches back to the origin for it) and
//! is listed in the report; a link to a page outside the copy's scope becomes absolute.
//! Writing checks every path again: nothing lands outside the output folder, nothing is
//! written through a symbolic link.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Component, Path, PathBuf};

use bytes::Bytes;
use url::Url;

use crate::capture::{canonical, Capture, Role};
use crate::html::RefKind;
use crate::paths::{full_hash, local_path, relative_href, short_hash};
use crate::ReplicateError;

/// One file of the copy.
#[derive(Debug, Clone)]
pub struct SiteFile {
    /// Relative path, `/`-separated.
    pub path: String,
    /// The content as written (rewritten for HTML and CSS).
    pub body: Bytes,
    /// Media type.
    pub content_type: String,
    /// The URL it was fetched from.
    pub url: Url,
    /// Whether it is a page (reached by links) rather than a requisite.
    pub page: bool,
}

/// The copy, ready to write.
#[derive(Debug, Clone, Default)]
pub struct Site {
    /// Every file, start page first.
    pub files: Vec<SiteFile>,
    /// The start page's path.
    pub entry: Option<String>,
    /// URLs whose bytes were already stored under another URL's file.
    pub duplicates: u64,
}

impl Site {
    /// Total bytes of the files.
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.body.len() as u64).sum()
    }

    /// Writes the copy into `out` (created if needed).
    pub fn write_dir(&self, out: &Path) -> Result<(), ReplicateError> {
        let io = |path: &Path, source: std::io::Error| ReplicateError::Io {
            path: path.display().to_string(),
            source,
        };
        std::fs::create_dir_all(out).map_err(|e| io(out, e))?;
        let mut targets = Vec::with_capacity(self.files.len());
        let mut made: HashSet<PathBuf> = HashSet::new();
        for file in &self.files {
            let target = safe_join(out, &file.path)?;
            if let Some(parent) = target.parent() {
                if made.insert(parent.to_owned()) {
                    std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
                }
            }
            targets.push((target, &file.body));
        }
        // The folders exist; the files are written on every core.
        crate::in_parallel(&targets, &|(target, body)| {
            refuse_links(out, target)?;
            std::fs::write(target, body).map_err(|e| io(target, e))
        })
        .into_iter()
        .collect()
    }

    /// Writes the copy as a zip to `writer` (deflated, except already-compressed media).
    pub fn write_zip<W: Write + std::io::Seek>(&self, writer: W) -> Result<W, ReplicateError> {
        use zip::write::SimpleFileOptions;
        let zip_err = |e: zip::result::ZipError| ReplicateError::Zip(e.to_string());
        let mut zip = zip::ZipWriter::new(writer);
        for file in &self.files {
            safe_join(Path::new("."), &file.path)?;
            let stored = file.content_type.starts_with("image/")
                && file.content_type != "image/svg+xml"
                || file.content_type.starts_with("font/woff")
                || file.content_type.starts_with("video/");
            let method = if stored {
                zip::CompressionMethod::Stored
            } else {
                zip::CompressionMethod::Deflated
            };
            zip.start_file(
                file.path.as_str(),
                SimpleFileOptions::default().compression_method(method),
            )
            .map_err(zip_err)?;
            zip.write_all(&file.body).map_err(|e| ReplicateError::Zip(e.to_string()))?;
        }
        zip.finish().map_err(zip_err)
    }
}

/// `root` joined with a relative `/`-path, refused unless every part is a plain name.
pub fn safe_join(root: &Path, rel: &str) -> Result<PathBuf, ReplicateError> {
    let refuse = || ReplicateError::UnsafePath { path: rel.to_owned() };
    if rel.is_empty() || rel.contains('\\') || rel.contains('\0') {
        return Err(refuse());
    }
    let mut out = root.to_path_buf();
    for part in rel.split('/') {
        let mut comps = Path::new(part).components();
        match (comps.next(), comps.next()) {
            (Some(Component::Normal(name)), None) if name == part => out.push(name),
            _ => return Err(refuse()),
        }
    }
    Ok(out)
}

/// Refuses a target under `root` reached through a symbolic link (a folder left behind in
/// the output that points elsewhere).
fn refuse_links(root: &Path, target: &Path) -> Result<(), ReplicateError> {
    let Ok(rel) = target.strip_prefix(root) else {
        return Err(ReplicateError::UnsafePath { path: target.display().to_string() });
    };
    let mut at = root.to_path_buf();
    for part in rel.components() {
        at.push(part);
        if std::fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(ReplicateError::UnsafePath { path: rel.display().to_string() });
        }
    }
    Ok(())
}

/// Lays out and rewrites the capture's files; with `contain`, every page refuses requests
/// outside the copy ([`crate::html::Rewrite::contain`]).
pub fn build(capture: &Capture, contain: bool) -> Site {
    let start = &capture.start;
    let mut path_of: HashMap<usize, String> = HashMap::new();
    let mut owner: Vec<usize> = Vec::new();
    let mut by_hash: HashMap<String, String> = HashMap::new();
    let mut files: HashSet<String> = HashSet::new();
    let mut dirs: HashSet<String> = HashSet::new();
    let mut duplicates = 0;
    for (i, ex) in capture.exchanges.iter().enumerate() {
        if !ex.is_success() || ex.redirect_to.is_some() {
            continue;
        }
        let media = ex.media_type();
        let rewritten = ex.is_html() || ex.is_css();
        let hash = (!rewritten).then(|| full_hash(&ex.body));
        if let Some(existing) = hash.as_ref().and_then(|h| by_hash.get(h)) {
            path_of.insert(i, existing.clone());
            duplicates += 1;
            continue;
        }
        let mut path = local_path(start, &ex.url, (!media.is_empty()).then_some(media.as_str()));
        if conflicts(&path, &files, &dirs) {
            path = disambiguate(&path, &ex.url);
            if conflicts(&path, &files, &dirs) {
                let ext = path.rsplit_once('.').map(|(_, e)| format!(".{e}")).unwrap_or_default();
                path = format!("_conflict/{}{ext}", full_hash(ex.url.as_str().as_bytes()));
            }
        }
        claim(&path, &mut files, &mut dirs);
        if let Some(h) = hash {
            by_hash.insert(h, path.clone());
        }
        path_of.insert(i, path);
        owner.push(i);
    }
    // Rewriting is the costly part (every page and style sheet is parsed again), and each
    // file is rewritten on its own: spread the files over the cores, keeping their order.
    let rewrite_one = |&i: &usize| -> SiteFile {
        let ex = &capture.exchanges[i];
        let from = path_of[&i].clone();
        let link = |url: &Url, kind: RefKind| -> Option<String> {
            let fragment = url.fragment().map(|f| format!("#{f}")).unwrap_or_default();
            let target = canonical(url);
            let found = capture
                .resolve(&target)
                .ok()
                .and_then(|t| capture.index.get(&t.url))
                .and_then(|j| path_of.get(j));
            match (found, kind) {
                (Some(to), _) => Some(format!("{}{fragment}", relative_href(&from, to))),
                (None, RefKind::Link) => Some(url.to_string()),
                (None, _) => Some(relative_href(&from, &local_path(start, &target, None))),
            }
        };
        let body = if ex.is_html() {
            let dom = capture.doms.get(&ex.url);
            let text = match dom {
                Some(dom) => dom.clone(),
                None => crate::html::decode_body(ex.header("content-type"), &ex.body),
            };
            let how = crate::html::Rewrite { contain, strip_scripts: dom.is_some() };
            match crate::html::process_with(&text, &ex.url, Some(how), &mut |u, k| link(u, k)) {
                Ok(html) => Bytes::from(html),
                Err(_) => ex.body.clone(),
            }
        } else if ex.is_css() {
            let text = crate::html::decode_body(ex.header("content-type"), &ex.body);
            let css = crate::css::rewrite(&text, &mut |r| {
                if !crate::html::is_fetchable(r) {
                    return None;
                }
                ex.url.join(r.trim()).ok().and_then(|u| link(&u, RefKind::Embed))
            });
            Bytes::from(css)
        } else {
            ex.body.clone()
        };
        SiteFile {
            path: from,
            body,
            content_type: ex.media_type(),
            url: ex.url.clone(),
            page: matches!(ex.role, Role::Page { .. }),
        }
    };
    let mut out = crate::in_parallel(&owner, &rewrite_one);
    let entry = capture
        .resolve(start)
        .ok()
        .and_then(|t| capture.index.get(&t.url))
        .and_then(|j| path_of.get(j))
        .cloned();
    if let Some(entry) = &entry {
        if !files.contains("index.html") && !dirs.contains("index.html") {
            let href = relative_href("index.html", entry);
            let html = format!(
                "<!doctype html><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"0; url={href}\"><title>Site copy</title><a href=\"{href}\">Start page</a>\n"
            );
            out.push(SiteFile {
                path: "index.html".into(),
                body: Bytes::from(html),
                content_type: "text/html".into(),
                url: start.clone(),
                page: false,
            });
        }
    }
    Site { files: out, entry, duplicates }
}

fn conflicts(path: &str, files: &HashSet<String>, dirs: &HashSet<String>) -> bool {
    let lower = path.to_lowercase();
    files.contains(&lower) || dirs.contains(&lower) || ancestors(&lower).any(|a| files.contains(a))
}

fn claim(path: &str, files: &mut HashSet<String>, dirs: &mut HashSet<String>) {
    let lower = path.to_lowercase();
    for a in ancestors(&lower) {
        dirs.insert(a.to_owned());
    }
    files.insert(lower);
}

/// `a/b/c` → `a`, `a/b`.
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').map(move |(i, _)| &path[..i])
}

/// The path with a hash of the URL before its extension.
fn disambiguate(path: &str, url: &Url) -> String {
    let (dir, file) = path.rsplit_once('/').map_or(("", path), |(d, f)| (d, f));
    let (stem, ext) = file.rsplit_once('.').map_or((file, None), |(s, e)| (s, Some(e)));
    let name = match ext {
        Some(e) => format!("{stem}_{}.{e}", short_hash(url.as_str().as_bytes())),
        None => format!("{stem}_{}", short_hash(url.as_str().as_bytes())),
    };
    if dir.is_empty() {
        name
    } else {
        format!("{dir}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_join_refuses_anything_but_plain_names() {
        let root = Path::new("/out");
        assert_eq!(safe_join(root, "a/b.html").unwrap(), Path::new("/out/a/b.html"));
        for bad in
            ["../x", "a/../../x", "/etc/passwd", "a//b", "a/./b", "a\\b", "", "a/", "C:x/../y"]
        {
            assert!(safe_join(root, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn case_and_file_folder_conflicts_get_distinct_paths() {
        let mut files = HashSet::new();
        let mut dirs = HashSet::new();
        claim("a/b.html", &mut files, &mut dirs);
        assert!(conflicts("A/B.html", &files, &dirs));
        assert!(conflicts("a", &files, &dirs));
        assert!(conflicts("a/b.html/c.png", &files, &dirs));
        assert!(!conflicts("a/c.html", &files, &dirs));
        let url = Url::parse("http://x.test/A/B.html").unwrap();
        assert!(disambiguate("A/B.html", &url).starts_with("A/B_"));
    }
}
