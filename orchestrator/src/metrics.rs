//! Prometheus metrics, named `ace_<what>_<unit>`; tenant ids and URLs never become labels.

use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder};

use crate::model::now_ms;
use crate::store::Store;

/// The process's metrics.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    jobs_finished: IntCounterVec,
    job_duration: HistogramVec,
    jobs: IntGaugeVec,
    queue_depth: IntGauge,
    webhooks: IntCounterVec,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let http_requests = IntCounterVec::new(
            Opts::new("ace_http_requests_total", "HTTP requests answered, by service, route, method and status."),
            &["service", "route", "method", "status"],
        )
        .expect("valid metric");
        let http_duration = HistogramVec::new(
            HistogramOpts::new("ace_http_request_duration_seconds", "Time to answer HTTP requests, by service and route.")
                .buckets(vec![0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0]),
            &["service", "route"],
        )
        .expect("valid metric");
        let jobs_finished = IntCounterVec::new(
            Opts::new("ace_jobs_finished_total", "Job attempts ended by this process, by kind and outcome."),
            &["kind", "outcome"],
        )
        .expect("valid metric");
        let job_duration = HistogramVec::new(
            HistogramOpts::new("ace_job_duration_seconds", "Time a worker spent on a job attempt, by kind.")
                .buckets(vec![0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0]),
            &["kind"],
        )
        .expect("valid metric");
        let jobs = IntGaugeVec::new(Opts::new("ace_jobs", "Jobs in the store, by status."), &["status"]).expect("valid metric");
        let queue_depth = IntGauge::new("ace_queue_depth", "Jobs due to run and waiting for a worker.").expect("valid metric");
        let webhooks = IntCounterVec::new(
            Opts::new("ace_webhook_deliveries_total", "Webhook delivery attempts, by outcome."),
            &["outcome"],
        )
        .expect("valid metric");
        for m in [
            Box::new(http_requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(http_duration.clone()),
            Box::new(jobs_finished.clone()),
            Box::new(job_duration.clone()),
            Box::new(jobs.clone()),
            Box::new(queue_depth.clone()),
            Box::new(webhooks.clone()),
        ] {
            registry.register(m).expect("metric names are unique");
        }
        Metrics { registry, http_requests, http_duration, jobs_finished, job_duration, jobs, queue_depth, webhooks }
    }

    /// Counts an ended job attempt.
    pub fn job_finished(&self, kind: &str, outcome: &str, took: Duration) {
        self.jobs_finished.with_label_values(&[kind, outcome]).inc();
        self.job_duration.with_label_values(&[kind]).observe(took.as_secs_f64());
    }

    /// Counts a webhook delivery attempt.
    pub fn webhook(&self, outcome: &str) {
        self.webhooks.with_label_values(&[outcome]).inc();
    }

    /// Renders the text exposition, refreshing store-derived gauges first.
    pub async fn render(&self, store: &dyn Store) -> String {
        if let Ok(counts) = store.job_counts().await {
            for (status, n) in counts {
                self.jobs.with_label_values(&[status.as_str()]).set(n);
            }
        }
        if let Ok(depth) = store.queue_depth(now_ms()).await {
            self.queue_depth.set(depth);
        }
        TextEncoder::new().encode_to_string(&self.registry.gather()).unwrap_or_default()
    }
}

/// Which service a router belongs to, for the `service` label.
#[derive(Debug, Clone)]
pub struct ServiceLabel {
    /// The service name.
    pub service: &'static str,
    /// The metrics.
    pub metrics: Metrics,
}

/// Middleware counting every request by route template (never the raw path).
pub async fn track(State(label): State<ServiceLabel>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let m = &label.metrics;
    m.http_requests.with_label_values(&[label.service, &route, &method, response.status().as_str()]).inc();
    m.http_duration.with_label_values(&[label.service, &route]).observe(started.elapsed().as_secs_f64());
    response
}
