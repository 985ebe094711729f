//! Retrying a fetch: exponential backoff with jitter on network errors and 5xx answers, and
//! the server's `Retry-After` (seconds or an HTTP date, capped) on 429 and 503.
//!
//! Waits use `tokio::time`, so tests drive them with a paused clock instead of sleeping.

use std::time::{Duration, SystemTime};

use rand::Rng;
use url::Url;

use crate::{FetchError, FetchOptions, FetchedPage, Fetcher};

/// When and how often a failed fetch is tried again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries in all, the first included (1: never retry).
    pub attempts: u32,
    /// The wait before the first retry; it doubles on each further retry.
    pub base: Duration,
    /// The longest backoff wait.
    pub max_backoff: Duration,
    /// The longest `Retry-After` obeyed; a server that asks for longer gets its answer
    /// recorded instead of stalling the crawl.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            attempts: 3,
            base: Duration::from_millis(250),
            max_backoff: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> RetryPolicy {
        RetryPolicy { attempts: 1, ..RetryPolicy::default() }
    }

    /// The backoff before retry number `retry` (1-based): `base * 2^(retry-1)`, capped, then
    /// "equal jitter" (a random point in its upper half), so that many crawlers failing
    /// together do not come back together, while every wait stays at least half the backoff.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exp = self.base.saturating_mul(1u32 << retry.saturating_sub(1).min(20)).min(self.max_backoff);
        let half = exp / 2;
        let jitter_ns = rand::rng().random_range(0..=half.as_nanos().min(u128::from(u64::MAX)) as u64);
        half + Duration::from_nanos(jitter_ns)
    }
}

/// Whether an HTTP status is worth another try.
pub fn retryable_status(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

/// Reads a `Retry-After` value: delta-seconds or an HTTP date (relative to `now`; a date in
/// the past means "now").
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// What came of a fetch with retries.
#[derive(Debug)]
pub struct Attempted {
    /// The last answer, or the last error.
    pub result: Result<FetchedPage, FetchError>,
    /// Requests made.
    pub attempts: u32,
}

/// Fetches `url`, trying again on retryable errors and statuses as `policy` allows. The last
/// answer is returned even when it is still a 5xx, so the caller records what the server said.
pub async fn fetch_with_retry(fetcher: &dyn Fetcher, url: &Url, opts: &FetchOptions, policy: &RetryPolicy) -> Attempted {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let result = fetcher.fetch(url, opts).await;
        let last = attempts >= policy.attempts.max(1);
        let wait = match &result {
            Ok(page) if retryable_status(page.status) && !last => {
                match page.header("retry-after").and_then(|v| parse_retry_after(v, SystemTime::now())) {
                    Some(asked) if asked > policy.max_retry_after => None,
                    Some(asked) => Some(asked),
                    None => Some(policy.backoff(attempts)),
                }
            }
            Err(e) if e.is_retryable() && !last && !matches!(e, FetchError::Dns { .. }) => Some(policy.backoff(attempts)),
            _ => None,
        };
        match wait {
            Some(wait) => {
                tracing::debug!(url = %url, attempt = attempts, wait_ms = wait.as_millis() as u64, "retrying fetch");
                tokio::time::sleep(wait).await;
            }
            None => return Attempted { result, attempts },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn backoff_doubles_is_capped_and_jittered_within_its_upper_half() {
        let p = RetryPolicy { base: Duration::from_millis(100), max_backoff: Duration::from_millis(700), ..RetryPolicy::default() };
        for (retry, full) in [(1, 100), (2, 200), (3, 400), (4, 700), (30, 700)] {
            for _ in 0..50 {
                let d = p.backoff(retry);
                assert!(d >= Duration::from_millis(full / 2) && d <= Duration::from_millis(full), "retry {retry}: {d:?}");
            }
        }
    }

    #[test]
    fn retry_after_in_seconds_and_as_http_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(90));
        assert_eq!(parse_retry_after(&later, now), Some(Duration::from_secs(90)));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(90));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
    }

    /// Answers from a script, in order; no network, so the paused clock measures only the
    /// retry waits.
    /// A status and an optional `Retry-After`, or an error.
    type Answer = Result<(u16, Option<&'static str>), FetchError>;

    struct Scripted(Mutex<Vec<Answer>>);

    #[async_trait::async_trait]
    impl Fetcher for Scripted {
        async fn fetch(&self, url: &Url, _: &FetchOptions) -> Result<FetchedPage, FetchError> {
            let (status, retry_after) = self.0.lock().unwrap().remove(0)?;
            Ok(FetchedPage {
                url: url.clone(),
                final_url: url.clone(),
                status,
                headers: retry_after.map(|v| ("retry-after".to_owned(), v.to_owned())).into_iter().collect(),
                body: bytes::Bytes::new(),
                elapsed: Duration::ZERO,
                rendered: false,
            })
        }
    }

    fn net_err() -> FetchError {
        FetchError::Network { url: "u".into(), reason: "reset".into() }
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_is_waited_exactly_and_backoff_between_errors() {
        let url = Url::parse("http://127.0.0.1/x").unwrap();
        let policy = RetryPolicy { attempts: 4, base: Duration::from_secs(1), ..RetryPolicy::default() };
        let f = Scripted(Mutex::new(vec![Ok((429, Some("5"))), Err(net_err()), Ok((503, None)), Ok((200, None))]));
        let started = tokio::time::Instant::now();
        let done = fetch_with_retry(&f, &url, &FetchOptions::default(), &policy).await;
        let waited = started.elapsed();
        assert_eq!((done.result.unwrap().status, done.attempts), (200, 4));
        // 5 s asked for, then the backoffs before retries 2 and 3: 1..=2 s and 2..=4 s.
        assert!(waited >= Duration::from_secs(8) && waited <= Duration::from_secs(11), "{waited:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_after_the_attempts_and_on_an_over_long_retry_after() {
        let url = Url::parse("http://127.0.0.1/x").unwrap();
        let policy = RetryPolicy { attempts: 2, ..RetryPolicy::default() };
        let f = Scripted(Mutex::new(vec![Ok((500, None)), Ok((500, None)), Ok((200, None))]));
        let done = fetch_with_retry(&f, &url, &FetchOptions::default(), &policy).await;
        assert_eq!((done.result.unwrap().status, done.attempts), (500, 2), "the last answer is kept");

        let f = Scripted(Mutex::new(vec![Ok((429, Some("3600"))), Ok((200, None))]));
        let started = tokio::time::Instant::now();
        let done = fetch_with_retry(&f, &url, &FetchOptions::default(), &policy).await;
        assert_eq!((done.result.unwrap().status, done.attempts), (429, 1));
        assert_eq!(started.elapsed(), Duration::ZERO, "an hour is past the cap: not waited");

        let f = Scripted(Mutex::new(vec![Err(FetchError::InvalidUrl { url: "u".into(), reason: "r".into() })]));
        let done = fetch_with_retry(&f, &url, &FetchOptions::default(), &RetryPolicy::default()).await;
        assert_eq!((done.result.unwrap_err().code(), done.attempts), ("invalid_url", 1), "not retryable");
    }
}
