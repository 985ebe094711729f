//! Main-content selection: which part of the page is the content, and what inside it is not.
//!
//! The algorithm is linear and recursion-free (every pass is a forward or reverse loop over the
//! arena, see [`crate::dom`]):
//!
//! 1. **Hard boilerplate.** Elements that are never content by their tag (`nav`, `aside`,
//!    `footer`, `script`, form controls, captions, ...), ARIA role, hidden state (unless it
//!    hides prose: collapsed accordions, inactive tabs), or class/id
//!    evidence (`cookie`, `share`, `breadcrumb`, `related`, `sidebar`, ...) are removed, unless
//!    they wrap most of the page, its `main`/`article`, or (for weak names) a lot of prose.
//!    Comment threads go too, except on discussion pages where they hold most of the text.
//! 2. **Block scores.** Text is grouped into blocks at block-element boundaries. A block is
//!    worth its non-link characters minus a link penalty and a fixed cost (small for plain
//!    text, larger for link blocks), plus a bonus for sentence punctuation, so prose scores
//!    high and menus score negative; long anchors count half, as headlines. Every element's
//!    score is the sum over its blocks.
//! 3. **Selection.** The best element (highest score, nudged up by content-like tags and
//!    names) is the content root; it climbs to wrappers of equal score (never out of an
//!    `article` or `main`), and widens to an ancestor when it holds under 30% of the
//!    surviving text (grids of small items).
//! 4. **Pruning.** Inside the root, negative containers, link lists and link-only teaser
//!    paragraphs are dropped; when that would empty the root, only link lists go, and pages
//!    with no prose-like block at all (link listings) keep everything that survived step 1.
//!    On article pages a grid of cards (most children a headline link with a little text:
//!    "more stories") goes too. On article pages, what follows the container holding most of
//!    the text without any prose or plain list item (tags, share and sign-up lines, "more on
//!    this" boxes) goes. Headings whose section lost its text to pruning go with it.
//! 5. **Lines.** Short lines inside the content that say what they are
//!    ("More on this" and the stories under it, photo credits, a dateline at the top, calls
//!    to follow, share or subscribe) go, see [`crate::lines`].

use std::sync::OnceLock;

use aho_corasick::AhoCorasick;

use crate::dom::{Document, Kind, NodeId, Tag, NONE};

/// The chosen content: a root and the nodes under it that renderers must skip.
#[derive(Debug)]
pub struct Selection {
    pub root: NodeId,
    dropped: Vec<bool>,
    /// The article's headline (its first `h1`), which plain text leaves to the metadata's
    /// title; `NONE` when the content is not an article.
    pub headline: NodeId,
}

impl Selection {
    /// Whether `n` (under the root) belongs to the content.
    pub fn keeps(&self, n: NodeId) -> bool {
        !self.dropped[n as usize]
    }

    /// A selection of everything under `root` (used when no content selection is wanted).
    pub fn whole(doc: &Document, root: NodeId) -> Selection {
        let mut dropped = vec![false; doc.nodes.len()];
        for (i, d) in dropped.iter_mut().enumerate() {
            if let Some(t) = doc.tag(i as NodeId) {
                *d = matches!(
                    t,
                    Tag::Script
                        | Tag::Style
                        | Tag::Noscript
                        | Tag::Template
                        | Tag::Head
                        | Tag::Title
                );
            }
        }
        Selection { root, dropped, headline: NONE }
    }
}

/// Tunables of the scoring, in one place.
mod weights {
    /// Every block pays this many characters' worth, so fragments ("Home", "Share") go negative.
    pub const BLOCK_COST: f32 = 20.0;
    /// A block without links pays only this: short plain lines (prices, spec values, dates)
    /// are content on product and service pages.
    pub const PLAIN_BLOCK_COST: f32 = 4.0;
    /// Each link character costs this much on top of not counting as text.
    pub const LINK_PENALTY: f32 = 1.0;
    /// Sentence punctuation is strong evidence of prose.
    pub const PUNCT_BONUS: f32 = 8.0;
    /// Below this best score no block looks like prose (link listings such as news
    /// aggregators): pruning by link density would remove the listing itself.
    pub const WEAK_EVIDENCE: f32 = 120.0;
    /// The pick is the deepest element whose score is at least this share of the best one:
    /// a wrapper that adds only a tenth (teasers, a newsletter box) loses to what it wraps.
    pub const FOCUS_RATIO: f32 = 0.9;
    /// Each unit of content evidence (article/main tag, role=main, a content-like name,
    /// itemprop=articleBody) multiplies an element's score by 1 + this.
    pub const CONTENT_BONUS: f32 = 0.5;
    /// The content root holds at least this share of the text that survived removal.
    pub const MIN_SHARE: f32 = 0.3;
    /// Anchor texts at least this long (non-space bytes) are headlines rather than menu items.
    pub const LONG_LINK: u32 = 30;
    /// The root climbs to an ancestor whose score is at least this share of the best score:
    /// only to wrappers that add nothing negative (a lower ratio pulled in more boilerplate
    /// than content on both benchmark sets).
    pub const CLIMB_RATIO: f32 = 1.0;
    /// A block with at least this much text (non-space bytes, about fifty words), punctuation
    /// and few links is prose. One or two sentences after an article's body are a pitch or a
    /// sign-up line more often than its text (100 kept more of those on both sets).
    pub const PROSE_BLOCK: u32 = 250;
    /// The child holding at least this share of an element's kept text is the body the
    /// article ends with (see `drop_trailing_chrome`).
    pub const BODY_SHARE: f32 = 0.6;
    /// A line holding a date and at most this much other text (non-space bytes) is a dateline.
    pub const DATE_LABEL: u32 = 40;
}

/// Chooses the main content of `doc`.
pub fn select(doc: &Document) -> Selection {
    select_traced(doc, None)
}

/// Why the content is what it is: the best-scoring elements and the chosen root, one a line.
/// For diagnosing pages where the extraction disappoints.
pub fn explain(doc: &Document) -> String {
    let mut trace = String::new();
    select_traced(doc, Some(&mut trace));
    trace
}

fn select_traced(doc: &Document, mut trace: Option<&mut String>) -> Selection {
    let n = doc.nodes.len();
    let body = doc.find(Tag::Body).unwrap_or(Document::ROOT);
    let body_end = doc.subtree_end(body);

    // Pass A (post-order): raw text and paragraph text, and where the semantic main content
    // is, to guard class-based removal of page wrappers.
    let mut raw = vec![0u32; n];
    let mut ptext = vec![0u32; n];
    let mut has_main = vec![false; n];
    // The text of the largest `article` at or under each element, and whether a `main` (or
    // role=main) is there: teaser cards marked up as `article` inside a related-posts box are
    // not the page's main content.
    let mut article_text = vec![0u32; n];
    let mut has_main_tag = vec![false; n];
    let mut linkraw = vec![0u32; n];
    let mut ctext = vec![0u32; n];
    // Text in page chrome by tag (nav, header, footer, aside), which says nothing about
    // whether the page is a discussion.
    let mut chrome = vec![0u32; n];
    // Class/id evidence, computed once per element (substring tests dominate the profile).
    let mut flags = vec![0u8; n];
    let mut scratch = String::new();
    for i in (0..n).rev() {
        let id = i as NodeId;
        if matches!(doc.nodes[i].kind, Kind::Element(_)) {
            flags[i] = name_flags(doc, id, &mut scratch);
            if flags[i] & COMMENT_NAME != 0 {
                ctext[i] = raw[i];
            }
            if matches!(
                doc.nodes[i].kind,
                Kind::Element(Tag::Nav | Tag::Header | Tag::Footer | Tag::Aside)
            ) {
                chrome[i] = raw[i];
            }
        }
        match doc.nodes[i].kind {
            Kind::Text if !in_non_text(doc, id) => raw[i] = count_visible(doc.text(id)),
            Kind::Element(Tag::P) => ptext[i] = raw[i],
            Kind::Element(Tag::A) => linkraw[i] = raw[i],
            Kind::Element(Tag::Article) => {
                has_main[i] = true;
                article_text[i] = raw[i];
            }
            Kind::Element(Tag::Main) => {
                has_main[i] = true;
                has_main_tag[i] = true;
            }
            Kind::Element(_)
                if doc.attr(id, "role").is_some_and(|r| r.eq_ignore_ascii_case("main")) =>
            {
                has_main[i] = true;
                has_main_tag[i] = true;
            }
            _ => {}
        }
        let p = doc.nodes[i].parent;
        if p != NONE {
            let pu = p as usize;
            article_text[pu] = article_text[pu].max(article_text[i]);
            has_main_tag[pu] |= has_main_tag[i];
            raw[pu] += raw[i];
            ptext[pu] += ptext[i];
            linkraw[pu] += linkraw[i];
            ctext[pu] += ctext[i];
            chrome[pu] += chrome[i];
            has_main[pu] |= has_main[i];
        }
    }
    let b = body as usize;
    let page = Page {
        text: raw[b].max(1),
        ptext: ptext[b].max(1),
        discussion: ctext[b] as f32 > 0.5 * raw[b].saturating_sub(chrome[b]) as f32,
        has_main: has_main[b],
    };

    // Pass B (pre-order): removal and link context.
    let mut removed = vec![false; n];
    let mut in_link = vec![false; n];
    let mut in_article = vec![false; n];
    // Inside `pre`/`code`, class names are syntax highlighting ("hljs-comment", "token
    // comment"), not page roles.
    let mut in_code = vec![false; n];
    for i in 0..n {
        let id = i as NodeId;
        let p = doc.nodes[i].parent;
        if p != NONE {
            removed[i] = removed[p as usize];
            in_link[i] = in_link[p as usize];
        }
        let Kind::Element(tag) = doc.nodes[i].kind else {
            continue;
        };
        if tag == Tag::A && doc.attr(id, "href").is_some() {
            in_link[i] = true;
        }
        if p != NONE {
            in_article[i] =
                in_article[p as usize] || matches!(doc.tag(p), Some(Tag::Article | Tag::Main));
            in_code[i] = in_code[p as usize] || matches!(doc.tag(p), Some(Tag::Pre | Tag::Code));
        }
        if !removed[i]
            && !in_code[i]
            && is_boilerplate(
                doc,
                id,
                tag,
                Size {
                    raw: raw[i],
                    ptext: ptext[i],
                    link: linkraw[i],
                    has_main: has_main_tag[i]
                        || (has_main[i] && 2 * article_text[i] >= article_text[b]),
                    flags: flags[i],
                    in_article: in_article[i],
                },
                page,
            )
        {
            removed[i] = true;
        }
    }
    if (body as usize) < n {
        removed[body as usize] = false;
    }
    if let Some(trace) = trace.as_deref_mut() {
        let mut cut: Vec<usize> = (0..n)
            .filter(|&i| {
                removed[i] && doc.nodes[i].parent != NONE && !removed[doc.nodes[i].parent as usize]
            })
            .collect();
        cut.sort_by_key(|&i| std::cmp::Reverse(raw[i]));
        for &i in cut.iter().take(6) {
            trace.push_str(&format!("removed text {:>6} {}\n", raw[i], describe(doc, i as NodeId)));
        }
    }

    // Pass C (post-order): block scores over what survived.
    let mut text = vec![0u32; n];
    let mut link = vec![0u32; n];
    // Link text without the headline discount, for spotting "Read more: <title>" teasers.
    let mut full_link = vec![0u32; n];
    // The longest anchor text under each element: a headline when long.
    let mut max_link = vec![0u32; n];
    let mut inline_text = vec![0u32; n];
    let mut inline_link = vec![0u32; n];
    let mut inline_punct = vec![0u32; n];
    let mut score = vec![0f32; n];
    // Blocks whose own text reads as prose (long, with sentence punctuation, few links) or
    // as an item of a list, table or spec sheet without links: the article's own text.
    let mut body_block = vec![0u8; n];
    for i in (0..n).rev() {
        if removed[i] {
            continue;
        }
        let id = i as NodeId;
        let p = doc.nodes[i].parent;
        match doc.nodes[i].kind {
            Kind::Text => {
                if in_non_text(doc, id) {
                    continue;
                }
                let s = doc.text(id);
                let t = count_visible(s);
                text[i] = t;
                inline_text[i] = t;
                inline_punct[i] = count_punct(s);
                if in_link[i] {
                    link[i] = t;
                    inline_link[i] = t;
                }
            }
            Kind::Element(tag) => {
                if tag == Tag::A {
                    full_link[i] = link[i];
                    max_link[i] = link[i];
                }
                if tag == Tag::A && link[i] >= weights::LONG_LINK {
                    // A long anchor is a headline or a title (listings, search results), not
                    // navigation: it counts half as link, half as text.
                    inline_link[i] /= 2;
                    link[i] /= 2;
                }
                if tag.is_block() || p == NONE {
                    if is_prose(inline_text[i], inline_link[i], inline_punct[i]) {
                        body_block[i] = PROSE;
                    } else if matches!(tag, Tag::Li | Tag::Dd | Tag::Td | Tag::Th)
                        && inline_text[i] > 0
                        && inline_link[i] == 0
                    {
                        body_block[i] = ITEM;
                    }
                    score[i] += block_weight(tag, inline_text[i], inline_link[i], inline_punct[i]);
                    inline_text[i] = 0;
                    inline_link[i] = 0;
                    inline_punct[i] = 0;
                }
            }
            Kind::Document => {}
        }
        if p != NONE {
            let pu = p as usize;
            text[pu] += text[i];
            link[pu] += link[i];
            full_link[pu] += full_link[i];
            max_link[pu] = max_link[pu].max(max_link[i]);
            inline_text[pu] += inline_text[i];
            inline_link[pu] += inline_link[i];
            inline_punct[pu] += inline_punct[i];
            score[pu] += score[i];
        }
    }

    // Selection: the best-scoring element, with a nudge for content-like names; among equals
    // the deepest (see FOCUS_RATIO).
    let mut eval = vec![f32::MIN; n];
    let mut best_eval = f32::MIN;
    for i in body as usize..body_end as usize {
        if removed[i] || score[i] <= 0.0 {
            continue;
        }
        let Kind::Element(tag) = doc.nodes[i].kind else { continue };
        eval[i] = score[i]
            * (1.0 + weights::CONTENT_BONUS * content_evidence(doc, i as NodeId, tag, flags[i]));
        best_eval = best_eval.max(eval[i]);
    }
    let mut best = body;
    let mut best_depth = 0;
    let mut depth = vec![0u32; n];
    for i in body as usize..body_end as usize {
        let p = doc.nodes[i].parent;
        if p != NONE && i != body as usize {
            depth[i] = depth[p as usize] + 1;
        }
        if eval[i] >= weights::FOCUS_RATIO * best_eval
            && best_eval > 0.0
            && (depth[i] > best_depth || best == body)
        {
            best = i as NodeId;
            best_depth = depth[i];
        }
    }
    let mut root = best;
    let mut a = doc.nodes[best as usize].parent;
    let semantic = |x: NodeId| matches!(doc.tag(x), Some(Tag::Article | Tag::Main));
    while a != NONE && (a as usize) >= body as usize && !removed[a as usize] {
        if semantic(root) {
            // The page's own `article`/`main` is the content; what sits around it at equal
            // score is chrome that scored zero (teasers and menus cancelling out).
            break;
        }
        if score[a as usize] >= weights::CLIMB_RATIO * score[best as usize] {
            root = a;
        }
        if a == body {
            break;
        }
        a = doc.nodes[a as usize].parent;
    }

    // A root holding a sliver of the page's surviving text missed a content made of many
    // small items (listings, product grids): widen it to the nearest ancestor that holds
    // enough of that text.
    let total = text[body as usize] as f32;
    let mut widened = false;
    if (text[root as usize] as f32) < weights::MIN_SHARE * total {
        let mut a = root;
        while a != body && a != NONE && (text[a as usize] as f32) < 0.5 * total {
            a = doc.nodes[a as usize].parent;
        }
        if a != NONE && !removed[a as usize] {
            root = a;
            widened = true;
        }
    }

    // Pruning (pre-order) inside the root. Aggressive first (every negative container goes);
    // if that leaves under half of the root's text, the content is made of small
    // negative-looking pieces (a river of teasers), so only link lists go.
    let end = doc.subtree_end(root);
    // A grid of cards: three or more children, most of them a headline link with a little text.
    let teaser_grid = |i: usize| -> bool {
        let (mut items, mut cards) = (0, 0);
        for c in doc.children(i as NodeId) {
            let cu = c as usize;
            if removed[cu] || text[cu] == 0 || doc.tag(c).is_none() {
                continue;
            }
            items += 1;
            if max_link[cu] >= weights::LONG_LINK && (text[cu] as f32) < 400.0 {
                cards += 1;
            }
        }
        items >= 3 && cards as f32 >= 0.7 * items as f32
    };
    let prune = |aggressive: bool| -> Vec<bool> {
        let mut dropped = removed.clone();
        for i in root as usize + 1..end as usize {
            let p = doc.nodes[i].parent as usize;
            if dropped[p] {
                dropped[i] = true;
                continue;
            }
            if dropped[i] {
                continue;
            }
            let Kind::Element(tag) = doc.nodes[i].kind else { continue };
            if tag.is_block() || matches!(tag, Tag::Other | Tag::Span) {
                let t = text[i] as f32;
                let l = link[i] as f32;
                let teaser = tag == Tag::P && t < 250.0 && full_link[i] as f32 > 0.6 * t;
                let content_cell = matches!(
                    tag,
                    Tag::P | Tag::Li | Tag::Td | Tag::Th | Tag::Tr | Tag::Dd | Tag::Dt
                ) || tag.is_heading();
                if teaser
                    || (aggressive && teaser_grid(i) && t < 0.5 * text[root as usize] as f32)
                    || (t > 0.0 && score[i] < 0.0 && (l / t > 0.5 || (aggressive && !content_cell)))
                {
                    dropped[i] = true;
                }
            }
        }
        dropped
    };
    let kept = |dropped: &[bool]| -> u32 {
        (root as usize..end as usize)
            .filter(|&i| !dropped[i] && doc.nodes[i].kind == Kind::Text)
            .map(|i| text[i])
            .sum()
    };
    // A root widened to a grid of small items is such a listing too, whatever one item scored.
    let weak = score[best as usize] < weights::WEAK_EVIDENCE || widened;
    let link_listing = weak && link[root as usize] as f32 > 0.4 * text[root as usize] as f32;
    let mut dropped = if link_listing {
        removed.clone()
    } else if weak {
        prune(false)
    } else {
        prune(true)
    };
    if !weak && (kept(&dropped) as f32) < 0.5 * text[root as usize] as f32 {
        dropped = prune(false);
    }
    if !weak && !page.discussion {
        drop_trailing_chrome(doc, root, end, &text, &body_block, &mut dropped);
        drop_date_lines(doc, root, end, &text, &mut dropped);
    }
    crate::lines::drop_boilerplate_lines(doc, root, end, &mut dropped);
    drop_orphan_headings(doc, root, end, &raw, &mut dropped);
    // An article's headline is its title, which plain text leaves to the metadata (as
    // trafilatura does); listings, products and threads keep their h1 in the text.
    let headline = if !weak && !page.discussion {
        let h = (root as usize..end as usize)
            .find(|&i| !dropped[i] && doc.tag(i as NodeId) == Some(Tag::H1))
            .map_or(NONE, |i| i as NodeId);
        let mut a = h;
        while a != NONE && doc.tag(a) != Some(Tag::Article) {
            a = doc.nodes[a as usize].parent;
        }
        if a != NONE {
            h
        } else {
            NONE
        }
    } else {
        NONE
    };
    if let Some(trace) = trace {
        let mut order: Vec<usize> = (body as usize..body_end as usize)
            .filter(|&i| !removed_copy(&dropped, i) && doc.tag(i as NodeId).is_some())
            .collect();
        order.sort_by(|&a, &b| score[b].total_cmp(&score[a]));
        for &i in order.iter().take(8) {
            trace.push_str(&format!(
                "{:>8.0} text {:>6} link {:>6} {}\n",
                score[i],
                text[i],
                link[i],
                describe(doc, i as NodeId)
            ));
        }
        trace.push_str(&format!("best {} -> root {}\n", describe(doc, best), describe(doc, root)));
    }
    Selection { root, dropped, headline }
}

/// `body_block` values: a paragraph of prose, an item of a list or table without links.
const PROSE: u8 = 1;
const ITEM: u8 = 2;

/// Whether a block's own text reads as prose rather than a label, a byline or a link line.
fn is_prose(text: u32, link: u32, punct: u32) -> bool {
    text >= weights::PROSE_BLOCK && (link as f32) < 0.3 * text as f32 && punct > 0
}

/// An article's body ends where its text ends: after the container that holds most of the
/// content, what follows it at the end without any prose block or plain list item (tags,
/// share and sign-up lines, bylines, "more on this" headings and their link lists, contact
/// boxes) is the page's, not the article's.
/// Walks down from the root through the child holding most of the kept text, dropping at
/// each level the trailing siblings that hold no prose (up to the last one that does).
fn drop_trailing_chrome(
    doc: &Document,
    root: NodeId,
    end: NodeId,
    text: &[u32],
    body_block: &[u8],
    dropped: &mut [bool],
) {
    let (start, end) = (root as usize, end as usize);
    let mut kept = vec![0u32; end - start];
    let mut prose = vec![false; end - start];
    for i in (start..end).rev() {
        if dropped[i] {
            continue;
        }
        if doc.nodes[i].kind == Kind::Text {
            kept[i - start] = text[i];
        }
        prose[i - start] |= body_block[i] != 0;
        let p = doc.nodes[i].parent as usize;
        if i > start {
            kept[p - start] += kept[i - start];
            prose[p - start] |= prose[i - start];
        }
    }
    let mut node = root;
    loop {
        let total = kept[node as usize - start] as f32;
        let mut best = NONE;
        let mut tail = Vec::new();
        for c in doc.children(node) {
            let cu = c as usize;
            if dropped[cu] || kept[cu - start] == 0 {
                continue;
            }
            if best == NONE || kept[cu - start] > kept[best as usize - start] {
                best = c;
                tail.clear();
            } else if prose[cu - start] {
                tail.clear();
            } else {
                tail.push(c);
            }
        }
        // A paragraph, quote or list holding most of the text is part of the body, not a
        // wrapper of it: its short siblings are the article's own closing lines.
        if best == NONE
            || (kept[best as usize - start] as f32) < weights::BODY_SHARE * total
            || body_block[best as usize] == PROSE
            || !doc.tag(best).is_some_and(is_wrapper_tag)
        {
            break;
        }
        for &c in &tail {
            for d in &mut dropped[c as usize..doc.subtree_end(c) as usize] {
                *d = true;
            }
        }
        node = best;
    }
}

/// A line that is a date and little else ("Published: <time>", "By A. Writer, <time>") is the
/// article's metadata, which the text leaves out; a date inside a sentence, a list item or a
/// table cell stays.
fn drop_date_lines(doc: &Document, root: NodeId, end: NodeId, text: &[u32], dropped: &mut [bool]) {
    for i in root as usize + 1..end as usize {
        if dropped[i] || doc.tag(i as NodeId) != Some(Tag::Time) {
            continue;
        }
        let mut line = doc.nodes[i].parent;
        while line != root && !doc.tag(line).is_some_and(|t| t.is_block()) {
            line = doc.nodes[line as usize].parent;
        }
        if line == root
            || matches!(doc.tag(line), Some(Tag::Li | Tag::Td | Tag::Th | Tag::Dd | Tag::Dt))
            || text[line as usize] > text[i] + weights::DATE_LABEL
        {
            continue;
        }
        for d in &mut dropped[line as usize..doc.subtree_end(line) as usize] {
            *d = true;
        }
    }
}

/// Tags that wrap an article's blocks (including old table layouts) rather than being one.
fn is_wrapper_tag(t: Tag) -> bool {
    matches!(
        t,
        Tag::Div
            | Tag::Section
            | Tag::Article
            | Tag::Main
            | Tag::Span
            | Tag::Other
            | Tag::Form
            | Tag::Center
            | Tag::Font
            | Tag::Table
            | Tag::Tbody
            | Tag::Tr
            | Tag::Td
    )
}

/// A heading introduces the section after it. When a block of text was dropped between it and
/// the next heading of its level or above and nothing survives there ("Related posts" over a
/// dropped list, "Comments" over a removed thread), or it closes the content with nothing
/// after it, it is the title of removed boilerplate and goes too. Headings followed directly
/// by the next heading or by a dropped button or price (tiles of a grid) stay.
fn drop_orphan_headings(
    doc: &Document,
    root: NodeId,
    end: NodeId,
    raw: &[u32],
    dropped: &mut [bool],
) {
    let (start, end) = (root as usize + 1, end as usize);
    if start >= end {
        return;
    }
    // Which heading (if any) each node sits in, so a heading's own text is not its section.
    let mut in_heading = vec![false; end - start];
    for i in start..end {
        let p = doc.nodes[i].parent as usize;
        let parent_in = p >= start && in_heading[p - start];
        in_heading[i - start] = parent_in || doc.tag(i as NodeId).is_some_and(|t| t.is_heading());
    }
    // kept[l] / gone[l]: something kept follows / how much text was dropped, before the next
    // heading of level l or above. The end of the content counts as a drop: what followed it
    // was not content.
    const SECTION: u32 = 60;
    let mut kept = [false; 7];
    let mut gone = [SECTION; 7];
    for i in (start..end).rev() {
        if dropped[i] {
            if doc.nodes[i].kind == Kind::Text {
                for g in &mut gone {
                    *g = g.saturating_add(raw[i]);
                }
            }
            continue;
        }
        match doc.nodes[i].kind {
            Kind::Text if raw[i] > 0 && !in_heading[i - start] => kept = [true; 7],
            Kind::Element(Tag::Img | Tag::Picture | Tag::Table) => kept = [true; 7],
            Kind::Element(t) if t.is_heading() => {
                let level = t.heading_level();
                // The page title (h1) stays whatever follows it.
                let orphan = level > 1 && !kept[level] && gone[level] >= SECTION;
                if orphan {
                    for d in &mut dropped[i..doc.subtree_end(i as NodeId) as usize] {
                        *d = true;
                    }
                }
                for l in 0..kept.len() {
                    if l >= level {
                        kept[l] = false;
                        gone[l] = 0;
                    } else {
                        kept[l] |= !orphan;
                    }
                }
            }
            _ => {}
        }
    }
}

fn removed_copy(d: &[bool], i: usize) -> bool {
    d[i]
}

/// `tag.class#id` of a node and its ancestors, for diagnostics.
fn describe(doc: &Document, mut n: NodeId) -> String {
    let mut parts = Vec::new();
    while n != NONE && parts.len() < 6 {
        if doc.tag(n).is_some() {
            let mut s = doc.text(n).to_string();
            if let Some(c) = doc.attr(n, "class") {
                s.push('.');
                s.push_str(&c.split_whitespace().take(2).collect::<Vec<_>>().join("."));
            }
            if let Some(i) = doc.attr(n, "id") {
                s.push('#');
                s.push_str(i);
            }
            parts.push(s);
        }
        n = doc.nodes[n as usize].parent;
    }
    parts.reverse();
    parts.join(" > ")
}

/// Text under these elements is markup or metadata, not visible content.
fn in_non_text(doc: &Document, text_node: NodeId) -> bool {
    let p = doc.nodes[text_node as usize].parent;
    matches!(
        doc.tag(p),
        Some(Tag::Script | Tag::Style | Tag::Title | Tag::Textarea | Tag::Template)
    )
}

/// Characters that are not whitespace (bytes, so CJK weighs more; the ratios still hold).
pub(crate) fn count_visible(s: &str) -> u32 {
    s.bytes().filter(|b| !b.is_ascii_whitespace()).count() as u32
}

fn count_punct(s: &str) -> u32 {
    s.bytes().filter(|b| matches!(b, b'.' | b',' | b'?' | b'!' | b';')).count() as u32
}

fn block_weight(tag: Tag, t: u32, l: u32, punct: u32) -> f32 {
    if t == 0 {
        return 0.0;
    }
    let (t, l) = (t as f32, l as f32);
    // Short plain text (a price, a spec value, a date) costs little; short link blocks
    // (menus) cost the full block price.
    let cost = if l > 0.0 { weights::BLOCK_COST } else { weights::PLAIN_BLOCK_COST };
    let mut w = (t - l) - weights::LINK_PENALTY * l - cost;
    w += weights::PUNCT_BONUS * (punct as f32).min(t / 20.0);
    if l == 0.0 && tag.is_heading() {
        // Headings are short by nature; inside content they must survive pruning.
        w = w.max(5.0);
    }
    if w > 0.0 && matches!(tag, Tag::P | Tag::Pre | Tag::Blockquote) {
        w *= 1.25;
    }
    w
}

/// Collects lowercase `class` and `id` into `buf`; false when the element has neither.
fn names<'b>(doc: &Document, id: NodeId, buf: &'b mut String) -> Option<&'b str> {
    buf.clear();
    for (k, v) in doc.attrs(id) {
        if k == "class" || k == "id" {
            // Utility classes with variants ("print:break-inside-avoid", "md:[--x:1]") are
            // styling, not roles: they would only produce false evidence.
            for token in v.split_ascii_whitespace().filter(|t| !t.contains([':', '[', '/'])) {
                buf.push(' ');
                // Underscores read as hyphens: "comment_form" and "sign_up" are the same names
                // as "comment-form" and "sign-up".
                buf.extend(
                    token.chars().map(|c| if c == '_' { '-' } else { c.to_ascii_lowercase() }),
                );
            }
        }
    }
    (!buf.is_empty()).then_some(buf.as_str())
}

/// Substrings of class/id that mark boilerplate wherever they occur in a name.
const NEGATIVE_SUBSTRINGS: &[&str] = &[
    "cookie",
    "consent",
    "gdpr",
    "newsletter",
    "breadcrumb",
    "pagination",
    "sidebar",
    "share",
    "social",
    "related",
    "advert",
    "sponsor",
    "popup",
    "modal",
    "footer",
    "navbar",
    "navigation",
    "skip-link",
    "skiplink",
    "skip-to",
    "subscribe",
    "signup",
    "sign-up",
    "disqus",
    "outbrain",
    "taboola",
    "masthead",
    "topbar",
    "top-bar",
    "toolbar",
    "screen-reader",
    "sr-only",
    "visually-hidden",
    "visuallyhidden",
    "offcanvas",
    "off-canvas",
    "backtotop",
    "back-to-top",
    "comment-form",
    "commentform",
    "respond",
    "author-box",
    "authorbox",
    "author-bio",
    "byline",
    "recommended",
    "tag-cloud",
    "tagcloud",
    "post-tags",
    "entry-tags",
    "post-meta",
    "entry-meta",
    "article-meta",
    "announcement",
    "promo",
    "copyright",
    "sharing",
    "news-letter",
    "upsell",
    "donation",
    "donate",
    "postmeta",
    "reading-time",
    "readingtime",
    "read-time",
];

/// Whole hyphen/underscore-separated parts of class/id that mark boilerplate.
const NEGATIVE_PARTS: &[&str] = &[
    "nav", "menu", "tags", "print", "dropdown", "login", "rating", "toc", "share", "cart", "author",
];

const COMMENT_NAME: u8 = 1;
const NEGATIVE_NAME: u8 = 2;
const POSITIVE_NAME: u8 = 4;
/// A name made for boilerplate ("site-footer", "cookie-banner"), not a styling word.
const STRONG_NEGATIVE_NAME: u8 = 8;
/// An image caption or credit ("wp-caption-text", "img__credit").
const CAPTION_NAME: u8 = 16;

/// What an element's class and id say about it, as `*_NAME` bits.
fn name_flags(doc: &Document, id: NodeId, scratch: &mut String) -> u8 {
    let Some(n) = names(doc, id, scratch) else { return 0 };
    let (negative, positive) = automata();
    let mut f = 0;
    if is_comment_name(n) {
        f |= COMMENT_NAME;
    }
    // "promoted" (a CMS flag on featured articles) is not a "promo" box.
    let unpromoted;
    let n_neg = if n.contains("promoted") {
        unpromoted = n.replace("promoted", "");
        unpromoted.as_str()
    } else {
        n
    };
    if negative.is_match(n_neg) {
        f |= NEGATIVE_NAME | STRONG_NEGATIVE_NAME;
    }
    if n.split(|c: char| !c.is_ascii_alphanumeric()).any(|part| NEGATIVE_PARTS.contains(&part))
        || n.split_whitespace()
            .any(|t| is_ad_token(t) || is_page_header_token(t) || is_widget_or_hidden_token(t))
    {
        f |= NEGATIVE_NAME;
    }
    // "related-posts", "recommended-articles", "sponsored-content": other content, not this
    // page's, even beside a content word in another class ("main-box related-box"). (A layout
    // word does not qualify it so: "sidebar-content" is the content beside a sidebar.)
    let other_content =
        |t: &str| ["related", "recommended", "sponsor"].iter().any(|w| t.contains(w));
    if positive.is_match(n) && !n.split_whitespace().any(other_content) {
        f |= POSITIVE_NAME;
    }
    if n.split(|c: char| !c.is_ascii_alphanumeric())
        .any(|part| matches!(part, "credit" | "credits"))
        || n.split_whitespace().any(is_image_caption_token)
    {
        f |= CAPTION_NAME;
    }
    f
}

/// One pass over a name finds any of the substrings (dozens of `contains` calls per element
/// dominated the profile).
fn automata() -> &'static (AhoCorasick, AhoCorasick) {
    static AUTOMATA: OnceLock<(AhoCorasick, AhoCorasick)> = OnceLock::new();
    AUTOMATA.get_or_init(|| {
        let build = |p: &[&str]| AhoCorasick::new(p).expect("static patterns build");
        (build(NEGATIVE_SUBSTRINGS), build(POSITIVE_SUBSTRINGS))
    })
}

/// "wp-caption-text", "image-caption", "imgCaption": the caption of a picture. A bare "caption"
/// is too often a product card's or a slide's text.
fn is_image_caption_token(t: &str) -> bool {
    t.contains("caption")
        && ["img", "image", "photo", "figure", "wp-caption", "media", "caption-text", "pic"]
            .iter()
            .any(|w| t.contains(w))
}

/// `ad`, `ads`, `ad-slot`, `ads_top`: advertising. Only at the start of a token, because as a
/// later part it is as often about hiding or styling ads around content ("hide-read-more-ad").
fn is_ad_token(t: &str) -> bool {
    matches!(t, "ad" | "ads" | "advertisement")
        || ["ad-", "ad_", "ads-", "ads_", "adsense", "adslot", "adunit"]
            .iter()
            .any(|p| t.starts_with(p))
}

/// The page's header, not a card's or an article's ("card-header", "entry-header" are content).
/// Sidebar widgets ("widget widget_text", "textwidget"), not page-builder blocks
/// ("elementor-widget" wraps whole articles), and utility classes that hide an element.
fn is_widget_or_hidden_token(t: &str) -> bool {
    t.strip_prefix("widget").is_some_and(|r| r.is_empty() || r.starts_with(['-', '_', 's']))
        || matches!(t, "textwidget" | "hidden" | "is-hidden" | "d-none" | "hide" | "invisible")
}

fn is_page_header_token(t: &str) -> bool {
    t.starts_with("header")
        || matches!(
            t,
            "site-header" | "global-header" | "main-header" | "top-header" | "page-header"
        )
}

/// Substrings of class/id that suggest content.
const POSITIVE_SUBSTRINGS: &[&str] = &[
    "article",
    "content",
    "entry",
    "post",
    "main",
    "body",
    "text",
    "story",
    "prose",
    "markdown",
    "blog",
    "description",
    "product",
    "question",
    "answer",
    "thread",
    "docs",
    "documentation",
];

/// Page-wide totals that removal decisions are measured against.
#[derive(Clone, Copy)]
struct Page {
    text: u32,
    ptext: u32,
    /// Most of the text sits in comment-named elements: a forum or Q&A thread.
    discussion: bool,
    /// The page marks its content with `main`, `article` or role=main.
    has_main: bool,
}

/// Comment threads, and customer reviews under a product (named in the plural: "reviews",
/// "product-reviews"; a singular "review" is as often an editorial review article).
fn is_comment_name(n: &str) -> bool {
    ((n.contains("comment") || n.contains("disqus")) && !n.contains("no-comment"))
        || n.split(|c: char| !c.is_ascii_alphanumeric()).any(|part| part == "reviews")
}

/// An element's raw text, its text in paragraphs, and whether it holds `article`/`main`.
#[derive(Clone, Copy)]
struct Size {
    raw: u32,
    ptext: u32,
    link: u32,
    /// Holds the page's `main`, or an `article` at least half as long as its longest.
    has_main: bool,
    flags: u8,
    /// Inside an `article` or `main` element.
    in_article: bool,
}

fn is_boilerplate(doc: &Document, id: NodeId, tag: Tag, size: Size, page: Page) -> bool {
    let raw = size.raw;
    match tag {
        Tag::Script
        | Tag::Style
        | Tag::Template
        | Tag::Svg
        | Tag::Math
        | Tag::Canvas
        | Tag::Iframe
        | Tag::Object
        | Tag::Embed
        | Tag::Video
        | Tag::Audio
        | Tag::Select
        | Tag::Option
        | Tag::Button
        | Tag::Input
        | Tag::Textarea
        | Tag::Head
        | Tag::Title
        | Tag::Dialog
        // Captions and credits read as boilerplate next to the prose they illustrate.
        | Tag::Figcaption
        | Tag::Map => return true,
        Tag::Html | Tag::Body | Tag::Main => return false,
        _ => {}
    }
    // A wrapper of most of the page (or of most of its paragraphs, or of its semantic main
    // content) is never boilerplate, whatever its name says: "has-sidebar" layouts.
    // A name made for boilerplate ("sidebar", "related-posts") must hold most of the page's
    // paragraphs to count as a wrapper: a sidebar of archive links or a related list with
    // excerpts can outweigh a short article in raw text.
    let para_wrapper = size.ptext as f32 > 0.5 * page.ptext as f32 && size.ptext > 500;
    let text_wrapper = raw as f32 > 0.5 * page.text as f32 && page.text > 200;
    let wrapper = para_wrapper || (text_wrapper && size.flags & STRONG_NEGATIVE_NAME == 0);
    let holds_main = size.has_main && !matches!(tag, Tag::Article);
    // Lots of prose outweighs a name: class names are often about styling ("hide-read-more-ad")
    // while boilerplate is short or made of links.
    // Half as much prose is enough when it has almost no links (a FAQ answer in a "dropdown").
    let prose = (raw > 1000 + size.link && (size.link as f32) < 0.3 * raw as f32)
        || (raw > 500 && (size.link as f32) < 0.2 * raw as f32);
    // Semantic chrome goes unless it wraps the real content (misused as a page wrapper).
    // Forms (comment, rating, newsletter and search forms) are chrome too, unless they wrap
    // the page (ASP.NET) or a lot of text (forum software puts threads and listings in forms),
    // or sit on a discussion page (some forums put every post in its own form).
    if matches!(tag, Tag::Form | Tag::Fieldset | Tag::Label | Tag::Legend | Tag::Search)
        && !holds_main
        && !wrapper
        && raw < 1000
        && !page.discussion
    {
        return true;
    }
    // When the page marks its content elsewhere, chrome is chrome however much text it holds
    // (a footer carrying the terms of service in a modal).
    if matches!(tag, Tag::Nav | Tag::Aside | Tag::Footer)
        && !holds_main
        && (page.has_main || !(wrapper && size.ptext > 500))
    {
        return true;
    }
    let mut negative = false;
    let mut role = false;
    let mut hidden = false;
    // Comment threads under an article are not its content; on a discussion page (where
    // comments hold most of the text) they are.
    if !page.discussion && !wrapper && !holds_main && size.flags & COMMENT_NAME != 0 {
        return true;
    }
    for (k, v) in doc.attrs(id) {
        match k {
            "hidden" => hidden = true,
            // aria-hidden hides from screen readers, not from the eye: decorative duplicates of
            // visible text (a teaser's description link), which the reader sees as content.
            "role" => {
                let v = v.to_ascii_lowercase();
                if matches!(
                    v.as_str(),
                    "navigation"
                        | "contentinfo"
                        | "banner"
                        | "search"
                        | "dialog"
                        | "alertdialog"
                        | "menu"
                        | "menubar"
                        | "complementary"
                        | "alert"
                ) {
                    role = true;
                }
            }
            "style" => {
                let s: String = v
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect::<String>()
                    .to_ascii_lowercase();
                if s.contains("display:none") || s.contains("visibility:hidden") {
                    hidden = true;
                }
            }
            _ => {}
        }
    }
    if role && !wrapper {
        return true;
    }
    // Hidden prose is a collapsed accordion item or an inactive tab: content the page shows
    // on a click. Hidden menus, modals and banners are short, link-made or named for it.
    // A hidden `pre` is raw source (a page's own Markdown copy), not a collapsed section.
    let hidden_prose = raw >= 150 && (size.link as f32) < 0.25 * raw as f32 && tag != Tag::Pre;
    if hidden && !wrapper && !hidden_prose {
        return true;
    }
    if size.flags & CAPTION_NAME != 0
        && raw < 400
        && !(id..doc.subtree_end(id)).any(|i| matches!(doc.tag(i), Some(Tag::Img | Tag::Picture)))
    {
        // A caption or photo credit under its own name, like `figcaption`; a captioned image
        // ("wp-caption" around the img) keeps its image for Markdown.
        return true;
    }
    if tag == Tag::Header {
        // A page header holds the logo and menus; an article's header holds its title.
        negative = true;
    }
    if size.flags & NEGATIVE_NAME != 0 {
        negative = true;
        if tag != Tag::Header && size.flags & POSITIVE_NAME != 0 && raw > 400 {
            // "post-content sidebar-right": the content name wins when there is real text.
            negative = false;
        }
    }
    if tag == Tag::Header && size.in_article {
        // An article's own header (a card in a river, a post's title block, a section's
        // heading inside `main`) is content; the page's header sits outside `main`.
        negative = false;
    }
    if negative {
        // Keep headers that carry the page heading and no menu.
        let end = doc.subtree_end(id);
        let has_h1 = (id..end).any(|i| doc.tag(i) == Some(Tag::H1));
        let has_nav = (id..end).any(|i| doc.tag(i) == Some(Tag::Nav));
        if has_h1 && !has_nav {
            negative = false;
        }
    }
    let prose_wins = prose && size.flags & STRONG_NEGATIVE_NAME == 0;
    negative && !wrapper && !holds_main && !prose_wins
}

/// How content-like an element looks by tag and names, 0..=2.
fn content_evidence(doc: &Document, id: NodeId, tag: Tag, flags: u8) -> f32 {
    let mut e = match tag {
        Tag::Article | Tag::Main => 1.0,
        _ => 0.0,
    };
    if doc.attr(id, "role").is_some_and(|r| r.eq_ignore_ascii_case("main")) {
        e += 1.0;
    }
    if flags & POSITIVE_NAME != 0 {
        e += 1.0;
    }
    if doc.attr(id, "itemprop").is_some_and(|v| v.contains("articleBody") || v.contains("text")) {
        e += 1.0;
    }
    f32::min(e, 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::render_text;

    fn main_text(html: &str) -> String {
        let doc = Document::parse(html);
        render_text(&doc, &select(&doc))
    }

    const PROSE: &str = "This is a sentence of real content, with commas, and a full stop. ";

    #[test]
    fn picks_the_article_over_navigation_and_footer() {
        let html = format!(
            "<body><div class=top><a href=/>Home</a> <a href=/a>About</a> <a href=/b>Blog</a></div>\
             <div class=wrap><div class=story><p>{p}</p><p>{p}</p><p>{p}</p></div>\
             <div class=links><ul><li><a href=/1>Another story one</a><li><a href=/2>Another story two</a></ul></div></div>\
             <footer>Copyright 2024 Example Inc. All rights reserved, forever.</footer></body>",
            p = PROSE.repeat(3)
        );
        let t = main_text(&html);
        assert!(t.contains("real content"), "{t}");
        assert!(!t.contains("Home"), "{t}");
        assert!(!t.contains("Another story"), "{t}");
        assert!(!t.contains("Copyright"), "{t}");
    }

    #[test]
    fn cookie_banners_and_share_widgets_go() {
        let html = format!(
            "<body><div id=cookie-notice><p>We use cookies to improve your experience, okay?</p></div>\
             <article><h1>Title</h1><p>{p}</p><div class=share-buttons>Share on Facebook</div><p>{p}</p></article></body>",
            p = PROSE.repeat(4)
        );
        let t = main_text(&html);
        assert!(t.contains("real content"));
        assert!(!t.contains("cookies"), "{t}");
        assert!(!t.contains("Facebook"), "{t}");
    }

    #[test]
    fn a_body_class_naming_a_sidebar_does_not_empty_the_page() {
        let html = format!(
            "<body class='has-sidebar'><div class='layout-with-sidebar'><p>{}</p></div></body>",
            PROSE.repeat(10)
        );
        assert!(main_text(&html).contains("real content"));
    }

    #[test]
    fn hidden_elements_are_not_content() {
        let html = format!("<body><article><p>{}</p><p hidden>secret words</p><div style='display: none'>more secret</div></article></body>", PROSE.repeat(4));
        let t = main_text(&html);
        assert!(!t.contains("secret"), "{t}");
    }
}
