//! The scrape engine: one page, fetched over HTTP or rendered in a browser, turned into a
//! [`Document`] in the formats asked for.
//!
//! [`Scraper::scrape`] decides how to load the page ([`RenderMode`]): over HTTP, in the
//! browser pool, or over HTTP first and in the browser when the answer is an app shell whose
//! content needs JavaScript. Screenshots, actions and `waitFor` need the browser. The loaded
//! HTML then goes through [`document`]: `includeTags`/`excludeTags` trim it, and the
//! extractors crate makes the Markdown, cleaned HTML, links, images and selector JSON. The
//! crawl engine calls [`document`] on every page it fetches, so crawl and scrape records have
//! one shape.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use serde::Serialize;
use serde_json::{Map, Value};
use url::Url;

use crate::{FetchError, FetchOptions, FetchedPage, Fetcher, RenderOptions, Renderer, ScreenshotSpec};

/// Response headers worth keeping in a page record.
const KEPT_HEADERS: [&str; 8] = [
    "content-type",
    "content-language",
    "content-length",
    "last-modified",
    "etag",
    "cache-control",
    "server",
    "x-robots-tag",
];

/// When to load a page in the browser instead of over HTTP.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RenderMode {
    /// Over HTTP, then in the browser if the page is an app shell (or the options need one).
    #[default]
    Auto,
    /// Always in the browser.
    Always,
    /// Never in the browser; options that need one are refused.
    Never,
}

impl RenderMode {
    /// Parses `auto`, `always` or `never` (and `true`/`false` as always/never).
    pub fn parse(s: &str) -> Option<RenderMode> {
        match s {
            "auto" => Some(RenderMode::Auto),
            "always" | "true" => Some(RenderMode::Always),
            "never" | "false" => Some(RenderMode::Never),
            _ => None,
        }
    }
}

/// One output of a scrape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The main content as Markdown.
    Markdown,
    /// The main content as cleaned HTML.
    Html,
    /// The page's HTML as served (or as rendered).
    RawHtml,
    /// The main content as plain text.
    Text,
    /// Every link on the page, absolute.
    Links,
    /// Images of the main content, absolute.
    Images,
    /// A PNG of the page, as a `data:` URL.
    Screenshot {
        /// The whole page instead of the viewport.
        full_page: bool,
    },
    /// The selector schema applied to the page.
    Json,
}

impl Format {
    /// Parses a format name as Firecrawl and the job API spell it.
    pub fn parse(name: &str) -> Option<Format> {
        Some(match name {
            "markdown" => Format::Markdown,
            "html" => Format::Html,
            "rawHtml" | "raw_html" => Format::RawHtml,
            "text" => Format::Text,
            "links" => Format::Links,
            "images" => Format::Images,
            "screenshot" => Format::Screenshot { full_page: false },
            "screenshot@fullPage" => Format::Screenshot { full_page: true },
            "json" | "extract" => Format::Json,
            _ => return None,
        })
    }
}

/// What to scrape and how. Built from request JSON by the orchestrator.
#[derive(Debug, Clone)]
pub struct ScrapeOptions {
    /// The outputs wanted; metadata always comes along.
    pub formats: Vec<Format>,
    /// Only the main content (no navigation, footers, sidebars) in markdown/html/text.
    pub only_main_content: bool,
    /// CSS selectors: when given, only these parts of the page are used.
    pub include_tags: Vec<String>,
    /// CSS selectors of parts to remove before extraction.
    pub exclude_tags: Vec<String>,
    /// The selector schema of the `json` format.
    pub schema: Option<ace_extractors::Schema>,
    /// HTTP or browser.
    pub render: RenderMode,
    /// A pause after the page loaded (browser only).
    pub wait_for: Option<Duration>,
    /// Browser actions after load (Firecrawl's objects).
    pub actions: Vec<Value>,
    /// Render as a phone.
    pub mobile: bool,
    /// Timeout, headers, body cap.
    pub fetch: FetchOptions,
}

impl Default for ScrapeOptions {
    fn default() -> ScrapeOptions {
        ScrapeOptions {
            formats: vec![Format::Markdown],
            only_main_content: true,
            include_tags: Vec::new(),
            exclude_tags: Vec::new(),
            schema: None,
            render: RenderMode::Auto,
            wait_for: None,
            actions: Vec::new(),
            mobile: false,
            fetch: FetchOptions::default(),
        }
    }
}

impl ScrapeOptions {
    fn screenshot(&self) -> Option<ScreenshotSpec> {
        self.formats.iter().find_map(|f| match f {
            Format::Screenshot { full_page } => Some(ScreenshotSpec { full_page: *full_page }),
            _ => None,
        })
    }

    /// Why these options need the browser, if they do.
    pub fn needs_browser(&self) -> Option<&'static str> {
        if self.screenshot().is_some() {
            Some("the screenshot format")
        } else if !self.actions.is_empty() {
            Some("actions")
        } else if self.wait_for.is_some_and(|d| !d.is_zero()) {
            Some("waitFor")
        } else if self.mobile {
            Some("mobile")
        } else {
            None
        }
    }

    fn wants(&self, f: Format) -> bool {
        self.formats.contains(&f)
    }
}

/// Why a scrape gave no document.
#[derive(Debug, thiserror::Error)]
pub enum ScrapeError {
    /// The page could not be fetched or rendered.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The options need a browser and none is running (or `render` is `never`).
    #[error("{what} needs the browser, but {why}")]
    NeedsBrowser {
        /// The option that needs it.
        what: &'static str,
        /// Why there is none.
        why: &'static str,
    },
    /// An option is unusable (a bad selector, a `json` format without schema).
    #[error("{0}")]
    InvalidOption(String),
}

impl ScrapeError {
    /// The snake_case code the API reports.
    pub fn code(&self) -> &'static str {
        match self {
            ScrapeError::Fetch(e) => e.code(),
            ScrapeError::NeedsBrowser { .. } => "browser_unavailable",
            ScrapeError::InvalidOption(_) => "invalid_request",
        }
    }

    /// Whether trying again may help.
    pub fn is_retryable(&self) -> bool {
        matches!(self, ScrapeError::Fetch(e) if e.is_retryable())
    }
}

/// One scraped page: how it was loaded, and its content in the formats asked for.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Document {
    /// The URL asked for.
    pub url: String,
    /// The URL after redirects.
    pub final_url: String,
    /// HTTP status of the final response (200 when a browser could not tell).
    pub status_code: u16,
    /// `Content-Type`, if known.
    pub content_type: Option<String>,
    /// Selected response headers (HTTP loads only).
    pub headers: Map<String, Value>,
    /// The document's title.
    pub title: Option<String>,
    /// Whether the browser loaded it.
    pub rendered: bool,
    /// Body size in bytes.
    pub bytes: usize,
    /// Milliseconds from request to content.
    pub elapsed_ms: u64,
    /// Main content as Markdown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub markdown: Option<String>,
    /// Main content as cleaned HTML.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// The HTML as served or rendered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_html: Option<String>,
    /// Main content as text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Absolute links.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub links: Option<Vec<String>>,
    /// Absolute image URLs of the main content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub images: Option<Vec<String>>,
    /// `data:image/png;base64,...`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub screenshot: Option<String>,
    /// The selector schema's result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json: Option<Value>,
    /// Page metadata with Firecrawl's names (title, description, language, ogTitle, ...,
    /// sourceURL, url, statusCode, contentType).
    pub metadata: Map<String, Value>,
    /// Something the caller should know (content not HTML, say).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// Loads pages over HTTP or in the browser and makes documents of them.
#[derive(Clone)]
pub struct Scraper {
    fetcher: Arc<dyn Fetcher>,
    renderer: Option<Arc<dyn Renderer>>,
}

impl std::fmt::Debug for Scraper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scraper").field("renderer", &self.renderer.is_some()).finish_non_exhaustive()
    }
}

/// What a page was loaded as, for [`document`].
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The URL asked for.
    pub url: Url,
    /// After redirects.
    pub final_url: Url,
    /// HTTP status.
    pub status: u16,
    /// Response headers (empty for renders).
    pub headers: Vec<(String, String)>,
    /// The bytes (the serialised DOM for renders).
    pub body: Vec<u8>,
    /// How long loading took.
    pub elapsed: Duration,
    /// Whether the browser loaded it.
    pub rendered: bool,
    /// The screenshot, when one was taken.
    pub screenshot: Option<Vec<u8>>,
}

impl From<FetchedPage> for Loaded {
    fn from(p: FetchedPage) -> Loaded {
        Loaded {
            url: p.url,
            final_url: p.final_url,
            status: p.status,
            headers: p.headers,
            body: p.body.to_vec(),
            elapsed: p.elapsed,
            rendered: p.rendered,
            screenshot: None,
        }
    }
}

impl Loaded {
    fn content_type(&self) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("content-type")).map(|(_, v)| v.as_str())
    }
}

impl Scraper {
    /// A scraper over `fetcher`, with the browser when `renderer` is given.
    pub fn new(fetcher: Arc<dyn Fetcher>, renderer: Option<Arc<dyn Renderer>>) -> Scraper {
        Scraper { fetcher, renderer }
    }

    /// Whether a browser is available.
    pub fn can_render(&self) -> bool {
        self.renderer.is_some()
    }

    /// Loads `url` as `opts` say and makes its document. A non-2xx answer is still a
    /// document (its status says what happened); only failures to get an answer are errors.
    pub async fn scrape(&self, url: &Url, opts: &ScrapeOptions) -> Result<Document, ScrapeError> {
        let loaded = self.load(url, opts).await?;
        document(&loaded, opts)
    }

    /// Loads `url` over HTTP or in the browser, as `opts.render` and the options decide.
    pub async fn load(&self, url: &Url, opts: &ScrapeOptions) -> Result<Loaded, ScrapeError> {
        let needs = opts.needs_browser();
        match (opts.render, needs) {
            (RenderMode::Never, Some(what)) => Err(ScrapeError::NeedsBrowser { what, why: "render is \"never\"" }),
            (RenderMode::Always, _) | (RenderMode::Auto, Some(_)) => self.render(url, opts, needs.unwrap_or("render \"always\"")).await,
            (RenderMode::Never, None) => Ok(self.fetcher.fetch(url, &opts.fetch).await?.into()),
            (RenderMode::Auto, None) => {
                let page: Loaded = self.fetcher.fetch(url, &opts.fetch).await?.into();
                if self.renderer.is_some() && is_app_shell(&page) {
                    tracing::debug!(url = %url, "app shell over HTTP; rendering it");
                    return self.render(url, opts, "an app-shell page").await;
                }
                Ok(page)
            }
        }
    }

    async fn render(&self, url: &Url, opts: &ScrapeOptions, what: &'static str) -> Result<Loaded, ScrapeError> {
        let renderer = self.renderer.as_ref().ok_or(ScrapeError::NeedsBrowser { what, why: "the browser pool is not running" })?;
        let mut actions = Vec::new();
        if let Some(wait) = opts.wait_for.filter(|d| !d.is_zero()) {
            actions.push(serde_json::json!({ "type": "wait", "milliseconds": wait.as_millis() as u64 }));
        }
        actions.extend(opts.actions.iter().cloned());
        let render_opts = RenderOptions {
            timeout: opts.fetch.timeout,
            headers: opts.fetch.headers.clone(),
            actions,
            screenshot: opts.screenshot(),
            mobile: opts.mobile,
            ..RenderOptions::default()
        };
        let page = renderer.render(url, &render_opts).await?;
        Ok(Loaded {
            url: page.url,
            final_url: page.final_url,
            status: page.status.unwrap_or(200),
            headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
            body: page.html.into_bytes(),
            elapsed: page.elapsed,
            rendered: true,
            screenshot: page.screenshot,
        })
    }
}

/// Whether an HTTP answer is an app shell: HTML with scripts and next to no text, whose
/// content only exists once JavaScript has run.
pub fn is_app_shell(page: &Loaded) -> bool {
    app_shell(page.status, page.content_type(), &page.body)
}

/// [`is_app_shell`] on the parts of an answer, for callers that hold a [`FetchedPage`].
pub(crate) fn app_shell(status: u16, content_type: Option<&str>, body: &[u8]) -> bool {
    let html_type = content_type.is_none_or(|ct| ct.contains("html"));
    if !html_type || body.len() > 512 * 1024 || !(200..300).contains(&status) {
        return false;
    }
    let has_script = memchr::memmem::find(body, b"<script").is_some();
    if !has_script {
        return false;
    }
    let input = ace_extractors::Input { bytes: body, content_type, base_url: None };
    let opts = ace_extractors::Options { formats: vec![ace_extractors::OutputFormat::Text], schema: None, only_main_content: false };
    match ace_extractors::extract(&input, &opts) {
        Ok(out) => out.text.unwrap_or_default().split_whitespace().map(str::len).sum::<usize>() < 80,
        Err(_) => false,
    }
}

/// Makes the document of a loaded page in the formats `opts` ask for.
pub fn document(page: &Loaded, opts: &ScrapeOptions) -> Result<Document, ScrapeError> {
    let content_type = page.content_type().map(str::to_owned);
    let headers = page
        .headers
        .iter()
        .filter(|(name, _)| KEPT_HEADERS.contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), Value::String(value.clone())))
        .collect();
    let mut doc = Document {
        url: page.url.to_string(),
        final_url: page.final_url.to_string(),
        status_code: page.status,
        content_type: content_type.clone(),
        headers,
        title: None,
        rendered: page.rendered,
        bytes: page.body.len(),
        elapsed_ms: page.elapsed.as_millis() as u64,
        markdown: None,
        html: None,
        raw_html: None,
        text: None,
        links: None,
        images: None,
        screenshot: page.screenshot.as_ref().map(|png| format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(png))),
        json: None,
        metadata: Map::new(),
        warning: None,
    };
    let is_html = content_type.as_deref().is_none_or(|ct| ct.contains("html") || ct.contains("xml"));
    if !is_html {
        doc.warning = Some(format!("the content type is {}; no content was extracted", content_type.as_deref().unwrap_or("unknown")));
        doc.metadata = response_metadata(&doc, Map::new());
        return Ok(doc);
    }
    let (decoded, _) = ace_extractors::charset::decode(&page.body, content_type.as_deref());
    let trimmed = trim_tags(&decoded, &opts.include_tags, &opts.exclude_tags)?;
    let html: &str = trimmed.as_deref().unwrap_or(&decoded);

    use ace_extractors::OutputFormat as Of;
    let mut formats = vec![Of::Metadata];
    for (ours, theirs) in [
        (Format::Markdown, Of::Markdown),
        (Format::Html, Of::Html),
        (Format::Text, Of::Text),
        (Format::Links, Of::Links),
        (Format::Images, Of::Images),
        (Format::Json, Of::Json),
    ] {
        if opts.wants(ours) {
            formats.push(theirs);
        }
    }
    if opts.wants(Format::Json) && opts.schema.is_none() {
        return Err(ScrapeError::InvalidOption("the json format needs a schema".into()));
    }
    let base = page.final_url.as_str();
    let input = ace_extractors::Input { bytes: html.as_bytes(), content_type: Some("text/html; charset=utf-8"), base_url: Some(base) };
    let extract_opts = ace_extractors::Options { formats, schema: opts.schema.clone(), only_main_content: opts.only_main_content };
    match ace_extractors::extract(&input, &extract_opts) {
        Ok(out) => {
            let meta = out.metadata.unwrap_or_default();
            doc.title = meta.title.clone();
            doc.markdown = out.markdown;
            doc.html = out.html;
            doc.text = out.text;
            doc.links = out.links.map(|links| {
                let mut seen = std::collections::HashSet::new();
                links.into_iter().map(|l| l.url).filter(|u| seen.insert(u.clone())).collect()
            });
            doc.images = out.images.map(|images| images.into_iter().map(|i| i.src).collect());
            doc.json = out.json;
            doc.metadata = response_metadata(&doc, page_metadata(meta));
        }
        Err(ace_extractors::ExtractError::Binary) => {
            doc.warning = Some("the body is not text; no content was extracted".into());
            doc.metadata = response_metadata(&doc, Map::new());
        }
        Err(e) => return Err(ScrapeError::InvalidOption(e.to_string())),
    }
    if opts.wants(Format::RawHtml) {
        doc.raw_html = Some(decoded.into_owned());
    }
    Ok(doc)
}

/// Applies `includeTags` (keep only these parts) and `excludeTags` (remove these parts);
/// `None` when neither is given.
fn trim_tags(html: &str, include: &[String], exclude: &[String]) -> Result<Option<String>, ScrapeError> {
    if include.is_empty() && exclude.is_empty() {
        return Ok(None);
    }
    let parse = |list: &[String], name: &str| -> Result<Vec<scraper::Selector>, ScrapeError> {
        list.iter()
            .map(|s| scraper::Selector::parse(s).map_err(|e| ScrapeError::InvalidOption(format!("{name} has an invalid selector {s:?}: {e}"))))
            .collect()
    };
    let include = parse(include, "includeTags")?;
    let exclude = parse(exclude, "excludeTags")?;
    let mut doc = scraper::Html::parse_document(html);
    let doomed: Vec<_> = exclude.iter().flat_map(|sel| doc.select(sel).map(|e| e.id()).collect::<Vec<_>>()).collect();
    for id in doomed {
        if let Some(mut node) = doc.tree.get_mut(id) {
            node.detach();
        }
    }
    if include.is_empty() {
        return Ok(Some(doc.html()));
    }
    let head = scraper::Selector::parse("head").expect("static selector");
    let mut out = String::from("<!DOCTYPE html><html>");
    if let Some(h) = doc.select(&head).next() {
        out.push_str(&h.html());
    }
    out.push_str("<body>");
    let mut kept = std::collections::HashSet::new();
    for sel in &include {
        for el in doc.select(sel) {
            // An element inside one already kept is already in the output.
            if el.ancestors().any(|a| kept.contains(&a.id())) {
                continue;
            }
            kept.insert(el.id());
            out.push_str(&el.html());
        }
    }
    out.push_str("</body></html>");
    Ok(Some(out))
}

/// The page's own metadata under Firecrawl's names.
fn page_metadata(m: ace_extractors::Metadata) -> Map<String, Value> {
    let mut out = Map::new();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            out.insert(k.to_owned(), Value::String(v));
        }
    };
    put("title", m.title);
    put("description", m.description);
    put("language", m.language);
    put("keywords", m.keywords);
    put("author", m.author);
    put("canonical", m.canonical);
    put("favicon", m.favicon);
    put("publishedTime", m.date_published);
    put("modifiedTime", m.date_modified);
    put("siteName", m.site_name);
    for (property, key) in [
        ("og:title", "ogTitle"),
        ("og:description", "ogDescription"),
        ("og:url", "ogUrl"),
        ("og:image", "ogImage"),
        ("og:site_name", "ogSiteName"),
        ("og:locale", "ogLocale"),
        ("og:audio", "ogAudio"),
        ("og:video", "ogVideo"),
        ("og:determiner", "ogDeterminer"),
    ] {
        put(key, m.open_graph.get(property).cloned());
    }
    for (property, value) in m.twitter_card {
        put(&property, Some(value));
    }
    if !m.json_ld.is_empty() {
        out.insert("jsonLd".into(), Value::Array(m.json_ld));
    }
    out
}

/// Adds what the response says to the page's metadata.
fn response_metadata(doc: &Document, mut meta: Map<String, Value>) -> Map<String, Value> {
    meta.insert("sourceURL".into(), Value::String(doc.url.clone()));
    meta.insert("url".into(), Value::String(doc.final_url.clone()));
    meta.insert("statusCode".into(), Value::from(doc.status_code));
    if let Some(ct) = &doc.content_type {
        meta.insert("contentType".into(), Value::String(ct.clone()));
    }
    meta
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loaded(html: &str) -> Loaded {
        Loaded {
            url: Url::parse("http://127.0.0.1/a/").unwrap(),
            final_url: Url::parse("http://127.0.0.1/a/").unwrap(),
            status: 200,
            headers: vec![("content-type".into(), "text/html".into())],
            body: html.as_bytes().to_vec(),
            elapsed: Duration::from_millis(3),
            rendered: false,
            screenshot: None,
        }
    }

    const PAGE: &str = r#"<html lang="en"><head><title>T</title><meta name="description" content="D">
        <meta property="og:title" content="OG"></head><body><nav><a href="/home">Home</a></nav>
        <article><h1>Heading</h1><p>First paragraph with enough words to be the main content of this page, surely.</p>
        <p>Second paragraph, also <a href="b.html">linking</a> somewhere relative.</p>
        <div class="ad">Buy now</div></article><footer>Footer text</footer></body></html>"#;

    #[test]
    fn documents_carry_the_formats_asked_for_and_firecrawl_metadata() {
        let opts = ScrapeOptions { formats: vec![Format::Markdown, Format::Links, Format::RawHtml], ..ScrapeOptions::default() };
        let doc = document(&loaded(PAGE), &opts).unwrap();
        let md = doc.markdown.as_deref().unwrap();
        assert!(md.contains("# Heading") && md.contains("First paragraph"), "{md}");
        assert!(!md.contains("Footer text"), "{md}");
        let links = doc.links.unwrap();
        assert!(links.contains(&"http://127.0.0.1/home".to_owned()) && links.contains(&"http://127.0.0.1/a/b.html".to_owned()), "{links:?}");
        assert!(doc.raw_html.unwrap().contains("<nav>"));
        assert!(doc.html.is_none() && doc.screenshot.is_none());
        assert_eq!(doc.metadata["title"], "T");
        assert_eq!(doc.metadata["description"], "D");
        assert_eq!(doc.metadata["ogTitle"], "OG");
        assert_eq!(doc.metadata["language"], "en");
        assert_eq!(doc.metadata["statusCode"], 200);
        assert_eq!(doc.metadata["sourceURL"], "http://127.0.0.1/a/");
    }

    #[test]
    fn include_and_exclude_tags_trim_the_page_first() {
        let opts = ScrapeOptions {
            formats: vec![Format::Markdown],
            only_main_content: false,
            exclude_tags: vec![".ad".into(), "nav".into()],
            ..ScrapeOptions::default()
        };
        let md = document(&loaded(PAGE), &opts).unwrap().markdown.unwrap();
        assert!(!md.contains("Buy now") && !md.contains("Home"), "{md}");
        assert!(md.contains("Footer text"), "{md}");
        let opts = ScrapeOptions { formats: vec![Format::Markdown], only_main_content: false, include_tags: vec!["footer".into()], ..ScrapeOptions::default() };
        let md = document(&loaded(PAGE), &opts).unwrap().markdown.unwrap();
        assert_eq!(md.trim(), "Footer text");
        let bad = ScrapeOptions { include_tags: vec!["<<".into()], ..ScrapeOptions::default() };
        assert!(matches!(document(&loaded(PAGE), &bad), Err(ScrapeError::InvalidOption(m)) if m.contains("includeTags")));
    }

    #[test]
    fn non_html_bodies_are_documents_with_a_warning() {
        let mut page = loaded("%PDF-1.4 ...");
        page.headers = vec![("content-type".into(), "application/pdf".into())];
        let doc = document(&page, &ScrapeOptions::default()).unwrap();
        assert!(doc.markdown.is_none());
        assert!(doc.warning.unwrap().contains("application/pdf"));
        assert_eq!(doc.metadata["contentType"], "application/pdf");
    }

    #[test]
    fn app_shells_are_told_from_pages_with_content() {
        let shell = loaded(r#"<html><head><script src="/app.js"></script></head><body><div id="root"></div><noscript>Enable JavaScript</noscript></body></html>"#);
        assert!(is_app_shell(&shell));
        assert!(!is_app_shell(&loaded(PAGE)));
        let no_script = loaded("<html><body><div id=root></div></body></html>");
        assert!(!is_app_shell(&no_script));
    }

    #[test]
    fn format_names_parse_as_firecrawl_spells_them() {
        assert_eq!(Format::parse("rawHtml"), Some(Format::RawHtml));
        assert_eq!(Format::parse("screenshot@fullPage"), Some(Format::Screenshot { full_page: true }));
        assert_eq!(Format::parse("summary"), None);
        assert_eq!(RenderMode::parse("always"), Some(RenderMode::Always));
    }
}
