//! The web dashboard on port 9000.
//!
//! Until the dashboard proper is built, port 9000 serves one plain page that says which
//! services this process runs and where, so an operator who opens it learns where to go.
//! In: an [`Overview`] from the binary. Out: an axum [`Router`].
//!
//! ```
//! let overview = ace_dashboard::Overview {
//!     version: "0.1.0".into(),
//!     services: vec![("orchestrator".into(), "http://127.0.0.1:9001".into())],
//! };
//! let _router = ace_dashboard::router(overview);
//! ```

use std::sync::Arc;

use axum::response::Html;
use axum::routing::get;
use axum::Router;

/// What this process runs.
#[derive(Debug, Clone)]
pub struct Overview {
    /// The binary's version.
    pub version: String,
    /// Service name and base URL, in port order.
    pub services: Vec<(String, String)>,
}

/// The dashboard's routes.
pub fn router(overview: Overview) -> Router {
    let page = Arc::new(render(&overview));
    Router::new().route("/", get(move || async move { Html(page.as_str().to_owned()) }))
}

fn render(overview: &Overview) -> String {
    let rows: String = overview
        .services
        .iter()
        .map(|(name, url)| {
            format!("<tr><td>{}</td><td><a href=\"{url}\">{url}</a></td></tr>\n", escape(name), url = escape(url))
        })
        .collect();
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>ACE Web Automation</title></head>\n\
         <body><h1>ACE Web Automation {version}</h1>\n<p>This process is running these services:</p>\n\
         <table><thead><tr><th>service</th><th>address</th></tr></thead><tbody>\n{rows}</tbody></table>\n\
         <p>Jobs are submitted to the orchestrator's <code>POST /v1/jobs</code> with a tenant key; \
         its API is described at <code>/openapi.json</code>.</p></body></html>\n",
        version = escape(&overview.version),
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_lists_services_escaped() {
        let html = render(&Overview {
            version: "1<2".into(),
            services: vec![("health".into(), "http://127.0.0.1:9099".into())],
        });
        assert!(html.contains("health") && html.contains("http://127.0.0.1:9099"));
        assert!(html.contains("1&lt;2") && !html.contains("1<2"));
    }
}
