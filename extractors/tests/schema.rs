//! The `json` format: a selector schema, nested and multiple.

use ace_extractors::{extract, ExtractError, Input, Options, OutputFormat, Schema};
use serde_json::json;

fn run(html: &str, schema: serde_json::Value) -> Result<serde_json::Value, ExtractError> {
    let schema: Schema = serde_json::from_value(schema).unwrap();
    let opts =
        Options { formats: vec![OutputFormat::Json], schema: Some(schema), ..Options::default() };
    extract(
        &Input {
            bytes: html.as_bytes(),
            content_type: None,
            base_url: Some("https://shop.example.com/list"),
        },
        &opts,
    )
    .map(|o| o.json.unwrap())
}

#[test]
fn nested_multiple_fields_with_attributes() {
    let html = "<h1> Lamps </h1><div class=item><a href='/p/1'>Oak</a><span class=price>$1</span></div><div class=item><a href='/p/2'>Brass</a><span class=price>$2</span></div>";
    let v = run(
        html,
        json!({"fields": {
            "title": {"selector": "h1"},
            "missing": {"selector": ".nope"},
            "items": {"selector": ".item", "multiple": true, "fields": {
                "name": {"selector": "a"},
                "url": {"selector": "a", "attr": "href"},
                "price": {"selector": ".price"}
            }}
        }}),
    )
    .unwrap();
    assert_eq!(
        v,
        json!({
            "title": "Lamps",
            "missing": null,
            "items": [
                {"name": "Oak", "url": "https://shop.example.com/p/1", "price": "$1"},
                {"name": "Brass", "url": "https://shop.example.com/p/2", "price": "$2"}
            ]
        })
    );
}

#[test]
fn bad_selectors_are_errors() {
    let r = run("<p>x</p>", json!({"fields": {"a": {"selector": "p[[["}}}));
    assert!(matches!(r, Err(ExtractError::InvalidSelector { .. })), "{r:?}");
}
