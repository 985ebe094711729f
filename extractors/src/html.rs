//! Cleaned HTML of the selected content: semantic tags only, no scripts, styles or classes.

use url::Url;

use crate::content::Selection;
use crate::dom::{Document, Kind, NodeId, Tag};
use crate::links::{image_src, resolve};

/// Serialises the selection; layout wrappers (`div`, `span`, `section`, unknown elements) are
/// unwrapped, links and image sources made absolute, and only meaningful attributes kept.
pub fn render_html(doc: &Document, sel: &Selection, base: Option<&Url>) -> String {
    let mut out = String::new();
    children(doc, sel, sel.root, base, &mut out);
    out.trim().to_string()
}

fn children(doc: &Document, sel: &Selection, id: NodeId, base: Option<&Url>, out: &mut String) {
    for c in doc.children(id) {
        if !sel.keeps(c) {
            continue;
        }
        match doc.node(c).kind {
            Kind::Text => escape_into(doc.text(c), false, out),
            Kind::Element(tag) => element(doc, sel, c, tag, base, out),
            Kind::Document => {}
        }
    }
}

fn element(
    doc: &Document,
    sel: &Selection,
    id: NodeId,
    tag: Tag,
    base: Option<&Url>,
    out: &mut String,
) {
    let unwrap = matches!(
        tag,
        Tag::Div
            | Tag::Span
            | Tag::Section
            | Tag::Article
            | Tag::Main
            | Tag::Header
            | Tag::Font
            | Tag::Center
            | Tag::Other
            | Tag::Form
            | Tag::Label
            | Tag::Picture
            | Tag::Body
            | Tag::Html
    );
    if unwrap {
        if tag.is_block() && !out.ends_with('\n') && !out.is_empty() {
            out.push('\n');
        }
        children(doc, sel, id, base, out);
        return;
    }
    let name = doc.text(id);
    out.push('<');
    out.push_str(name);
    match tag {
        Tag::A => {
            if let Some(h) = doc.attr(id, "href").and_then(|h| resolve(base, h)) {
                attr(out, "href", &h);
            }
        }
        Tag::Img => {
            if let Some(s) = image_src(doc, id, base) {
                attr(out, "src", &s);
            }
            if let Some(a) = doc.attr(id, "alt") {
                attr(out, "alt", a);
            }
        }
        Tag::Td | Tag::Th => {
            for k in ["colspan", "rowspan"] {
                if let Some(v) = doc.attr(id, k) {
                    attr(out, k, v);
                }
            }
        }
        Tag::Ol => {
            if let Some(v) = doc.attr(id, "start") {
                attr(out, "start", v);
            }
        }
        Tag::Time => {
            if let Some(v) = doc.attr(id, "datetime") {
                attr(out, "datetime", v);
            }
        }
        Tag::Code | Tag::Pre => {
            if let Some(v) = doc.attr(id, "class").filter(|c| c.contains("lang")) {
                attr(out, "class", v);
            }
        }
        _ => {}
    }
    out.push('>');
    if tag.is_void() {
        return;
    }
    children(doc, sel, id, base, out);
    out.push_str("</");
    out.push_str(name);
    out.push('>');
    if tag.is_block() {
        out.push('\n');
    }
}

fn attr(out: &mut String, k: &str, v: &str) {
    out.push(' ');
    out.push_str(k);
    out.push_str("=\"");
    escape_into(v, true, out);
    out.push('"');
}

fn escape_into(s: &str, in_attr: bool, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if in_attr => out.push_str("&quot;"),
            '\u{a0}' => out.push_str("&nbsp;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unwraps_layout_and_drops_attributes() {
        let doc = Document::parse("<body><div class=x><p style='c'>a &amp; <a href='/l' onclick='x()'>b</a></p><script>x</script></div>");
        let sel = Selection::whole(&doc, doc.find(Tag::Body).unwrap());
        let base = Url::parse("https://ex.com/").ok();
        assert_eq!(
            render_html(&doc, &sel, base.as_ref()),
            "<p>a &amp; <a href=\"https://ex.com/l\">b</a></p>"
        );
    }
}
