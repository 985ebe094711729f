//! Jobs as the API shows them: kinds, statuses and the job document.
//!
//! The same [`job_document`] is returned by `GET /v1/jobs/{id}`, carried by the `done` event
//! and posted to webhooks, so every client sees one shape.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::store::{ArtifactRecord, JobRecord};

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    /// One page.
    Scrape,
    /// A site, page by page.
    Crawl,
    /// A site's URLs.
    Map,
    /// An offline copy of a site.
    Replicate,
    /// Content extracted from a page.
    Extract,
    /// A rendered image of a page.
    Screenshot,
    /// A rendered PDF of a page.
    Pdf,
}

impl JobKind {
    /// Every kind, in the API's order.
    pub const ALL: [JobKind; 7] = [
        JobKind::Scrape,
        JobKind::Crawl,
        JobKind::Map,
        JobKind::Replicate,
        JobKind::Extract,
        JobKind::Screenshot,
        JobKind::Pdf,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Scrape => "scrape",
            JobKind::Crawl => "crawl",
            JobKind::Map => "map",
            JobKind::Replicate => "replicate",
            JobKind::Extract => "extract",
            JobKind::Screenshot => "screenshot",
            JobKind::Pdf => "pdf",
        }
    }

    /// Parses a stored or requested name.
    pub fn parse(s: &str) -> Option<JobKind> {
        JobKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Waiting for a worker (new, or waiting to retry).
    Queued,
    /// A worker holds its lease.
    Running,
    /// Finished with a result.
    Succeeded,
    /// Finished without one.
    Failed,
    /// Stopped by its tenant.
    Cancelled,
}

impl JobStatus {
    /// Every status.
    pub const ALL: [JobStatus; 5] =
        [JobStatus::Queued, JobStatus::Running, JobStatus::Succeeded, JobStatus::Failed, JobStatus::Cancelled];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<JobStatus> {
        JobStatus::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the job can change no more.
    pub fn is_terminal(self) -> bool {
        matches!(self, JobStatus::Succeeded | JobStatus::Failed | JobStatus::Cancelled)
    }
}

/// Milliseconds since the epoch, as the store keeps times.
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// RFC 3339 with milliseconds, UTC.
pub fn iso(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Progress of a job in its own units (pages for scrapes and crawls).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Progress {
    /// Units done.
    pub done: i64,
    /// Units expected, once known.
    pub total: Option<i64>,
}

/// An artifact as listed in a job document.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ArtifactDoc {
    /// File name.
    pub name: String,
    /// Size in bytes.
    pub bytes: i64,
    /// MIME type.
    pub content_type: String,
    /// Where to download it (relative to the orchestrator).
    pub url: String,
}

/// The job as every client sees it: `GET /v1/jobs/{id}`, the `done` event and webhooks.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct JobDocument {
    /// Job id.
    pub id: String,
    /// Job kind.
    pub kind: String,
    /// Target URL.
    pub url: String,
    /// Where it stands.
    pub status: JobStatus,
    /// How far it got.
    pub progress: Progress,
    /// Attempts started so far.
    pub attempts: i64,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339, once a worker first took it.
    pub started_at: Option<String>,
    /// RFC 3339, once finished.
    pub finished_at: Option<String>,
    /// What went wrong last (a sentence), if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The code of that error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// Files the job produced (omitted in listings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artifacts: Option<Vec<ArtifactDoc>>,
}

/// The document of `job`; `artifacts: None` leaves them out (listings).
pub fn job_document(job: &JobRecord, artifacts: Option<&[ArtifactRecord]>) -> JobDocument {
    JobDocument {
        id: job.id.clone(),
        kind: job.kind.clone(),
        url: job.url.clone(),
        status: job.status,
        progress: Progress { done: job.progress_done, total: job.progress_total },
        attempts: job.attempts,
        created_at: iso(job.created_at),
        started_at: job.started_at.map(iso),
        finished_at: job.finished_at.map(iso),
        error: job.error.clone(),
        error_code: job.error_code.clone(),
        artifacts: artifacts.map(|list| {
            list.iter()
                .map(|a| ArtifactDoc {
                    name: a.name.clone(),
                    bytes: a.bytes,
                    content_type: a.content_type.clone(),
                    url: format!("/v1/jobs/{}/artifacts/{}", job.id, a.name),
                })
                .collect()
        }),
    }
}

/// One webhook delivery to queue: the event it announces (sent as `X-Ace-Event`) and its body.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEvent {
    /// `job.done` for a job's document; Firecrawl's event type (`crawl.page`, ...) otherwise.
    pub event: String,
    /// What is POSTed.
    pub body: serde_json::Value,
}

/// The completion webhook of a finished job, or `None` when its webhook does not want this
/// outcome. Jobs submitted through Firecrawl's API get Firecrawl's event
/// ([`crate::firecrawl::events`]: `crawl.completed`, `batch_scrape.failed`, ..., with the
/// caller's `metadata`); every other job gets its job `document` as a `job.done` event.
pub fn webhook_body(job: &JobRecord, document: &serde_json::Value) -> Option<WebhookEvent> {
    if crate::firecrawl::events::is_firecrawl_webhook(job) {
        return crate::firecrawl::events::finished(job, job.finished_at.unwrap_or_else(now_ms));
    }
    Some(WebhookEvent { event: "job.done".into(), body: document.clone() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in JobKind::ALL {
            assert_eq!(JobKind::parse(k.as_str()), Some(k));
        }
        for s in JobStatus::ALL {
            assert_eq!(JobStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(JobKind::parse("Scrape"), None);
    }

    #[test]
    fn iso_is_utc_with_millis() {
        assert_eq!(iso(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    }
}
