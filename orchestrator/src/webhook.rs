//! Webhook delivery: the outbox written with each job's outcome (and, for Firecrawl's
//! webhooks, with its start and each page), sent and retried.
//!
//! The body is the job document (event `job.done`) or one of Firecrawl's events, named in
//! `X-Ace-Event`; `X-Ace-Signature: sha256=<hex>` is HMAC-SHA256 of the exact body bytes with
//! the job's webhook secret. A delivery that does not get a 2xx answer is retried with
//! exponential backoff up to `webhook_max_attempts`. One job's due deliveries are sent one
//! after the other, in the order they were queued, so a receiver sees `crawl.started`, the
//! pages and the end in order unless a retry intervenes; different jobs' go out together.
//! Deliveries go through the same fetch guard as pages, so a webhook cannot reach a private
//! address either.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::model::now_ms;
use crate::store::WebhookDelivery;
use crate::worker::backoff;
use crate::AppState;

/// Signs `body` with `secret`: the value of `X-Ace-Signature`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Deliveries claimed at once.
const BATCH: i64 = 16;

/// Sends due deliveries until shutdown.
pub async fn run(state: AppState) {
    let idle = Duration::from_millis(state.config.poll_interval_ms);
    while !state.shutdown.is_cancelled() {
        let now = now_ms();
        // Claimed rows are held until a whole batch could have been sent one after the other
        // (one job's are), each to its timeout, so no other dispatcher sends them meanwhile.
        let hold = now + (BATCH + 1) * 1000 * state.config.webhook_timeout_seconds as i64;
        let due = match state.store.claim_webhooks(now, hold, BATCH).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "claiming webhook deliveries failed");
                Vec::new()
            }
        };
        if due.is_empty() {
            tokio::select! {
                _ = state.shutdown.cancelled() => {}
                _ = state.webhooks_wake.notified() => {}
                _ = tokio::time::sleep(idle) => {}
            }
            continue;
        }
        let sends = by_job(due).into_iter().map(|deliveries| {
            let state = &state;
            async move {
                for d in deliveries {
                    deliver(state, d).await;
                }
            }
        });
        futures::future::join_all(sends).await;
    }
}

/// Due deliveries grouped by job, each group in the order its deliveries were queued.
fn by_job(mut due: Vec<WebhookDelivery>) -> Vec<Vec<WebhookDelivery>> {
    due.sort_by_key(|d| d.id);
    let mut groups: Vec<Vec<WebhookDelivery>> = Vec::new();
    for d in due {
        match groups.iter_mut().find(|g| g[0].job_id == d.job_id) {
            Some(group) => group.push(d),
            None => groups.push(vec![d]),
        }
    }
    groups
}

async fn deliver(state: &AppState, d: WebhookDelivery) {
    let attempts = d.attempts + 1;
    let mut request = state
        .http
        .client()
        .post(&d.url)
        .timeout(Duration::from_secs(state.config.webhook_timeout_seconds))
        .header("content-type", "application/json")
        .header("x-ace-event", &d.event)
        .header("x-ace-delivery", d.id.to_string())
        .header("x-ace-job", &d.job_id);
    if let Some(secret) = &d.secret {
        request = request.header("x-ace-signature", signature(secret, d.body.as_bytes()));
    }
    let result = match request.body(d.body.clone()).send().await {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => Err(format!("answered {}", r.status())),
        Err(e) => Err(if e.is_timeout() { "timed out".to_owned() } else { "could not connect or was refused by the fetch guard".to_owned() }),
    };
    let store = &state.store;
    let outcome = match result {
        Ok(()) => {
            state.metrics.webhook("delivered");
            store.webhook_delivered(d.id, attempts, now_ms()).await
        }
        Err(error) => {
            let give_up = attempts >= i64::from(state.config.webhook_max_attempts);
            state.metrics.webhook(if give_up { "failed" } else { "retried" });
            tracing::info!(job = %d.job_id, attempts, %error, give_up, "webhook delivery failed");
            let retry_at = (!give_up).then(|| now_ms() + backoff(attempts as u32, state.config.retry_base_ms, state.config.retry_max_ms).as_millis() as i64);
            store.webhook_failed(d.id, attempts, retry_at, &error).await
        }
    };
    if let Err(e) = outcome {
        tracing::warn!(job = %d.job_id, error = %e, "recording a webhook delivery failed");
    }
}

#[cfg(test)]
mod tests {
    use super::{by_job, signature, WebhookDelivery};

    #[test]
    fn one_jobs_deliveries_go_in_queue_order() {
        let d = |id: i64, job: &str| WebhookDelivery {
            id,
            job_id: job.into(),
            url: "http://hook/".into(),
            secret: None,
            event: "crawl.page".into(),
            body: String::new(),
            attempts: 0,
        };
        let groups = by_job(vec![d(5, "a"), d(2, "b"), d(1, "a"), d(9, "a"), d(3, "b")]);
        let ids: Vec<Vec<i64>> = groups.iter().map(|g| g.iter().map(|d| d.id).collect()).collect();
        assert_eq!(ids, [vec![1, 5, 9], vec![2, 3]]);
    }

    #[test]
    fn signature_matches_a_known_hmac() {
        // RFC 4231 test case 2.
        let sig = signature("Jefe", b"what do ya want for nothing?");
        assert_eq!(sig, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }
}
