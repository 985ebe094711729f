//! Writing a crawl to a folder: every page under `pages/<host>/<path>`, and `index.jsonl`
//! with one record per page (URL, final URL, status, depth, parent, whether it was rendered,
//! timings, file). A rendered page's file is its DOM after scripts ran.
//!
//! A page whose path would clash with another page's file or folder (`/a` and `/a/b`) goes
//! to `<host>/_conflicts/`, and a page that cannot be written is an error in its record, not
//! the end of the crawl.
//!
//! Files are written on a plain thread fed by a channel, so disk I/O never blocks the async
//! runtime that drives the fetches. With extra formats ([`DirWriter::with_formats`]) each HTML
//! page is also extracted (main content as Markdown, text or HTML) into a file beside it.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

use ace_extractors::{Input, Options, OutputFormat};
use serde_json::json;
use url::Url;

use crate::crawl::CrawledPage;

/// Writes pages into a folder as they arrive.
#[derive(Debug)]
pub struct DirWriter {
    tx: Option<mpsc::SyncSender<CrawledPage>>,
    thread: Option<JoinHandle<std::io::Result<WriteTotals>>>,
}

/// What was written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteTotals {
    /// Records in `index.jsonl`.
    pub records: u64,
    /// Page files written.
    pub files: u64,
    /// Bytes of page files.
    pub bytes: u64,
}

impl DirWriter {
    /// Creates `dir` (and `dir/pages`) and starts the writer thread.
    pub fn create(dir: &Path) -> std::io::Result<DirWriter> {
        DirWriter::with_formats(dir, &[])
    }

    /// Like [`create`](Self::create), and also writes each HTML page's main content in
    /// `formats` (`markdown` to `<file>.md`, `text` to `<file>.txt`, `html` to
    /// `<file>.main.html`), listed in the page's record under `formats`.
    pub fn with_formats(dir: &Path, formats: &[OutputFormat]) -> std::io::Result<DirWriter> {
        std::fs::create_dir_all(dir.join("pages"))?;
        let index = BufWriter::with_capacity(1 << 20, std::fs::File::create(dir.join("index.jsonl"))?);
        let (tx, rx) = mpsc::sync_channel::<CrawledPage>(1024);
        let root = dir.to_owned();
        let formats = formats.to_vec();
        let thread = std::thread::spawn(move || write_all(&root, index, rx, &formats));
        Ok(DirWriter { tx: Some(tx), thread: Some(thread) })
    }

    /// Queues a page for writing.
    pub fn write(&self, page: CrawledPage) -> std::io::Result<()> {
        match &self.tx {
            Some(tx) => tx.send(page).map_err(|_| std::io::Error::other("the writer thread stopped")),
            None => Err(std::io::Error::other("the writer is finished")),
        }
    }

    /// Waits until everything queued is on disk.
    pub fn finish(mut self) -> std::io::Result<WriteTotals> {
        drop(self.tx.take());
        self.thread.take().map_or(Ok(WriteTotals::default()), |t| t.join().unwrap_or_else(|_| Err(std::io::Error::other("the writer thread panicked"))))
    }
}

/// Extracts `fetched` in `formats` and writes a file per format; returns what was written
/// (or why extraction failed) for the page's record.
fn write_extracted(path: &Path, fetched: &crate::FetchedPage, formats: &[OutputFormat]) -> std::io::Result<serde_json::Value> {
    let input = Input { bytes: &fetched.body, content_type: fetched.header("content-type"), base_url: Some(fetched.final_url.as_str()) };
    let opts = Options { formats: formats.to_vec(), ..Options::default() };
    let extracted = match ace_extractors::extract(&input, &opts) {
        Ok(e) => e,
        Err(e) => return Ok(json!({ "error": e.to_string() })),
    };
    let mut files = serde_json::Map::new();
    for (format, ext, content) in [("markdown", "md", &extracted.markdown), ("text", "txt", &extracted.text), ("html", "main.html", &extracted.html)] {
        let Some(content) = content else { continue };
        let mut name = path.as_os_str().to_owned();
        name.push(format!(".{ext}"));
        std::fs::write(&name, content)?;
        files.insert(format.to_owned(), json!({ "file": format!("{}.{ext}", path.file_name().unwrap_or_default().to_string_lossy()), "bytes": content.len() }));
    }
    Ok(serde_json::Value::Object(files))
}

fn write_all(root: &Path, mut index: BufWriter<std::fs::File>, rx: mpsc::Receiver<CrawledPage>, formats: &[OutputFormat]) -> std::io::Result<WriteTotals> {
    let mut totals = WriteTotals::default();
    let mut made_dirs: std::collections::HashSet<PathBuf> = std::collections::HashSet::new();
    let mut layout = Layout::default();
    for page in rx {
        let mut record = json!({
            "url": page.url.as_str(),
            "depth": page.depth,
            "parent": page.parent.as_ref().map(Url::as_str),
        });
        match &page.result {
            Ok(fetched) => {
                let rel = layout.place(&fetched.final_url);
                let path = root.join("pages").join(&rel);
                let written = match path.parent() {
                    Some(parent) if made_dirs.insert(parent.to_owned()) => std::fs::create_dir_all(parent),
                    _ => Ok(()),
                }
                .and_then(|()| std::fs::write(&path, &fetched.body));
                if let Err(e) = written {
                    // One page that cannot be written is that page's error, not the crawl's.
                    let obj = record.as_object_mut().expect("object");
                    obj.insert("finalUrl".into(), json!(fetched.final_url.as_str()));
                    obj.insert("statusCode".into(), json!(fetched.status));
                    obj.insert("error".into(), json!(format!("cannot write {}: {e}", path.display())));
                    obj.insert("errorCode".into(), json!("write_failed"));
                    serde_json::to_writer(&mut index, &record)?;
                    index.write_all(b"\n")?;
                    totals.records += 1;
                    continue;
                }
                totals.files += 1;
                totals.bytes += fetched.body.len() as u64;
                let extracted = (!formats.is_empty() && crate::crawl::is_html(fetched) && (200..300).contains(&fetched.status))
                    .then(|| write_extracted(&path, fetched, formats))
                    .transpose()?;
                let obj = record.as_object_mut().expect("object");
                if let Some(extracted) = extracted {
                    obj.insert("formats".into(), extracted);
                }
                obj.insert("finalUrl".into(), json!(fetched.final_url.as_str()));
                obj.insert("statusCode".into(), json!(fetched.status));
                obj.insert("contentType".into(), json!(fetched.header("content-type")));
                obj.insert("bytes".into(), json!(fetched.body.len()));
                obj.insert("rendered".into(), json!(fetched.rendered));
                obj.insert("elapsedMs".into(), json!(fetched.elapsed.as_millis() as u64));
                obj.insert("file".into(), json!(format!("pages/{}", rel.display())));
            }
            Err(e) => {
                let obj = record.as_object_mut().expect("object");
                obj.insert("error".into(), json!(e.to_string()));
                obj.insert("errorCode".into(), json!(e.code()));
            }
        }
        serde_json::to_writer(&mut index, &record)?;
        index.write_all(b"\n")?;
        totals.records += 1;
    }
    index.flush()?;
    Ok(totals)
}

/// Where each page of one crawl goes: [`file_for`], unless that path is already a folder or
/// a file of another page, or lies under a file (a site with both `/a` and `/a/b`). Such a
/// page goes to `<host>/_conflicts/<hash of its URL>` instead; its record says where.
#[derive(Debug, Default)]
struct Layout {
    files: std::collections::HashSet<PathBuf>,
    dirs: std::collections::HashSet<PathBuf>,
}

impl Layout {
    fn place(&mut self, url: &Url) -> PathBuf {
        let mut rel = file_for(url);
        let clashes = self.files.contains(&rel)
            || self.dirs.contains(&rel)
            || rel.ancestors().skip(1).any(|a| self.files.contains(a));
        if clashes {
            let host = rel.components().next().map(|c| PathBuf::from(c.as_os_str())).unwrap_or_default();
            let digest = url.as_str().bytes().fold(0xcbf29ce484222325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100000001b3));
            let ext = rel.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
            rel = host.join("_conflicts").join(format!("{digest:016x}{ext}"));
        }
        for a in rel.ancestors().skip(1) {
            if !a.as_os_str().is_empty() {
                self.dirs.insert(a.to_owned());
            }
        }
        self.files.insert(rel.clone());
        rel
    }
}

/// Where a URL's body goes, relative to `pages/`: `<host>[_port]/<path>`, with `index.html`
/// for directory URLs and a hash suffix for query strings. Never leaves the folder: the URL
/// path has no `..` after parsing, and each segment is made a plain file name.
pub fn file_for(url: &Url) -> PathBuf {
    let mut path = PathBuf::from(match url.port() {
        Some(port) => format!("{}_{port}", url.host_str().unwrap_or("host")),
        None => url.host_str().unwrap_or("host").to_owned(),
    });
    let segments: Vec<&str> = url.path_segments().map(|s| s.collect()).unwrap_or_default();
    let (dirs, last) = match segments.split_last() {
        Some((last, dirs)) => (dirs, *last),
        None => (&[][..], ""),
    };
    for dir in dirs.iter().filter(|d| !d.is_empty()) {
        path.push(safe_segment(dir));
    }
    let mut file = if last.is_empty() { "index.html".to_owned() } else { safe_segment(last) };
    if let Some(query) = url.query() {
        let digest = query.bytes().fold(0xcbf29ce484222325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100000001b3));
        file = format!("{file}@{digest:016x}");
    }
    path.push(file);
    path
}

fn safe_segment(segment: &str) -> String {
    let cleaned: String = segment.chars().map(|c| if c == '\\' || c.is_control() { '_' } else { c }).take(200).collect();
    match cleaned.as_str() {
        "" | "." | ".." => "_".to_owned(),
        _ => cleaned,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(u: &str) -> String {
        file_for(&Url::parse(u).unwrap()).display().to_string()
    }

    #[test]
    fn a_page_that_would_clash_with_a_folder_or_file_goes_aside() {
        let mut layout = Layout::default();
        let mut place = |u: &str| layout.place(&Url::parse(u).unwrap()).display().to_string();
        assert_eq!(place("http://e.com/a"), "e.com/a");
        // Under the file `a`: cannot be a folder too.
        let under = place("http://e.com/a/b");
        assert!(under.starts_with("e.com/_conflicts/"), "{under}");
        assert_eq!(place("http://e.com/c/d.html"), "e.com/c/d.html");
        // `c` is a folder now: the page `/c` cannot be a file of that name.
        let folder = place("http://e.com/c");
        assert!(folder.starts_with("e.com/_conflicts/"), "{folder}");
        assert_ne!(under, folder);
    }

    #[test]
    fn urls_map_to_files_inside_the_folder() {
        assert_eq!(f("http://e.com/"), "e.com/index.html");
        assert_eq!(f("http://e.com:8088/std/"), "e.com_8088/std/index.html");
        assert_eq!(f("http://e.com/a/b.html"), "e.com/a/b.html");
        assert!(f("http://e.com/a?x=1").starts_with("e.com/a@"));
        assert_ne!(f("http://e.com/a?x=1"), f("http://e.com/a?x=2"));
        assert_eq!(f("http://e.com/%2E%2E/x"), "e.com/x", "the URL parser already resolved dot segments");
        assert!(!f("http://e.com/a%5C..%5Cb").contains('\\'));
    }
}
