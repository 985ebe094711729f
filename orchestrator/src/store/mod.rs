//! The store: tenants, keys, jobs and their queue, events, results, usage, webhooks, tasks.
//!
//! [`Store`] is the interface the rest of the service uses; [`SqliteStore`] is the embedded
//! implementation (WAL, one writer connection so writes queue in-process instead of spinning
//! on SQLite's busy handler). The claim query is written per [`sql::Dialect`], so the
//! PostgreSQL store will use `FOR UPDATE SKIP LOCKED` for the same queue semantics.
//!
//! Queue semantics: a worker claims a job with a lease (`lease_owner`, `lease_until`); a job
//! whose lease has run out is claimable again, so a dead worker's job is retried. Everything a
//! worker writes for a job (results, artifacts, its outcome) is *fenced*: it only lands while
//! that worker still holds the lease on a running job. Completion writes the outcome, usage,
//! the `done` event, the webhook delivery and the agent task in one transaction, so each
//! happens exactly once.

pub mod sql;
mod sqlite;

pub use sqlite::SqliteStore;

use ace_agents::Task;
use ace_finance::{UsageEvent, UsageSummary};
use ace_venture::Plans;
use async_trait::async_trait;
use serde_json::Value;

use crate::model::JobStatus;

/// A store failure. Details are for logs, never for API answers.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Migrations could not be applied.
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value could not be read back.
    #[error("corrupt stored value in {column}: {detail}")]
    Corrupt {
        /// Where.
        column: &'static str,
        /// What.
        detail: String,
    },
}

/// A tenant.
#[derive(Debug, Clone)]
pub struct TenantRecord {
    /// Id (`tn_…`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Plan name.
    pub plan: String,
    /// Created, ms since epoch.
    pub created_at: i64,
}

/// A stored key: never the key itself.
#[derive(Debug, Clone)]
pub struct KeyRecord {
    /// Id (`key_…`).
    pub id: String,
    /// Owner; `None` for the operator's admin key.
    pub tenant_id: Option<String>,
    /// Visible prefix.
    pub prefix: String,
    /// SHA-256 of the key.
    pub hash: String,
    /// Created, ms.
    pub created_at: i64,
    /// Revoked, ms.
    pub revoked_at: Option<i64>,
}

/// A key found by prefix, with its tenant's plan for the rate limiter.
#[derive(Debug, Clone)]
pub struct KeyMatch {
    /// The key.
    pub key: KeyRecord,
    /// Its tenant, if it has one.
    pub tenant: Option<TenantRecord>,
}

/// A job to create.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// Id (`job_…`).
    pub id: String,
    /// Owner.
    pub tenant_id: String,
    /// Kind name.
    pub kind: String,
    /// Target URL.
    pub url: String,
    /// Kind-specific options.
    pub options: Value,
    /// Where to post the finished job.
    pub webhook_url: Option<String>,
    /// HMAC key for the webhook signature.
    pub webhook_secret: Option<String>,
    /// The tenant's idempotency key.
    pub idempotency_key: Option<String>,
    /// Hash of the request, to tell a replay from a conflicting reuse of the key.
    pub request_hash: String,
    /// Attempts allowed.
    pub max_attempts: u32,
}

/// A job row.
#[derive(Debug, Clone)]
pub struct JobRecord {
    /// Insertion order; the list cursor.
    pub seq: i64,
    /// Id.
    pub id: String,
    /// Owner.
    pub tenant_id: String,
    /// Kind name.
    pub kind: String,
    /// Target URL.
    pub url: String,
    /// Options.
    pub options: Value,
    /// Webhook URL.
    pub webhook_url: Option<String>,
    /// Webhook secret.
    pub webhook_secret: Option<String>,
    /// Status.
    pub status: JobStatus,
    /// Units done.
    pub progress_done: i64,
    /// Units expected, when known.
    pub progress_total: Option<i64>,
    /// Claims so far.
    pub attempts: i64,
    /// Claims allowed.
    pub max_attempts: i64,
    /// Not claimable before this, ms.
    pub run_at: i64,
    /// Worker holding the lease.
    pub lease_owner: Option<String>,
    /// Lease end, ms.
    pub lease_until: Option<i64>,
    /// Last error sentence.
    pub error: Option<String>,
    /// Last error code.
    pub error_code: Option<String>,
    /// Created, ms.
    pub created_at: i64,
    /// First claimed, ms.
    pub started_at: Option<i64>,
    /// Finished, ms.
    pub finished_at: Option<i64>,
}

/// What came of [`Store::create_job`].
#[derive(Debug, Clone)]
pub enum CreateOutcome {
    /// A new job.
    Created(JobRecord),
    /// The idempotency key was seen with the same request: that job.
    Existing(JobRecord),
    /// The idempotency key was seen with a different request.
    Conflict,
}

/// What came of [`Store::cancel_job`].
#[derive(Debug, Clone)]
pub enum CancelOutcome {
    /// Cancelled now.
    Cancelled(JobRecord),
    /// Already finished; nothing changed.
    AlreadyFinished(JobRecord),
    /// No such job for this tenant.
    NotFound,
}

/// A worker's verdict on a claimed job.
#[derive(Debug, Clone)]
pub enum Finish {
    /// It worked; bill this.
    Succeeded {
        /// Metered usage.
        usage: Vec<UsageEvent>,
        /// A short summary for the task log.
        summary: String,
    },
    /// It failed for good.
    Failed {
        /// Error code.
        code: String,
        /// Error sentence.
        message: String,
    },
    /// It failed but may work later: back to the queue until `run_at`.
    Retry {
        /// When to try again, ms.
        run_at: i64,
        /// Error code of this attempt.
        code: String,
        /// Error sentence of this attempt.
        message: String,
    },
}

/// List filter for [`Store::list_jobs`].
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    /// Only this status.
    pub status: Option<JobStatus>,
    /// Only this kind.
    pub kind: Option<String>,
    /// Only jobs older than this `seq`.
    pub before_seq: Option<i64>,
    /// At most this many.
    pub limit: i64,
}

/// A job event.
#[derive(Debug, Clone)]
pub struct EventRecord {
    /// Order; the SSE event id.
    pub seq: i64,
    /// `progress`, `page` or `done`.
    pub kind: String,
    /// Payload.
    pub data: Value,
}

/// An artifact's listing.
#[derive(Debug, Clone)]
pub struct ArtifactRecord {
    /// File name.
    pub name: String,
    /// Size.
    pub bytes: i64,
    /// MIME type.
    pub content_type: String,
}

/// A webhook delivery due to be sent.
#[derive(Debug, Clone)]
pub struct WebhookDelivery {
    /// Id.
    pub id: i64,
    /// The job it reports.
    pub job_id: String,
    /// Target.
    pub url: String,
    /// HMAC key.
    pub secret: Option<String>,
    /// What it announces: `job.done` (the body is the job document) or one of Firecrawl's
    /// events (`crawl.page`, ...).
    pub event: String,
    /// Body.
    pub body: String,
    /// Attempts so far, this one excluded.
    pub attempts: i64,
}

/// Per-agent task counts.
#[derive(Debug, Clone, Default)]
pub struct AgentStats {
    /// Agent id.
    pub agent: String,
    /// Tasks running.
    pub running: i64,
    /// Tasks succeeded.
    pub succeeded: i64,
    /// Tasks failed or abandoned.
    pub failed: i64,
}

/// One URL of a crawl job's frontier (see `crawl_frontier` in the migrations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontierRow {
    /// The normalised URL.
    pub url: String,
    /// Link hops from the start page.
    pub depth: i64,
    /// Where it was found.
    pub parent: Option<String>,
    /// Discovery order.
    pub seq: i64,
    /// Whether its page is recorded.
    pub done: bool,
}

/// Everything the service keeps.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Whether the store answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Installs the operator's admin key (replacing any previous one).
    async fn set_admin_key(&self, key: &KeyRecord) -> Result<(), StoreError>;
    /// Whether an admin key exists.
    async fn has_admin_key(&self) -> Result<bool, StoreError>;

    /// Creates a tenant and its first key together.
    async fn create_tenant(&self, tenant: &TenantRecord, max_concurrent_jobs: u32, key: &KeyRecord) -> Result<(), StoreError>;
    /// One tenant.
    async fn get_tenant(&self, id: &str) -> Result<Option<TenantRecord>, StoreError>;
    /// All tenants, oldest first.
    async fn list_tenants(&self) -> Result<Vec<TenantRecord>, StoreError>;
    /// Copies each plan's concurrency limit onto its tenants (the claim query reads it there).
    async fn sync_plan_limits(&self, plans: &Plans) -> Result<(), StoreError>;

    /// Adds a key.
    async fn insert_key(&self, key: &KeyRecord) -> Result<(), StoreError>;
    /// Unrevoked keys with this prefix, with their tenants.
    async fn keys_by_prefix(&self, prefix: &str) -> Result<Vec<KeyMatch>, StoreError>;
    /// A tenant's keys, revoked ones included.
    async fn list_keys(&self, tenant_id: &str) -> Result<Vec<KeyRecord>, StoreError>;
    /// One key.
    async fn get_key(&self, key_id: &str) -> Result<Option<KeyRecord>, StoreError>;
    /// Revokes a key; false if it did not exist or was already revoked.
    async fn revoke_key(&self, key_id: &str, now: i64) -> Result<bool, StoreError>;

    /// Creates a job (or finds the one its idempotency key names) and its first event.
    async fn create_job(&self, job: &NewJob, now: i64) -> Result<CreateOutcome, StoreError>;
    /// A job, if `tenant_id` owns it (`None`: any tenant).
    async fn get_job(&self, tenant_id: Option<&str>, id: &str) -> Result<Option<JobRecord>, StoreError>;
    /// A tenant's jobs, newest first.
    async fn list_jobs(&self, tenant_id: &str, filter: &JobFilter) -> Result<Vec<JobRecord>, StoreError>;
    /// Cancels a queued or running job; its webhook and `done` event are queued with it, and
    /// its crawl frontier is dropped.
    async fn cancel_job(&self, tenant_id: &str, id: &str, now: i64) -> Result<CancelOutcome, StoreError>;

    /// Claims the next due job (or one whose lease ran out) for `worker` until `lease_until`.
    /// The first claim of a job queues its Firecrawl webhook's `started` event.
    async fn claim_job(&self, worker: &str, now: i64, lease_until: i64) -> Result<Option<JobRecord>, StoreError>;
    /// Extends a lease; false when the worker no longer holds it (cancelled, or reclaimed).
    async fn renew_lease(&self, job_id: &str, worker: &str, lease_until: i64) -> Result<bool, StoreError>;
    /// Records a claimed job's outcome (fenced). `None` when the worker no longer held it.
    /// A terminal outcome drops the job's crawl frontier: it only serves resuming.
    async fn finish_job(&self, job_id: &str, worker: &str, finish: &Finish, now: i64) -> Result<Option<JobRecord>, StoreError>;
    /// Hands a job back to the queue without counting the attempt (shutdown).
    async fn release_job(&self, job_id: &str, worker: &str) -> Result<bool, StoreError>;
    /// Sets progress (fenced) and adds a `progress` event: for totals, or units that are not pages.
    async fn set_progress(&self, job_id: &str, worker: &str, done: i64, total: Option<i64>) -> Result<bool, StoreError>;
    /// Appends a result record (fenced), counts it in `progress_done`, and adds a `page` event
    /// (and queues the page's webhook event, for a Firecrawl webhook that wants it).
    async fn add_result(&self, job_id: &str, worker: &str, record: &Value, event: &Value) -> Result<bool, StoreError>;
    /// Records one crawled page in one transaction (fenced): its result, as
    /// [`add_result`](Self::add_result) does (webhook event included), `url` marked done in
    /// the job's crawl frontier, and the URLs the page `discovered` queued (those already
    /// known are left as they are).
    async fn add_crawl_page(
        &self,
        job_id: &str,
        worker: &str,
        record: &Value,
        event: &Value,
        url: &str,
        discovered: &[FrontierRow],
    ) -> Result<bool, StoreError>;
    /// A crawl job's frontier, done URLs included, in discovery order; empty once the job
    /// has ended.
    async fn crawl_frontier(&self, job_id: &str) -> Result<Vec<FrontierRow>, StoreError>;
    /// Lists an artifact written to disk (fenced).
    async fn add_artifact(&self, job_id: &str, worker: &str, artifact: &ArtifactRecord) -> Result<bool, StoreError>;

    /// Result records after index `after`, in order.
    async fn results(&self, job_id: &str, after: i64, limit: i64) -> Result<Vec<(i64, Value)>, StoreError>;
    /// A job's artifacts.
    async fn artifacts(&self, job_id: &str) -> Result<Vec<ArtifactRecord>, StoreError>;
    /// Events after `after_seq`, in order.
    async fn events_after(&self, job_id: &str, after_seq: i64, limit: i64) -> Result<Vec<EventRecord>, StoreError>;

    /// Jobs per status, all tenants.
    async fn job_counts(&self) -> Result<Vec<(JobStatus, i64)>, StoreError>;
    /// Jobs due to run now and not running.
    async fn queue_depth(&self, now: i64) -> Result<i64, StoreError>;

    /// Meters usage that no job carries (synchronous renders).
    async fn record_usage(&self, tenant_id: &str, usage: &[UsageEvent], now: i64) -> Result<(), StoreError>;
    /// A tenant's usage in `[from, to)`.
    async fn usage(&self, tenant_id: &str, from: i64, to: i64) -> Result<UsageSummary, StoreError>;
    /// Pages counted against the tenant's quota in the month starting at `period_start`.
    async fn pages_in_period(&self, tenant_id: &str, period_start: i64) -> Result<i64, StoreError>;

    /// Takes up to `limit` due webhook deliveries, holding them until `hold_until`.
    async fn claim_webhooks(&self, now: i64, hold_until: i64, limit: i64) -> Result<Vec<WebhookDelivery>, StoreError>;
    /// Marks a delivery done.
    async fn webhook_delivered(&self, id: i64, attempts: i64, now: i64) -> Result<(), StoreError>;
    /// Records a failed delivery: retried at `retry_at`, or given up when `None`.
    async fn webhook_failed(&self, id: i64, attempts: i64, retry_at: Option<i64>, error: &str) -> Result<(), StoreError>;

    /// A job's agent tasks.
    async fn agent_tasks(&self, job_id: &str) -> Result<Vec<Task>, StoreError>;
    /// Task counts per agent (optionally for one tenant).
    async fn agent_stats(&self, tenant_id: Option<&str>) -> Result<Vec<AgentStats>, StoreError>;
}
