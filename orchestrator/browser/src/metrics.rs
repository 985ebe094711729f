//! The pool's Prometheus metrics, named `ace_<what>_<unit>`, in their own registry that the
//! health service appends to its exposition.

use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};

/// Counters and gauges of one pool.
#[derive(Debug, Clone)]
pub struct PoolMetrics {
    registry: Registry,
    /// Time from asking for a context to getting one.
    pub queue_wait: Histogram,
    /// Renders ended, by kind (content, screenshot, pdf, fetch) and outcome (ok or error code).
    pub renders: IntCounterVec,
    /// Browsers that died or hung and were evicted.
    pub crashes: IntCounter,
    /// Browsers launched to replace crashed, hung or recycled ones.
    pub restarts: IntCounter,
    /// Renderer (tab) crashes seen.
    pub renderer_crashes: IntCounter,
    /// Resident memory of all pooled Chromium processes, refreshed by the supervisor.
    pub memory: IntGauge,
    /// Chromium processes (browsers) alive.
    pub browsers: IntGauge,
    /// CDP WebSocket sessions, by outcome.
    pub sessions: IntCounterVec,
}

impl Default for PoolMetrics {
    fn default() -> PoolMetrics {
        PoolMetrics::new()
    }
}

impl PoolMetrics {
    /// Registers every metric in a fresh registry.
    pub fn new() -> PoolMetrics {
        let registry = Registry::new();
        let queue_wait = Histogram::with_opts(
            HistogramOpts::new("ace_browser_queue_wait_seconds", "Time a render or session waited for a browser context.")
                .buckets(vec![0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0]),
        )
        .expect("valid metric");
        let renders = IntCounterVec::new(
            Opts::new("ace_browser_renders_total", "Renders ended, by kind and outcome."),
            &["kind", "outcome"],
        )
        .expect("valid metric");
        let crashes = IntCounter::new("ace_browser_crashes_total", "Browsers that died or hung and were evicted.").expect("valid metric");
        let restarts =
            IntCounter::new("ace_browser_restarts_total", "Browsers launched to replace evicted or recycled ones.").expect("valid metric");
        let renderer_crashes = IntCounter::new("ace_browser_renderer_crashes_total", "Page renderer processes that crashed.").expect("valid metric");
        let memory = IntGauge::new("ace_browser_memory_bytes", "Resident memory of all pooled Chromium processes.").expect("valid metric");
        let browsers = IntGauge::new("ace_browser_processes", "Chromium browsers alive in the pool.").expect("valid metric");
        let sessions = IntCounterVec::new(
            Opts::new("ace_browser_sessions_total", "CDP WebSocket sessions ended, by how they ended."),
            &["outcome"],
        )
        .expect("valid metric");
        for m in [
            Box::new(queue_wait.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(renders.clone()),
            Box::new(crashes.clone()),
            Box::new(restarts.clone()),
            Box::new(renderer_crashes.clone()),
            Box::new(memory.clone()),
            Box::new(browsers.clone()),
            Box::new(sessions.clone()),
        ] {
            registry.register(m).expect("metric names are unique");
        }
        PoolMetrics { registry, queue_wait, renders, crashes, restarts, renderer_crashes, memory, browsers, sessions }
    }

    /// The text exposition of these metrics.
    pub fn render(&self) -> String {
        TextEncoder::new().encode_to_string(&self.registry.gather()).unwrap_or_default()
    }
}
