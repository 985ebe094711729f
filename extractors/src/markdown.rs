//! Markdown (CommonMark with GFM tables and strikethrough) of the selected content.
//!
//! Rendering is block-structured: a container's children become a list of blocks (paragraphs
//! built from inline runs, headings, lists, quotes, fenced code, tables), and containers
//! nested inside containers simply add their blocks to the list, so layout `div`s vanish.
//! Lists and quotes render their items as blocks and then indent or prefix every line, which
//! gives correct nesting at any depth the parser allows.

use url::Url;

use crate::content::Selection;
use crate::dom::{Document, Kind, NodeId, Tag};
use crate::links::{image_src, resolve};

/// Renders the selection as Markdown; links and images are absolute when `base` is known.
pub fn render_markdown(doc: &Document, sel: &Selection, base: Option<&Url>) -> String {
    let md = Md::new(doc, sel, base);
    let mut blocks = Vec::new();
    md.blocks(sel.root, &mut blocks);
    let mut out = blocks.join("\n\n");
    out.truncate(out.trim_end().len());
    out
}

struct Md<'a> {
    doc: &'a Document,
    sel: &'a Selection,
    base: Option<&'a Url>,
    /// Whether an element has a block-level descendant (an inline element that wraps blocks
    /// must be rendered as a container).
    has_block: Vec<bool>,
}

impl<'a> Md<'a> {
    fn new(doc: &'a Document, sel: &'a Selection, base: Option<&'a Url>) -> Self {
        let mut has_block = vec![false; doc.nodes.len()];
        for i in (1..doc.nodes.len()).rev() {
            let p = doc.nodes[i].parent as usize;
            let own = matches!(doc.nodes[i].kind, Kind::Element(t) if t.is_block() && t != Tag::Br);
            if own || has_block[i] {
                has_block[p] = true;
            }
        }
        Md { doc, sel, base, has_block }
    }

    fn kept_children(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.doc.children(id).filter(move |&c| self.sel.keeps(c))
    }

    /// Appends the blocks of `id`'s children to `out`.
    fn blocks(&self, id: NodeId, out: &mut Vec<String>) {
        let mut para = String::new();
        for c in self.kept_children(id) {
            let tag = match self.doc.node(c).kind {
                Kind::Text => {
                    push_text(&mut para, self.doc.text(c), true);
                    continue;
                }
                Kind::Element(t) => t,
                Kind::Document => continue,
            };
            let is_block = (tag.is_block() && tag != Tag::Br) || self.has_block[c as usize];
            if !is_block {
                self.inline(c, tag, &mut para);
                continue;
            }
            flush(&mut para, out);
            self.block(c, tag, out);
        }
        flush(&mut para, out);
    }

    fn block(&self, id: NodeId, tag: Tag, out: &mut Vec<String>) {
        match tag {
            t if t.is_heading() => {
                let level = t.heading_level();
                let mut s = String::new();
                self.inline_children(id, &mut s);
                let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
                if !s.is_empty() {
                    out.push(format!("{} {}", "#".repeat(level), s));
                }
            }
            Tag::Ul | Tag::Ol | Tag::Menu => {
                if let Some(list) = self.list(id, tag == Tag::Ol) {
                    out.push(list);
                }
            }
            Tag::Blockquote => {
                let mut inner = Vec::new();
                self.blocks(id, &mut inner);
                if !inner.is_empty() {
                    let body = inner.join("\n\n");
                    out.push(
                        body.lines()
                            .map(|l| if l.is_empty() { ">".to_string() } else { format!("> {l}") })
                            .collect::<Vec<_>>()
                            .join("\n"),
                    );
                }
            }
            Tag::Pre => out.push(self.code_block(id)),
            Tag::Table => {
                if self.is_data_table(id) {
                    if let Some(t) = self.table(id) {
                        out.push(t);
                    }
                } else {
                    self.blocks_of_layout_table(id, out);
                }
            }
            Tag::Hr => out.push("---".to_string()),
            Tag::Br => {}
            _ => self.blocks(id, out),
        }
        if tag == Tag::Pre && out.last().is_some_and(|b| b.trim_matches(['`', '\n']).is_empty()) {
            out.pop();
        }
    }

    fn list(&self, id: NodeId, ordered: bool) -> Option<String> {
        let mut n: i64 =
            self.doc.attr(id, "start").and_then(|s| s.trim().parse().ok()).unwrap_or(1);
        let mut items = Vec::new();
        for c in self.kept_children(id) {
            let mut inner = Vec::new();
            match self.doc.node(c).kind {
                Kind::Element(Tag::Li) => self.blocks(c, &mut inner),
                Kind::Element(t @ (Tag::Ul | Tag::Ol)) => {
                    // A list directly inside a list (invalid but common): nest it under the
                    // previous item.
                    if let (Some(sub), Some(last)) = (self.list(c, t == Tag::Ol), items.last_mut())
                    {
                        let last: &mut String = last;
                        last.push('\n');
                        last.push_str(&indent(&sub, 2));
                    }
                    continue;
                }
                _ => {
                    // Stray content between items still belongs to the list.
                    let mut wrapper = Vec::new();
                    match self.doc.node(c).kind {
                        Kind::Text => {
                            let mut s = String::new();
                            push_text(&mut s, self.doc.text(c), true);
                            flush(&mut s, &mut wrapper);
                        }
                        Kind::Element(t) => self.block(c, t, &mut wrapper),
                        Kind::Document => {}
                    }
                    if wrapper.is_empty() {
                        continue;
                    }
                    inner = wrapper;
                }
            }
            if inner.is_empty() {
                continue;
            }
            let marker = if ordered { format!("{n}. ") } else { "- ".to_string() };
            n += 1;
            let body = inner.join("\n");
            let width = marker.len();
            items.push(format!("{marker}{}", indent(&body, width).trim_start()));
        }
        (!items.is_empty()).then(|| items.join("\n"))
    }

    fn code_block(&self, id: NodeId) -> String {
        let mut code = String::new();
        self.raw_text(id, &mut code);
        let code = code.trim_end_matches(['\n', ' ', '\t']).trim_start_matches('\n');
        let lang = self.code_language(id).unwrap_or_default();
        let mut fence = "```".to_string();
        while code.contains(fence.as_str()) {
            fence.push('`');
        }
        format!("{fence}{lang}\n{code}\n{fence}")
    }

    /// The language of a code block from `class="language-x"` (or `lang-x`, `highlight-x`,
    /// `brush: x`) on the `pre`, its `code` child, or a wrapping element.
    fn code_language(&self, pre: NodeId) -> Option<String> {
        let mut candidates = vec![pre, self.doc.node(pre).parent];
        candidates.extend(self.doc.children(pre).filter(|&c| self.doc.tag(c) == Some(Tag::Code)));
        for n in candidates {
            for attr in ["class", "data-lang", "data-language"] {
                let Some(v) = self.doc.attr(n, attr) else { continue };
                if attr != "class" {
                    return Some(v.trim().to_ascii_lowercase()).filter(|l| is_lang(l));
                }
                for cls in v.split_whitespace() {
                    let cls = cls.to_ascii_lowercase();
                    for prefix in
                        ["language-", "lang-", "highlight-source-", "highlight-", "brush:"]
                    {
                        if let Some(l) = cls.strip_prefix(prefix) {
                            if is_lang(l) {
                                return Some(l.to_string());
                            }
                        }
                    }
                }
            }
        }
        None
    }

    /// Text as written (for `pre`): line breaks from `br`, block ends as newlines.
    fn raw_text(&self, id: NodeId, out: &mut String) {
        for c in self.kept_children(id) {
            match self.doc.node(c).kind {
                Kind::Text => out.push_str(self.doc.text(c)),
                Kind::Element(Tag::Br) => out.push('\n'),
                Kind::Element(t) => {
                    self.raw_text(c, out);
                    if t.is_block() && !out.ends_with('\n') {
                        out.push('\n');
                    }
                }
                Kind::Document => {}
            }
        }
    }

    /// A data table has rows of short cells; a layout table wraps whole page regions.
    fn is_data_table(&self, t: NodeId) -> bool {
        let end = self.doc.subtree_end(t);
        for i in t + 1..end {
            match self.doc.tag(i) {
                Some(
                    Tag::Table
                    | Tag::Ul
                    | Tag::Ol
                    | Tag::Blockquote
                    | Tag::Pre
                    | Tag::H1
                    | Tag::H2
                    | Tag::H3,
                ) => return false,
                Some(Tag::P | Tag::Div) if self.doc.text_content(i).len() > 400 => return false,
                _ => {}
            }
        }
        true
    }

    fn blocks_of_layout_table(&self, t: NodeId, out: &mut Vec<String>) {
        let end = self.doc.subtree_end(t);
        let mut i = t + 1;
        while i < end {
            if matches!(self.doc.tag(i), Some(Tag::Td | Tag::Th | Tag::Caption)) {
                if self.sel.keeps(i) {
                    self.blocks(i, out);
                }
                i = self.doc.subtree_end(i);
            } else {
                i += 1;
            }
        }
    }

    fn table(&self, t: NodeId) -> Option<String> {
        let mut rows: Vec<Vec<String>> = Vec::new();
        let mut header_rows = 0;
        let end = self.doc.subtree_end(t);
        for i in t + 1..end {
            if self.doc.tag(i) != Some(Tag::Tr) || !self.sel.keeps(i) {
                continue;
            }
            let mut row = Vec::new();
            let mut all_th = true;
            for c in self.kept_children(i) {
                let Some(tag @ (Tag::Td | Tag::Th)) = self.doc.tag(c) else { continue };
                all_th &= tag == Tag::Th;
                let mut s = String::new();
                self.inline_children(c, &mut s);
                let cell = s.split_whitespace().collect::<Vec<_>>().join(" ").replace('|', "\\|");
                let span: usize = self
                    .doc
                    .attr(c, "colspan")
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(1)
                    .clamp(1, 50);
                row.push(cell);
                for _ in 1..span {
                    row.push(String::new());
                }
            }
            if row.is_empty() {
                continue;
            }
            if rows.len() == header_rows
                && (all_th || self.doc.tag(self.doc.node(i).parent) == Some(Tag::Thead))
            {
                header_rows += 1;
            }
            rows.push(row);
        }
        if rows.iter().all(|r| r.iter().all(String::is_empty)) {
            return None;
        }
        let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
        for r in &mut rows {
            r.resize(cols, String::new());
        }
        // GFM needs exactly one header row: use the first row, header or not.
        let line = |r: &Vec<String>| format!("| {} |", r.join(" | "));
        let mut out = vec![line(&rows[0]), format!("|{}", " --- |".repeat(cols))];
        out.extend(rows[1..].iter().map(line));
        Some(out.join("\n"))
    }

    fn inline_children(&self, id: NodeId, buf: &mut String) {
        for c in self.kept_children(id) {
            match self.doc.node(c).kind {
                Kind::Text => push_text(buf, self.doc.text(c), true),
                Kind::Element(t) => self.inline(c, t, buf),
                Kind::Document => {}
            }
        }
    }

    fn inline(&self, id: NodeId, tag: Tag, buf: &mut String) {
        match tag {
            Tag::Br => {
                let trimmed = buf.trim_end_matches(' ').len();
                buf.truncate(trimmed);
                if !buf.is_empty() && !buf.ends_with('\n') {
                    buf.push_str("\\\n");
                }
            }
            Tag::Img => {
                if let Some(src) = image_src(self.doc, id, self.base) {
                    let alt = self
                        .doc
                        .attr(id, "alt")
                        .unwrap_or("")
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ");
                    space_before(buf);
                    buf.push_str(&format!("![{}]({})", escape(&alt), url_text(&src)));
                }
            }
            Tag::Em | Tag::I | Tag::Cite | Tag::Dfn | Tag::Var => self.wrapped(id, "*", buf),
            Tag::Strong | Tag::B => self.wrapped(id, "**", buf),
            Tag::Del | Tag::S | Tag::Strike => self.wrapped(id, "~~", buf),
            Tag::Code | Tag::Kbd | Tag::Samp | Tag::Tt => {
                let mut raw = String::new();
                self.raw_text(id, &mut raw);
                let code = raw.split_whitespace().collect::<Vec<_>>().join(" ");
                if code.is_empty() {
                    return;
                }
                let mut ticks = "`".to_string();
                while code.contains(ticks.as_str()) {
                    ticks.push('`');
                }
                let pad = if code.starts_with('`') || code.ends_with('`') { " " } else { "" };
                space_before(buf);
                buf.push_str(&format!("{ticks}{pad}{code}{pad}{ticks}"));
            }
            Tag::A => {
                let mut inner = String::new();
                self.inline_children(id, &mut inner);
                let text = inner.trim();
                let href = self.doc.attr(id, "href").and_then(|h| resolve(self.base, h));
                match href {
                    Some(h) if !text.is_empty() && !h.starts_with('#') => {
                        let lead = inner.starts_with(' ');
                        if lead {
                            space_before(buf);
                        }
                        buf.push_str(&format!("[{}]({})", text, url_text(&h)));
                        if inner.ends_with(' ') {
                            buf.push(' ');
                        }
                    }
                    _ => buf.push_str(&inner),
                }
            }
            _ => self.inline_children(id, buf),
        }
    }

    /// Emphasis-like wrappers; whitespace at the edges moves outside the markers.
    fn wrapped(&self, id: NodeId, mark: &str, buf: &mut String) {
        let mut inner = String::new();
        self.inline_children(id, &mut inner);
        let text = inner.trim();
        if text.is_empty() {
            buf.push_str(&inner);
            return;
        }
        if inner.starts_with(' ') {
            space_before(buf);
        }
        buf.push_str(mark);
        buf.push_str(text);
        buf.push_str(mark);
        if inner.ends_with(' ') {
            buf.push(' ');
        }
    }
}

/// Language names are short identifiers; anything else is a styling class.
fn is_lang(l: &str) -> bool {
    !l.is_empty()
        && l.len() <= 20
        && l.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '#' | '-' | '_' | '.'))
}

fn space_before(buf: &mut String) {
    if !buf.is_empty() && !buf.ends_with([' ', '\n']) {
        buf.push(' ');
    }
}

/// Appends text with whitespace collapsed and Markdown's special characters escaped.
fn push_text(buf: &mut String, s: &str, escape_md: bool) {
    for (k, word) in s.split_whitespace().enumerate() {
        if k == 0 && s.starts_with(char::is_whitespace) && buf.is_empty() {
            // Keep the leading space of an inline run; wrappers move it outside their markers.
            buf.push(' ');
        } else if k > 0 || s.starts_with(char::is_whitespace) {
            space_before(buf);
        }
        if escape_md {
            let at_line_start = buf.is_empty() || buf.ends_with('\n');
            buf.push_str(&escape_word(word, at_line_start));
        } else {
            buf.push_str(word);
        }
    }
    // Trailing whitespace, or a whitespace-only run, separates this text from the next.
    if s.ends_with(char::is_whitespace) {
        space_before(buf);
    }
}

fn escape(s: &str) -> String {
    s.split(' ').map(|w| escape_word(w, false)).collect::<Vec<_>>().join(" ")
}

/// Escapes what would otherwise become markup; a line start also guards `#`, `>`, `-`, `+`
/// and `1.` so that text is never read as a heading, quote or list.
fn escape_word(w: &str, line_start: bool) -> String {
    let mut out = String::with_capacity(w.len() + 2);
    for c in w.chars() {
        if matches!(c, '\\' | '*' | '_' | '`' | '[' | ']' | '<') {
            out.push('\\');
        }
        out.push(c);
    }
    if line_start {
        if out.starts_with(['#', '>', '-', '+', '=']) {
            out.insert(0, '\\');
        } else if let Some(pos) = out.find(['.', ')']) {
            if pos > 0
                && pos <= 9
                && out[..pos].bytes().all(|b| b.is_ascii_digit())
                && pos + 1 == out.len()
            {
                out.insert(pos, '\\');
            }
        }
    }
    out
}

/// A URL as a link destination: spaces and parentheses would end it early.
fn url_text(u: &str) -> String {
    u.replace(' ', "%20").replace('(', "%28").replace(')', "%29")
}

fn flush(para: &mut String, out: &mut Vec<String>) {
    let t = para.trim_matches(|c: char| c == ' ' || c == '\n');
    let t = t.strip_suffix('\\').unwrap_or(t).trim_end();
    if !t.is_empty() {
        out.push(t.to_string());
    }
    para.clear();
}

/// Indents every line after the first by `width` spaces (list item continuation).
fn indent(s: &str, width: usize) -> String {
    let pad = " ".repeat(width);
    let mut out = String::with_capacity(s.len() + 16);
    for (i, line) in s.lines().enumerate() {
        if i > 0 {
            out.push('\n');
            if !line.is_empty() {
                out.push_str(&pad);
            }
        }
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md(html: &str) -> String {
        let doc = Document::parse(html);
        let body = doc.find(Tag::Body).unwrap_or(Document::ROOT);
        let base = Url::parse("https://ex.com/dir/page").ok();
        render_markdown(&doc, &Selection::whole(&doc, body), base.as_ref())
    }

    #[test]
    fn escapes_markup_characters() {
        assert_eq!(md("<p>a*b_c [x] 1. # no</p>"), "a\\*b\\_c \\[x\\] 1. # no");
        assert_eq!(md("<p># not a heading</p>"), "\\# not a heading");
    }

    #[test]
    fn emphasis_spacing_moves_outside() {
        assert_eq!(md("<p>a<em> b </em>c</p>"), "a *b* c");
    }

    #[test]
    fn br_is_a_hard_break() {
        assert_eq!(md("<p>one<br>two</p>"), "one\\\ntwo");
    }
}
