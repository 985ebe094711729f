//! Metadata fixtures: OpenGraph, Twitter cards, JSON-LD, dates, canonical, favicon, language.

use ace_extractors::{extract, Input, Metadata, Options, OutputFormat};

fn meta(html: &str, url: Option<&str>) -> Metadata {
    let input = Input { bytes: html.as_bytes(), content_type: None, base_url: url };
    let opts = Options { formats: vec![OutputFormat::Metadata], ..Options::default() };
    extract(&input, &opts).unwrap().metadata.unwrap()
}

const ARTICLE: &str = include_str!("fixtures/metadata_article.html");

#[test]
fn head_tags_opengraph_and_twitter() {
    let m = meta(ARTICLE, Some("https://news.example.com/2024/05/story?utm=x"));
    assert_eq!(m.title.as_deref(), Some("Rivers Rise After Storm | Example News"));
    assert_eq!(m.description.as_deref(), Some("Heavy rain pushed rivers over their banks."));
    assert_eq!(m.language.as_deref(), Some("en-GB"));
    assert_eq!(m.canonical.as_deref(), Some("https://news.example.com/2024/05/story"));
    assert_eq!(m.site_name.as_deref(), Some("Example News"));
    assert_eq!(m.favicon.as_deref(), Some("https://news.example.com/static/icon-32.png"));
    assert_eq!(m.open_graph.get("og:type").map(String::as_str), Some("article"));
    assert_eq!(
        m.open_graph.get("og:image").map(String::as_str),
        Some("https://news.example.com/img/river.jpg")
    );
    assert_eq!(m.twitter_card.get("twitter:card").map(String::as_str), Some("summary_large_image"));
}

#[test]
fn dates_and_author_from_opengraph_then_json_ld() {
    let m = meta(ARTICLE, None);
    assert_eq!(m.date_published.as_deref(), Some("2024-05-02T08:00:00Z"));
    // Only JSON-LD has the modification date and the author's name.
    assert_eq!(m.date_modified.as_deref(), Some("2024-05-03T10:30:00Z"));
    assert_eq!(m.author.as_deref(), Some("Jane Doe"));
    assert_eq!(m.json_ld.len(), 2, "the broken block is skipped, the two valid ones kept");
    assert_eq!(m.json_ld[0]["@type"], "NewsArticle");
}

#[test]
fn json_ld_graph_and_time_element_fallbacks() {
    let html = r#"<html><head><script type="application/ld+json">{"@context":"https://schema.org","@graph":[{"@type":"WebSite","name":"Graph Site"},{"@type":"BlogPosting","datePublished":"2023-01-09","author":[{"@type":"Person","name":"Ann"}]}]}</script></head>
        <body><article><time datetime="2020-01-01">old</time><p>x</p></article></body></html>"#;
    let m = meta(html, None);
    assert_eq!(m.date_published.as_deref(), Some("2023-01-09"));
    assert_eq!(m.author.as_deref(), Some("Ann"));
    assert_eq!(m.site_name.as_deref(), Some("Graph Site"));
    let bare = meta("<p>Posted <time datetime='2021-07-04T12:00'>July 4</time></p>", None);
    assert_eq!(bare.date_published.as_deref(), Some("2021-07-04T12:00"));
    assert_eq!(bare.title, None);
}

#[test]
fn metadata_serialises_in_camel_case() {
    let v = serde_json::to_value(meta(ARTICLE, None)).unwrap();
    for key in ["datePublished", "dateModified", "siteName", "openGraph", "twitterCard", "jsonLd"] {
        assert!(v.get(key).is_some(), "missing {key} in {v}");
    }
}
