//! HTML in, content out: the extraction engine shared by the scraper, the replicator and the
//! extractor service on port 9003.
//!
//! What flows in is a page's HTML (and, later, its bytes and base URL); what flows out are the
//! pieces a customer asks for. Today that is the page's metadata that the simplest scrape
//! reports, [`page_title`]; main-content extraction, Markdown and the rest grow here.
//!
//! ```
//! let html = "<html><head><title> Hello\n world </title></head><body></body></html>";
//! assert_eq!(ace_extractors::page_title(html).as_deref(), Some("Hello world"));
//! ```

use scraper::{Html, Selector};

/// The document's `<title>`, with runs of whitespace collapsed; `None` when absent or blank.
pub fn page_title(html: &str) -> Option<String> {
    let doc = Html::parse_document(html);
    let selector = Selector::parse("title").expect("static selector is valid");
    let raw: String = doc.select(&selector).next()?.text().collect();
    let title = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    (!title.is_empty()).then_some(title)
}

#[cfg(test)]
mod tests {
    use super::page_title;

    #[test]
    fn missing_or_blank_title_is_none() {
        assert_eq!(page_title("<p>no head</p>"), None);
        assert_eq!(page_title("<title>  \n </title>"), None);
    }

    #[test]
    fn first_title_wins_and_entities_decode() {
        let html = "<title>A &amp; B</title><svg><title>icon</title></svg>";
        assert_eq!(page_title(html).as_deref(), Some("A & B"));
    }
}
