//! URLs and structured pieces: the base URL, the page's links, the content's images and tables.

use serde::{Deserialize, Serialize};
use url::Url;

use crate::content::Selection;
use crate::dom::{Document, NodeId, Tag};

/// A link of the page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Link {
    /// Absolute when a base URL is known.
    pub url: String,
    pub text: String,
    /// Same host as the page (relative links are internal).
    pub internal: bool,
    /// `rel` contains `nofollow` (or `ugc`/`sponsored`, which imply it).
    pub nofollow: bool,
}

/// An image of the main content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Image {
    pub src: String,
    pub alt: String,
}

/// A table of the main content: rows of cell texts, the header row first when there is one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Table {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// Whether the first row is a header row (`th` cells or `thead`).
    pub header: bool,
    pub rows: Vec<Vec<String>>,
}

/// The URL links resolve against: the page URL refined by `<base href>`.
pub fn base_url(doc: &Document, page: Option<&str>) -> Option<Url> {
    let page = page.and_then(|u| Url::parse(u).ok());
    let base_tag = doc.find(Tag::Base).and_then(|b| doc.attr(b, "href")).map(str::trim);
    match (page, base_tag) {
        (Some(p), Some(h)) => p.join(h).ok().or(Some(p)),
        (None, Some(h)) => Url::parse(h).ok(),
        (p, None) => p,
    }
}

/// Resolves `href` against `base`; `None` for empty or script links.
pub fn resolve(base: Option<&Url>, href: &str) -> Option<String> {
    let href = href.trim();
    if href.is_empty() || href.len() > 8192 {
        return None;
    }
    let lower = href.get(..11).unwrap_or(href).to_ascii_lowercase();
    if lower.starts_with("javascript:") || lower.starts_with("data:") {
        return None;
    }
    match base {
        Some(b) => b.join(href).ok().map(String::from),
        None => Some(href.to_string()),
    }
}

/// Every `<a href>` of the page, deduplicated by URL, in document order.
pub fn links(doc: &Document, base: Option<&Url>) -> Vec<Link> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for i in 0..doc.nodes.len() as NodeId {
        if doc.tag(i) != Some(Tag::A) {
            continue;
        }
        let Some(url) = doc.attr(i, "href").and_then(|h| resolve(base, h)) else { continue };
        if url.starts_with('#') || !seen.insert(url.clone()) {
            continue;
        }
        let rel = doc.attr(i, "rel").unwrap_or("").to_ascii_lowercase();
        let nofollow =
            rel.split_whitespace().any(|r| matches!(r, "nofollow" | "ugc" | "sponsored"));
        let internal = match (Url::parse(&url), base) {
            (Ok(u), Some(b)) => u.host_str() == b.host_str(),
            (Ok(_), None) => false,
            (Err(_), _) => true,
        };
        out.push(Link { text: doc.text_content(i), url, internal, nofollow });
    }
    out
}

/// The source of an image: `src`, unless it is a lazy-loading placeholder.
pub fn image_src(doc: &Document, img: NodeId, base: Option<&Url>) -> Option<String> {
    let src =
        doc.attr(img, "src").map(str::trim).filter(|s| !s.is_empty() && !s.starts_with("data:"));
    let lazy = ["data-src", "data-lazy-src", "data-original", "data-url"]
        .iter()
        .find_map(|a| doc.attr(img, a));
    let srcset = doc
        .attr(img, "srcset")
        .or_else(|| doc.attr(img, "data-srcset"))
        .and_then(|s| s.split(',').next())
        .and_then(|c| c.split_whitespace().next());
    let chosen = src.or(lazy).or(srcset)?;
    resolve(base, chosen)
}

/// Images kept in the selection.
pub fn images(doc: &Document, sel: &Selection, base: Option<&Url>) -> Vec<Image> {
    let end = doc.subtree_end(sel.root);
    (sel.root..end)
        .filter(|&i| doc.tag(i) == Some(Tag::Img) && sel.keeps(i))
        .filter_map(|i| {
            Some(Image {
                src: image_src(doc, i, base)?,
                alt: doc.attr(i, "alt").unwrap_or("").trim().to_string(),
            })
        })
        .collect()
}

/// Tables kept in the selection, as rows of cell texts.
pub fn tables(doc: &Document, sel: &Selection) -> Vec<Table> {
    let end = doc.subtree_end(sel.root);
    (sel.root..end)
        .filter(|&i| doc.tag(i) == Some(Tag::Table) && sel.keeps(i))
        .map(|t| table(doc, t))
        .collect()
}

/// One table's rows; cells of nested tables belong to the nested table, not to this one.
pub fn table(doc: &Document, t: NodeId) -> Table {
    let mut rows = Vec::new();
    let mut header = false;
    let mut caption = None;
    let end = doc.subtree_end(t);
    let mut i = t + 1;
    while i < end {
        match doc.tag(i) {
            Some(Tag::Table) => {
                i = doc.subtree_end(i);
                continue;
            }
            Some(Tag::Caption) => caption = Some(doc.text_content(i)).filter(|c| !c.is_empty()),
            Some(Tag::Tr) => {
                let cells: Vec<NodeId> = doc
                    .children(i)
                    .filter(|&c| matches!(doc.tag(c), Some(Tag::Td | Tag::Th)))
                    .collect();
                if rows.is_empty() {
                    let in_thead = doc.tag(doc.node(i).parent) == Some(Tag::Thead);
                    header = in_thead
                        || (!cells.is_empty()
                            && cells.iter().all(|&c| doc.tag(c) == Some(Tag::Th)));
                }
                rows.push(cells.iter().map(|&c| doc.text_content(c)).collect());
            }
            _ => {}
        }
        i += 1;
    }
    Table { caption, header, rows }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_absolute_and_classified() {
        let doc = Document::parse("<base href='/docs/'><a href='a'>A</a><a rel='nofollow ugc' href='https://other.org/x'>X</a><a href='javascript:void(0)'>J</a><a href='a'>again</a>");
        let base = base_url(&doc, Some("https://example.com/page"));
        let l = links(&doc, base.as_ref());
        assert_eq!(l.len(), 2);
        assert_eq!(
            l[0],
            Link {
                url: "https://example.com/docs/a".into(),
                text: "A".into(),
                internal: true,
                nofollow: false
            }
        );
        assert!(!l[1].internal && l[1].nofollow);
    }

    #[test]
    fn table_rows_skip_nested_tables() {
        let doc = Document::parse("<table><caption>C</caption><tr><th>a<th>b<tr><td>1<td><table><tr><td>in</table>2</table>");
        let t = table(&doc, doc.find(Tag::Table).unwrap());
        assert_eq!(t.caption.as_deref(), Some("C"));
        assert!(t.header);
        assert_eq!(
            t.rows,
            vec![vec!["a".to_string(), "b".into()], vec!["1".into(), "in 2".into()]]
        );
    }
}
