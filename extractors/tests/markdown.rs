//! HTML to expected Markdown, one construct at a time (whole body rendered, no content selection).

use ace_extractors::{extract, Input, Options, OutputFormat};

fn md(html: &str) -> String {
    let input = Input {
        bytes: html.as_bytes(),
        content_type: None,
        base_url: Some("https://example.com/docs/page.html"),
    };
    let opts = Options {
        formats: vec![OutputFormat::Markdown],
        only_main_content: false,
        ..Options::default()
    };
    extract(&input, &opts).expect("html extracts").markdown.expect("markdown requested")
}

#[test]
fn headings_and_paragraphs() {
    assert_eq!(
        md("<h1>Title</h1><p>First  para\ngraph.</p><h3>Sub <em>head</em></h3><p>Second.</p>"),
        "# Title\n\nFirst para graph.\n\n### Sub *head*\n\nSecond."
    );
}

#[test]
fn emphasis_strong_code_and_strike() {
    assert_eq!(md("<p><strong>bold</strong>, <b>b</b>, <i>it</i>, <code>x &lt; y</code> and <del>gone</del></p>"), "**bold**, **b**, *it*, `x < y` and ~~gone~~");
    assert_eq!(md("<p>use <code>a`b</code></p>"), "use ``a`b``");
}

#[test]
fn links_are_absolute_and_images_keep_alt() {
    assert_eq!(
        md("<p>See <a href='../guide/'>the guide</a> and <a href='https://other.org/x?a=1'>this</a>.</p><p><img src='/img/cat.png' alt='A cat'></p>"),
        "See [the guide](https://example.com/guide/) and [this](https://other.org/x?a=1).\n\n![A cat](https://example.com/img/cat.png)"
    );
    assert_eq!(
        md("<p><a href='/x'><img src='i.png' alt='logo'></a></p>"),
        "[![logo](https://example.com/docs/i.png)](https://example.com/x)"
    );
}

#[test]
fn nested_lists() {
    let html = "<ul><li>one</li><li>two<ul><li>two.a</li><li>two.b<ol><li>deep</li></ol></li></ul></li><li>three</li></ul><ol start='3'><li>c</li><li>d</li></ol>";
    assert_eq!(md(html), "- one\n- two\n  - two.a\n  - two.b\n    1. deep\n- three\n\n3. c\n4. d");
}

#[test]
fn fenced_code_with_language() {
    let html =
        "<pre><code class='language-rust'>fn main() {\n    println!(\"hi\");\n}\n</code></pre>";
    assert_eq!(md(html), "```rust\nfn main() {\n    println!(\"hi\");\n}\n```");
    assert_eq!(md("<pre>plain\n  indented</pre>"), "```\nplain\n  indented\n```");
    assert_eq!(md("<pre><code>has ``` inside</code></pre>"), "````\nhas ``` inside\n````");
}

#[test]
fn tables_become_gfm() {
    let html = "<table><thead><tr><th>Name</th><th>Price</th></tr></thead><tbody><tr><td>Tea</td><td>$3</td></tr><tr><td>A | B</td><td><b>$5</b></td></tr></tbody></table>";
    assert_eq!(md(html), "| Name | Price |\n| --- | --- |\n| Tea | $3 |\n| A \\| B | **$5** |");
    // Ragged rows are padded so every row has the same number of cells.
    assert_eq!(md("<table><tr><td>a<td>b<tr><td>c</table>"), "| a | b |\n| --- | --- |\n| c |  |");
}

#[test]
fn blockquotes_and_rules() {
    assert_eq!(
        md("<blockquote><p>quoted</p><p>twice</p></blockquote><hr><p>after</p>"),
        "> quoted\n>\n> twice\n\n---\n\nafter"
    );
}

#[test]
fn text_that_looks_like_markup_is_escaped() {
    assert_eq!(
        md("<p>2 * 3 = 6 and snake_case</p><p>- not a list</p>"),
        "2 \\* 3 = 6 and snake\\_case\n\n\\- not a list"
    );
}

#[test]
fn layout_wrappers_disappear() {
    assert_eq!(md("<div><div><section><p>a</p></section><span>b</span></div></div>"), "a\n\nb");
}
