//! Text input rendered to Markdown and text over the whole body (no content selection), so
//! every construct reaches the renderers: they must never panic.
#![no_main]

use ace_extractors::{extract, Input, Options, OutputFormat};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|html: &str| {
    let opts = Options { formats: vec![OutputFormat::Markdown, OutputFormat::Text, OutputFormat::Html], only_main_content: false, ..Options::default() };
    let _ = extract(&Input::html(html), &opts);
});
