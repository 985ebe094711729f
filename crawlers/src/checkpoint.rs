//! Resumable crawls: what a crawl must remember to go on after its process died.
//!
//! The seam is data, not callbacks: every [`CrawledPage`](crate::crawl::CrawledPage) carries
//! the URLs it added to the frontier ([`QueuedUrl`]s), and a crawl can start from a
//! [`CrawlCheckpoint`] (pages done, URLs queued). Whoever records a page records its
//! `discovered` URLs *in the same write*, so a checkpoint never holds a page without its
//! links or links without their page; the orchestrator does it in one store transaction with
//! the page's result. [`MemoryCheckpoint`] is the in-memory version, for tests and the CLI.

use url::Url;

use crate::crawl::CrawledPage;

/// A URL waiting in the frontier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedUrl {
    /// The normalised URL.
    pub url: Url,
    /// Link hops from the start page.
    pub depth: u32,
    /// Where it was found.
    pub parent: Option<Url>,
}

/// Where a crawl stood: the pages it finished and the URLs still to visit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CrawlCheckpoint {
    /// URLs whose page was fetched and recorded (or failed for good): never fetched again.
    pub done: Vec<Url>,
    /// URLs discovered but not done, in the order they should be visited.
    pub queued: Vec<QueuedUrl>,
}

impl CrawlCheckpoint {
    /// Whether this is a fresh start.
    pub fn is_empty(&self) -> bool {
        self.done.is_empty() && self.queued.is_empty()
    }
}

/// A checkpoint kept in memory, fed with each page as it is recorded.
#[derive(Debug, Default)]
pub struct MemoryCheckpoint {
    done: Vec<Url>,
    done_set: std::collections::HashSet<String>,
    queued: Vec<QueuedUrl>,
}

impl MemoryCheckpoint {
    /// Records a finished page and what it discovered.
    pub fn record(&mut self, page: &CrawledPage) {
        if self.done_set.insert(page.url.to_string()) {
            self.done.push(page.url.clone());
        }
        self.queued.extend(page.discovered.iter().cloned());
    }

    /// The checkpoint to resume from.
    pub fn snapshot(&self) -> CrawlCheckpoint {
        let mut seen = std::collections::HashSet::new();
        let queued = self
            .queued
            .iter()
            .filter(|q| !self.done_set.contains(q.url.as_str()) && seen.insert(q.url.as_str()))
            .cloned()
            .collect();
        CrawlCheckpoint { done: self.done.clone(), queued }
    }
}
