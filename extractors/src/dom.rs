//! An arena DOM and a single-pass, forgiving HTML parser built for extraction, not rendering.
//!
//! Why not html5ever: extraction must run at hundreds of pages a second on one core, and the
//! spec-exact tree builder costs several milliseconds on a typical 300 KB page. This parser
//! tokenises with `memchr` and applies the HTML rules that change what text ends up where
//! (void elements, implied end tags for `p`/`li`/`td`/..., raw text in `script`/`style`,
//! scope-limited end tags), and skips the ones that do not (foster parenting, adoption agency).
//!
//! Nodes live in one `Vec` in document order, so a parent's index is always below its
//! children's: a reverse loop over indices is a post-order walk and a forward loop a pre-order
//! walk. That lets every later pass run without recursion, whatever the nesting depth.
//! All strings (decoded text, lowercase tag and attribute names, attribute values) live in one
//! buffer and nodes hold spans into it, so parsing allocates per page, not per node.

use memchr::memchr;

/// Index of a node in [`Document::nodes`].
pub type NodeId = u32;
/// The "no node" marker for parent and sibling links.
pub const NONE: NodeId = u32::MAX;
/// Elements nested deeper than this are attached flat to the deepest allowed ancestor: the
/// text is kept, pathological nesting cannot blow up the walkers that follow.
pub const MAX_DEPTH: usize = 256;

/// A byte range into [`Document::buf`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn is_empty(self) -> bool {
        self.start >= self.end
    }
}

macro_rules! tags {
    ($($variant:ident => $name:literal),* $(,)?) => {
        /// The element names the extractor reasons about; everything else is [`Tag::Other`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Tag { $($variant,)* Other }

        impl Tag {
            pub fn from_name(name: &str) -> Tag {
                match name { $($name => Tag::$variant,)* _ => Tag::Other }
            }
        }
    };
}

tags! {
    Html => "html", Head => "head", Body => "body", Title => "title", Meta => "meta",
    Link => "link", Base => "base", Script => "script", Style => "style",
    Noscript => "noscript", Template => "template", Svg => "svg", Math => "math",
    Iframe => "iframe", Canvas => "canvas", Object => "object", Embed => "embed",
    Video => "video", Audio => "audio", Source => "source", Track => "track",
    Picture => "picture", Img => "img", Image => "image", Figure => "figure",
    Figcaption => "figcaption", A => "a", P => "p", Div => "div", Span => "span",
    Section => "section", Article => "article", Main => "main", Aside => "aside",
    Nav => "nav", Header => "header", Footer => "footer", Address => "address",
    H1 => "h1", H2 => "h2", H3 => "h3", H4 => "h4", H5 => "h5", H6 => "h6",
    Hgroup => "hgroup", Ul => "ul", Ol => "ol", Li => "li", Dl => "dl", Dt => "dt",
    Dd => "dd", Menu => "menu", Table => "table", Caption => "caption", Thead => "thead",
    Tbody => "tbody", Tfoot => "tfoot", Tr => "tr", Td => "td", Th => "th",
    Colgroup => "colgroup", Col => "col", Pre => "pre", Code => "code", Kbd => "kbd",
    Samp => "samp", Var => "var", Tt => "tt", Blockquote => "blockquote", Q => "q",
    Em => "em", I => "i", Strong => "strong", B => "b", U => "u", S => "s",
    Del => "del", Ins => "ins", Strike => "strike", Mark => "mark", Small => "small",
    Big => "big", Sub => "sub", Sup => "sup", Br => "br", Hr => "hr", Wbr => "wbr",
    Form => "form", Input => "input", Button => "button", Select => "select",
    Option => "option", Optgroup => "optgroup", Textarea => "textarea", Label => "label",
    Fieldset => "fieldset", Legend => "legend", Details => "details",
    Summary => "summary", Dialog => "dialog", Time => "time", Abbr => "abbr",
    Cite => "cite", Dfn => "dfn", Center => "center", Font => "font", Area => "area",
    Map => "map", Param => "param", Keygen => "keygen", Xmp => "xmp",
    Plaintext => "plaintext", Noembed => "noembed", Noframes => "noframes",
    Frameset => "frameset", Frame => "frame", Output => "output", Progress => "progress",
    Meter => "meter", Data => "data", Bdi => "bdi", Bdo => "bdo", Ruby => "ruby",
    Rt => "rt", Rp => "rp", Marquee => "marquee", Applet => "applet", Search => "search",
}

impl Tag {
    /// Elements that never have children.
    pub fn is_void(self) -> bool {
        matches!(
            self,
            Tag::Area
                | Tag::Base
                | Tag::Br
                | Tag::Col
                | Tag::Embed
                | Tag::Hr
                | Tag::Img
                | Tag::Image
                | Tag::Input
                | Tag::Link
                | Tag::Meta
                | Tag::Param
                | Tag::Source
                | Tag::Track
                | Tag::Wbr
                | Tag::Keygen
                | Tag::Frame
        )
    }

    /// Elements whose start closes an open `<p>` (HTML's "close a p element" list).
    fn closes_p(self) -> bool {
        matches!(
            self,
            Tag::Address
                | Tag::Article
                | Tag::Aside
                | Tag::Blockquote
                | Tag::Center
                | Tag::Details
                | Tag::Dialog
                | Tag::Div
                | Tag::Dl
                | Tag::Fieldset
                | Tag::Figcaption
                | Tag::Figure
                | Tag::Footer
                | Tag::Form
                | Tag::Header
                | Tag::Hgroup
                | Tag::Main
                | Tag::Menu
                | Tag::Nav
                | Tag::Ol
                | Tag::P
                | Tag::Search
                | Tag::Section
                | Tag::Summary
                | Tag::Ul
                | Tag::H1
                | Tag::H2
                | Tag::H3
                | Tag::H4
                | Tag::H5
                | Tag::H6
                | Tag::Pre
                | Tag::Table
                | Tag::Hr
                | Tag::Li
                | Tag::Dd
                | Tag::Dt
                | Tag::Xmp
                | Tag::Plaintext
        )
    }

    pub fn is_heading(self) -> bool {
        matches!(self, Tag::H1 | Tag::H2 | Tag::H3 | Tag::H4 | Tag::H5 | Tag::H6)
    }

    /// 1 for `h1` to 6 for `h6`; 0 for anything else.
    pub fn heading_level(self) -> usize {
        match self {
            Tag::H1 => 1,
            Tag::H2 => 2,
            Tag::H3 => 3,
            Tag::H4 => 4,
            Tag::H5 => 5,
            Tag::H6 => 6,
            _ => 0,
        }
    }

    /// Elements at which an end tag's search for its open element stops (HTML's "scope").
    fn is_scope_boundary(self) -> bool {
        matches!(
            self,
            Tag::Table
                | Tag::Td
                | Tag::Th
                | Tag::Caption
                | Tag::Template
                | Tag::Html
                | Tag::Object
                | Tag::Marquee
                | Tag::Applet
        )
    }

    /// HTML start tags that break out of SVG/MathML: the foreign elements close first (what
    /// browsers do with an unclosed `<svg>` followed by page markup).
    fn breaks_out_of_foreign(self) -> bool {
        matches!(
            self,
            Tag::B
                | Tag::Big
                | Tag::Blockquote
                | Tag::Body
                | Tag::Br
                | Tag::Center
                | Tag::Code
                | Tag::Dd
                | Tag::Div
                | Tag::Dl
                | Tag::Dt
                | Tag::Em
                | Tag::Embed
                | Tag::H1
                | Tag::H2
                | Tag::H3
                | Tag::H4
                | Tag::H5
                | Tag::H6
                | Tag::Head
                | Tag::Hr
                | Tag::I
                | Tag::Img
                | Tag::Li
                | Tag::Menu
                | Tag::Meta
                | Tag::Ol
                | Tag::P
                | Tag::Pre
                | Tag::Ruby
                | Tag::S
                | Tag::Small
                | Tag::Span
                | Tag::Strong
                | Tag::Strike
                | Tag::Sub
                | Tag::Sup
                | Tag::Table
                | Tag::Tt
                | Tag::U
                | Tag::Ul
                | Tag::Var
        )
    }

    /// Content that is raw text: no tags inside, ends only at the matching end tag.
    /// `noscript` is parsed as markup, as with scripting off: server-rendered pages (forums
    /// especially) put their whole content there for crawlers.
    fn is_raw_text(self) -> bool {
        matches!(
            self,
            Tag::Script
                | Tag::Style
                | Tag::Xmp
                | Tag::Iframe
                | Tag::Noembed
                | Tag::Noframes
                | Tag::Title
                | Tag::Textarea
                | Tag::Plaintext
        )
    }

    /// Elements that start a new block of text when rendered.
    pub fn is_block(self) -> bool {
        matches!(
            self,
            Tag::Html
                | Tag::Body
                | Tag::Address
                | Tag::Article
                | Tag::Aside
                | Tag::Blockquote
                | Tag::Center
                | Tag::Details
                | Tag::Dialog
                | Tag::Div
                | Tag::Dl
                | Tag::Dt
                | Tag::Dd
                | Tag::Fieldset
                | Tag::Figcaption
                | Tag::Figure
                | Tag::Footer
                | Tag::Form
                | Tag::Header
                | Tag::Hgroup
                | Tag::Main
                | Tag::Menu
                | Tag::Nav
                | Tag::Ol
                | Tag::Ul
                | Tag::Li
                | Tag::P
                | Tag::Section
                | Tag::Summary
                | Tag::Search
                | Tag::H1
                | Tag::H2
                | Tag::H3
                | Tag::H4
                | Tag::H5
                | Tag::H6
                | Tag::Pre
                | Tag::Table
                | Tag::Caption
                | Tag::Thead
                | Tag::Tbody
                | Tag::Tfoot
                | Tag::Tr
                | Tag::Td
                | Tag::Th
                | Tag::Hr
                | Tag::Br
                | Tag::Legend
                | Tag::Option
                | Tag::Frameset
        )
    }
}

/// What a node is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Document,
    Element(Tag),
    Text,
}

/// One node of the tree; links are indices into [`Document::nodes`].
#[derive(Clone, Debug)]
pub struct Node {
    pub kind: Kind,
    pub parent: NodeId,
    pub first_child: NodeId,
    pub last_child: NodeId,
    pub next_sibling: NodeId,
    /// Text nodes: the decoded text. Elements: the lowercase tag name.
    pub span: Span,
    /// Elements: the range of their attributes in [`Document::attrs`].
    pub attr_start: u32,
    pub attr_end: u32,
}

/// An attribute: lowercase name and decoded value, both spans into [`Document::buf`].
#[derive(Clone, Copy, Debug)]
pub struct Attr {
    pub name: Span,
    pub value: Span,
}

/// A parsed page.
#[derive(Debug, Default)]
pub struct Document {
    pub nodes: Vec<Node>,
    pub attrs: Vec<Attr>,
    pub buf: String,
}

impl Document {
    /// Parses `html` into a tree. Never fails: any input gives some tree.
    pub fn parse(html: &str) -> Document {
        let mut p = Parser::new(html);
        p.run();
        p.doc
    }

    pub const ROOT: NodeId = 0;

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id as usize]
    }

    pub fn str(&self, span: Span) -> &str {
        &self.buf[span.start as usize..span.end as usize]
    }

    pub fn tag(&self, id: NodeId) -> Option<Tag> {
        match self.nodes[id as usize].kind {
            Kind::Element(t) => Some(t),
            _ => None,
        }
    }

    pub fn is_text(&self, id: NodeId) -> bool {
        self.nodes[id as usize].kind == Kind::Text
    }

    /// The text of a text node, or the lowercase name of an element.
    pub fn text(&self, id: NodeId) -> &str {
        self.str(self.nodes[id as usize].span)
    }

    pub fn attrs(&self, id: NodeId) -> impl Iterator<Item = (&str, &str)> + '_ {
        let n = &self.nodes[id as usize];
        self.attrs[n.attr_start as usize..n.attr_end as usize]
            .iter()
            .map(move |a| (self.str(a.name), self.str(a.value)))
    }

    pub fn attr(&self, id: NodeId, name: &str) -> Option<&str> {
        self.attrs(id).find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    pub fn children(&self, id: NodeId) -> Children<'_> {
        Children { doc: self, next: self.nodes[id as usize].first_child }
    }

    /// The first element with this tag in document order.
    pub fn find(&self, tag: Tag) -> Option<NodeId> {
        (0..self.nodes.len() as NodeId).find(|&i| self.tag(i) == Some(tag))
    }

    /// Node ids of `root`'s subtree in document order: thanks to the arena's layout these are
    /// the indices from `root` up to the first node that is not a descendant.
    pub fn subtree_end(&self, root: NodeId) -> NodeId {
        // Nodes are appended only under open elements, so a subtree is contiguous and ends
        // where the next sibling of the node or of its nearest ancestor that has one begins.
        let mut n = root;
        while n != NONE {
            let node = &self.nodes[n as usize];
            if node.next_sibling != NONE {
                return node.next_sibling;
            }
            n = node.parent;
        }
        self.nodes.len() as NodeId
    }

    /// The text children of `id` concatenated as is (script bodies such as JSON-LD).
    pub fn text_content_raw(&self, id: NodeId) -> String {
        self.children(id).filter(|&c| self.is_text(c)).map(|c| self.text(c)).collect()
    }

    /// Whether the node right before `n` among its siblings is a block element (text after a
    /// block starts a new line, so words must not run together).
    fn follows_block(&self, n: NodeId) -> bool {
        let parent = self.nodes[n as usize].parent;
        if n == 0 || n - 1 == parent {
            return false;
        }
        // The previous sibling is the ancestor-or-self of n-1 whose parent is our parent.
        let mut m = n - 1;
        while m != NONE && self.nodes[m as usize].parent != parent {
            m = self.nodes[m as usize].parent;
        }
        m != NONE && self.tag(m).is_some_and(Tag::is_block)
    }

    /// All text under `id`, whitespace collapsed to single spaces.
    pub fn text_content(&self, id: NodeId) -> String {
        let mut out = String::new();
        let end = self.subtree_end(id);
        for i in id..end {
            match self.nodes[i as usize].kind {
                Kind::Text => {
                    let p = self.nodes[i as usize].parent;
                    if !matches!(self.tag(p), Some(Tag::Script | Tag::Style | Tag::Template)) {
                        if self.follows_block(i) && !out.is_empty() && !out.ends_with(' ') {
                            out.push(' ');
                        }
                        push_collapsed(&mut out, self.text(i));
                    }
                }
                // Block boundaries separate words even without whitespace in the source.
                Kind::Element(t) if t.is_block() && !out.is_empty() && !out.ends_with(' ') => {
                    out.push(' ')
                }
                _ => {}
            }
        }
        out.trim().to_string()
    }
}

/// Appends `s` with runs of whitespace collapsed to one space, never starting `out` with one.
pub fn push_collapsed(out: &mut String, s: &str) {
    for c in s.chars() {
        if c.is_whitespace() {
            if !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
}

/// Iterator over a node's children.
pub struct Children<'a> {
    doc: &'a Document,
    next: NodeId,
}

impl Iterator for Children<'_> {
    type Item = NodeId;
    fn next(&mut self) -> Option<NodeId> {
        if self.next == NONE {
            return None;
        }
        let cur = self.next;
        self.next = self.doc.nodes[cur as usize].next_sibling;
        Some(cur)
    }
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    doc: Document,
    /// Open elements, innermost last; `[0]` is the document node.
    stack: Vec<NodeId>,
    /// How many open elements are foreign (SVG/MathML), where `<x/>` really self-closes.
    foreign: usize,
    /// Elements whose start tag was swallowed by the depth cap, by name, so their end tags
    /// are swallowed too instead of closing a real ancestor.
    capped: std::collections::HashMap<String, u32>,
    head: NodeId,
    body: NodeId,
    html: NodeId,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str) -> Self {
        let mut doc = Document {
            nodes: Vec::with_capacity(src.len() / 40 + 16),
            attrs: Vec::with_capacity(src.len() / 60 + 16),
            buf: String::with_capacity(src.len() / 2 + 64),
        };
        doc.nodes.push(Node {
            kind: Kind::Document,
            parent: NONE,
            first_child: NONE,
            last_child: NONE,
            next_sibling: NONE,
            span: Span::default(),
            attr_start: 0,
            attr_end: 0,
        });
        Parser {
            src,
            pos: 0,
            doc,
            stack: vec![Document::ROOT],
            foreign: 0,
            capped: std::collections::HashMap::new(),
            head: NONE,
            body: NONE,
            html: NONE,
        }
    }

    fn run(&mut self) {
        let bytes = self.src.as_bytes();
        while self.pos < bytes.len() {
            let Some(off) = memchr(b'<', &bytes[self.pos..]) else {
                self.text(self.pos, bytes.len());
                self.pos = bytes.len();
                break;
            };
            let lt = self.pos + off;
            if lt > self.pos {
                self.text(self.pos, lt);
            }
            self.pos = lt;
            let next = bytes.get(lt + 1).copied().unwrap_or(0);
            if next.is_ascii_alphabetic() {
                self.start_tag();
            } else if next == b'/' {
                self.end_tag();
            } else if next == b'!' {
                self.markup_declaration();
            } else if next == b'?' {
                self.skip_past(b'>');
            } else {
                self.text(lt, lt + 1);
                self.pos = lt + 1;
            }
        }
    }

    /// Moves `pos` past the next `c`, or to the end.
    fn skip_past(&mut self, c: u8) {
        let bytes = self.src.as_bytes();
        self.pos = match memchr(c, &bytes[self.pos..]) {
            Some(i) => self.pos + i + 1,
            None => bytes.len(),
        };
    }

    fn markup_declaration(&mut self) {
        let rest = &self.src.as_bytes()[self.pos..];
        if rest.starts_with(b"<!--") {
            let body = &rest[4..];
            // `<!-->` and `<!--->` are complete (empty) comments.
            if body.starts_with(b">") {
                self.pos += 5;
            } else if body.starts_with(b"->") {
                self.pos += 6;
            } else {
                self.pos = match memchr::memmem::find(body, b"-->") {
                    Some(i) => self.pos + 4 + i + 3,
                    None => self.src.len(),
                };
            }
        } else if self.foreign > 0 && rest.len() >= 9 && &rest[2..9] == b"[CDATA[" {
            let start = self.pos + 9;
            let end = memchr::memmem::find(&rest[9..], b"]]>").map(|i| start + i);
            // Only SVG and MathML have CDATA sections; in HTML `<![CDATA[` is a bogus comment
            // that ends at the next `>`, handled below.
            let e = end.unwrap_or(self.src.len());
            self.raw_text_node(start, e, false);
            self.pos = end.map(|e| e + 3).unwrap_or(self.src.len());
        } else {
            self.skip_past(b'>');
        }
    }

    fn end_tag(&mut self) {
        let bytes = self.src.as_bytes();
        let name_start = self.pos + 2;
        if !bytes.get(name_start).is_some_and(|b| b.is_ascii_alphabetic()) {
            // `</>` is dropped; `</ junk>` is a bogus comment.
            self.skip_past(b'>');
            return;
        }
        let mut i = name_start;
        while i < bytes.len()
            && !matches!(bytes[i], b'\t' | b'\n' | b'\x0c' | b'\r' | b' ' | b'/' | b'>')
        {
            i += 1;
        }
        let name = self.src[name_start..i].to_ascii_lowercase();
        self.pos = i;
        self.skip_attributes();
        let tag = Tag::from_name(&name);
        self.close_element(tag, &name);
    }

    /// Skips an end tag's attributes (they mean nothing) while honouring quotes.
    fn skip_attributes(&mut self) {
        let bytes = self.src.as_bytes();
        let mut quote = 0u8;
        while self.pos < bytes.len() {
            let b = bytes[self.pos];
            self.pos += 1;
            if quote != 0 {
                if b == quote {
                    quote = 0;
                }
            } else if b == b'>' {
                return;
            } else if (b == b'"' || b == b'\'') && self.pos >= 2 && bytes[self.pos - 2] == b'=' {
                quote = b;
            }
        }
    }

    fn start_tag(&mut self) {
        let bytes = self.src.as_bytes();
        let name_start = self.pos + 1;
        let mut i = name_start;
        while i < bytes.len()
            && !matches!(bytes[i], b'\t' | b'\n' | b'\x0c' | b'\r' | b' ' | b'/' | b'>')
        {
            i += 1;
        }
        let raw_name = &self.src[name_start..i];
        let name_span = self.push_lower(raw_name);
        let mut tag = Tag::from_name(self.doc.str(name_span));
        // `<image>` is an SVG element inside SVG and an alias of `<img>` outside it.
        if tag == Tag::Image && self.foreign == 0 {
            tag = Tag::Img;
        }
        let attr_start = self.doc.attrs.len() as u32;
        let mut self_closing = false;
        // Attributes.
        loop {
            while i < bytes.len()
                && matches!(bytes[i], b'\t' | b'\n' | b'\x0c' | b'\r' | b' ' | b'/')
            {
                if bytes[i] == b'/' {
                    self_closing = bytes.get(i + 1) == Some(&b'>');
                }
                i += 1;
            }
            if i >= bytes.len() {
                break;
            }
            if bytes[i] == b'>' {
                i += 1;
                break;
            }
            self_closing = false;
            let an_start = i;
            i += 1; // the first character may be '='
            while i < bytes.len()
                && !matches!(bytes[i], b'\t' | b'\n' | b'\x0c' | b'\r' | b' ' | b'/' | b'>' | b'=')
            {
                i += 1;
            }
            let an_end = i;
            while i < bytes.len() && matches!(bytes[i], b'\t' | b'\n' | b'\x0c' | b'\r' | b' ') {
                i += 1;
            }
            let (vs, ve);
            if i < bytes.len() && bytes[i] == b'=' {
                i += 1;
                while i < bytes.len() && matches!(bytes[i], b'\t' | b'\n' | b'\x0c' | b'\r' | b' ')
                {
                    i += 1;
                }
                if i < bytes.len() && (bytes[i] == b'"' || bytes[i] == b'\'') {
                    let q = bytes[i];
                    vs = i + 1;
                    ve = match memchr(q, &bytes[vs..]) {
                        Some(k) => vs + k,
                        None => bytes.len(),
                    };
                    i = (ve + 1).min(bytes.len());
                } else {
                    vs = i;
                    while i < bytes.len()
                        && !matches!(bytes[i], b'\t' | b'\n' | b'\x0c' | b'\r' | b' ' | b'>')
                    {
                        i += 1;
                    }
                    ve = i;
                }
            } else {
                vs = i;
                ve = i;
            }
            let name = self.push_lower(&self.src[an_start..an_end]);
            let value = self.push_decoded(vs, ve);
            self.doc.attrs.push(Attr { name, value });
        }
        self.pos = i;
        let attr_end = self.doc.attrs.len() as u32;
        self.open_element(tag, name_span, attr_start, attr_end, self_closing);
    }

    fn push_lower(&mut self, s: &str) -> Span {
        let start = self.doc.buf.len() as u32;
        for c in s.chars() {
            self.doc.buf.push(c.to_ascii_lowercase());
        }
        Span { start, end: self.doc.buf.len() as u32 }
    }

    /// Appends `src[start..end]` with character references decoded.
    fn push_decoded(&mut self, start: usize, end: usize) -> Span {
        let s = &self.src[start..end];
        let b = self.doc.buf.len() as u32;
        if memchr(b'&', s.as_bytes()).is_some() {
            html_escape::decode_html_entities_to_string(s, &mut self.doc.buf);
        } else {
            self.doc.buf.push_str(s);
        }
        Span { start: b, end: self.doc.buf.len() as u32 }
    }

    fn current(&self) -> NodeId {
        *self.stack.last().expect("stack always holds the document")
    }

    fn current_tag(&self) -> Option<Tag> {
        self.doc.tag(self.current())
    }

    fn append(
        &mut self,
        parent: NodeId,
        kind: Kind,
        span: Span,
        attr_start: u32,
        attr_end: u32,
    ) -> NodeId {
        let id = self.doc.nodes.len() as NodeId;
        self.doc.nodes.push(Node {
            kind,
            parent,
            first_child: NONE,
            last_child: NONE,
            next_sibling: NONE,
            span,
            attr_start,
            attr_end,
        });
        let p = &mut self.doc.nodes[parent as usize];
        let prev = p.last_child;
        p.last_child = id;
        if prev == NONE {
            p.first_child = id;
        } else {
            self.doc.nodes[prev as usize].next_sibling = id;
        }
        id
    }

    fn text(&mut self, start: usize, end: usize) {
        let s = &self.src[start..end];
        let ws_only = s.bytes().all(|b| b.is_ascii_whitespace());
        match self.current_tag() {
            None | Some(Tag::Html) if ws_only => return,
            Some(Tag::Head) if ws_only => return,
            Some(Tag::Head) => self.leave_head(),
            Some(Tag::Table | Tag::Tbody | Tag::Thead | Tag::Tfoot | Tag::Tr) if ws_only => return,
            _ => {}
        }
        self.raw_text_node(start, end, true);
    }

    /// Adds text under the current element, merging with a preceding text node.
    fn raw_text_node(&mut self, start: usize, end: usize, decode: bool) {
        if start >= end {
            return;
        }
        let parent = self.current();
        let last = self.doc.nodes[parent as usize].last_child;
        let merge = last != NONE
            && self.doc.nodes[last as usize].kind == Kind::Text
            && self.doc.nodes[last as usize].span.end as usize == self.doc.buf.len();
        let span = if decode {
            self.push_decoded(start, end)
        } else {
            let b = self.doc.buf.len() as u32;
            self.doc.buf.push_str(&self.src[start..end]);
            Span { start: b, end: self.doc.buf.len() as u32 }
        };
        if merge {
            self.doc.nodes[last as usize].span.end = span.end;
        } else {
            self.append(parent, Kind::Text, span, 0, 0);
        }
    }

    fn leave_head(&mut self) {
        if let Some(i) = self.stack.iter().rposition(|&n| n == self.head) {
            self.stack.truncate(i);
        }
    }

    /// Pops up to and including the innermost open element matching `targets`, if one is open
    /// before any element in `stop_at` (or a scope boundary) is met.
    fn close_if_open(&mut self, targets: &[Tag], stop_at: &[Tag]) {
        for i in (1..self.stack.len()).rev() {
            let Some(t) = self.doc.tag(self.stack[i]) else { continue };
            if targets.contains(&t) {
                self.truncate_stack(i);
                return;
            }
            if stop_at.contains(&t) || t.is_scope_boundary() || t == Tag::Body {
                return;
            }
        }
    }

    fn truncate_stack(&mut self, len: usize) {
        for &n in &self.stack[len..] {
            if matches!(self.doc.tag(n), Some(Tag::Svg | Tag::Math)) {
                self.foreign = self.foreign.saturating_sub(1);
            }
        }
        self.stack.truncate(len.max(1));
    }

    fn open_element(
        &mut self,
        tag: Tag,
        name: Span,
        attr_start: u32,
        attr_end: u32,
        self_closing: bool,
    ) {
        match tag {
            Tag::Html => {
                if self.html == NONE && self.stack.len() == 1 {
                    self.html =
                        self.append(Document::ROOT, Kind::Element(tag), name, attr_start, attr_end);
                    self.stack.push(self.html);
                }
                return;
            }
            Tag::Head => {
                if self.head == NONE && self.body == NONE {
                    let parent = self.current();
                    self.head = self.append(parent, Kind::Element(tag), name, attr_start, attr_end);
                    self.stack.push(self.head);
                }
                return;
            }
            Tag::Body => {
                if self.body == NONE {
                    self.leave_head();
                    let parent = self.current();
                    self.body = self.append(parent, Kind::Element(tag), name, attr_start, attr_end);
                    self.stack.push(self.body);
                }
                return;
            }
            Tag::Frameset => return,
            _ => {}
        }
        if self.current_tag() == Some(Tag::Head)
            && !matches!(
                tag,
                Tag::Title
                    | Tag::Meta
                    | Tag::Link
                    | Tag::Base
                    | Tag::Script
                    | Tag::Style
                    | Tag::Noscript
                    | Tag::Template
            )
        {
            self.leave_head();
        }
        if self.foreign > 0 && tag.breaks_out_of_foreign() {
            while self.foreign > 0 {
                match self
                    .stack
                    .iter()
                    .rposition(|&n| matches!(self.doc.tag(n), Some(Tag::Svg | Tag::Math)))
                {
                    Some(i) => self.truncate_stack(i),
                    None => self.foreign = 0,
                }
            }
        }
        if self.foreign == 0 {
            self.imply_end_tags(tag);
        }
        let parent = self.current();
        let id = self.append(parent, Kind::Element(tag), name, attr_start, attr_end);
        let closes_now = tag.is_void()
            || (self_closing && (self.foreign > 0 || tag == Tag::Svg || tag == Tag::Math));
        if closes_now {
            return;
        }
        if tag.is_raw_text() && self.foreign == 0 {
            self.raw_content(tag, name);
            return;
        }
        if self.stack.len() >= MAX_DEPTH {
            // Too deep: keep the element as a leaf and attach its content to the parent.
            *self.capped.entry(self.doc.str(name).to_string()).or_insert(0) += 1;
            return;
        }
        if matches!(tag, Tag::Svg | Tag::Math) {
            self.foreign += 1;
        }
        self.stack.push(id);
    }

    /// The end tags that HTML implies when `tag` starts.
    fn imply_end_tags(&mut self, tag: Tag) {
        if tag.closes_p() {
            self.close_if_open(&[Tag::P], &[Tag::Button]);
        }
        match tag {
            Tag::Li => self.close_if_open(&[Tag::Li], &[Tag::Ul, Tag::Ol, Tag::Menu]),
            Tag::Dd | Tag::Dt => self.close_if_open(&[Tag::Dd, Tag::Dt], &[Tag::Dl]),
            // A row or a row group closes the open cell and row of its table, whatever the
            // cells hold (cells are scope boundaries, so `close_if_open` would stop at them).
            Tag::Tr => {
                self.close_in_table(&[Tag::Tr], &[Tag::Table, Tag::Tbody, Tag::Thead, Tag::Tfoot])
            }
            Tag::Td | Tag::Th => {
                // A cell closes the previous cell of its row; the scope boundary check stops at
                // cells, so look one step at the top instead.
                if matches!(self.current_tag(), Some(Tag::Td | Tag::Th)) {
                    self.stack.pop();
                } else if let Some(i) = self.stack.iter().rposition(|&n| {
                    matches!(self.doc.tag(n), Some(Tag::Td | Tag::Th | Tag::Tr | Tag::Table))
                }) {
                    if matches!(self.doc.tag(self.stack[i]), Some(Tag::Td | Tag::Th)) {
                        self.truncate_stack(i);
                    }
                }
            }
            Tag::Tbody | Tag::Thead | Tag::Tfoot => {
                self.close_in_table(&[Tag::Tbody, Tag::Thead, Tag::Tfoot], &[Tag::Table])
            }
            Tag::Option if self.current_tag() == Some(Tag::Option) => {
                self.stack.pop();
            }
            Tag::Optgroup => {
                if self.current_tag() == Some(Tag::Option) {
                    self.stack.pop();
                }
                if self.current_tag() == Some(Tag::Optgroup) {
                    self.stack.pop();
                }
            }
            Tag::A => self.close_if_open(&[Tag::A], &[]),
            Tag::Button => self.close_if_open(&[Tag::Button], &[]),
            t if t.is_heading() && self.current_tag().is_some_and(Tag::is_heading) => {
                self.stack.pop();
            }
            _ => {}
        }
    }

    /// Pops to just below the innermost open element in `targets`, unless an element in
    /// `stops` is nearer.
    fn close_in_table(&mut self, targets: &[Tag], stops: &[Tag]) {
        let found = self.stack.iter().rposition(|&n| {
            self.doc.tag(n).is_some_and(|t| targets.contains(&t) || stops.contains(&t))
        });
        if let Some(i) = found {
            if self.doc.tag(self.stack[i]).is_some_and(|t| targets.contains(&t)) {
                self.truncate_stack(i);
            }
        }
    }

    /// Reads raw text up to `</name`; keeps it only where later passes need it.
    /// Inside a `noscript` (parsed as markup), raw text also ends at `</noscript`: a browser
    /// with scripts on reads the whole `noscript` as text, so a tracking `<iframe ... />` there
    /// (self-closing is no end tag in HTML) does not swallow the rest of the page as it would
    /// here otherwise.
    fn raw_content(&mut self, tag: Tag, name: Span) {
        let bytes = self.src.as_bytes();
        let start = self.pos;
        let in_noscript = self.stack.iter().any(|&id| self.doc.tag(id) == Some(Tag::Noscript));
        let mut own_end_tag = true;
        let end = if tag == Tag::Plaintext {
            bytes.len()
        } else {
            let n = self.doc.str(name).as_bytes().to_vec();
            let ends_here = |at: usize, name: &[u8]| {
                let after = at + 2 + name.len();
                after <= bytes.len()
                    && bytes[at + 2..after].eq_ignore_ascii_case(name)
                    && bytes.get(after).is_none_or(|b| {
                        matches!(b, b'\t' | b'\n' | b'\x0c' | b'\r' | b' ' | b'/' | b'>')
                    })
            };
            let mut from = start;
            loop {
                match memchr::memmem::find(&bytes[from..], b"</") {
                    None => break bytes.len(),
                    Some(i) => {
                        let at = from + i;
                        if ends_here(at, &n) {
                            break at;
                        }
                        if in_noscript && ends_here(at, b"noscript") {
                            own_end_tag = false;
                            break at;
                        }
                        from = at + 2;
                    }
                }
            }
        };
        let keep = match tag {
            Tag::Title | Tag::Textarea => Some(true),
            // JSON-LD is metadata; other scripts and styles are never content.
            Tag::Script => {
                let id = self.doc.nodes.len() as NodeId - 1;
                self.doc
                    .attr(id, "type")
                    .is_some_and(|t| t.to_ascii_lowercase().contains("ld+json"))
                    .then_some(false)
            }
            _ => None,
        };
        if let Some(decode) = keep {
            let id = self.doc.nodes.len() as NodeId - 1;
            self.stack.push(id);
            self.raw_text_node(start, end, decode);
            self.stack.pop();
        }
        self.pos = end;
        // `</noscript>` is left for the tree builder to close the `noscript` with.
        if end < bytes.len() && own_end_tag {
            self.skip_past(b'>');
        }
    }

    fn close_element(&mut self, tag: Tag, name: &str) {
        match tag {
            Tag::Html | Tag::Body => return,
            Tag::Head => {
                self.leave_head();
                return;
            }
            Tag::Br => {
                let parent = self.current();
                let span = self.push_lower("br");
                self.append(parent, Kind::Element(Tag::Br), span, 0, 0);
                return;
            }
            _ => {}
        }
        if let Some(c) = self.capped.get_mut(name).filter(|c| **c > 0) {
            *c -= 1;
            return;
        }
        let in_table_part = matches!(
            tag,
            Tag::Table
                | Tag::Td
                | Tag::Th
                | Tag::Tr
                | Tag::Tbody
                | Tag::Thead
                | Tag::Tfoot
                | Tag::Caption
        );
        for i in (1..self.stack.len()).rev() {
            let n = self.stack[i];
            let Some(t) = self.doc.tag(n) else { continue };
            let matches = if tag == Tag::Other {
                t == Tag::Other && self.doc.text(n) == name
            } else {
                t == tag
            };
            if matches {
                self.truncate_stack(i);
                return;
            }
            if t == Tag::Body {
                return;
            }
            if t.is_scope_boundary()
                && !(in_table_part && matches!(t, Tag::Td | Tag::Th | Tag::Caption))
            {
                // `</tr>` may close the cell inside it; other end tags stop at the boundary.
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(doc: &Document, id: NodeId) -> String {
        let mut s = String::new();
        for c in doc.children(id) {
            match doc.node(c).kind {
                Kind::Text => s.push_str(&format!("'{}'", doc.text(c))),
                Kind::Element(_) => {
                    s.push_str(doc.text(c));
                    let inner = shape(doc, c);
                    if !inner.is_empty() {
                        s.push_str(&format!("({inner})"));
                    }
                }
                Kind::Document => {}
            }
            s.push(' ');
        }
        s.trim_end().to_string()
    }

    fn body_shape(html: &str) -> String {
        let doc = Document::parse(html);
        let body = doc.find(Tag::Body).unwrap_or(Document::ROOT);
        shape(&doc, body)
    }

    #[test]
    fn implied_end_tags_for_paragraphs_and_list_items() {
        assert_eq!(body_shape("<body><p>a<p>b<div>c</div>"), "p('a') p('b') div('c')");
        assert_eq!(
            body_shape("<body><ul><li>a<li>b<ul><li>c</ul><li>d</ul>"),
            "ul(li('a') li('b' ul(li('c'))) li('d'))"
        );
        assert_eq!(
            body_shape("<body><table><tr><td>a<td>b<tr><td>c</table>"),
            "table(tr(td('a') td('b')) tr(td('c')))"
        );
    }

    #[test]
    fn attributes_and_entities_decode() {
        let doc =
            Document::parse(r#"<a href="/x?a=1&amp;b=2" data-x='y' checked>T&eacute;st &lt;3</a>"#);
        let a = doc.find(Tag::A).unwrap();
        assert_eq!(doc.attr(a, "href"), Some("/x?a=1&b=2"));
        assert_eq!(doc.attr(a, "data-x"), Some("y"));
        assert_eq!(doc.attr(a, "checked"), Some(""));
        assert_eq!(doc.text_content(a), "Tést <3");
    }

    #[test]
    fn raw_text_elements_hide_markup() {
        let html =
            "<body><script>if (a<b) document.write('<p>x</p>')</script><p>ok</p><style>p{}</style>";
        assert_eq!(body_shape(html), "script p('ok') style");
    }

    #[test]
    fn a_self_closed_iframe_in_noscript_ends_with_the_noscript() {
        // Tag managers write `<iframe ... />`; `/>` ends no `iframe` in HTML, and its raw text
        // would run to the end of the page. A browser with scripts on reads the `noscript` as
        // text up to `</noscript>`, and the page goes on after it.
        let html = "<body><noscript><iframe src='/ns' height='0' /></noscript><p>content</p>\
                    <iframe src='/x'><p>fallback</p></iframe><p>after</p>";
        assert_eq!(body_shape(html), "noscript(iframe) p('content') iframe p('after')");
    }

    #[test]
    fn stray_end_tags_do_not_close_ancestors_across_tables() {
        assert_eq!(
            body_shape("<body><div><table><tr><td>x</div>y</td></tr></table>z</div>"),
            "div(table(tr(td('xy'))) 'z')"
        );
    }

    #[test]
    fn unclosed_svg_does_not_swallow_the_page() {
        assert_eq!(
            body_shape("<body><a href=#><svg width=1></a><ul><li>x</ul><p>y"),
            "a(svg) ul(li('x')) p('y')"
        );
        assert_eq!(body_shape("<body><svg><image href=a.png /><p>out</p>"), "svg(image) p('out')");
    }

    #[test]
    fn deep_nesting_is_capped() {
        let html = "<div>".repeat(10_000) + "deep" + &"</div>".repeat(10_000) + "<p>after</p>";
        let doc = Document::parse(&html);
        let depth = |mut n: NodeId| {
            let mut d = 0;
            while n != NONE {
                d += 1;
                n = doc.node(n).parent;
            }
            d
        };
        assert!((0..doc.nodes.len() as NodeId).all(|n| depth(n) <= MAX_DEPTH + 2));
        let p = doc.find(Tag::P).unwrap();
        assert_eq!(doc.text_content(p), "after");
        assert!(doc.text_content(Document::ROOT).contains("deep"));
    }

    #[test]
    fn comments_doctype_and_unclosed_constructs() {
        assert_eq!(body_shape("<!DOCTYPE html><body><!-- <p>no</p> --><p>yes"), "p('yes')");
        // In HTML `<![CDATA[` is a bogus comment that ends at the first `>`, here the `<p>`'s.
        assert_eq!(
            body_shape("<body><![CDATA[ <p>html cdata is a bogus comment</p>"),
            "'html cdata is a bogus comment'"
        );
        let doc = Document::parse("<p>a<!-- never closed");
        assert_eq!(doc.text_content(Document::ROOT), "a");
        let doc = Document::parse("<p title=\"unterminated");
        assert!(doc.find(Tag::P).is_some());
    }
}
