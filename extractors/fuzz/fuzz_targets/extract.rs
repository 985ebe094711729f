//! Any bytes through the whole pipeline with every format: must never panic.
#![no_main]

use ace_extractors::{extract, Input, Options, OutputFormat};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = Options {
        formats: vec![
            OutputFormat::Markdown,
            OutputFormat::Text,
            OutputFormat::Html,
            OutputFormat::Metadata,
            OutputFormat::Links,
            OutputFormat::Images,
            OutputFormat::Tables,
        ],
        ..Options::default()
    };
    let _ = extract(&Input { bytes: data, content_type: None, base_url: Some("https://example.com/a/b") }, &opts);
});
