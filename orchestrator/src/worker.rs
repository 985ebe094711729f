//! Workers: claim a job, run its engine under a lease, record the outcome.
//!
//! Each worker renews its lease every third of the lease time; if renewal finds the job no
//! longer held (cancelled, or taken over after this process stalled) the engine is dropped.
//! Retryable failures go back to the queue with exponential backoff and jitter until
//! `max_attempts`. On shutdown a worker stops claiming, gives its running job the grace
//! period, then hands it back to the queue without counting the attempt.
//!
//! Jobs run on a runtime of their own whose threads have a lower scheduling priority
//! (nice [`JOB_NICE`]) than the API's. Job work is batch work: fetching, parsing, extracting,
//! writing archives. On a busy machine the kernel then gives the cores to API requests
//! first, so a client submitting or polling a job is answered in milliseconds however many
//! jobs run; the jobs take every cycle the API leaves.

use std::time::{Duration, Instant};

use rand::Rng;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::engine::{EngineError, JobContext};
use crate::model::{now_ms, JobKind};
use crate::store::{Finish, JobRecord};
use crate::AppState;

/// The nice value of job threads: a quarter of the CPU share of a normal thread's (each
/// step of nice is about 1.25 times less), so jobs still progress on a saturated machine.
pub const JOB_NICE: i32 = 6;

/// Runs `state.config.workers` workers until `state.shutdown` fires and they have wound down.
pub async fn run(state: AppState) {
    if state.config.workers == 0 {
        return;
    }
    let jobs = match JobRuntime::start() {
        Ok(jobs) => jobs,
        Err(e) => {
            tracing::error!(error = %e, "could not start the job runtime; no job will run in this process");
            return;
        }
    };
    let mut set = JoinSet::new();
    let process = uuid::Uuid::new_v4().simple().to_string();
    for n in 0..state.config.workers {
        let worker = format!("w-{}-{n}", &process[..12]);
        set.spawn_on(worker_loop(state.clone(), worker), jobs.handle());
    }
    while set.join_next().await.is_some() {}
}

/// The runtime jobs run on (see the module doc). Dropping it stops what is left on it
/// without blocking, so it may be dropped inside another runtime.
struct JobRuntime(Option<tokio::runtime::Runtime>);

impl JobRuntime {
    fn start() -> std::io::Result<JobRuntime> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(std::thread::available_parallelism().map_or(2, |n| n.get()))
            .thread_name("ace-jobs")
            .on_thread_start(|| {
                // Per thread on Linux: only this runtime's threads change.
                if let Err(e) =
                    rustix::process::setpriority_process(Some(rustix::thread::gettid()), JOB_NICE)
                {
                    tracing::debug!(error = %e, "could not lower a job thread's priority");
                }
            })
            .enable_all()
            .build()?;
        Ok(JobRuntime(Some(runtime)))
    }

    fn handle(&self) -> &tokio::runtime::Handle {
        self.0.as_ref().expect("the job runtime lives until dropped").handle()
    }
}

impl Drop for JobRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

async fn worker_loop(state: AppState, worker: String) {
    let poll = Duration::from_millis(state.config.poll_interval_ms);
    let lease = Duration::from_secs(state.config.lease_seconds);
    while !state.shutdown.is_cancelled() {
        let now = now_ms();
        match state.store.claim_job(&worker, now, now + lease.as_millis() as i64).await {
            Ok(Some(job)) => {
                let _ = state.events.send(job.id.clone());
                run_job(&state, &worker, job).await;
            }
            Ok(None) => {
                tokio::select! {
                    _ = state.shutdown.cancelled() => {}
                    _ = state.wake.notified() => {}
                    _ = tokio::time::sleep(poll) => {}
                }
            }
            Err(e) => {
                tracing::warn!(%worker, error = %e, "claiming a job failed");
                tokio::select! {
                    _ = state.shutdown.cancelled() => {}
                    _ = tokio::time::sleep(poll) => {}
                }
            }
        }
    }
}

/// Why the engine stopped, when it did not return by itself.
enum Interrupted {
    /// Cancelled by the tenant or the lease was taken: someone else owns the outcome.
    LostJob,
    /// Shutdown's grace period ran out: hand the job back.
    Shutdown,
}

async fn run_job(state: &AppState, worker: &str, job: JobRecord) {
    let started = Instant::now();
    let kind = JobKind::parse(&job.kind);
    if job.attempts > job.max_attempts {
        let message =
            format!("gave up after {} attempts whose workers stopped responding", job.max_attempts);
        finish(
            state,
            worker,
            &job,
            Finish::Failed { code: "attempts_exhausted".into(), message },
            started,
        )
        .await;
        return;
    }
    let Some(engine) = kind.and_then(|k| state.engines.get(k)) else {
        let message = format!("job kind {:?} has no engine in this process", job.kind);
        finish(
            state,
            worker,
            &job,
            Finish::Failed { code: "not_implemented".into(), message },
            started,
        )
        .await;
        return;
    };
    let ctx = JobContext {
        job: job.clone(),
        cancel: CancellationToken::new(),
        store: state.store.clone(),
        worker: worker.to_owned(),
        artifacts_dir: state.config.artifacts_dir(),
        events: state.events.clone(),
    };
    let heartbeat = tokio::spawn(heartbeat(
        state.clone(),
        worker.to_owned(),
        job.id.clone(),
        ctx.cancel.clone(),
    ));
    let grace = Duration::from_secs(state.config.shutdown_grace_seconds);
    let shutdown = state.shutdown.clone();
    let outcome = tokio::select! {
        result = engine.run(&ctx) => Ok(result),
        _ = ctx.cancel.cancelled() => Err(Interrupted::LostJob),
        _ = async { shutdown.cancelled().await; tokio::time::sleep(grace).await } => Err(Interrupted::Shutdown),
    };
    heartbeat.abort();
    let result = match outcome {
        Ok(result) => result,
        Err(Interrupted::LostJob) => {
            tracing::info!(job = %job.id, "job cancelled or taken over; dropping this attempt");
            return;
        }
        Err(Interrupted::Shutdown) => {
            match state.store.release_job(&job.id, worker).await {
                Ok(true) => tracing::info!(job = %job.id, "handed back to the queue at shutdown"),
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(job = %job.id, error = %e, "could not hand job back; its lease will expire")
                }
            }
            let _ = state.events.send(job.id.clone());
            return;
        }
    };
    let verdict = match result {
        Ok(report) => Finish::Succeeded { usage: report.usage, summary: report.summary },
        Err(EngineError::LeaseLost) => return,
        Err(EngineError::Fatal { code, message }) => Finish::Failed { code, message },
        Err(e @ (EngineError::Retryable { .. } | EngineError::Store(_))) => {
            let (code, message) = match e {
                EngineError::Retryable { code, message } => (code, message),
                other => ("internal".to_owned(), other.to_string()),
            };
            if job.attempts < job.max_attempts {
                let delay = backoff(
                    job.attempts as u32,
                    state.config.retry_base_ms,
                    state.config.retry_max_ms,
                );
                Finish::Retry { run_at: now_ms() + delay.as_millis() as i64, code, message }
            } else {
                Finish::Failed {
                    code,
                    message: format!("{message} (after {} attempts)", job.attempts),
                }
            }
        }
    };
    finish(state, worker, &job, verdict, started).await;
}

async fn finish(
    state: &AppState,
    worker: &str,
    job: &JobRecord,
    verdict: Finish,
    started: Instant,
) {
    let outcome = match &verdict {
        Finish::Succeeded { .. } => "succeeded",
        Finish::Failed { .. } => "failed",
        Finish::Retry { .. } => "retry",
    };
    match state.store.finish_job(&job.id, worker, &verdict, now_ms()).await {
        Ok(Some(_)) => {
            state.metrics.job_finished(&job.kind, outcome, started.elapsed());
            if matches!(verdict, Finish::Retry { .. }) {
                state.wake.notify_one();
            }
        }
        Ok(None) => {
            tracing::info!(job = %job.id, "outcome not recorded: the job was cancelled or taken over")
        }
        Err(e) => {
            tracing::warn!(job = %job.id, error = %e, "recording the outcome failed; the lease will expire and the job retry")
        }
    }
    let _ = state.events.send(job.id.clone());
    state.webhooks_wake.notify_one();
}

async fn heartbeat(state: AppState, worker: String, job_id: String, cancel: CancellationToken) {
    let lease = Duration::from_secs(state.config.lease_seconds);
    let mut tick = tokio::time::interval(lease / 3);
    tick.tick().await;
    loop {
        tick.tick().await;
        let until = now_ms() + lease.as_millis() as i64;
        match state.store.renew_lease(&job_id, &worker, until).await {
            Ok(true) => {}
            Ok(false) => {
                cancel.cancel();
                return;
            }
            Err(e) => tracing::warn!(job = %job_id, error = %e, "lease renewal failed; will retry"),
        }
    }
}

/// Delay before attempt `attempt + 1`: `base * 2^(attempt-1)`, capped, with ±20% jitter so
/// jobs that failed together do not retry together.
pub fn backoff(attempt: u32, base_ms: u64, max_ms: u64) -> Duration {
    let exp = base_ms.saturating_mul(1u64 << attempt.saturating_sub(1).min(30)).min(max_ms);
    let jitter = rand::rng().random_range(0.8..=1.2);
    Duration::from_millis(((exp as f64) * jitter) as u64)
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        for _ in 0..50 {
            let first = backoff(1, 1000, 60_000).as_millis();
            assert!((800..=1200).contains(&first), "{first}");
            let third = backoff(3, 1000, 60_000).as_millis();
            assert!((3200..=4800).contains(&third), "{third}");
            let capped = backoff(40, 1000, 60_000).as_millis();
            assert!(capped <= 72_000, "{capped}");
        }
    }
}
