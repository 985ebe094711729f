//! Boilerplate lines inside an article's body, recognised by what they say.
//!
//! Class names catch a share bar or a "related posts" box when the site names them; many
//! sites put the same things in plain paragraphs and headings of the article's own container:
//! "More on this" over a list of other stories, a photo credit under a picture, a dateline
//! above the text, "Follow us on Instagram", "Subscribe to read the full story". Their wording
//! is the same from one site to the next, so a short line is judged by its words, in the
//! languages most of the web is written in (English, German, French, Spanish, Portuguese,
//! Italian, Polish). Only short lines are judged: a paragraph of prose that mentions a
//! newsletter or a photo is the article's.
//!
//! Runs after pruning (see [`crate::content`]) on every kind of page: a forum thread has its
//! "You must be logged in to reply" and a listing its "Advertisement" label too. A date in a
//! list item or a table cell is an entry's, never a dateline.

use std::sync::OnceLock;

use regex::Regex;

use crate::content::count_visible;
use crate::dom::{Document, Kind, NodeId, Tag, NONE};

/// What kind of boilerplate a line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Line {
    /// "More on this", "You may also like", "Lesen Sie auch": the heading of other stories,
    /// which go with it.
    Related,
    /// "Photo: Jane Doe", "(Foto: dpa)", "© Getty Images": who took the picture.
    Credit,
    /// "12.12.2022, 08:30", "Energie | 3. Mai 2021": the date above the text, near its top.
    Dateline,
    /// Calls to share, follow, subscribe, comment or sign in; "Advertisement"; "Back to the
    /// list"; cookie notices.
    Appeal,
}

/// Longest line (characters) judged at all; longer ones are prose.
const MAX_LINE: usize = 300;
/// Longest heading of other stories ("Mehr zu Klima und Konsum").
const MAX_RELATED: usize = 60;
/// Longest photo caption with a credit.
const MAX_CREDIT: usize = 200;
/// Longest dateline, and how many words it may have.
const MAX_DATELINE: usize = 90;
const MAX_DATELINE_WORDS: usize = 8;
/// A dateline is among the body's first lines (not counting its `h1`).
const DATELINE_WITHIN: usize = 3;
/// After a "related" heading, a block is a list of other stories when it is this short
/// (non-space bytes) or when at least this many tenths of its text are links.
const STORY_TEXT: usize = 80;
const STORY_LINK_TENTHS: usize = 3;

struct Patterns {
    related: Regex,
    credit: Regex,
    date: Regex,
    appeal: Regex,
    network: Regex,
    call: Regex,
    /// The site speaking of itself: "our channel", "folgt uns", "síguenos".
    we: Regex,
}

fn patterns() -> &'static Patterns {
    static PATTERNS: OnceLock<Patterns> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        // ASCII word boundaries: a Unicode `\b` keeps the regex off its fast DFA on every
        // non-ASCII line, and the patterns' words start and end in ASCII letters anyway.
        let build = |p: &str| Regex::new(&p.replace(r"\b", r"(?-u:\b)")).expect("static pattern");
        Patterns {
            // Anchored at the start of the line: the heading says what follows.
            related: build(concat!(
                r"(?i)^(das könnte (sie|dich) auch interessieren|empfehlungen (aus )?der redaktion|schon gelesen",
                r"|mehr themen\b|.*\bkönnte (sie|dich|euch) (auch )?interessieren",
                r"|(mehr|weitere|alle|artikel|beiträge|videos|audios|links|nachrichten|news)\b.*\bzum thema\s*:?$",
                r"|(more|related|articles|stories|videos)\b.*\bon (this|the) topic\s*:?$",
                r"|(audios?|vidéos?|articles|plus)\b.*\bsur le (même )?sujet\s*:?$",
                r"|(más|otras|artículos|noticias)\b.*\bsobre (el|este) tema\s*:?$",
                r"|weitere \S*(tipps|artikel|beiträge|themen|meldungen|rezepte|videos)\b",
                r"|(über den|zum) autor\b|about the author|à propos de l'auteur|sobre el autor",
                r"|mehr zu(m|r)? |zum weiterlesen|weiterlesen\b|weitere (artikel|beiträge|nachrichten|meldungen)",
                r"|lesen sie (auch|dazu|mehr)|auch interessant|verwandte |ähnliche (artikel|beiträge)",
                r"|meist ?gelesen|viel gelesen|neueste (artikel|beiträge)|aktuelle (artikel|beiträge)",
                r"|related\b|read (more|also|further|next)\b|more (on|from|about|stories)\b",
                r"|you (may|might) also|recommended (for you|stories|articles|reading)|see also\b",
                r"|most (read|popular|viewed)\b|latest (news|articles|stories|posts)\b|trending\b",
                r"|(à )?lire aussi|sur le même sujet|voir aussi|audios et vidéos|à voir aussi",
                r"|leer también|lee también|te puede interesar|noticias relacionadas|más noticias",
                r"|leia também|veja também|leggi anche|potrebbe interessarti",
                r"|czytaj (też|także)|zobacz (też|także))"
            )),
            // At the end of the line: a caption's credit follows its text.
            credit: build(concat!(
                r"(?i)(\(?\b(foto|fotos|photo|photos|bild|bilder|image|picture|credit|credits",
                r"|crédits?( photos?)?|quelle|source|abbildung|grafik|illustration|titelbild)\s*:\s*[^.]{2,}\)?\s*$)",
                r"|(©\s*[^.]{2,}$)",
                r"|(\b(getty images|dpa|picture[- ]alliance|reuters|afp|imago|shutterstock|istock)\)?\s*$)",
                r"|^beitragsbild\s*:"
            )),
            date: build(concat!(
                r"(?i)\b\d{1,2}\.\s?\d{1,2}\.\s?(19|20)\d\d\b|\b(19|20)\d\d-\d\d-\d\d\b",
                r"|\b\d{1,2}\.?\s+(jan|feb|mär|mar|apr|mai|may|jun|jul|aug|sep|okt|oct|nov|dez|dec)[a-zä]*\.?\s+(19|20)\d\d\b",
                r"|\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2},?\s+(19|20)\d\d\b",
                r"|\b\d{1,2}/\d{1,2}/((19|20)\d\d|\d\d)\b"
            )),
            appeal: build(concat!(
                r"(?i)(\bshare (this|on)\b|^(den |diesen )?artikel (teilen|mit anderen teilen)",
                r"|möchten sie (den|diesen) artikel teilen|\bjetzt teilen\b",
                r"|\bfolge?n? (sie )?uns\b|\bfollow us\b|\bs[ií]guenos\b|\bsuivez[- ]nous\b",
                r"|\bsubscribe (now|to|today)\b|\bsign up (for|to) (our|the)\b|\bnewsletter (abonnieren|bestellen)\b",
                r"|\bdownload (the|our) .*\bapps?\b|\bin der .*-app\b",
                r"|war (der|dieser) artikel (nützlich|hilfreich)|was this (article|page|post) (helpful|useful)",
                r"|\bbookmark the permalink\b|\bthis entry was posted\b",
                r"|sie müssen sich anmelden|you must be (logged|signed) in|leave a (comment|reply)\b",
                r"|^keine kommentare|^no comments|^kommentare( insgesamt)?:",
                r"|^\d+ (comments|kommentare|antworten|responses|replies)\b",
                r"|^(- ?)?(advertisement|anzeige|werbung|publicidad|publicité)\b ?-?:?$|^anzeige\b",
                r"|^zurück zu(r|m)? \S+$|^back to \S+$|^(drucken|print|imprimer)$",
                r"|\b(we|wir) (use|verwenden|nutzen) cookies\b|diese website (verwendet|nutzt) cookies",
                r"|this (site|website) uses cookies",
                // A single teaser for another story: "MIRA: ...", "Lesen Sie auch: ...".
                r"|^(mira|mire|puedes ver|lee también|lea también|ver también|leia também|veja também",
                r"|lesen sie auch|read also|see also|à lire aussi|lire aussi)\s*:",
                // Paywalls and log-ins.
                r"|already a subscriber|pour lire la suite|nicht eingeloggt|not logged in|netiquette",
                r"|\blog in (to|for) (read|access|continue)|to (continue reading|read the full (story|article))",
                // Newsletters, donations, listening.
                r"|\b(sign(ing)? up|subscrib\S*|abonnier\S*|anmelden|inscri\S*|suscr\S*)\b.*\bnewsletter\b",
                r"|\bnewsletter\b.*\b(abonnieren|bestellen|anmelden|subscribe|sign up)\b",
                r"|\bsign up here\b|\bsupport(ing)? (our|us)\b|\bunterstütze(n sie)? (uns|unsere arbeit)\b",
                r"|\bjetzt spenden\b|\bdonate (now|today)\b|\bjede (kleine )?spende\b",
                r"|escucha esta nota|listen to (this|the) (article|story)|artikel (vor)?anhören|écouter cet article",
                r"|^comment by\b|^kommentar von\b",
                r"|möchten sie weiterlesen|ich bin abonnent|jetzt abonnieren|want to keep reading",
                r"|\bunterstützen sie (uns|unsere|diese form|unabhängigen)\b|\bletters? to the editor\b",
                // Disclosures, rights and disclaimers.
                r"|affiliate[- ]links?|\bour advertisers\b|advertisers do not|enthält werbung",
                r"|may (receive|earn) (a )?(compensation|commission)|we (may )?earn a commission",
                r"|copyrighted property|all rights reserved|alle rechte vorbehalten|tous droits réservés",
                r"|todos los derechos reservados|n'engagent que|do not necessarily (reflect|represent)",
                // Notices about the page rather than its subject.
                r"|^(was sind|what are) cookies|respektieren (deine|ihre) privatsphäre|externe inhalte",
                r"|javascript (in ihrem browser )?(zu )?(aktivieren|aktiveren|einschalten)|enable javascript",
                r"|javascript is (disabled|required)|^(das )?(video|audio|sendung)s? (ist )?(verfügbar|available) (bis|until)\b",
                r"|permalien|permalink",
                r"|^(vergrößern|enlarge|agrandir|ampliar)\b|^vorschau auf den nächsten|^(next|previous) (article|post|story)\b",
                r"|(pdf|download|herunterladen|télécharger|descargar).*\b\d+([.,]\d+)? ?(kb|mb)\b",
                r"|\b(als pdf herunterladen|pdf herunterladen|download (the |as )?pdf|pdf download|télécharger (le )?pdf|descargar (el )?pdf)\b",
                r"|\b\d+ (bis|to) \d+ (von|of) (insgesamt )?\d+\b",
                r"|erfolgreich hinzugefügt|added to (your )?(cart|basket|wishlist)|noch keine bewertungen",
                r"|no ratings yet|\b\d+ (stimmen|votes|bewertungen|ratings)\b.*\d([.,]\d+)? (von|of|out of) 5",
                r"|^(kontakt|pressekontakt|contact|press contact|pressemitteilungen|press releases)\s*:?$",
                // "Published: 3 April 2020, 12:35", anywhere in the body.
                r"|^(publiziert|veröffentlicht|aktualisiert|published|updated|posted|last (modified|updated)",
                r"|pubblicato|opublikowano|publicado|publié|mis à jour)( am| on| le| il| el)?\s*:?\s*\d)"
            )),
            network: build(
                r"(?i)\b(facebook|twitter|instagram|telegram|youtube|tiktok|linkedin|whatsapp|pinterest)\b",
            ),
            call: build(concat!(
                r"(?i)(\bfollow|\bfolg|\bs[ií]gue|\bsuiv|\bsegue|\búnete|\bjoin\b|\babonn|\bsubscri",
                r"|\bsuscr|\bmira\b|\bwatch\b|\bcanal\b|\bchannel\b|\bkanal\b|\bconnect with\b",
                r"|\blike us\b|\bfind us\b|\bbesuche|\bvisit us\b)"
            )),
            we: build(concat!(
                r"(?i)\b(we|us|our|wir|uns|unser|unsere|unseren|unserem|nos|nuestro|nuestra|nuestros",
                r"|tenemos|nous|notre|nos|nosso|nossa|noi|nostro|nasz|nasze)\b"
            )),
        }
    })
}

/// What `line` (whitespace collapsed) is, if boilerplate; `index` is its place among the
/// body's lines from the top and `lines` how many there are.
pub(crate) fn classify(line: &str, index: usize, lines: usize) -> Option<Line> {
    let len = line.chars().count();
    if len == 0 || len > MAX_LINE {
        return None;
    }
    let p = patterns();
    let bare =
        line.trim_start_matches(|c: char| matches!(c, '-' | '•' | '¡' | '¿') || c.is_whitespace());
    if len <= MAX_RELATED && p.related.is_match(bare) {
        return Some(Line::Related);
    }
    if len <= MAX_CREDIT && (p.credit.is_match(line) || is_name_and_agency(line)) {
        return Some(Line::Credit);
    }
    if index < DATELINE_WITHIN
        && lines > DATELINE_WITHIN
        && len <= MAX_DATELINE
        && line.split_whitespace().count() <= MAX_DATELINE_WORDS
        && !line.ends_with(['.', '!', '?'])
        && p.date.is_match(line)
    {
        return Some(Line::Dateline);
    }
    // "News > Unterhaltung > Promis": a breadcrumb trail.
    let crumbs = line.chars().filter(|c| matches!(c, '>' | '›' | '»')).count();
    if crumbs >= 2 && line.split_whitespace().count() <= 12 && !line.contains(['.', '?', '!']) {
        return Some(Line::Appeal);
    }
    if p.appeal.is_match(bare)
        || (p.network.is_match(line)
            && p.call.is_match(line)
            && (p.call.find(bare).is_some_and(|m| m.start() == 0) || p.we.is_match(line)))
    {
        return Some(Line::Appeal);
    }
    None
}

/// "Judy Eddy/WENN.com", "aja/PAP": who took the picture or wrote the item, and for whom; a
/// name of two to four capitalised words, or lowercase initials, a slash and one word.
fn is_name_and_agency(line: &str) -> bool {
    let Some((who, agency)) = line.split_once('/') else { return false };
    let (who, agency) = (who.trim(), agency.trim());
    let words: Vec<&str> = who.split_whitespace().collect();
    let initials = words.len() == 1
        && (2..=6).contains(&who.len())
        && who.chars().all(|c| c.is_lowercase() || c == '.');
    let name = (2..=4).contains(&words.len())
        && words.iter().all(|w| w.chars().next().is_some_and(char::is_uppercase));
    (initials || name)
        && (2..=20).contains(&agency.chars().count())
        && !agency.contains(char::is_whitespace)
        && !agency.contains('/')
        && line.chars().count() <= 40
}

/// One line of the body: the kept text a block element holds directly (not in a nested block).
struct BodyLine {
    block: NodeId,
    /// The words, whitespace collapsed (left empty for lines far too long to judge).
    text: String,
    link: usize,
    /// Non-space bytes.
    size: usize,
}

/// Drops the boilerplate lines under `root` (up to `end`), and the other stories under a
/// "related" heading up to the next prose or heading of its level.
pub(crate) fn drop_boilerplate_lines(
    doc: &Document,
    root: NodeId,
    end: NodeId,
    dropped: &mut [bool],
) {
    let (start, end) = (root as usize, end as usize);
    // The nearest block at or above each node (its line), and whether it is inside a link.
    let mut block = vec![root; end - start];
    let mut in_link = vec![false; end - start];
    for i in start + 1..end {
        let p = doc.nodes[i].parent as usize;
        block[i - start] = match doc.nodes[i].kind {
            Kind::Element(t) if t.is_block() => i as NodeId,
            _ => block[p - start],
        };
        in_link[i - start] = in_link[p - start] || doc.tag(i as NodeId) == Some(Tag::A);
    }
    // Each line's size first (non-space bytes), so that only short lines are copied out.
    let mut size = vec![0usize; end - start];
    for i in start..end {
        if !dropped[i] && doc.nodes[i].kind == Kind::Text {
            size[block[i - start] as usize - start] +=
                count_visible(doc.text(i as NodeId)) as usize;
        }
    }
    let mut lines: Vec<BodyLine> = Vec::new();
    let mut line_of = vec![usize::MAX; end - start];
    for i in start..end {
        if dropped[i] || doc.nodes[i].kind != Kind::Text {
            continue;
        }
        let s = doc.text(i as NodeId);
        let b = block[i - start];
        let bo = b as usize - start;
        if size[bo] == 0 {
            continue;
        }
        if line_of[bo] == usize::MAX {
            lines.push(BodyLine { block: b, text: String::new(), link: 0, size: size[bo] });
            line_of[bo] = lines.len() - 1;
        }
        let line = &mut lines[line_of[bo]];
        // Long lines are prose: their size is all that is needed.
        if line.size > MAX_LINE * 4 {
            continue;
        }
        for word in s.split_whitespace() {
            if !line.text.is_empty() {
                line.text.push(' ');
            }
            line.text.push_str(word);
        }
        if in_link[i - start] {
            line.link += count_visible(s) as usize;
        }
    }
    // The headline is the page's title, not a line of the body: datelines are counted from
    // below it.
    let counted = lines.iter().filter(|l| doc.tag(l.block) != Some(Tag::H1)).count();
    let mut index = 0;
    let mut drop = Vec::new();
    for (k, line) in lines.iter().enumerate() {
        let headline = doc.tag(line.block) == Some(Tag::H1);
        if line.size <= MAX_LINE * 4 {
            // An item of a list or table with a date is an entry, not a dateline.
            let item = matches!(doc.tag(line.block), Some(Tag::Li | Tag::Td | Tag::Th | Tag::Dd));
            match classify(&line.text, index, counted) {
                Some(Line::Dateline) if item => {}
                Some(kind) => drop.push((k, kind)),
                None => {}
            }
        }
        index += usize::from(!headline);
    }
    for (k, kind) in drop {
        let b = lines[k].block;
        drop_line(doc, b, start, &block, dropped);
        if kind == Line::Related {
            drop_related_stories(doc, b, root, start, &lines, &line_of, dropped);
        }
    }
}

/// Drops the text `b` holds directly, and `b` itself when nothing else is left in it (an
/// image or a nested block with kept text stays).
fn drop_line(doc: &Document, b: NodeId, start: usize, block: &[NodeId], dropped: &mut [bool]) {
    let bu = b as usize;
    let b_end = doc.subtree_end(b) as usize;
    let keeps_more = (bu + 1..b_end).any(|i| {
        !dropped[i]
            && (matches!(doc.tag(i as NodeId), Some(Tag::Img | Tag::Picture | Tag::Table))
                || (doc.nodes[i].kind == Kind::Text
                    && block[i - start] != b
                    && !doc.text(i as NodeId).trim().is_empty()))
    });
    if !keeps_more {
        dropped[bu..b_end].fill(true);
        return;
    }
    for i in bu + 1..b_end {
        if doc.nodes[i].kind == Kind::Text && block[i - start] == b {
            dropped[i] = true;
        }
    }
}

/// After a "related" heading: its following siblings (climbing out of wrappers that hold only
/// the heading) up to the next heading of its level or above, or the next prose.
fn drop_related_stories(
    doc: &Document,
    heading: NodeId,
    root: NodeId,
    start: usize,
    lines: &[BodyLine],
    line_of: &[usize],
    dropped: &mut [bool],
) {
    let level = doc.tag(heading).filter(|t| t.is_heading()).map(|t| t.heading_level());
    let kept_text = |n: NodeId, dropped: &[bool]| -> bool {
        (n as usize..doc.subtree_end(n) as usize).any(|i| {
            !dropped[i]
                && doc.nodes[i].kind == Kind::Text
                && !doc.text(i as NodeId).trim().is_empty()
        })
    };
    // "<div class=title><h3>More on this</h3></div><ul>...": start from the wrapper.
    let mut from = heading;
    loop {
        let p = doc.nodes[from as usize].parent;
        if p == NONE || p == root || kept_text(p, dropped) {
            break;
        }
        from = p;
    }
    let mut s = doc.nodes[from as usize].next_sibling;
    while s != NONE {
        let next = doc.nodes[s as usize].next_sibling;
        if dropped[s as usize] || !kept_text(s, dropped) {
            s = next;
            continue;
        }
        if let Some(t) = doc.tag(s) {
            if t.is_heading() && level.is_none_or(|l| t.heading_level() <= l) {
                break;
            }
        } else {
            // Loose text beside the heading: not a list of stories.
            break;
        }
        let s_end = doc.subtree_end(s) as usize;
        // Other stories are links (headlines) with a line or two under them; the next section
        // of the article starts with a heading of this level or a table, or is plain text.
        let section = (s as usize..s_end).any(|i| match doc.tag(i as NodeId) {
            Some(Tag::Table) => true,
            Some(t) if t.is_heading() => level.is_none_or(|l| t.heading_level() <= l),
            _ => false,
        });
        let (mut text, mut link) = (0, 0);
        for i in s as usize..s_end {
            let k = line_of[i - start];
            if k != usize::MAX && !dropped[i] {
                text += lines[k].size;
                link += lines[k].link;
            }
        }
        let stories = text < STORY_TEXT || link * 10 >= text * STORY_LINK_TENTHS;
        if section || !stories {
            break;
        }
        dropped[s as usize..s_end].fill(true);
        s = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each line, somewhere in the middle of a body, classifies as `kind`.
    fn each_is(kind: Option<Line>, lines: &[&str]) {
        for l in lines {
            assert_eq!(classify(l, 5, 10), kind, "{l}");
        }
    }

    #[test]
    fn related_headings_in_several_languages() {
        each_is(
            Some(Line::Related),
            &[
                "Mehr zum Thema",
                "Das könnte Sie auch interessieren!",
                "Read more",
                "You may also like",
                "Lire aussi",
                "Noticias relacionadas",
                "- Czytaj także",
            ],
        );
        // A heading that merely starts alike, and a long line, are not.
        assert_eq!(classify("Mehrheit im Bundestag", 5, 10), None);
        assert_eq!(classify("Empfehlungen von Dennis:", 5, 10), None);
        let long = format!("Read more about it: {}", "word ".repeat(20));
        assert_eq!(classify(&long, 5, 10), None);
    }

    #[test]
    fn credits_close_a_caption() {
        each_is(
            Some(Line::Credit),
            &[
                "Golf im TV: Die Übertragungszeiten im Überblick. (Foto: Getty)",
                "Roman Prymula, photo: Archives du Gouvernement tchèque",
                "Crédits photos : Bestimage",
                "Lee Elder war ein Talent. | © Augusta National/Getty Images",
                "Titelbild: Geyres Christophe/ABACA/picture-alliance",
                "Judy Eddy/WENN.com",
                "aja/PAP",
            ],
        );
        // A sentence that goes on after the colon is text.
        assert_eq!(classify("Das Foto: ein Beweis. Er war dort.", 5, 10), None);
        assert_eq!(classify("Input/Output", 5, 10), None);
        assert_eq!(classify("Wir fahren mit Bus/Bahn", 5, 10), None);
    }

    #[test]
    fn datelines_only_near_the_top_and_without_a_sentence() {
        assert_eq!(classify("Energie 12.12.2022, 08:30 Uhr", 0, 10), Some(Line::Dateline));
        assert_eq!(classify("Dienstag, 4. Juni 2019", 1, 10), Some(Line::Dateline));
        assert_eq!(classify("Energie 12.12.2022, 08:30 Uhr", 5, 10), None);
        assert_eq!(classify("Am 5. November 2021 wird sie 100 Jahre alt.", 0, 10), None);
        assert_eq!(classify("Energie 12.12.2022, 08:30 Uhr", 0, 3), None);
    }

    #[test]
    fn appeals_to_share_follow_and_subscribe() {
        each_is(
            Some(Line::Appeal),
            &[
                "Möchten Sie den Artikel teilen?",
                "Follow The Gleaner on Twitter and Instagram",
                "¡Mira lo que tiene nuestro canal de YouTube!",
                "Subscribe now to our eNATION edition for the full story.",
                "This entry was posted in Allgemein. Bookmark the permalink.",
                "- Anzeige-",
                "Keine Kommentare",
                "zurück zur Listenansicht",
                "Möchten Sie weiterlesen?",
                "This post contains affiliate links.",
                "© 2022 Example News. All rights reserved.",
                "Please enable JavaScript to view the comments.",
                "Publiziert: 03.04.2020, 12:35",
                "News > Sport > Fußball",
                "Kontakt:",
                "Es werden die Weine 1 bis 10 von insgesamt 19 angezeigt!",
                "Dieses Skript als PDF herunterladen 123 KB",
                "Dieses Skript als PDF herunterladen",
                "Download the PDF",
            ],
        );
        each_is(
            None,
            &[
                "Ich gehe gerne mit Personen angeln, die meine Angelphilosophie teilen.",
                "Werbung nervt. Tracking nervt.",
                "Vor allem freuen wir uns, wenn Du unsere Podcasts abonnierst.",
                "Sie schrieb auf Twitter, dass sie zurücktritt.",
                "Published in 2019, the study found the opposite.",
                "Kontaktlinsen",
                "Der Wert x > 3 und y > 4 gilt hier.",
            ],
        );
    }
}
