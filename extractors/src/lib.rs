//! HTML in, content out: the extraction engine shared by the scraper, the replicator and the
//! extractor service on port 9003.
//!
//! **In:** an [`Input`]: a page's bytes, its `Content-Type` header if known (for the charset)
//! and its URL (to make links absolute). **Out:** an [`Extracted`] holding the formats that
//! [`Options::formats`] asked for: the main content as `text`, `markdown` or cleaned `html`,
//! the page's `metadata`, its `links`, the content's `images` and `tables`, and `json` filled
//! from a CSS-selector [`Schema`].
//!
//! The pipeline: [`charset`] decodes the bytes, [`dom`] parses them into an arena tree (a fast,
//! forgiving parser written for this crate), [`content`] chooses the main content, and the
//! renderers ([`text`], [`markdown`], [`html`]) and collectors ([`metadata`], [`links`],
//! [`schema`]) read the tree. [`batch`] runs whole folders for the CLI and benchmarks.
//!
//! ```
//! use ace_extractors::{extract, Input, Options, OutputFormat};
//!
//! let page = b"<html><head><title>Hi</title></head><body><nav><a href='/'>Home</a></nav>
//!     <article><h1>Hello</h1><p>Some <b>bold</b> words, and <a href='/next'>a link</a>.</p></article></body></html>";
//! let input = Input { bytes: page, content_type: None, base_url: Some("https://example.com/a/") };
//! let opts = Options { formats: vec![OutputFormat::Markdown, OutputFormat::Text], ..Options::default() };
//! let out = extract(&input, &opts).unwrap();
//! assert_eq!(out.text.as_deref(), Some("Hello\n\nSome bold words, and a link."));
//! assert!(out.markdown.unwrap().contains("[a link](https://example.com/next)"));
//! ```

pub mod batch;
pub mod charset;
pub mod content;
pub mod dom;
mod error;
pub mod html;
mod lines;
pub mod links;
pub mod markdown;
pub mod metadata;
pub mod schema;
pub mod text;

use scraper::{Html, Selector};
use serde::{Deserialize, Serialize};

pub use batch::{run_batch, run_single, BatchReport, Format};
pub use error::ExtractError;
pub use links::{Image, Link, Table};
pub use metadata::Metadata;
pub use schema::Schema;

/// A page to extract from.
#[derive(Clone, Copy, Debug, Default)]
pub struct Input<'a> {
    /// The page as received, in any encoding.
    pub bytes: &'a [u8],
    /// The HTTP `Content-Type` header, whose `charset` takes part in decoding.
    pub content_type: Option<&'a str>,
    /// The page's URL, for absolute links (a `<base href>` in the page refines it).
    pub base_url: Option<&'a str>,
}

impl<'a> Input<'a> {
    /// An input from text already decoded.
    pub fn html(html: &'a str) -> Self {
        Input { bytes: html.as_bytes(), content_type: None, base_url: None }
    }
}

/// The output formats of `POST /v1/extract` (names as in api.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OutputFormat {
    Markdown,
    Text,
    Html,
    Metadata,
    Links,
    Images,
    Tables,
    Json,
}

/// What to extract.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Options {
    /// The formats to produce; empty means `markdown`.
    pub formats: Vec<OutputFormat>,
    /// The selector schema for the `json` format.
    pub schema: Option<Schema>,
    /// Restrict text, Markdown, HTML, images and tables to the main content (default true);
    /// false renders the whole body.
    pub only_main_content: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { formats: Vec::new(), schema: None, only_main_content: true }
    }
}

/// The extracted formats; a field is present when its format was requested.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Extracted {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub markdown: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub links: Option<Vec<Link>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub images: Option<Vec<Image>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tables: Option<Vec<Table>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json: Option<serde_json::Value>,
}

/// Extracts the requested formats from a page.
///
/// Errors: [`ExtractError::Binary`] when the bytes are not a text document, and schema errors
/// for the `json` format. Malformed HTML is never an error.
pub fn extract(input: &Input, opts: &Options) -> Result<Extracted, ExtractError> {
    let (html, _) = charset::decode(input.bytes, input.content_type);
    if looks_binary(&html) {
        return Err(ExtractError::Binary);
    }
    let formats: &[OutputFormat] =
        if opts.formats.is_empty() { &[OutputFormat::Markdown] } else { &opts.formats };
    let want = |f: OutputFormat| formats.contains(&f);
    let doc = dom::Document::parse(&html);
    let base = links::base_url(&doc, input.base_url);
    let needs_content = [
        OutputFormat::Markdown,
        OutputFormat::Text,
        OutputFormat::Html,
        OutputFormat::Images,
        OutputFormat::Tables,
    ]
    .iter()
    .any(|&f| want(f));
    let sel = needs_content.then(|| {
        if opts.only_main_content {
            content::select(&doc)
        } else {
            content::Selection::whole(&doc, doc.find(dom::Tag::Body).unwrap_or(dom::Document::ROOT))
        }
    });
    let mut out = Extracted::default();
    if let Some(sel) = &sel {
        if want(OutputFormat::Text) {
            out.text = Some(text::render_text(&doc, sel));
        }
        if want(OutputFormat::Markdown) {
            out.markdown = Some(markdown::render_markdown(&doc, sel, base.as_ref()));
        }
        if want(OutputFormat::Html) {
            out.html = Some(html::render_html(&doc, sel, base.as_ref()));
        }
        if want(OutputFormat::Images) {
            out.images = Some(links::images(&doc, sel, base.as_ref()));
        }
        if want(OutputFormat::Tables) {
            out.tables = Some(links::tables(&doc, sel));
        }
    }
    if want(OutputFormat::Metadata) {
        out.metadata = Some(metadata::metadata(&doc, base.as_ref()));
    }
    if want(OutputFormat::Links) {
        out.links = Some(links::links(&doc, base.as_ref()));
    }
    if want(OutputFormat::Json) {
        let schema = opts.schema.as_ref().ok_or(ExtractError::MissingSchema)?;
        out.json = Some(schema::apply(schema, &html, base.as_ref())?);
    }
    Ok(out)
}

/// True when the text is mostly control characters: random bytes, images, archives.
fn looks_binary(text: &str) -> bool {
    let sample: Vec<char> = text.chars().take(1024).collect();
    if sample.is_empty() {
        return false;
    }
    let bad = sample
        .iter()
        .filter(|&&c| {
            c == '\u{FFFD}' || (c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0c'))
        })
        .count();
    bad * 10 > sample.len()
}

/// The document's `<title>`, with runs of whitespace collapsed; `None` when absent or blank.
pub fn page_title(html: &str) -> Option<String> {
    let doc = Html::parse_document(html);
    let selector = Selector::parse("title").expect("static selector is valid");
    let raw: String = doc.select(&selector).next()?.text().collect();
    let title = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    (!title.is_empty()).then_some(title)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_or_blank_title_is_none() {
        assert_eq!(page_title("<p>no head</p>"), None);
        assert_eq!(page_title("<title>  \n </title>"), None);
    }

    #[test]
    fn first_title_wins_and_entities_decode() {
        let html = "<title>A &amp; B</title><svg><title>icon</title></svg>";
        assert_eq!(page_title(html).as_deref(), Some("A & B"));
    }

    #[test]
    fn binary_junk_is_an_error_not_a_panic() {
        let junk: Vec<u8> =
            (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
        let r = extract(&Input { bytes: &junk, ..Input::default() }, &Options::default());
        assert!(matches!(r, Err(ExtractError::Binary)), "{r:?}");
    }

    #[test]
    fn json_without_schema_is_an_error() {
        let opts = Options { formats: vec![OutputFormat::Json], ..Options::default() };
        assert!(matches!(
            extract(&Input::html("<p>x</p>"), &opts),
            Err(ExtractError::MissingSchema)
        ));
    }
}
