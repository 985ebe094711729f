//! Page metadata from `<head>`, OpenGraph, Twitter cards, JSON-LD and microdata.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use crate::dom::{Document, NodeId, Tag};
use crate::links::resolve;

/// What the page says about itself.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub canonical: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// As written by the page (usually ISO 8601).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_published: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_modified: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keywords: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub favicon: Option<String>,
    /// `og:*` properties, keyed by their full name (`og:title`); first value wins.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub open_graph: BTreeMap<String, String>,
    /// `twitter:*` properties, keyed by their full name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub twitter_card: BTreeMap<String, String>,
    /// Every JSON-LD block that parses, as written.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub json_ld: Vec<Value>,
}

/// Collects the metadata of `doc`; `base` makes URLs absolute.
pub fn metadata(doc: &Document, base: Option<&Url>) -> Metadata {
    let mut m = Metadata::default();
    let mut named: BTreeMap<String, String> = BTreeMap::new();
    let mut itemprops: BTreeMap<String, String> = BTreeMap::new();
    let mut icon: Option<(u8, String)> = None;
    let mut first_time = None;
    for i in 0..doc.nodes.len() as NodeId {
        match doc.tag(i) {
            Some(Tag::Title) if m.title.is_none() && !in_svg(doc, i) => {
                m.title = Some(doc.text_content(i)).filter(|t| !t.is_empty());
            }
            Some(Tag::Html) => {
                m.language = doc
                    .attr(i, "lang")
                    .or_else(|| doc.attr(i, "xml:lang"))
                    .map(|l| l.trim().to_string())
                    .filter(|l| !l.is_empty());
            }
            Some(Tag::Meta) => {
                let content = doc.attr(i, "content").map(str::trim).unwrap_or("");
                if let Some(p) = doc.attr(i, "property").or_else(|| doc.attr(i, "name")) {
                    let key = p.trim().to_ascii_lowercase();
                    if content.is_empty() {
                        continue;
                    }
                    if key.starts_with("og:") {
                        m.open_graph.entry(key.clone()).or_insert_with(|| content.to_string());
                    } else if key.starts_with("twitter:") {
                        m.twitter_card.entry(key.clone()).or_insert_with(|| content.to_string());
                    }
                    named.entry(key).or_insert_with(|| content.to_string());
                } else if let Some(h) = doc.attr(i, "http-equiv") {
                    if h.eq_ignore_ascii_case("content-language") && !content.is_empty() {
                        named
                            .entry("content-language".into())
                            .or_insert_with(|| content.to_string());
                    }
                }
                if let Some(p) = doc.attr(i, "itemprop") {
                    itemprops.entry(p.to_string()).or_insert_with(|| content.to_string());
                }
            }
            Some(Tag::Link) => {
                let rel = doc.attr(i, "rel").unwrap_or("").to_ascii_lowercase();
                let href = doc.attr(i, "href").and_then(|h| resolve(base, h));
                let Some(href) = href else { continue };
                let rels: Vec<&str> = rel.split_whitespace().collect();
                if rels.contains(&"canonical") && m.canonical.is_none() {
                    m.canonical = Some(href);
                } else if rels.contains(&"icon") || rels.contains(&"apple-touch-icon") {
                    // Prefer the plain icon over touch icons, and the first of each kind.
                    let rank = if rels.contains(&"icon") { 2 } else { 1 };
                    if icon.as_ref().is_none_or(|(r, _)| rank > *r) {
                        icon = Some((rank, href));
                    }
                }
            }
            Some(Tag::Script)
                if doc
                    .attr(i, "type")
                    .is_some_and(|t| t.to_ascii_lowercase().contains("ld+json")) =>
            {
                let raw = doc.text_content_raw(i);
                if let Ok(v) = serde_json::from_str::<Value>(raw.trim()) {
                    m.json_ld.push(v);
                }
            }
            Some(Tag::Time) if first_time.is_none() => {
                first_time =
                    doc.attr(i, "datetime").map(|d| d.trim().to_string()).filter(|d| !d.is_empty());
            }
            Some(_) => {
                if let Some(p) = doc.attr(i, "itemprop") {
                    if matches!(p, "datePublished" | "dateModified" | "author" | "name") {
                        let v = doc
                            .attr(i, "datetime")
                            .or_else(|| doc.attr(i, "content"))
                            .map(str::to_string)
                            .unwrap_or_else(|| doc.text_content(i));
                        itemprops.entry(p.to_string()).or_insert(v);
                    }
                }
            }
            None => {}
        }
    }
    let ld = flatten_ld(&m.json_ld);
    let get = |k: &str| named.get(k).cloned();
    if m.title.is_none() {
        m.title = get("og:title");
    }
    m.description =
        get("description").or_else(|| get("og:description")).or_else(|| get("twitter:description"));
    if m.language.is_none() {
        m.language = get("content-language").or_else(|| get("og:locale"));
    }
    m.author = get("author")
        .or_else(|| get("article:author").filter(|a| !a.starts_with("http")))
        .or_else(|| ld_string(&ld, "author"))
        .or_else(|| itemprops.get("author").cloned())
        .or_else(|| get("dc.creator"));
    m.date_published = get("article:published_time")
        .or_else(|| ld_string(&ld, "datePublished"))
        .or_else(|| itemprops.get("datePublished").cloned())
        .or_else(|| {
            [
                "date",
                "pubdate",
                "publish-date",
                "publish_date",
                "dc.date",
                "dc.date.issued",
                "dcterms.date",
                "sailthru.date",
                "parsely-pub-date",
            ]
            .iter()
            .find_map(|k| get(k))
        })
        .or(first_time);
    m.date_modified = get("article:modified_time")
        .or_else(|| get("og:updated_time"))
        .or_else(|| ld_string(&ld, "dateModified"))
        .or_else(|| itemprops.get("dateModified").cloned())
        .or_else(|| get("last-modified"));
    m.site_name =
        get("og:site_name").or_else(|| get("application-name")).or_else(|| ld_publisher(&ld));
    m.keywords = get("keywords");
    m.favicon = icon
        .map(|(_, h)| h)
        .or_else(|| base.and_then(|b| b.join("/favicon.ico").ok()).map(String::from));
    m
}

fn in_svg(doc: &Document, mut n: NodeId) -> bool {
    while n != crate::dom::NONE {
        if doc.tag(n) == Some(Tag::Svg) {
            return true;
        }
        n = doc.node(n).parent;
    }
    false
}

/// JSON-LD objects, with `@graph` members and top-level arrays spread out.
fn flatten_ld(values: &[Value]) -> Vec<&Value> {
    let mut out = Vec::new();
    let mut todo: Vec<&Value> = values.iter().rev().collect();
    while let Some(v) = todo.pop() {
        match v {
            Value::Array(a) => todo.extend(a.iter().rev()),
            Value::Object(o) => {
                if let Some(g) = o.get("@graph") {
                    todo.push(g);
                }
                out.push(v);
            }
            _ => {}
        }
    }
    out
}

/// The first string found for `key` (a string, or an object's `name`, or the first of a list).
fn ld_string(objs: &[&Value], key: &str) -> Option<String> {
    fn as_text(v: &Value) -> Option<String> {
        match v {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Value::Object(o) => o.get("name").and_then(as_text),
            Value::Array(a) => a.iter().find_map(as_text),
            _ => None,
        }
    }
    objs.iter().find_map(|o| o.get(key).and_then(as_text))
}

fn ld_publisher(objs: &[&Value]) -> Option<String> {
    ld_string(objs, "publisher").or_else(|| {
        objs.iter()
            .find(|o| o.get("@type").and_then(Value::as_str) == Some("WebSite"))
            .and_then(|o| o.get("name"))
            .and_then(Value::as_str)
            .map(str::to_string)
    })
}
