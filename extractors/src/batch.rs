//! The CLI's entry points: one page from stdin, or a folder of pages to a JSONL file.

use std::fs;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::{extract, ExtractError, Extracted, Input, Options, OutputFormat};

/// The CLI's `--format`: which field each page produces.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Format {
    /// Plain text of the main content (field `text`).
    #[default]
    Text,
    /// Markdown of the main content (field `markdown`).
    Markdown,
    /// Cleaned HTML of the main content (field `html`).
    Html,
    /// Everything as one JSON object: text, Markdown, metadata, links, images, tables.
    Json,
}

impl FromStr for Format {
    type Err = ExtractError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(Format::Text),
            "markdown" | "md" => Ok(Format::Markdown),
            "html" => Ok(Format::Html),
            "json" => Ok(Format::Json),
            other => Err(ExtractError::UnknownFormat(other.to_string())),
        }
    }
}

impl Format {
    fn options(self) -> Options {
        let formats = match self {
            Format::Text => vec![OutputFormat::Text],
            Format::Markdown => vec![OutputFormat::Markdown],
            Format::Html => vec![OutputFormat::Html],
            Format::Json => vec![
                OutputFormat::Text,
                OutputFormat::Markdown,
                OutputFormat::Metadata,
                OutputFormat::Links,
                OutputFormat::Images,
                OutputFormat::Tables,
            ],
        };
        Options { formats, ..Options::default() }
    }
}

/// What a batch run did.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchReport {
    /// Pages written (one line each, errors included as empty output).
    pub pages: usize,
    /// Pages that could not be extracted (binary or unreadable input).
    pub errors: usize,
    /// Wall time of the whole run.
    pub elapsed: Duration,
    /// Median and 99th-percentile time per page (read, gunzip, extract, write).
    pub p50: Duration,
    pub p99: Duration,
    /// The slowest page and its time.
    pub slowest: Option<(String, Duration)>,
}

#[derive(Serialize)]
struct Line<'a> {
    id: &'a str,
    #[serde(flatten)]
    out: &'a Extracted,
}

/// Extracts every `*.html` and `*.html.gz` file of `in_dir` (in name order) and writes one
/// JSON line per file to `out`: `{"id": <name without .html/.html.gz>, "<format>": ...}`.
pub fn run_batch(in_dir: &Path, out: &Path, format: Format) -> Result<BatchReport, ExtractError> {
    let start = Instant::now();
    let mut files: Vec<(String, PathBuf)> = fs::read_dir(in_dir)
        .map_err(|e| ExtractError::io(in_dir, e))?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let id =
                name.strip_suffix(".html.gz").or_else(|| name.strip_suffix(".html"))?.to_string();
            Some((id, e.path()))
        })
        .collect();
    files.sort();
    let file = fs::File::create(out).map_err(|e| ExtractError::io(out, e))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let opts = format.options();
    let mut report = BatchReport::default();
    let mut times = Vec::with_capacity(files.len());
    let mut raw = Vec::new();
    for (id, path) in &files {
        let t0 = Instant::now();
        raw.clear();
        let read = fs::File::open(path).and_then(|mut f| {
            if path.extension().is_some_and(|e| e == "gz") {
                flate2::read::MultiGzDecoder::new(std::io::BufReader::new(f)).read_to_end(&mut raw)
            } else {
                f.read_to_end(&mut raw)
            }
        });
        let extracted = match read {
            Ok(_) => {
                extract(&Input { bytes: &raw, content_type: None, base_url: None }, &opts).ok()
            }
            Err(_) => None,
        };
        let extracted = extracted.unwrap_or_else(|| {
            report.errors += 1;
            empty_for(format)
        });
        serde_json::to_writer(&mut w, &Line { id, out: &extracted })?;
        w.write_all(b"\n").map_err(|e| ExtractError::io(out, e))?;
        let dt = t0.elapsed();
        if report.slowest.as_ref().is_none_or(|(_, s)| dt > *s) {
            report.slowest = Some((id.clone(), dt));
        }
        times.push(dt);
        report.pages += 1;
    }
    w.flush().map_err(|e| ExtractError::io(out, e))?;
    times.sort();
    if !times.is_empty() {
        report.p50 = times[times.len() / 2];
        report.p99 = times[((times.len() * 99).div_ceil(100)).saturating_sub(1)];
    }
    report.elapsed = start.elapsed();
    Ok(report)
}

/// An empty value in the requested format, so every input still gets its line.
fn empty_for(format: Format) -> Extracted {
    let mut e = Extracted::default();
    match format {
        Format::Text => e.text = Some(String::new()),
        Format::Markdown => e.markdown = Some(String::new()),
        Format::Html => e.html = Some(String::new()),
        Format::Json => {}
    }
    e
}

/// Reads one page from `input`, writes the chosen format to `output` (text and Markdown as
/// is with a final newline, `json` as one JSON object).
pub fn run_single(
    mut input: impl Read,
    mut output: impl Write,
    format: Format,
    base_url: Option<&str>,
) -> Result<(), ExtractError> {
    let mut raw = Vec::new();
    input.read_to_end(&mut raw).map_err(|e| ExtractError::io("<stdin>", e))?;
    let out = extract(&Input { bytes: &raw, content_type: None, base_url }, &format.options())?;
    let body = match format {
        Format::Text => out.text.unwrap_or_default(),
        Format::Markdown => out.markdown.unwrap_or_default(),
        Format::Html => out.html.unwrap_or_default(),
        Format::Json => serde_json::to_string(&out)?,
    };
    output.write_all(body.as_bytes()).map_err(|e| ExtractError::io("<stdout>", e))?;
    output.write_all(b"\n").map_err(|e| ExtractError::io("<stdout>", e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_parse() {
        assert_eq!("markdown".parse::<Format>().unwrap(), Format::Markdown);
        assert!(matches!("pdf".parse::<Format>(), Err(ExtractError::UnknownFormat(_))));
    }

    #[test]
    fn single_page_text_round_trip() {
        let mut out = Vec::new();
        run_single(&b"<p>Hello <b>there</b></p>"[..], &mut out, Format::Text, None).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "Hello there\n");
    }
}
