//! Firecrawl's webhook events for crawls and batch scrapes: `crawl.started` when a worker
//! first takes the job, `crawl.page` for every page recorded (its document in `data`), and
//! `crawl.completed` or `crawl.failed` (also for a cancelled job) at the end; `batch_scrape.*`
//! for batches. The webhook's `events` list (`started`, `page`, `completed`, `failed`) picks
//! which are sent; without one, all are.
//!
//! The store queues each event in the transaction that records what it announces, so every
//! event goes through the same outbox as a job's completion: signed when the webhook has a
//! secret, retried with backoff, sent once (with the same `webhookId` on every retry).

use serde_json::{json, Value};

use crate::model::{iso, JobKind, JobStatus, WebhookEvent};
use crate::store::JobRecord;

/// A stage of a job's life that Firecrawl announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Started,
    Page,
    Completed,
    Failed,
}

impl Stage {
    /// The name in the webhook's `events` list and after the event's prefix.
    fn as_str(self) -> &'static str {
        match self {
            Stage::Started => "started",
            Stage::Page => "page",
            Stage::Completed => "completed",
            Stage::Failed => "failed",
        }
    }
}

/// Whether `job` was submitted through Firecrawl's API with a webhook (so its webhook speaks
/// Firecrawl's events rather than posting the job document).
pub(crate) fn is_firecrawl_webhook(job: &JobRecord) -> bool {
    job.options.get("webhookShape").and_then(Value::as_str) == Some("firecrawl")
}

/// Whether `job`'s webhook asked for `stage` (all stages when it named none).
fn wants(job: &JobRecord, stage: Stage) -> bool {
    match job.options.get("webhookEvents").and_then(Value::as_array) {
        Some(events) => events.iter().any(|e| e.as_str() == Some(stage.as_str())),
        None => true,
    }
}

/// The event of `stage`, if `job`'s webhook wants it: Firecrawl's payload with the caller's
/// `metadata`, a `webhookId` for deduplication and the time it happened.
fn event(job: &JobRecord, stage: Stage, data: Vec<Value>, error: Option<String>, at: i64) -> Option<WebhookEvent> {
    if !is_firecrawl_webhook(job) || !wants(job, stage) {
        return None;
    }
    let prefix = if job.kind == JobKind::Crawl.as_str() { "crawl" } else { "batch_scrape" };
    let kind = format!("{prefix}.{}", stage.as_str());
    let mut body = json!({
        "success": error.is_none(),
        "type": kind,
        "id": job.id,
        "webhookId": uuid::Uuid::new_v4().to_string(),
        "data": data,
        "metadata": job.options.get("webhookMetadata").cloned().unwrap_or(json!({})),
        "timestamp": iso(at),
    });
    if let Some(error) = error {
        body["error"] = json!(error);
    }
    Some(WebhookEvent { event: kind, body })
}

/// `crawl.started` (or `batch_scrape.started`), for the first time a worker takes `job`.
pub(crate) fn started(job: &JobRecord, at: i64) -> Option<WebhookEvent> {
    event(job, Stage::Started, Vec::new(), None, at)
}

/// `crawl.page` (or `batch_scrape.page`) for one recorded page: its document, or the error
/// of a page that produced none.
pub(crate) fn page(job: &JobRecord, record: &Value, at: i64) -> Option<WebhookEvent> {
    match record.get("error").filter(|_| record.get("metadata").is_none()) {
        Some(error) => {
            let error = error.as_str().map_or_else(|| error.to_string(), str::to_owned);
            event(job, Stage::Page, Vec::new(), Some(error), at)
        }
        None => event(job, Stage::Page, vec![super::document(record)], None, at),
    }
}

/// `crawl.completed` or `crawl.failed` (or the batch's) for a finished `job`; a cancelled job
/// counts as failed, as Firecrawl's does.
pub(crate) fn finished(job: &JobRecord, at: i64) -> Option<WebhookEvent> {
    if job.status == JobStatus::Succeeded {
        event(job, Stage::Completed, Vec::new(), None, at)
    } else {
        let error = job.error.clone().unwrap_or_else(|| job.status.as_str().to_owned());
        event(job, Stage::Failed, Vec::new(), Some(error), at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(kind: &str, options: Value) -> JobRecord {
        JobRecord {
            seq: 1,
            id: "job_1".into(),
            tenant_id: "t".into(),
            kind: kind.into(),
            url: "http://e.com/".into(),
            options,
            webhook_url: Some("http://hook/".into()),
            webhook_secret: None,
            status: JobStatus::Running,
            progress_done: 0,
            progress_total: None,
            attempts: 1,
            max_attempts: 3,
            run_at: 0,
            lease_owner: None,
            lease_until: None,
            error: None,
            error_code: None,
            created_at: 0,
            started_at: Some(0),
            finished_at: None,
        }
    }

    #[test]
    fn events_follow_the_webhooks_list_and_carry_firecrawls_payload() {
        let crawl = job("crawl", json!({ "webhookShape": "firecrawl", "webhookEvents": ["page", "failed"], "webhookMetadata": {"m": 1} }));
        assert!(started(&crawl, 0).is_none(), "not in the events list");
        let doc = json!({ "markdown": "# A", "rawHtml": "<h1>A</h1>", "metadata": { "sourceURL": "http://e.com/a", "statusCode": 200 }, "depth": 1 });
        let e = page(&crawl, &doc, 1_700_000_000_000).unwrap();
        assert_eq!(e.event, "crawl.page");
        assert_eq!((&e.body["success"], &e.body["id"], &e.body["metadata"]), (&json!(true), &json!("job_1"), &json!({"m": 1})));
        assert_eq!(e.body["data"], json!([{ "markdown": "# A", "rawHtml": "<h1>A</h1>", "metadata": { "sourceURL": "http://e.com/a", "statusCode": 200 } }]));
        assert_eq!(e.body["timestamp"], "2023-11-14T22:13:20.000Z");
        assert!(e.body["webhookId"].as_str().is_some_and(|id| id.len() == 36));
        let failed_page = page(&crawl, &json!({ "url": "http://e.com/b", "error": "could not connect", "errorCode": "network_error" }), 0).unwrap();
        assert_eq!((&failed_page.body["success"], &failed_page.body["error"], &failed_page.body["data"]), (&json!(false), &json!("could not connect"), &json!([])));

        let mut cancelled = crawl.clone();
        cancelled.status = JobStatus::Cancelled;
        assert_eq!(finished(&cancelled, 0).unwrap().event, "crawl.failed");
        cancelled.status = JobStatus::Succeeded;
        assert!(finished(&cancelled, 0).is_none(), "completed is not in the events list");

        let batch = job("scrape", json!({ "webhookShape": "firecrawl", "urls": ["http://e.com/"] }));
        assert_eq!(started(&batch, 0).unwrap().event, "batch_scrape.started", "no list: every event");
        assert!(page(&job("crawl", json!({})), &doc, 0).is_none(), "a job API webhook gets only the job document");
    }
}
