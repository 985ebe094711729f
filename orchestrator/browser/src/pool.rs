//! The pool: a semaphore of contexts over a few supervised browsers, and the [`Lease`] guard.
//!
//! Design, kept small on purpose:
//! - One [`Semaphore`] permit per context the pool may have open (`max_browsers *
//!   max_contexts_per_browser`). Waiting for a permit *is* the queue; a counter bounds it.
//! - Browsers live in a `Vec` behind a std mutex that is only held for bookkeeping (pick a
//!   browser with room and reserve a slot), never across `.await`.
//! - A permit plus a reserved slot plus a fresh incognito context is a [`Lease`]. Its `Drop`
//!   disposes the context, frees the slot and returns the permit (in a spawned task, since
//!   disposal is a CDP round trip), and closes the browser if it is draining and now idle.
//! - Each browser keeps one spare: a fresh context with a blank page, opened ahead of need
//!   (`spare_page`). [`Pool::acquire_page`] hands it out, and a new one is opened when a
//!   lease ends, so a render does not wait for a renderer process to start. A spare is never
//!   used before it is handed out; CDP sessions, which open their own pages, get a context
//!   without one.
//! - A supervisor task pings every browser, evicts those whose CDP handler loop ended or that
//!   do not answer (killing and reaping the process), drains old or idle ones, keeps
//!   `min_browsers` warm and samples memory.
//! - Browsers that are draining (recycled) do not count against `max_browsers`, so for a
//!   moment the process count may exceed it by the draining ones; they close as soon as
//!   their last lease drops.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use chromiumoxide::cdp::browser_protocol::browser::{BrowserContextId, CloseParams, SetDownloadBehaviorBehavior, SetDownloadBehaviorParams};
use chromiumoxide::cdp::browser_protocol::emulation::SetDeviceMetricsOverrideParams;
use chromiumoxide::cdp::browser_protocol::inspector::EnableParams as InspectorEnable;
use chromiumoxide::cdp::browser_protocol::target::{CreateBrowserContextParams, CreateTargetParams};
use chromiumoxide::error::CdpError;
use chromiumoxide::handler::HandlerConfig;
use chromiumoxide::{Browser, Page};
use futures::StreamExt;
use serde::Serialize;
use tokio::process::Child;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::metrics::PoolMetrics;
use crate::process::{self, tree_rss_bytes};
use crate::{BrowserError, PoolConfig};

/// A shared pool of Chromium browsers. Cheap to clone.
#[derive(Clone)]
pub struct Pool {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool").field("status", &self.status()).finish()
    }
}

struct Inner {
    config: PoolConfig,
    /// The runtime the pool was made on. Browsers are launched and watched there, whoever
    /// asks: a browser's process, pipes and CDP connection belong to the runtime that opened
    /// them, and must outlive any shorter one a caller runs on (the job runtime).
    runtime: tokio::runtime::Handle,
    /// One permit per context the pool may have open; waiting for one is the queue.
    permits: Arc<Semaphore>,
    /// Requests waiting for a permit now, checked against `queue_limit`.
    waiting: AtomicUsize,
    /// Leases dropped whose context is still being disposed: their permits are about to
    /// return, so waiting for them is not queueing behind work and does not count as such.
    releasing: AtomicUsize,
    /// The browsers. Held only for bookkeeping, never across `.await`.
    browsers: Mutex<Vec<Arc<Instance>>>,
    /// Serialises launches so two waiters do not both start a browser for one free slot.
    launch_gate: tokio::sync::Mutex<()>,
    /// Signalled when a slot frees or a browser leaves, for acquirers waiting for room.
    freed: Notify,
    /// Fired by [`Pool::shutdown`]: stop launching, fail waiters.
    shutdown: CancellationToken,
    /// Contexts served since start (what `/v1/pool` calls pages served).
    pages_served: AtomicU64,
    /// Browsers evicted (crashed, hung) or recycled (age, page count); each is replaced on demand.
    restarts: AtomicU64,
    /// Browsers evicted because they died or hung.
    crashes: AtomicU64,
    /// Ids for browsers, for logs.
    next_id: AtomicU64,
    /// Open CDP sessions per tenant, for the plan's `browser_sessions` limit.
    sessions: Mutex<std::collections::HashMap<String, usize>>,
    /// The supervisor, awaited at shutdown.
    supervisor: Mutex<Option<JoinHandle<()>>>,
    metrics: PoolMetrics,
}

/// One pooled browser.
pub(crate) struct Instance {
    id: u64,
    browser: Browser,
    ws_url: String,
    pid: u32,
    started: Instant,
    /// Contexts leased now; reserved under the browsers lock.
    active: AtomicUsize,
    /// Contexts served, for recycling.
    served: AtomicU64,
    /// When a lease last ended here, for the idle timeout.
    last_used: Mutex<Instant>,
    /// Draining: no new contexts; closed when `active` reaches 0.
    retiring: AtomicBool,
    /// Fired when the CDP handler loop ends or a ping fails, so leases on it fail fast.
    dead: CancellationToken,
    /// The process and its profile directory, taken by whoever closes the browser.
    process: Mutex<Option<(Child, tempfile::TempDir)>>,
    /// The task polling chromiumoxide's handler.
    handler: Mutex<Option<JoinHandle<()>>>,
    /// A fresh context with a blank page, ready for the next [`Pool::acquire_page`].
    spare: Mutex<Option<Spare>>,
    /// A spare is being opened.
    preparing: AtomicBool,
}

/// A context and its blank page opened ahead of need, not yet handed out.
struct Spare {
    context: BrowserContextId,
    page: Page,
}

/// What `/v1/pool` reports.
#[derive(Debug, Clone, Serialize)]
pub struct PoolStatus {
    /// Browsers alive (draining ones included).
    pub browsers: usize,
    /// Contexts leased now.
    pub contexts_in_use: usize,
    /// Contexts the pool may have open at once.
    pub capacity: usize,
    /// Requests waiting for a context.
    pub queue_length: usize,
    /// Waiters allowed before 429 `pool_saturated`.
    pub queue_limit: usize,
    /// Contexts served since start.
    pub pages_served: u64,
    /// Browsers replaced (crashed, hung or recycled).
    pub restarts: u64,
    /// Browsers that died or hung.
    pub crashes: u64,
    /// Resident memory of all pooled Chromium processes, last sampled.
    pub memory_bytes: u64,
    /// Each browser.
    pub detail: Vec<BrowserStatus>,
}

/// One browser in [`PoolStatus`].
#[derive(Debug, Clone, Serialize)]
pub struct BrowserStatus {
    /// Pool-local id.
    pub id: u64,
    /// Process id.
    pub pid: u32,
    /// Contexts leased now.
    pub contexts: usize,
    /// Contexts served.
    pub served: u64,
    /// Seconds since launch.
    pub age_seconds: u64,
    /// Draining before replacement.
    pub draining: bool,
    /// A spare context with a blank page is ready for the next render.
    pub spare_ready: bool,
}

impl Pool {
    /// Creates the pool and its supervisor (which warms `min_browsers`). Fails at once if the
    /// Chromium executable is missing. Must be called inside a Tokio runtime.
    pub fn start(config: PoolConfig) -> Result<Pool, BrowserError> {
        if !config.executable.exists() {
            return Err(BrowserError::Launch {
                executable: config.executable.display().to_string(),
                reason: "the executable does not exist; install Chromium (apt-get install -y chromium) or set the pool's executable".into(),
            });
        }
        let inner = Arc::new(Inner {
            runtime: tokio::runtime::Handle::current(),
            permits: Arc::new(Semaphore::new(config.capacity())),
            config,
            waiting: AtomicUsize::new(0),
            releasing: AtomicUsize::new(0),
            browsers: Mutex::new(Vec::new()),
            launch_gate: tokio::sync::Mutex::new(()),
            freed: Notify::new(),
            shutdown: CancellationToken::new(),
            pages_served: AtomicU64::new(0),
            restarts: AtomicU64::new(0),
            crashes: AtomicU64::new(0),
            next_id: AtomicU64::new(1),
            supervisor: Mutex::new(None),
            sessions: Mutex::new(std::collections::HashMap::new()),
            metrics: PoolMetrics::new(),
        });
        let task = tokio::spawn(supervise(Arc::downgrade(&inner)));
        *inner.supervisor.lock().expect("supervisor lock") = Some(task);
        Ok(Pool { inner })
    }

    /// The configuration in effect.
    pub fn config(&self) -> &PoolConfig {
        &self.inner.config
    }

    /// The pool's metrics.
    pub fn metrics(&self) -> &PoolMetrics {
        &self.inner.metrics
    }

    /// Takes a fresh incognito context on a browser with room, waiting (up to the acquire
    /// timeout, in a bounded queue) for one to free.
    pub async fn acquire(&self) -> Result<Lease, BrowserError> {
        self.lease(false).await
    }

    /// Like [`Pool::acquire`], for work that opens one page: the lease comes with a browser's
    /// spare context and its blank page when one is ready (then [`Lease::new_page`] returns
    /// that page at once); a new spare is opened when the lease ends.
    pub async fn acquire_page(&self) -> Result<Lease, BrowserError> {
        self.lease(true).await
    }

    async fn lease(&self, with_page: bool) -> Result<Lease, BrowserError> {
        let inner = &self.inner;
        if inner.shutdown.is_cancelled() {
            return Err(BrowserError::ShutDown);
        }
        let asked = Instant::now();
        let timeout = PoolConfig::ms(inner.config.acquire_timeout_ms);
        let deadline = asked + timeout;
        let permit = match inner.permits.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(tokio::sync::TryAcquireError::Closed) => return Err(BrowserError::ShutDown),
            Err(tokio::sync::TryAcquireError::NoPermits) => {
                let queued = inner.waiting.fetch_add(1, Ordering::SeqCst);
                let _leave = Waiting(&inner.waiting);
                if queued >= inner.config.queue_limit + inner.releasing.load(Ordering::SeqCst) {
                    return Err(BrowserError::Saturated { queued, limit: inner.config.queue_limit });
                }
                match tokio::time::timeout(timeout, inner.permits.clone().acquire_owned()).await {
                    Ok(Ok(p)) => p,
                    Ok(Err(_)) => return Err(BrowserError::ShutDown),
                    Err(_) => return Err(BrowserError::AcquireTimeout { waited: asked.elapsed() }),
                }
            }
        };
        let mut last_error = None;
        for _attempt in 0..3 {
            let instance = self.instance_with_room(deadline).await?;
            if with_page {
                // A new spare is opened when this lease ends (see `release`), not now: opening
                // one takes the browser's attention from this very render.
                let spare = instance.spare.lock().expect("spare lock").take();
                if let Some(spare) = spare {
                    inner.metrics.queue_wait.observe(asked.elapsed().as_secs_f64());
                    return Ok(Lease {
                        pool: self.clone(),
                        instance,
                        context: Some(spare.context),
                        page: Mutex::new(Some(spare.page)),
                        permit: Some(permit),
                        waited: asked.elapsed(),
                    });
                }
            }
            let created = tokio::time::timeout(
                PoolConfig::ms(inner.config.ping_timeout_ms),
                instance.browser.create_browser_context(CreateBrowserContextParams::default()),
            )
            .await;
            match created {
                Ok(Ok(context)) => {
                    inner.metrics.queue_wait.observe(asked.elapsed().as_secs_f64());
                    return Ok(Lease {
                        pool: self.clone(),
                        instance,
                        context: Some(context),
                        page: Mutex::new(None),
                        permit: Some(permit),
                        waited: asked.elapsed(),
                    });
                }
                failed => {
                    let reason = match failed {
                        Ok(Err(e)) => e.to_string(),
                        _ => "creating a context timed out".to_owned(),
                    };
                    instance.active.fetch_sub(1, Ordering::SeqCst);
                    tracing::warn!(browser = instance.id, %reason, "could not create a browser context; evicting the browser");
                    self.evict(&instance, &reason).await;
                    last_error = Some(BrowserError::BrowserCrashed { reason });
                }
            }
        }
        Err(last_error.unwrap_or(BrowserError::BrowserCrashed { reason: "no usable browser".into() }))
    }

    /// Opens a new spare on `instance` in the background, unless it has one, one is being
    /// opened, spares are off, or the browser is going away.
    fn refill(&self, instance: &Arc<Instance>) {
        let inner = &self.inner;
        if !inner.config.spare_page || self.going(instance) || instance.spare.lock().expect("spare lock").is_some() {
            return;
        }
        if instance.preparing.swap(true, Ordering::SeqCst) {
            return;
        }
        let (pool, instance) = (self.clone(), instance.clone());
        inner.runtime.spawn(async move {
            let spare = tokio::time::timeout(PoolConfig::ms(pool.inner.config.ping_timeout_ms), open_spare(&instance)).await;
            match spare {
                Ok(Ok(spare)) => {
                    if pool.going(&instance) {
                        let _ = instance.browser.dispose_browser_context(spare.context).await;
                    } else {
                        *instance.spare.lock().expect("spare lock") = Some(spare);
                    }
                }
                // The next lease makes its own context; a browser in trouble is the
                // supervisor's to find.
                Ok(Err(e)) => tracing::debug!(browser = instance.id, error = %e, "could not open a spare page"),
                Err(_) => tracing::debug!(browser = instance.id, "opening a spare page timed out"),
            }
            instance.preparing.store(false, Ordering::SeqCst);
        });
    }

    /// Whether `instance` takes no new work: draining, dead, or the pool shutting down.
    fn going(&self, instance: &Instance) -> bool {
        instance.retiring.load(Ordering::SeqCst) || instance.dead.is_cancelled() || self.inner.shutdown.is_cancelled()
    }

    /// A browser with a free slot, reserved for the caller (its `active` count raised).
    async fn instance_with_room(&self, deadline: Instant) -> Result<Arc<Instance>, BrowserError> {
        let inner = &self.inner;
        loop {
            if inner.shutdown.is_cancelled() {
                return Err(BrowserError::ShutDown);
            }
            let freed = inner.freed.notified();
            if let Some(i) = self.reserve() {
                return Ok(i);
            }
            {
                let _gate = inner.launch_gate.lock().await;
                if let Some(i) = self.reserve() {
                    return Ok(i);
                }
                if self.live_browsers() < inner.config.max_browsers.max(1) {
                    let instance = self.launch().await?;
                    instance.active.fetch_add(1, Ordering::SeqCst);
                    inner.browsers.lock().expect("browsers lock").push(instance.clone());
                    inner.metrics.browsers.set(self.browser_count() as i64);
                    return Ok(instance);
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || tokio::time::timeout(left, freed).await.is_err() {
                return Err(BrowserError::AcquireTimeout { waited: PoolConfig::ms(inner.config.acquire_timeout_ms) });
            }
        }
    }

    /// Reserves a slot on the least busy live browser with room.
    fn reserve(&self) -> Option<Arc<Instance>> {
        let max = self.inner.config.max_contexts_per_browser.max(1);
        let browsers = self.inner.browsers.lock().expect("browsers lock");
        let best = browsers
            .iter()
            .filter(|i| !i.retiring.load(Ordering::SeqCst) && !i.dead.is_cancelled())
            .filter(|i| i.active.load(Ordering::SeqCst) < max)
            .min_by_key(|i| i.active.load(Ordering::SeqCst))?;
        best.active.fetch_add(1, Ordering::SeqCst);
        Some(best.clone())
    }

    fn live_browsers(&self) -> usize {
        let browsers = self.inner.browsers.lock().expect("browsers lock");
        browsers.iter().filter(|i| !i.retiring.load(Ordering::SeqCst) && !i.dead.is_cancelled()).count()
    }

    fn browser_count(&self) -> usize {
        self.inner.browsers.lock().expect("browsers lock").len()
    }

    /// Starts a Chromium process and connects to it, on the pool's runtime; its handler loop
    /// is watched.
    async fn launch(&self) -> Result<Arc<Instance>, BrowserError> {
        let pool = self.clone();
        self.inner.runtime.spawn(async move { pool.launch_here().await }).await.unwrap_or_else(|e| {
            Err(BrowserError::Launch { executable: self.inner.config.executable.display().to_string(), reason: format!("the launch task ended: {e}") })
        })
    }

    async fn launch_here(&self) -> Result<Arc<Instance>, BrowserError> {
        let inner = &self.inner;
        let proc = process::launch(&inner.config.executable, &inner.config.extra_args).await?;
        let config = HandlerConfig { request_timeout: PoolConfig::ms(inner.config.max_timeout_ms), ..HandlerConfig::default() };
        let (browser, mut handler) = match Browser::connect_with_config(proc.ws_url.clone(), config).await {
            Ok(pair) => pair,
            Err(e) => {
                process::kill_and_reap(proc.child).await;
                return Err(BrowserError::Launch { executable: inner.config.executable.display().to_string(), reason: e.to_string() });
            }
        };
        let id = inner.next_id.fetch_add(1, Ordering::SeqCst);
        let dead = CancellationToken::new();
        let instance = Arc::new(Instance {
            id,
            browser,
            ws_url: proc.ws_url,
            pid: proc.pid,
            started: Instant::now(),
            active: AtomicUsize::new(0),
            served: AtomicU64::new(0),
            last_used: Mutex::new(Instant::now()),
            retiring: AtomicBool::new(false),
            dead: dead.clone(),
            process: Mutex::new(Some((proc.child, proc.profile))),
            handler: Mutex::new(None),
            spare: Mutex::new(None),
            preparing: AtomicBool::new(false),
        });
        let weak = Arc::downgrade(inner);
        let watched = Arc::downgrade(&instance);
        let task = tokio::spawn(async move {
            while let Some(event) = handler.next().await {
                match event {
                    Err(CdpError::Ws(e)) => {
                        // A browser being closed (recycled, evicted, shut down) drops it too.
                        if dead.is_cancelled() {
                            tracing::debug!(browser = id, error = %e, "CDP connection to a closed browser ended");
                        } else {
                            tracing::warn!(browser = id, error = %e, "CDP connection to the browser broke");
                        }
                        break;
                    }
                    Err(e) => tracing::warn!(browser = id, error = %e, "CDP connection error"),
                    Ok(()) => {}
                }
            }
            dead.cancel();
            // Evict from a separate task: eviction aborts this one.
            if let (Some(inner), Some(instance)) = (weak.upgrade(), watched.upgrade()) {
                let pool = Pool { inner };
                tokio::spawn(async move { pool.evict(&instance, "its CDP connection ended").await });
            }
        });
        *instance.handler.lock().expect("handler lock") = Some(task);
        tracing::info!(browser = id, pid = instance.pid, "launched Chromium");
        Ok(instance)
    }

    /// Removes a dead or hung browser, kills and reaps its process. Idempotent.
    async fn evict(&self, instance: &Arc<Instance>, reason: &str) {
        instance.dead.cancel();
        let removed = {
            let mut browsers = self.inner.browsers.lock().expect("browsers lock");
            let before = browsers.len();
            browsers.retain(|i| !Arc::ptr_eq(i, instance));
            before != browsers.len()
        };
        if removed && !self.inner.shutdown.is_cancelled() {
            tracing::warn!(browser = instance.id, pid = instance.pid, reason, "evicting browser");
            self.inner.crashes.fetch_add(1, Ordering::SeqCst);
            self.inner.restarts.fetch_add(1, Ordering::SeqCst);
            self.inner.metrics.crashes.inc();
            self.inner.metrics.restarts.inc();
        }
        self.inner.metrics.browsers.set(self.browser_count() as i64);
        instance.stop(Duration::ZERO).await;
        self.inner.freed.notify_waiters();
    }

    /// Closes a draining browser once nothing is leased on it.
    async fn close_if_drained(&self, instance: &Arc<Instance>) {
        let removed = {
            let mut browsers = self.inner.browsers.lock().expect("browsers lock");
            if instance.active.load(Ordering::SeqCst) != 0 || !instance.retiring.load(Ordering::SeqCst) {
                return;
            }
            let before = browsers.len();
            browsers.retain(|i| !Arc::ptr_eq(i, instance));
            before != browsers.len()
        };
        if removed {
            tracing::info!(browser = instance.id, served = instance.served.load(Ordering::SeqCst), "recycling browser");
            self.inner.restarts.fetch_add(1, Ordering::SeqCst);
            self.inner.metrics.restarts.inc();
            self.inner.metrics.browsers.set(self.browser_count() as i64);
            instance.stop(Duration::from_secs(2)).await;
            self.inner.freed.notify_waiters();
        }
    }

    /// Returns a lease's context and slot.
    async fn release(&self, instance: Arc<Instance>, context: BrowserContextId, permit: OwnedSemaphorePermit) {
        let inner = &self.inner;
        if !instance.dead.is_cancelled() {
            let disposed = tokio::time::timeout(
                PoolConfig::ms(inner.config.ping_timeout_ms),
                instance.browser.dispose_browser_context(context),
            )
            .await;
            if !matches!(disposed, Ok(Ok(()))) {
                // A context that will not go away may hold memory: drain the browser.
                tracing::warn!(browser = instance.id, "could not dispose a browser context; draining the browser");
                instance.retiring.store(true, Ordering::SeqCst);
            }
        }
        let served = instance.served.fetch_add(1, Ordering::SeqCst) + 1;
        *instance.last_used.lock().expect("last_used lock") = Instant::now();
        inner.pages_served.fetch_add(1, Ordering::SeqCst);
        if served >= inner.config.pages_per_browser {
            instance.retiring.store(true, Ordering::SeqCst);
        }
        instance.active.fetch_sub(1, Ordering::SeqCst);
        drop(permit);
        inner.releasing.fetch_sub(1, Ordering::SeqCst);
        self.close_if_drained(&instance).await;
        self.refill(&instance);
        inner.freed.notify_waiters();
    }

    /// Browsers, contexts, queue and counters now.
    pub fn status(&self) -> PoolStatus {
        let inner = &self.inner;
        let browsers = inner.browsers.lock().expect("browsers lock");
        let detail: Vec<BrowserStatus> = browsers
            .iter()
            .map(|i| BrowserStatus {
                id: i.id,
                pid: i.pid,
                contexts: i.active.load(Ordering::SeqCst),
                served: i.served.load(Ordering::SeqCst),
                age_seconds: i.started.elapsed().as_secs(),
                draining: i.retiring.load(Ordering::SeqCst),
                spare_ready: i.spare.lock().expect("spare lock").is_some(),
            })
            .collect();
        PoolStatus {
            browsers: detail.len(),
            contexts_in_use: detail.iter().map(|b| b.contexts).sum(),
            capacity: inner.config.capacity(),
            queue_length: inner.waiting.load(Ordering::SeqCst),
            queue_limit: inner.config.queue_limit,
            pages_served: inner.pages_served.load(Ordering::SeqCst),
            restarts: inner.restarts.load(Ordering::SeqCst),
            crashes: inner.crashes.load(Ordering::SeqCst),
            memory_bytes: inner.metrics.memory.get().max(0) as u64,
            detail,
        }
    }

    /// Process ids of the pooled browsers (for tests and operators).
    pub fn pids(&self) -> Vec<u32> {
        self.inner.browsers.lock().expect("browsers lock").iter().map(|i| i.pid).collect()
    }

    /// Resident memory of every pooled Chromium process tree, sampled now.
    pub fn memory_bytes(&self) -> u64 {
        let total = self.pids().into_iter().map(tree_rss_bytes).sum();
        self.inner.metrics.memory.set(total as i64);
        total
    }

    /// Counts a CDP session against `tenant`'s limit; `None` when the limit is reached.
    pub fn open_session(&self, tenant: &str, limit: u32) -> Option<SessionSlot> {
        let mut sessions = self.inner.sessions.lock().expect("sessions lock");
        let open = sessions.entry(tenant.to_owned()).or_insert(0);
        if *open >= limit as usize {
            return None;
        }
        *open += 1;
        Some(SessionSlot { pool: self.clone(), tenant: tenant.to_owned() })
    }

    /// CDP sessions open now for `tenant`.
    pub fn sessions_of(&self, tenant: &str) -> usize {
        self.inner.sessions.lock().expect("sessions lock").get(tenant).copied().unwrap_or(0)
    }

    /// Whether the pool takes work (false once shut down).
    pub fn is_running(&self) -> bool {
        !self.inner.shutdown.is_cancelled()
    }

    /// Stops taking work, fails waiters, closes every browser and reaps its process.
    pub async fn shutdown(&self) {
        let inner = &self.inner;
        inner.shutdown.cancel();
        inner.permits.close();
        inner.freed.notify_waiters();
        let task = inner.supervisor.lock().expect("supervisor lock").take();
        if let Some(task) = task {
            let _ = task.await;
        }
        let all: Vec<Arc<Instance>> = std::mem::take(&mut *inner.browsers.lock().expect("browsers lock"));
        futures::future::join_all(all.iter().map(|i| i.stop(Duration::from_secs(2)))).await;
        inner.metrics.browsers.set(0);
        inner.metrics.memory.set(0);
    }

    /// One supervision round: evict the dead and hung, drain the old and idle, keep the
    /// minimum warm, sample memory.
    async fn supervise_once(&self) {
        let inner = &self.inner;
        let all: Vec<Arc<Instance>> = inner.browsers.lock().expect("browsers lock").clone();
        let ping_timeout = PoolConfig::ms(inner.config.ping_timeout_ms);
        let pings = futures::future::join_all(all.iter().map(|i| async move {
            if i.dead.is_cancelled() {
                return Some("its CDP handler loop ended");
            }
            match tokio::time::timeout(ping_timeout, i.browser.version()).await {
                Ok(Ok(_)) => None,
                Ok(Err(_)) => Some("it failed a ping"),
                Err(_) => Some("it did not answer a ping in time"),
            }
        }))
        .await;
        let mut live = 0;
        for (instance, failure) in all.iter().zip(pings) {
            if let Some(reason) = failure {
                self.evict(instance, reason).await;
                continue;
            }
            let idle = instance.active.load(Ordering::SeqCst) == 0
                && instance.last_used.lock().expect("last_used lock").elapsed() > PoolConfig::ms(inner.config.idle_timeout_ms);
            let old = instance.started.elapsed() > PoolConfig::ms(inner.config.max_browser_age_ms);
            if old || (idle && live >= inner.config.min_browsers) {
                instance.retiring.store(true, Ordering::SeqCst);
            }
            if instance.retiring.load(Ordering::SeqCst) {
                self.close_if_drained(instance).await;
            } else {
                live += 1;
                self.refill(instance);
            }
        }
        if live < inner.config.min_browsers.min(inner.config.max_browsers) && !inner.shutdown.is_cancelled() {
            let _gate = inner.launch_gate.lock().await;
            if self.live_browsers() < inner.config.min_browsers.min(inner.config.max_browsers) {
                match self.launch().await {
                    Ok(instance) => {
                        self.refill(&instance);
                        inner.browsers.lock().expect("browsers lock").push(instance);
                    }
                    Err(e) => tracing::error!(error = %e, "could not launch a warm browser"),
                }
                inner.metrics.browsers.set(self.browser_count() as i64);
                inner.freed.notify_waiters();
            }
        }
        self.memory_bytes();
    }
}

/// The supervisor loop; ends with the pool.
async fn supervise(inner: Weak<Inner>) {
    loop {
        let Some(strong) = inner.upgrade() else { return };
        let pool = Pool { inner: strong };
        if pool.inner.shutdown.is_cancelled() {
            return;
        }
        pool.supervise_once().await;
        let interval = PoolConfig::ms(pool.inner.config.ping_interval_ms);
        let stop = pool.inner.shutdown.clone();
        drop(pool);
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}

impl Instance {
    /// Closes the browser: asks politely for `grace`, then kills; always reaps the process
    /// and removes the profile directory. Idempotent.
    async fn stop(&self, grace: Duration) {
        self.dead.cancel();
        let taken = self.process.lock().expect("process lock").take();
        if let Some((child, profile)) = taken {
            if grace.is_zero() {
                process::kill_and_reap(child).await;
            } else {
                let _ = tokio::time::timeout(grace, self.browser.execute(CloseParams::default())).await;
                process::reap_within(child, grace).await;
            }
            drop(profile);
        }
        let handler = self.handler.lock().expect("handler lock").take();
        if let Some(h) = handler {
            h.abort();
        }
    }
}

/// Leaves the wait queue when dropped (also when the waiting future is cancelled).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// One isolated incognito context on a pooled browser. Dropping it disposes the context
/// (closing its pages) and returns the slot.
pub struct Lease {
    pool: Pool,
    instance: Arc<Instance>,
    context: Option<BrowserContextId>,
    /// The spare's blank page, until [`Lease::new_page`] hands it out.
    page: Mutex<Option<Page>>,
    permit: Option<OwnedSemaphorePermit>,
    waited: Duration,
}

impl std::fmt::Debug for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lease").field("browser", &self.instance.id).field("context", &self.context).finish()
    }
}

impl Lease {
    /// The context's id.
    pub fn context_id(&self) -> &BrowserContextId {
        self.context.as_ref().expect("a live lease has a context")
    }

    /// The browser's DevTools WebSocket URL (for the CDP proxy).
    pub fn browser_ws_url(&self) -> &str {
        &self.instance.ws_url
    }

    /// The browser's process id.
    pub fn browser_pid(&self) -> u32 {
        self.instance.pid
    }

    /// Fired when the browser under this lease dies or hangs.
    pub fn browser_dead(&self) -> &CancellationToken {
        &self.instance.dead
    }

    /// How long the acquire waited.
    pub fn waited(&self) -> Duration {
        self.waited
    }

    pub(crate) fn browser(&self) -> &Browser {
        &self.instance.browser
    }

    /// Opens a blank page in this lease's context: downloads refused, renderer crashes
    /// reported, at [`PAGE_VIEWPORT`]. The first call on a lease from [`Pool::acquire_page`]
    /// returns the spare's page, already open.
    pub async fn new_page(&self) -> Result<Page, BrowserError> {
        if let Some(page) = self.page.lock().expect("page lock").take() {
            return Ok(page);
        }
        let dead = self.instance.dead.clone();
        tokio::select! {
            page = open_page(&self.instance.browser, self.context_id()) => page,
            _ = dead.cancelled() => Err(BrowserError::BrowserCrashed { reason: "the browser died while opening a page".into() }),
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let (Some(context), Some(permit)) = (self.context.take(), self.permit.take()) else { return };
        let pool = self.pool.clone();
        let instance = self.instance.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(_) => {
                pool.inner.releasing.fetch_add(1, Ordering::SeqCst);
                let runtime = pool.inner.runtime.clone();
                runtime.spawn(async move { pool.release(instance, context, permit).await });
            }
            Err(_) => {
                // No runtime left (process exit): free the slot; the browser dies with us.
                instance.active.fetch_sub(1, Ordering::SeqCst);
                drop(permit);
            }
        }
    }
}

/// One open CDP session counted against its tenant's limit; dropping it frees the place.
#[derive(Debug)]
pub struct SessionSlot {
    pool: Pool,
    tenant: String,
}

impl Drop for SessionSlot {
    fn drop(&mut self) {
        let mut sessions = self.pool.inner.sessions.lock().expect("sessions lock");
        if let Some(n) = sessions.get_mut(&self.tenant) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                sessions.remove(&self.tenant);
            }
        }
    }
}

/// The viewport every leased page starts with, in CSS pixels (device scale factor 1).
/// Resizing a page costs a relayout and a new frame (100 ms and more): a render that keeps
/// this size skips it, since the page was prepared at it, often before it was asked for.
pub const PAGE_VIEWPORT: (u32, u32) = (1280, 720);

/// Opens a blank page in `context`, prepared for work (see [`prepare`]).
async fn open_page(browser: &Browser, context: &BrowserContextId) -> Result<Page, BrowserError> {
    let params = CreateTargetParams::builder().url("about:blank").browser_context_id(context.clone()).build().map_err(BrowserError::Cdp)?;
    let page = browser.new_page(params).await?;
    prepare(browser, context, &page).await?;
    Ok(page)
}

/// What every page leased out has, whatever the work: downloads refused in its context,
/// renderer crashes reported (`Inspector.targetCrashed`), and [`PAGE_VIEWPORT`].
async fn prepare(browser: &Browser, context: &BrowserContextId, page: &Page) -> Result<(), BrowserError> {
    let downloads = SetDownloadBehaviorParams::builder()
        .behavior(SetDownloadBehaviorBehavior::Deny)
        .browser_context_id(context.clone())
        .build()
        .map_err(BrowserError::Cdp)?;
    browser.execute(downloads).await?;
    page.execute(InspectorEnable::default()).await?;
    let (width, height) = PAGE_VIEWPORT;
    page.execute(SetDeviceMetricsOverrideParams::new(i64::from(width), i64::from(height), 1.0, false)).await?;
    Ok(())
}

/// Opens a fresh context and a prepared blank page in it.
async fn open_spare(instance: &Instance) -> Result<Spare, BrowserError> {
    let context = instance.browser.create_browser_context(CreateBrowserContextParams::default()).await?;
    match open_page(&instance.browser, &context).await {
        Ok(page) => Ok(Spare { context, page }),
        Err(e) => {
            let _ = instance.browser.dispose_browser_context(context).await;
            Err(e)
        }
    }
}
