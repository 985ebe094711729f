//! Reading job options shared by the engines.

use std::time::Duration;

use ace_crawlers::FetchOptions;
use serde_json::Value;

use super::EngineError;

/// Reads `timeout` (ms) and `headers` from job options over the defaults.
pub(crate) fn fetch_options(options: &Value, defaults: &FetchOptions) -> Result<FetchOptions, EngineError> {
    let bad = |message: String| EngineError::Fatal { code: "invalid_request".into(), message };
    let mut opts = defaults.clone();
    if let Some(t) = options.get("timeout") {
        let ms = t.as_u64().filter(|ms| (1..=300_000).contains(ms)).ok_or_else(|| bad("options.timeout must be milliseconds between 1 and 300000".into()))?;
        opts.timeout = Duration::from_millis(ms);
    }
    if let Some(h) = options.get("headers") {
        let map = h.as_object().ok_or_else(|| bad("options.headers must be an object of strings".into()))?;
        for (name, value) in map {
            let value = value.as_str().ok_or_else(|| bad(format!("options.headers.{name} must be a string")))?;
            opts.headers.push((name.clone(), value.to_owned()));
        }
    }
    Ok(opts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn options_override_defaults_and_reject_nonsense() {
        let d = FetchOptions::default();
        let o = fetch_options(&json!({"timeout": 1500, "headers": {"x-a": "1"}}), &d).unwrap();
        assert_eq!(o.timeout, Duration::from_millis(1500));
        assert_eq!(o.headers, vec![("x-a".to_owned(), "1".to_owned())]);
        assert!(fetch_options(&json!({"timeout": "soon"}), &d).is_err());
        assert!(fetch_options(&json!({"headers": {"x": 1}}), &d).is_err());
    }
}
