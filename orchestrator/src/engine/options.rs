//! Reading job options shared by the engines.

use std::time::Duration;

use ace_crawlers::scrape::{Format, RenderMode, ScrapeOptions};
use ace_crawlers::FetchOptions;
use serde_json::Value;

use super::EngineError;

/// Reads `timeout` (ms) and `headers` from job options over the defaults.
pub(crate) fn fetch_options(options: &Value, defaults: &FetchOptions) -> Result<FetchOptions, EngineError> {
    let bad = |message: String| EngineError::Fatal { code: "invalid_request".into(), message };
    let mut opts = defaults.clone();
    if let Some(t) = options.get("timeout") {
        let ms = t.as_u64().filter(|ms| (1..=300_000).contains(ms)).ok_or_else(|| bad("options.timeout must be milliseconds between 1 and 300000".into()))?;
        opts.timeout = Duration::from_millis(ms);
    }
    if let Some(h) = options.get("headers") {
        let map = h.as_object().ok_or_else(|| bad("options.headers must be an object of strings".into()))?;
        for (name, value) in map {
            let value = value.as_str().ok_or_else(|| bad(format!("options.headers.{name} must be a string")))?;
            opts.headers.push((name.clone(), value.to_owned()));
        }
    }
    Ok(opts)
}

/// The formats a scrape job produces when its options name none: the content as Markdown
/// and the page as served.
const DEFAULT_JOB_FORMATS: [Format; 2] = [Format::Markdown, Format::RawHtml];

/// Reads scrape options in Firecrawl's v1 and v2 shapes (and the job API's, which is the
/// same): `formats` as names or `{"type": ...}` objects, `onlyMainContent`, `includeTags`,
/// `excludeTags`, `waitFor`, `timeout`, `headers`, `actions`, `mobile`, `render`, and the
/// selector schema of the `json` format (in the format object, `jsonOptions.schema` or
/// `schema`). Unknown fields are ignored; Firecrawl's cloud-only formats are refused by name.
pub(crate) fn scrape_options(options: &Value, defaults: &FetchOptions) -> Result<ScrapeOptions, EngineError> {
    let bad = |message: String| EngineError::Fatal { code: "invalid_request".into(), message };
    let mut opts = ScrapeOptions { fetch: fetch_options(options, defaults)?, formats: DEFAULT_JOB_FORMATS.to_vec(), ..ScrapeOptions::default() };
    let mut schema = options.get("schema").or_else(|| options.pointer("/jsonOptions/schema")).or_else(|| options.pointer("/extract/schema")).cloned();
    match options.get("formats") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            opts.formats.clear();
            for item in items {
                let (name, full_page) = match item {
                    Value::String(name) => (name.as_str(), false),
                    Value::Object(o) => {
                        if let Some(s) = o.get("schema") {
                            schema = Some(s.clone());
                        }
                        let name = o.get("type").and_then(Value::as_str).ok_or_else(|| bad("options.formats objects need a \"type\"".into()))?;
                        (name, o.get("fullPage").and_then(Value::as_bool).unwrap_or(false))
                    }
                    _ => return Err(bad("options.formats must be a list of names or {\"type\": ...} objects".into())),
                };
                let format = Format::parse(name).ok_or_else(|| {
                    bad(format!(
                        "format {name:?} is not supported; use markdown, html, rawHtml, text, links, images, screenshot, screenshot@fullPage or json"
                    ))
                })?;
                let format = match format {
                    Format::Screenshot { .. } if full_page => Format::Screenshot { full_page: true },
                    f => f,
                };
                if !opts.formats.contains(&format) {
                    opts.formats.push(format);
                }
            }
        }
        Some(_) => return Err(bad("options.formats must be a list".into())),
    }
    if opts.formats.contains(&Format::Json) {
        let s = schema.ok_or_else(|| bad("the json format needs a selector schema: {\"fields\": {\"name\": {\"selector\": \"css\"}}}".into()))?;
        opts.schema = Some(serde_json::from_value(s).map_err(|e| bad(format!("the json format's schema is not a selector schema: {e}")))?);
    }
    if let Some(v) = options.get("onlyMainContent").filter(|v| !v.is_null()) {
        opts.only_main_content = v.as_bool().ok_or_else(|| bad("options.onlyMainContent must be true or false".into()))?;
    }
    for (name, field) in [("includeTags", &mut opts.include_tags), ("excludeTags", &mut opts.exclude_tags)] {
        match options.get(name) {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for i in items {
                    field.push(i.as_str().ok_or_else(|| bad(format!("options.{name} must be a list of CSS selectors")))?.to_owned());
                }
            }
            Some(_) => return Err(bad(format!("options.{name} must be a list of CSS selectors"))),
        }
    }
    if let Some(v) = options.get("waitFor").filter(|v| !v.is_null()) {
        let ms = v.as_u64().filter(|ms| *ms <= 60_000).ok_or_else(|| bad("options.waitFor must be milliseconds between 0 and 60000".into()))?;
        opts.wait_for = Some(Duration::from_millis(ms));
    }
    match options.get("actions") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => opts.actions = items.clone(),
        Some(_) => return Err(bad("options.actions must be a list of action objects".into())),
    }
    opts.mobile = options.get("mobile").and_then(Value::as_bool).unwrap_or(false);
    if let Some(mode) = render_mode(options)? {
        opts.render = mode;
    }
    Ok(opts)
}

/// Reads `render` (`auto`, `always` or `never`; `true` and `false` for always and never), if
/// the options give it.
pub(crate) fn render_mode(options: &Value) -> Result<Option<RenderMode>, EngineError> {
    let bad = || EngineError::Fatal { code: "invalid_request".into(), message: "options.render must be auto, always or never".into() };
    match options.get("render") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(if *b { RenderMode::Always } else { RenderMode::Never })),
        Some(Value::String(s)) => RenderMode::parse(s).map(Some).ok_or_else(bad),
        Some(_) => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn options_override_defaults_and_reject_nonsense() {
        let d = FetchOptions::default();
        let o = fetch_options(&json!({"timeout": 1500, "headers": {"x-a": "1"}}), &d).unwrap();
        assert_eq!(o.timeout, Duration::from_millis(1500));
        assert_eq!(o.headers, vec![("x-a".to_owned(), "1".to_owned())]);
        assert!(fetch_options(&json!({"timeout": "soon"}), &d).is_err());
        assert!(fetch_options(&json!({"headers": {"x": 1}}), &d).is_err());
    }

    #[test]
    fn scrape_options_read_both_firecrawl_shapes() {
        let d = FetchOptions::default();
        let v1 = scrape_options(&json!({"formats": ["markdown", "screenshot@fullPage", "json"], "jsonOptions": {"schema": {"fields": {"t": {"selector": "h1"}}}},
            "onlyMainContent": false, "waitFor": 500, "timeout": 30000, "origin": "python-sdk@4"}), &d).unwrap();
        assert_eq!(v1.formats, vec![Format::Markdown, Format::Screenshot { full_page: true }, Format::Json]);
        assert!(v1.schema.is_some() && !v1.only_main_content);
        assert_eq!(v1.wait_for, Some(Duration::from_millis(500)));
        let v2 = scrape_options(&json!({"formats": [{"type": "markdown"}, {"type": "screenshot", "fullPage": false}, "links"], "excludeTags": ["nav"], "render": "never"}), &d).unwrap();
        assert_eq!(v2.formats, vec![Format::Markdown, Format::Screenshot { full_page: false }, Format::Links]);
        assert_eq!(v2.exclude_tags, vec!["nav".to_owned()]);
        assert_eq!(v2.render, RenderMode::Never);
        assert_eq!(scrape_options(&json!({}), &d).unwrap().formats, DEFAULT_JOB_FORMATS.to_vec());
        for bad in [json!({"formats": ["summary"]}), json!({"formats": ["json"]}), json!({"includeTags": "nav"}), json!({"render": "sometimes"})] {
            assert!(scrape_options(&bad, &d).is_err(), "{bad}");
        }
    }
}
