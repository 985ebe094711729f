//! Runs the extractor like `ace-web extract` does, before the binary is wired:
//!
//! ```text
//! cargo run -p ace-extractors --release --example extract -- [--format text|markdown|html|json] [--url URL] < page.html
//! cargo run -p ace-extractors --release --example extract -- --batch IN_DIR --out OUT.jsonl [--format ...]
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use ace_extractors::{run_batch, run_single, Format};

fn main() -> ExitCode {
    let mut format = Format::Text;
    let (mut url, mut batch, mut out) = (None, None, None);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        let r: Result<(), String> = match a.as_str() {
            "--format" => value("--format")
                .and_then(|v| v.parse().map(|f| format = f).map_err(|e| format!("{e}"))),
            "--explain" => {
                let mut raw = Vec::new();
                let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut raw);
                let doc = ace_extractors::dom::Document::parse(
                    &ace_extractors::charset::decode(&raw, None).0,
                );
                print!("{}", ace_extractors::content::explain(&doc));
                return ExitCode::SUCCESS;
            }
            "--url" => value("--url").map(|v| url = Some(v)),
            "--batch" => value("--batch").map(|v| batch = Some(PathBuf::from(v))),
            "--out" => value("--out").map(|v| out = Some(PathBuf::from(v))),
            "-h" | "--help" => {
                println!("usage: extract [--format text|markdown|html|json] [--url URL] < page.html\n       extract --batch IN_DIR --out OUT.jsonl [--format F]");
                return ExitCode::SUCCESS;
            }
            other => Err(format!("unknown argument {other}")),
        };
        if let Err(e) = r {
            eprintln!("extract: {e}");
            return ExitCode::from(2);
        }
    }
    let result = match (batch, out) {
        (Some(dir), Some(out)) => run_batch(&dir, &out, format).map(|r| {
            eprintln!(
                "{} pages, {} errors, {:.2}s, {:.1} pages/s, p50 {:.2} ms, p99 {:.2} ms, slowest {:?}",
                r.pages,
                r.errors,
                r.elapsed.as_secs_f64(),
                r.pages as f64 / r.elapsed.as_secs_f64().max(1e-9),
                r.p50.as_secs_f64() * 1e3,
                r.p99.as_secs_f64() * 1e3,
                r.slowest.as_ref().map(|(id, d)| format!("{id} {:.1} ms", d.as_secs_f64() * 1e3)),
            )
        }),
        (Some(_), None) | (None, Some(_)) => {
            eprintln!("extract: --batch and --out go together");
            return ExitCode::from(2);
        }
        (None, None) => run_single(std::io::stdin().lock(), std::io::stdout().lock(), format, url.as_deref()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("extract: {e}");
            ExitCode::FAILURE
        }
    }
}
