//! Plain text of the selected content: paragraphs, list items and table rows on their own lines.

use crate::content::Selection;
use crate::dom::{Document, Kind, NodeId, Tag};

/// Renders the selection as plain text: no URLs, no image markup.
pub fn render_text(doc: &Document, sel: &Selection) -> String {
    let mut out = TextOut::default();
    walk(doc, sel, sel.root, &mut out, false);
    out.finish()
}

/// Whitespace-collapsing writer with pending breaks, so blocks never produce runs of blank lines.
#[derive(Default)]
pub(crate) struct TextOut {
    pub buf: String,
    /// 0: nothing pending, 1: a space, 2: a line break, 3: a blank line.
    pending: u8,
}

impl TextOut {
    pub fn brk(&mut self, level: u8) {
        self.pending = self.pending.max(level);
    }

    fn flush(&mut self) {
        if self.buf.is_empty() {
            self.pending = 0;
            return;
        }
        match self.pending {
            1 => self.buf.push(' '),
            2 => self.buf.push('\n'),
            3 => self.buf.push_str("\n\n"),
            _ => {}
        }
        self.pending = 0;
    }

    pub fn raw(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        self.flush();
        self.buf.push_str(s);
    }

    pub fn words(&mut self, s: &str) {
        if s.starts_with(char::is_whitespace) {
            self.brk(1);
        }
        let mut first = true;
        for w in s.split_whitespace() {
            if !first {
                self.brk(1);
            }
            first = false;
            self.flush();
            self.buf.push_str(w);
        }
        if s.ends_with(char::is_whitespace) && !first {
            self.brk(1);
        }
    }

    pub fn finish(self) -> String {
        self.buf.trim().to_string()
    }
}

fn walk(doc: &Document, sel: &Selection, id: NodeId, out: &mut TextOut, pre: bool) {
    for c in doc.children(id) {
        if !sel.keeps(c) || c == sel.headline {
            continue;
        }
        match doc.node(c).kind {
            Kind::Text => {
                if pre {
                    out.raw(doc.text(c));
                } else {
                    out.words(doc.text(c));
                }
            }
            Kind::Element(tag) => element(doc, sel, c, tag, out, pre),
            Kind::Document => {}
        }
    }
}

fn element(doc: &Document, sel: &Selection, id: NodeId, tag: Tag, out: &mut TextOut, pre: bool) {
    match tag {
        Tag::Br => {
            out.brk(2);
            return;
        }
        Tag::Img | Tag::Picture | Tag::Head | Tag::Script | Tag::Style | Tag::Title => return,
        _ => {}
    }
    let level = match tag {
        Tag::P
        | Tag::Blockquote
        | Tag::Pre
        | Tag::Table
        | Tag::Ul
        | Tag::Ol
        | Tag::Dl
        | Tag::Figure
        | Tag::Hr => 3,
        t if t.is_heading() => 3,
        Tag::Td | Tag::Th => 0,
        t if t.is_block() => 2,
        _ => 0,
    };
    out.brk(level);
    let mut item_start = None;
    match tag {
        Tag::Li => {
            out.brk(2);
            let before = out.buf.len();
            out.raw("- ");
            item_start = Some((before, out.buf.len()));
        }
        // Cells after the first of their row are separated by a bar.
        Tag::Td | Tag::Th
            if doc.node(id).parent != crate::dom::NONE
                && doc.node(doc.node(id).parent).first_child != id =>
        {
            out.brk(1);
            out.raw("|");
            out.brk(1);
        }
        _ => {}
    }
    walk(doc, sel, id, out, pre || tag == Tag::Pre);
    if let Some((before, after_marker)) = item_start {
        // An item with no text (an image, an icon) leaves no bare marker behind.
        if out.buf.len() == after_marker {
            out.buf.truncate(before);
        }
    }
    out.brk(level);
}
