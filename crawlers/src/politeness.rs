//! Politeness per host: how many requests one site gets at once, and how far apart.
//!
//! Each origin (scheme, host, port) gets a gate on first use: a semaphore for its concurrent
//! requests and, when a delay applies (robots.txt `Crawl-delay`, or the crawl's `delay`
//! option), a [`governor`] rate limiter that spaces its requests by that delay, with one
//! request at a time. The global limit on requests in flight is the crawler's; by default a
//! host may use all of it and no delay applies, so a crawl of one fast site runs at full speed.
//!
//! The limiter reads a clock built on `tokio::time`, so tests run it with a paused clock.

use std::collections::HashMap;
use std::ops::Add;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::clock::{Clock, Reference};
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The governor clock over `tokio::time` (so a paused test clock drives it).
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioClock;

/// An instant of [`TokioClock`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TokioInstant(tokio::time::Instant);

impl Add<Nanos> for TokioInstant {
    type Output = TokioInstant;
    fn add(self, n: Nanos) -> TokioInstant {
        TokioInstant(self.0 + Duration::from(n))
    }
}

impl Reference for TokioInstant {
    fn duration_since(&self, earlier: TokioInstant) -> Nanos {
        self.0.saturating_duration_since(earlier.0).into()
    }

    fn saturating_sub(&self, d: Nanos) -> TokioInstant {
        self.0.checked_sub(Duration::from(d)).map_or(*self, TokioInstant)
    }
}

impl Clock for TokioClock {
    type Instant = TokioInstant;
    fn now(&self) -> TokioInstant {
        TokioInstant(tokio::time::Instant::now())
    }
}

type Limiter = RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<TokioInstant>>;

/// One origin's gate.
struct HostGate {
    /// Requests in flight to this origin.
    permits: Arc<Semaphore>,
    /// Spaces requests when the origin has a delay.
    limiter: Option<Limiter>,
}

/// Per-origin concurrency and delay, shared by a crawl's fetch tasks.
pub struct Politeness {
    /// Concurrent requests per origin without a delay.
    per_host_concurrency: usize,
    /// The delay every origin gets (Firecrawl's `delay`).
    default_delay: Option<Duration>,
    /// Delays asked for by origins (robots.txt `Crawl-delay`), applied at their gate's creation.
    delays: Mutex<HashMap<String, Duration>>,
    gates: Mutex<HashMap<String, Arc<HostGate>>>,
}

impl std::fmt::Debug for Politeness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Politeness")
            .field("per_host_concurrency", &self.per_host_concurrency)
            .field("default_delay", &self.default_delay)
            .finish_non_exhaustive()
    }
}

/// Held while a request to an origin is in flight.
#[derive(Debug)]
pub struct HostPermit(#[allow(dead_code)] OwnedSemaphorePermit);

impl Politeness {
    /// Up to `per_host_concurrency` requests at once per origin, each origin's requests
    /// `default_delay` apart when given.
    pub fn new(per_host_concurrency: usize, default_delay: Option<Duration>) -> Politeness {
        Politeness {
            per_host_concurrency: per_host_concurrency.max(1),
            default_delay: default_delay.filter(|d| !d.is_zero()),
            delays: Mutex::new(HashMap::new()),
            gates: Mutex::new(HashMap::new()),
        }
    }

    /// Records the delay `origin` asks for (its robots.txt `Crawl-delay`). Call it before the
    /// origin's first request; the longer of this and the default delay applies.
    pub fn set_delay(&self, origin: &str, delay: Duration) {
        if !delay.is_zero() {
            self.delays.lock().expect("politeness lock").insert(origin.to_owned(), delay);
        }
    }

    /// The delay that applies to `origin`.
    pub fn delay_for(&self, origin: &str) -> Option<Duration> {
        let asked = self.delays.lock().expect("politeness lock").get(origin).copied();
        match (asked, self.default_delay) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    fn gate(&self, origin: &str) -> Arc<HostGate> {
        let mut gates = self.gates.lock().expect("politeness lock");
        if let Some(gate) = gates.get(origin) {
            return gate.clone();
        }
        let delay = self.delay_for(origin);
        let limiter = delay.and_then(Quota::with_period).map(|q| RateLimiter::direct_with_clock(q, TokioClock));
        let permits = if limiter.is_some() { 1 } else { self.per_host_concurrency };
        let gate = Arc::new(HostGate { permits: Arc::new(Semaphore::new(permits)), limiter });
        gates.insert(origin.to_owned(), gate.clone());
        gate
    }

    /// Waits until a request to `origin` may start: a free slot, then the delay.
    pub async fn acquire(&self, origin: &str) -> HostPermit {
        let gate = self.gate(origin);
        let permit = gate.permits.clone().acquire_owned().await.expect("the semaphore is never closed");
        if let Some(limiter) = &gate.limiter {
            while let Err(not_until) = limiter.check() {
                tokio::time::sleep(not_until.wait_time_from(TokioClock.now())).await;
            }
        }
        HostPermit(permit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::time::Instant;

    #[tokio::test(start_paused = true)]
    async fn a_delayed_host_gets_one_request_per_delay_and_others_run_free() {
        let p = Arc::new(Politeness::new(8, None));
        p.set_delay("http://slow", Duration::from_secs(2));
        let started = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..4 {
            let _permit = p.acquire("http://slow").await;
            starts.push(started.elapsed());
        }
        assert_eq!(starts, [0, 2, 4, 6].map(Duration::from_secs));
        let fast = Instant::now();
        let held: Vec<HostPermit> = futures::future::join_all((0..8).map(|_| p.acquire("http://fast"))).await;
        assert_eq!(fast.elapsed(), Duration::ZERO, "no delay, 8 at once");
        assert_eq!(held.len(), 8);
    }

    #[tokio::test(start_paused = true)]
    async fn default_delay_and_crawl_delay_take_the_longer_and_concurrency_is_bounded() {
        let p = Arc::new(Politeness::new(2, Some(Duration::from_millis(500))));
        p.set_delay("http://a", Duration::from_secs(1));
        assert_eq!(p.delay_for("http://a"), Some(Duration::from_secs(1)));
        assert_eq!(p.delay_for("http://b"), Some(Duration::from_millis(500)));

        let q = Arc::new(Politeness::new(2, None));
        let a = q.acquire("http://h").await;
        let _b = q.acquire("http://h").await;
        let third = tokio::spawn({
            let q = q.clone();
            async move { q.acquire("http://h").await }
        });
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(!third.is_finished(), "a third request waits for a slot");
        drop(a);
        third.await.unwrap();
    }
}
