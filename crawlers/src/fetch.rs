//! The [`Fetcher`] seam and its plain-HTTP implementation.

use std::error::Error as StdError;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect;
use url::Url;

use crate::{FetchError, FetchGuard, Forbidden};

/// How to fetch.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Whole-request limit, from connect to the last body byte.
    pub timeout: Duration,
    /// Bodies larger than this fail with [`FetchError::TooLarge`].
    pub max_body_bytes: u64,
    /// Extra request headers.
    pub headers: Vec<(String, String)>,
    /// Follow redirects (each hop guarded). A crawler turns this off to dedupe and scope
    /// redirect targets itself.
    pub follow_redirects: bool,
    /// Most time to wait for the response headers, and then between two chunks of the body:
    /// a server that stalls fails with [`FetchError::Timeout`] long before
    /// [`timeout`](Self::timeout) would. `None` (the default, as a one-page scrape wants):
    /// only the whole-request timeout applies. Crawls set it (see `CrawlOptions`).
    pub read_timeout: Option<Duration>,
    /// Only read bodies whose `Content-Type` starts with one of these (case-insensitive);
    /// others fail with [`FetchError::UnwantedContent`] before their body is downloaded.
    /// Empty: every type. A response without a `Content-Type` is always read.
    pub content_types: Vec<String>,
}

impl Default for FetchOptions {
    fn default() -> FetchOptions {
        FetchOptions {
            timeout: Duration::from_secs(30),
            max_body_bytes: 10 * 1024 * 1024,
            headers: Vec::new(),
            follow_redirects: true,
            read_timeout: None,
            content_types: Vec::new(),
        }
    }
}

/// A fetched response.
#[derive(Debug, Clone)]
pub struct FetchedPage {
    /// The URL asked for.
    pub url: Url,
    /// The URL after redirects.
    pub final_url: Url,
    /// HTTP status.
    pub status: u16,
    /// Response headers, names lower-case, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The body, decompressed.
    pub body: Bytes,
    /// Time from request to last byte (to the rendered DOM, when rendered).
    pub elapsed: Duration,
    /// Whether a browser made the body: the serialised DOM after the page's scripts ran
    /// (see [`RenderingFetcher`](crate::RenderingFetcher)), not the bytes the server sent.
    pub rendered: bool,
}

impl FetchedPage {
    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Something that fetches a URL. Engines depend on this, never on a concrete client.
#[async_trait]
pub trait Fetcher: Send + Sync {
    /// Fetches `url`, following redirects within the fetcher's policy.
    async fn fetch(&self, url: &Url, opts: &FetchOptions) -> Result<FetchedPage, FetchError>;
}

/// Plain HTTP(S) with the [`FetchGuard`] on every connection and every redirect.
#[derive(Debug, Clone)]
pub struct HttpFetcher {
    client: reqwest::Client,
    /// The same, but answering redirects as they are.
    direct: reqwest::Client,
    guard: FetchGuard,
    max_redirects: usize,
}

/// The longest a TCP (and TLS) connection may take to open; the whole-request timeout caps it.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The limit on redirect hops, after which a chain is treated as a loop.
const MAX_REDIRECTS: usize = 10;

impl HttpFetcher {
    /// A fetcher that applies `guard`; `defaults` gives the connect timeout.
    pub fn new(guard: FetchGuard, defaults: FetchOptions) -> Result<HttpFetcher, FetchError> {
        let hop_guard = guard;
        let policy = redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= MAX_REDIRECTS {
                return attempt.error(TooManyRedirects);
            }
            match hop_guard.check_url(attempt.url()) {
                Ok(()) => attempt.follow(),
                Err(forbidden) => attempt.error(forbidden),
            }
        });
        let build = |policy| {
            reqwest::Client::builder()
                .user_agent(concat!("ace-web/", env!("CARGO_PKG_VERSION")))
                .redirect(policy)
                .dns_resolver(Arc::new(GuardedResolver { guard }))
                .connect_timeout(defaults.timeout.min(CONNECT_TIMEOUT))
                .pool_max_idle_per_host(64)
                .build()
                .map_err(|e| FetchError::Client(e.to_string()))
        };
        let client = build(policy)?;
        let direct = build(redirect::Policy::none())?;
        Ok(HttpFetcher { client, direct, guard, max_redirects: MAX_REDIRECTS })
    }

    /// The guard this fetcher applies.
    pub fn guard(&self) -> FetchGuard {
        self.guard
    }

    /// The underlying client, for callers that send other requests under the same guard
    /// (webhook deliveries).
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    fn map_error(&self, url: &Url, e: reqwest::Error, timeout: Duration) -> FetchError {
        if let Some(forbidden) = find_source::<Forbidden>(&e) {
            return FetchError::Forbidden(forbidden.clone());
        }
        if find_source::<TooManyRedirects>(&e).is_some() {
            return FetchError::TooManyRedirects { url: url.to_string(), limit: self.max_redirects };
        }
        if let Some(dns) = find_source::<DnsFailure>(&e) {
            return FetchError::Dns { host: dns.host.clone() };
        }
        if e.is_timeout() {
            return FetchError::Timeout { url: url.to_string(), after: timeout };
        }
        let reason = if e.is_connect() {
            "could not connect".to_owned()
        } else if e.is_body() || e.is_decode() {
            "the response body was cut off or could not be decoded".to_owned()
        } else {
            innermost(&e)
        };
        FetchError::Network { url: url.to_string(), reason }
    }
}

#[async_trait]
impl Fetcher for HttpFetcher {
    async fn fetch(&self, url: &Url, opts: &FetchOptions) -> Result<FetchedPage, FetchError> {
        self.guard.check_url(url)?;
        let started = Instant::now();
        let client = if opts.follow_redirects { &self.client } else { &self.direct };
        let mut request = client.get(url.clone()).timeout(opts.timeout);
        for (name, value) in &opts.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let read_timeout = opts.read_timeout.unwrap_or(opts.timeout).min(opts.timeout);
        let timed_out = || FetchError::Timeout { url: url.to_string(), after: read_timeout };
        let response = tokio::time::timeout(read_timeout, request.send())
            .await
            .map_err(|_| timed_out())?
            .map_err(|e| self.map_error(url, e, opts.timeout))?;
        let status = response.status().as_u16();
        let final_url = response.url().clone();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let too_large = || FetchError::TooLarge { url: final_url.to_string(), limit: opts.max_body_bytes };
        if response.content_length().is_some_and(|n| n > opts.max_body_bytes) {
            return Err(too_large());
        }
        if !opts.content_types.is_empty() {
            if let Some(ct) = response.headers().get(http::header::CONTENT_TYPE) {
                let ct = String::from_utf8_lossy(ct.as_bytes()).trim().to_ascii_lowercase();
                if !opts.content_types.iter().any(|want| ct.starts_with(&want.to_ascii_lowercase())) {
                    return Err(FetchError::UnwantedContent { url: final_url.to_string(), content_type: ct });
                }
            }
        }
        let mut body = BytesMut::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = tokio::time::timeout(read_timeout, stream.next()).await.map_err(|_| timed_out())? {
            let chunk = chunk.map_err(|e| self.map_error(url, e, opts.timeout))?;
            if (body.len() + chunk.len()) as u64 > opts.max_body_bytes {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(FetchedPage {
            url: url.clone(),
            final_url,
            status,
            headers,
            body: body.freeze(),
            elapsed: started.elapsed(),
            rendered: false,
        })
    }
}

#[derive(Debug, thiserror::Error)]
#[error("too many redirects")]
struct TooManyRedirects;

#[derive(Debug, thiserror::Error)]
#[error("could not resolve {host}")]
struct DnsFailure {
    host: String,
}

/// Resolves with the system resolver, then refuses the name if any address is forbidden.
struct GuardedResolver {
    guard: FetchGuard,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = self.guard;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|_| Box::new(DnsFailure { host: host.clone() }) as Box<dyn StdError + Send + Sync>)?
                .collect();
            if addrs.is_empty() {
                return Err(Box::new(DnsFailure { host }) as Box<dyn StdError + Send + Sync>);
            }
            for addr in &addrs {
                guard.check_ip(addr.ip()).map_err(|mut forbidden| {
                    forbidden.target = format!("{host} ({})", forbidden.target);
                    Box::new(forbidden) as Box<dyn StdError + Send + Sync>
                })?;
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

fn find_source<'a, T: StdError + 'static>(e: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut current: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = current {
        if let Some(found) = err.downcast_ref::<T>() {
            return Some(found);
        }
        current = err.source();
    }
    None
}

fn innermost(e: &(dyn StdError + 'static)) -> String {
    let mut last = e;
    while let Some(next) = last.source() {
        last = next;
    }
    last.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A loopback HTTP server on bare tokio that answers each request with a canned
    /// response, so tests can send what a well-behaved framework would not (redirect loops).
    mod raw_http {
        use std::net::SocketAddr;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        pub struct App(pub fn(&str) -> String);

        impl App {
            pub async fn serve(self) -> SocketAddr {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let handler = self.0;
                tokio::spawn(async move {
                    loop {
                        let Ok((mut sock, _)) = listener.accept().await else { return };
                        tokio::spawn(async move {
                            let mut buf = vec![0u8; 4096];
                            let n = sock.read(&mut buf).await.unwrap_or(0);
                            let req = String::from_utf8_lossy(&buf[..n]).to_string();
                            let path = req.split_whitespace().nth(1).unwrap_or("/").to_owned();
                            let _ = sock.write_all(handler(&path).as_bytes()).await;
                        });
                    }
                });
                addr
            }
        }
    }

    fn respond(path: &str) -> String {
        match path {
            "/private-hop" => "HTTP/1.1 302 Found\r\nLocation: http://10.0.0.1/secret\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into(),
            "/loop" => "HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into(),
            "/big" => format!("HTTP/1.1 200 OK\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n{}", "x".repeat(5000)),
            _ => "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello".into(),
        }
    }

    fn loopback_only() -> FetchGuard {
        FetchGuard { allow_loopback: true, allow_private: false }
    }

    #[tokio::test]
    async fn redirect_hop_to_private_address_is_refused() {
        let addr = raw_http::App(respond).serve().await;
        let fetcher = HttpFetcher::new(loopback_only(), FetchOptions::default()).unwrap();
        let url = Url::parse(&format!("http://{addr}/private-hop")).unwrap();
        let err = fetcher.fetch(&url, &FetchOptions::default()).await.unwrap_err();
        assert_eq!(err.code(), "target_forbidden", "{err}");
        assert!(err.to_string().contains("10.0.0.1"), "{err}");
    }

    #[tokio::test]
    async fn loopback_by_name_is_refused_after_dns() {
        let addr = raw_http::App(respond).serve().await;
        let fetcher = HttpFetcher::new(FetchGuard::deny_private(), FetchOptions::default()).unwrap();
        let url = Url::parse(&format!("http://localhost:{}/", addr.port())).unwrap();
        let err = fetcher.fetch(&url, &FetchOptions::default()).await.unwrap_err();
        assert_eq!(err.code(), "target_forbidden", "{err}");
    }

    #[tokio::test]
    async fn redirect_loop_and_oversized_body_fail_clearly() {
        let addr = raw_http::App(respond).serve().await;
        let fetcher = HttpFetcher::new(loopback_only(), FetchOptions::default()).unwrap();
        let looped = Url::parse(&format!("http://{addr}/loop")).unwrap();
        let err = fetcher.fetch(&looped, &FetchOptions::default()).await.unwrap_err();
        assert_eq!(err.code(), "too_many_redirects", "{err}");

        let big = Url::parse(&format!("http://{addr}/big")).unwrap();
        let small = FetchOptions { max_body_bytes: 1000, ..FetchOptions::default() };
        assert_eq!(fetcher.fetch(&big, &small).await.unwrap_err().code(), "too_large");

        let ok = Url::parse(&format!("http://{addr}/")).unwrap();
        let page = fetcher.fetch(&ok, &FetchOptions::default()).await.unwrap();
        assert_eq!((page.status, &page.body[..]), (200, &b"hello"[..]));
        assert_eq!(page.header("content-type"), Some("text/html"));
    }

    #[tokio::test]
    async fn refused_connection_is_a_retryable_network_error() {
        let closed = ace_fixtures::ClosedPort::new();
        let port = closed.port();
        let fetcher = HttpFetcher::new(loopback_only(), FetchOptions::default()).unwrap();
        let url = Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
        let err = fetcher.fetch(&url, &FetchOptions::default()).await.unwrap_err();
        assert!(err.is_retryable() && err.code() == "network_error", "{err}");
    }
}
