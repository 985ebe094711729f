//! The embedded store: SQLite in WAL mode.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ace_agents::{Agent, Task, TaskStatus};
use ace_finance::{BillingPeriod, Metric, UsageSummary};
use ace_venture::Plans;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, Sqlite, SqlitePool, Transaction};
use tokio::sync::{mpsc, oneshot, Mutex, MutexGuard, Notify};

use super::sql::{Dialect, HELD, JOB_COLUMNS};
use super::*;
use crate::model::{job_document, webhook_body, JobKind, JobStatus, WebhookEvent};

/// SQLite behind the [`Store`] interface.
///
/// Writes go through a pool of exactly one connection: SQLite allows one writer at a time,
/// and queueing writers on the pool's fair semaphore keeps latency flat, where several
/// connections would spin in SQLite's busy handler. Reads use their own small pool and,
/// thanks to WAL, never wait for the writer.
///
/// New jobs are group-committed: submissions that arrive while the writer is busy are
/// inserted together, in one transaction and two statements, when it is free. Each
/// statement is a round trip to SQLite's connection thread, and under load those hops, not
/// SQLite's work, are what a submission waits for; so a burst costs the writer about what one
/// job does, and the queue behind it drains at once instead of one job at a time.
///
/// The API's writes go before the workers' (see [`Writer`]), so a client waits for at most one
/// worker transaction, not for every worker's.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: Arc<Writer>,
    reader: SqlitePool,
    submissions: mpsc::Sender<Submission>,
}

/// The single write connection and the order writers get it in.
///
/// A pool of one connection queues its waiters first come, first served. Background writes
/// (the job workers' claims, results and outcomes, and the webhook sender's bookkeeping)
/// instead queue one at a time in their own lane, and only while no foreground write (an
/// API request's) is waiting for the connection. Neither starves: while a foreground write
/// holds the connection the next background write queues behind it, and the next foreground
/// write behind that.
#[derive(Debug)]
struct Writer {
    pool: SqlitePool,
    /// Foreground writes waiting for the connection.
    waiting: AtomicUsize,
    /// Signalled when `waiting` drops to zero.
    clear: Notify,
    /// Background writes take turns here.
    lane: Mutex<()>,
}

impl Writer {
    /// A foreground write transaction. It takes the write lock at once, so it never fails
    /// half-way on a lock upgrade when another process (an `ace-web worker`) writes too.
    async fn begin(&self) -> Result<Tx, StoreError> {
        let _waiting = Waiting::new(self);
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// A background write transaction: queued behind every waiting foreground write.
    async fn begin_background(&self) -> Result<Tx, StoreError> {
        let _turn = self.background_turn().await;
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Waits for the background lane and for no foreground write to be waiting; background
    /// single statements hold the returned turn while they run.
    async fn background_turn(&self) -> MutexGuard<'_, ()> {
        let turn = self.lane.lock().await;
        loop {
            let cleared = self.clear.notified();
            tokio::pin!(cleared);
            cleared.as_mut().enable();
            if self.waiting.load(Ordering::SeqCst) == 0 {
                return turn;
            }
            cleared.await;
        }
    }
}

/// A foreground write counted as waiting for the connection until dropped, also when the
/// future waiting is cancelled.
struct Waiting<'a>(&'a Writer);

impl<'a> Waiting<'a> {
    fn new(writer: &'a Writer) -> Self {
        writer.waiting.fetch_add(1, Ordering::SeqCst);
        Waiting(writer)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if self.0.waiting.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.clear.notify_waiters();
        }
    }
}

/// A new job waiting for the next group commit, and where its outcome goes.
type Submission = (NewJob, i64, oneshot::Sender<Result<JobRecord, StoreError>>);

/// The most jobs one group commit inserts (13 parameters each, far below SQLite's limit).
const JOBS_PER_COMMIT: usize = 256;

type Tx = Transaction<'static, Sqlite>;

impl SqliteStore {
    /// Opens (creating if needed) the database at `url` and applies migrations.
    pub async fn open(url: &str) -> Result<SqliteStore, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        // Connections are local files: pinging one before each use would only add a round trip
        // to every write on the single writer.
        // The writer never checkpoints: a commit that crossed the WAL threshold would pay the
        // checkpoint's fsync inside some API request. A background task checkpoints instead.
        // Every connection is opened here, at start, and kept: each runs on a thread of its
        // own, which takes the scheduling priority of the thread that opens it, and one
        // opened later by a niced job thread (see `worker`) would serve API requests niced.
        // A local file has nothing to gain from recycling connections anyway.
        let writer_options = options.clone().pragma("wal_autocheckpoint", "0");
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .max_lifetime(None)
            .idle_timeout(None)
            .test_before_acquire(false)
            .connect_with(writer_options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        let writer = Arc::new(Writer {
            pool,
            waiting: AtomicUsize::new(0),
            clear: Notify::new(),
            lane: Mutex::new(()),
        });
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .min_connections(4)
            .max_lifetime(None)
            .idle_timeout(None)
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        tokio::spawn(checkpoint_in_background(reader.clone()));
        let (submissions, queue) = mpsc::channel(4 * JOBS_PER_COMMIT);
        tokio::spawn(group_commit(writer.clone(), queue));
        Ok(SqliteStore { writer, reader, submissions })
    }

    /// A foreground write transaction: see [`Writer`].
    async fn begin(&self) -> Result<Tx, StoreError> {
        self.writer.begin().await
    }
}

/// Inserts submitted jobs, as many at a time as are waiting, until every [`SqliteStore`]
/// clone is gone. When a group fails, its jobs are tried again one per transaction, so a
/// bad job fails alone and the others are stored.
async fn group_commit(writer: Arc<Writer>, mut queue: mpsc::Receiver<Submission>) {
    let mut batch = Vec::with_capacity(JOBS_PER_COMMIT);
    while queue.recv_many(&mut batch, JOBS_PER_COMMIT).await > 0 {
        let jobs: Vec<(&NewJob, i64)> = batch.iter().map(|(job, now, _)| (job, *now)).collect();
        match commit_jobs(&writer, &jobs).await {
            Ok(mut records) => {
                for (job, _, reply) in batch.drain(..) {
                    let _ = reply.send(records.remove(&job.id).ok_or_else(|| not_returned(&job)));
                }
            }
            Err(e) if batch.len() == 1 => {
                if let Some((_, _, reply)) = batch.pop() {
                    let _ = reply.send(Err(e));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, jobs = batch.len(), "a group commit of new jobs failed; inserting them one by one");
                for (job, now, reply) in batch.drain(..) {
                    let outcome = commit_jobs(&writer, &[(&job, now)])
                        .await
                        .and_then(|mut r| r.remove(&job.id).ok_or_else(|| not_returned(&job)));
                    let _ = reply.send(outcome);
                }
            }
        }
    }
}

fn not_returned(job: &NewJob) -> StoreError {
    StoreError::Corrupt {
        column: "jobs",
        detail: format!("job {} was inserted but not returned", job.id),
    }
}

/// Inserts `jobs` queued, each with its first progress event, in one transaction.
async fn commit_jobs(
    writer: &Writer,
    jobs: &[(&NewJob, i64)],
) -> Result<HashMap<String, JobRecord>, StoreError> {
    let mut tx = writer.begin().await?;
    let records = insert_jobs(&mut tx, jobs).await?;
    tx.commit().await?;
    Ok(records)
}

/// Inserts `jobs` queued, each with its first progress event, in two statements.
async fn insert_jobs(
    tx: &mut Tx,
    jobs: &[(&NewJob, i64)],
) -> Result<HashMap<String, JobRecord>, StoreError> {
    let mut insert = sqlx::QueryBuilder::<Sqlite>::new(
        "INSERT INTO jobs (id, tenant_id, kind, url, options, webhook_url, webhook_secret, idempotency_key, \
             request_hash, status, max_attempts, run_at, created_at) ",
    );
    insert.push_values(jobs, |mut row, (job, now)| {
        row.push_bind(&job.id)
            .push_bind(&job.tenant_id)
            .push_bind(&job.kind)
            .push_bind(&job.url)
            .push_bind(job.options.to_string())
            .push_bind(&job.webhook_url)
            .push_bind(&job.webhook_secret)
            .push_bind(&job.idempotency_key)
            .push_bind(&job.request_hash)
            .push_bind("queued")
            .push_bind(i64::from(job.max_attempts))
            .push_bind(*now)
            .push_bind(*now);
    });
    insert.push(format!(" RETURNING {JOB_COLUMNS}"));
    let mut records = HashMap::with_capacity(jobs.len());
    for row in insert.build().fetch_all(&mut **tx).await? {
        let record = job_from_row(&row)?;
        records.insert(record.id.clone(), record);
    }
    let mut events =
        sqlx::QueryBuilder::<Sqlite>::new("INSERT INTO job_events (job_id, kind, data, at) ");
    events.push_values(jobs, |mut row, (job, now)| {
        let data = records
            .get(&job.id)
            .map(|r| progress_event(r, json!({})).to_string())
            .unwrap_or_default();
        row.push_bind(&job.id).push_bind("progress").push_bind(data).push_bind(*now);
    });
    events.build().execute(&mut **tx).await?;
    Ok(records)
}

/// Copies the WAL into the database file every second, off the request path, until the
/// store is closed. PASSIVE never waits for readers or the writer.
async fn checkpoint_in_background(pool: SqlitePool) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        if pool.is_closed() {
            return;
        }
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&pool).await {
            tracing::warn!(error = %e, "WAL checkpoint failed; will retry");
        }
    }
}

fn job_from_row(row: &SqliteRow) -> Result<JobRecord, StoreError> {
    let status: String = row.try_get("status")?;
    let options: String = row.try_get("options")?;
    Ok(JobRecord {
        seq: row.try_get("seq")?,
        id: row.try_get("id")?,
        tenant_id: row.try_get("tenant_id")?,
        kind: row.try_get("kind")?,
        url: row.try_get("url")?,
        options: serde_json::from_str(&options)
            .map_err(|e| StoreError::Corrupt { column: "jobs.options", detail: e.to_string() })?,
        webhook_url: row.try_get("webhook_url")?,
        webhook_secret: row.try_get("webhook_secret")?,
        status: JobStatus::parse(&status)
            .ok_or(StoreError::Corrupt { column: "jobs.status", detail: status.clone() })?,
        progress_done: row.try_get("progress_done")?,
        progress_total: row.try_get("progress_total")?,
        attempts: row.try_get("attempts")?,
        max_attempts: row.try_get("max_attempts")?,
        run_at: row.try_get("run_at")?,
        lease_owner: row.try_get("lease_owner")?,
        lease_until: row.try_get("lease_until")?,
        error: row.try_get("error")?,
        error_code: row.try_get("error_code")?,
        created_at: row.try_get("created_at")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
    })
}

fn tenant_from_row(row: &SqliteRow, prefix: &str) -> Result<TenantRecord, StoreError> {
    Ok(TenantRecord {
        id: row.try_get(format!("{prefix}id").as_str())?,
        name: row.try_get(format!("{prefix}name").as_str())?,
        plan: row.try_get(format!("{prefix}plan").as_str())?,
        created_at: row.try_get(format!("{prefix}created_at").as_str())?,
    })
}

fn key_from_row(row: &SqliteRow) -> Result<KeyRecord, StoreError> {
    Ok(KeyRecord {
        id: row.try_get("id")?,
        tenant_id: row.try_get("tenant_id")?,
        prefix: row.try_get("prefix")?,
        hash: row.try_get("hash")?,
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

fn artifact_from_row(row: &SqliteRow) -> Result<ArtifactRecord, StoreError> {
    Ok(ArtifactRecord {
        name: row.try_get("name")?,
        bytes: row.try_get("bytes")?,
        content_type: row.try_get("content_type")?,
    })
}

fn parse_json(text: &str, column: &'static str) -> Result<Value, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt { column, detail: e.to_string() })
}

/// Frontier rows per multi-row INSERT: 6 parameters each, well under SQLite's 32,766 limit
/// (and PostgreSQL's 65,535).
const FRONTIER_ROWS_PER_INSERT: usize = 500;

const KEY_COLUMNS: &str = "id, tenant_id, prefix, hash, created_at, revoked_at";

/// Records metered usage: each event, and its month's roll-up that the quota check reads.
async fn insert_usage(
    tx: &mut Tx,
    tenant_id: &str,
    job_id: Option<&str>,
    usage: &[UsageEvent],
    now: i64,
) -> Result<(), StoreError> {
    let period =
        BillingPeriod::containing(DateTime::<Utc>::from_timestamp_millis(now).unwrap_or_default());
    for event in usage {
        sqlx::query("INSERT INTO usage_events (tenant_id, job_id, metric, quantity, at) VALUES ($1, $2, $3, $4, $5)")
            .bind(tenant_id)
            .bind(job_id)
            .bind(event.metric.as_str())
            .bind(event.quantity)
            .bind(now)
            .execute(&mut **tx)
            .await?;
        sqlx::query(
            "INSERT INTO usage_monthly (tenant_id, period_start, metric, quantity) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id, period_start, metric) DO UPDATE SET quantity = quantity + excluded.quantity",
        )
        .bind(tenant_id)
        .bind(period.start.timestamp_millis())
        .bind(event.metric.as_str())
        .bind(event.quantity)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn insert_event(
    tx: &mut Tx,
    job_id: &str,
    kind: &str,
    data: &Value,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO job_events (job_id, kind, data, at) VALUES ($1, $2, $3, $4)")
        .bind(job_id)
        .bind(kind)
        .bind(data.to_string())
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn artifacts_in(tx: &mut Tx, job_id: &str) -> Result<Vec<ArtifactRecord>, StoreError> {
    sqlx::query(
        "SELECT name, bytes, content_type FROM job_artifacts WHERE job_id = $1 ORDER BY name",
    )
    .bind(job_id)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(artifact_from_row)
    .collect()
}

/// Writes what every terminal outcome shares: the `done` event, the webhook delivery, and
/// the end of the job's crawl frontier, which only a resumed attempt reads.
async fn announce_done(tx: &mut Tx, job: &JobRecord, now: i64) -> Result<(), StoreError> {
    let artifacts = artifacts_in(tx, &job.id).await?;
    let doc = serde_json::to_value(job_document(job, Some(&artifacts)))
        .map_err(|e| StoreError::Corrupt { column: "jobs", detail: e.to_string() })?;
    insert_event(tx, &job.id, "done", &doc, now).await?;
    queue_webhook(tx, job, webhook_body(job, &doc), now).await?;
    if job.kind == JobKind::Crawl.as_str() {
        sqlx::query("DELETE FROM crawl_frontier WHERE job_id = $1")
            .bind(&job.id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Queues `event` for `job`'s webhook, if the job has one and there is an event.
async fn queue_webhook(
    tx: &mut Tx,
    job: &JobRecord,
    event: Option<WebhookEvent>,
    now: i64,
) -> Result<(), StoreError> {
    let (Some(url), Some(event)) = (&job.webhook_url, event) else { return Ok(()) };
    sqlx::query("INSERT INTO webhook_deliveries (job_id, url, secret, event, body, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&job.id)
        .bind(url)
        .bind(&job.webhook_secret)
        .bind(&event.event)
        .bind(event.body.to_string())
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Appends `record` to the results of job `job_id` if `worker` still holds it, counts it in
/// the job's progress, and announces it as a `page` event (and webhook). False, and nothing
/// written, when the lease is lost.
async fn record_result(
    tx: &mut Tx,
    job_id: &str,
    worker: &str,
    record: &Value,
    event: &Value,
    now: i64,
) -> Result<bool, StoreError> {
    let inserted = sqlx::query(&format!(
        "INSERT INTO job_results (job_id, idx, record) \
         SELECT $1, COALESCE((SELECT MAX(idx) + 1 FROM job_results WHERE job_id = $1), 0), $3 WHERE {HELD}"
    ))
    .bind(job_id)
    .bind(worker)
    .bind(record.to_string())
    .execute(&mut **tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Ok(false);
    }
    let row = sqlx::query(&format!(
        "UPDATE jobs SET progress_done = progress_done + 1 WHERE id = $1 RETURNING {JOB_COLUMNS}"
    ))
    .bind(job_id)
    .fetch_one(&mut **tx)
    .await?;
    insert_event(tx, job_id, "page", event, now).await?;
    announce_page(tx, &job_from_row(&row)?, record, now).await?;
    Ok(true)
}

/// Queues the webhook event of a page just recorded for `job`. Only Firecrawl's webhooks
/// announce pages.
async fn announce_page(
    tx: &mut Tx,
    job: &JobRecord,
    record: &Value,
    now: i64,
) -> Result<(), StoreError> {
    if job.webhook_url.is_none() {
        return Ok(());
    }
    queue_webhook(tx, job, crate::firecrawl::events::page(job, record, now), now).await
}

async fn close_tasks(
    tx: &mut Tx,
    job_id: &str,
    status: TaskStatus,
    outcome: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE agent_tasks SET status = $2, finished_at = $3, outcome = $4 WHERE job_id = $1 AND status = 'running'",
    )
    .bind(job_id)
    .bind(status.as_str())
    .bind(now)
    .bind(outcome)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn progress_event(job: &JobRecord, extra: Value) -> Value {
    let mut data = json!({
        "status": job.status.as_str(),
        "done": job.progress_done,
        "total": job.progress_total,
        "attempts": job.attempts,
    });
    if let (Some(obj), Value::Object(more)) = (data.as_object_mut(), extra) {
        obj.extend(more);
    }
    data
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }

    async fn set_admin_key(&self, key: &KeyRecord) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM api_keys WHERE tenant_id IS NULL").execute(&mut *tx).await?;
        sqlx::query("INSERT INTO api_keys (id, tenant_id, prefix, hash, created_at) VALUES ($1, NULL, $2, $3, $4)")
            .bind(&key.id)
            .bind(&key.prefix)
            .bind(&key.hash)
            .bind(key.created_at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn has_admin_key(&self) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM api_keys WHERE tenant_id IS NULL AND revoked_at IS NULL",
        )
        .fetch_one(&self.writer.pool)
        .await?;
        Ok(n > 0)
    }

    async fn create_tenant(
        &self,
        t: &TenantRecord,
        max_concurrent_jobs: u32,
        key: &KeyRecord,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query("INSERT INTO tenants (id, name, plan, max_concurrent_jobs, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&t.id)
            .bind(&t.name)
            .bind(&t.plan)
            .bind(i64::from(max_concurrent_jobs))
            .bind(t.created_at)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO api_keys (id, tenant_id, prefix, hash, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&key.id)
            .bind(&t.id)
            .bind(&key.prefix)
            .bind(&key.hash)
            .bind(key.created_at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_tenant(&self, id: &str) -> Result<Option<TenantRecord>, StoreError> {
        sqlx::query("SELECT id, name, plan, created_at FROM tenants WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.reader)
            .await?
            .map(|r| tenant_from_row(&r, ""))
            .transpose()
    }

    async fn list_tenants(&self) -> Result<Vec<TenantRecord>, StoreError> {
        sqlx::query("SELECT id, name, plan, created_at FROM tenants ORDER BY created_at, id")
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(|r| tenant_from_row(r, ""))
            .collect()
    }

    async fn sync_plan_limits(&self, plans: &Plans) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        for plan in plans.iter() {
            sqlx::query("UPDATE tenants SET max_concurrent_jobs = $1 WHERE plan = $2")
                .bind(i64::from(plan.limits.concurrent_jobs))
                .bind(&plan.name)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn insert_key(&self, key: &KeyRecord) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO api_keys (id, tenant_id, prefix, hash, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&key.id)
            .bind(&key.tenant_id)
            .bind(&key.prefix)
            .bind(&key.hash)
            .bind(key.created_at)
            .execute(&self.writer.pool)
            .await?;
        Ok(())
    }

    async fn keys_by_prefix(&self, prefix: &str) -> Result<Vec<KeyMatch>, StoreError> {
        let rows = sqlx::query(
            "SELECT k.id, k.tenant_id, k.prefix, k.hash, k.created_at, k.revoked_at, \
                    t.id AS t_id, t.name AS t_name, t.plan AS t_plan, t.created_at AS t_created_at \
             FROM api_keys k LEFT JOIN tenants t ON t.id = k.tenant_id \
             WHERE k.prefix = $1 AND k.revoked_at IS NULL",
        )
        .bind(prefix)
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|row| {
                let key = key_from_row(row)?;
                let tenant = match key.tenant_id {
                    Some(_) => Some(tenant_from_row(row, "t_")?),
                    None => None,
                };
                Ok(KeyMatch { key, tenant })
            })
            .collect()
    }

    async fn list_keys(&self, tenant_id: &str) -> Result<Vec<KeyRecord>, StoreError> {
        sqlx::query(&format!(
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant_id = $1 ORDER BY created_at, id"
        ))
        .bind(tenant_id)
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(key_from_row)
        .collect()
    }

    async fn get_key(&self, key_id: &str) -> Result<Option<KeyRecord>, StoreError> {
        sqlx::query(&format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = $1"))
            .bind(key_id)
            .fetch_optional(&self.reader)
            .await?
            .map(|r| key_from_row(&r))
            .transpose()
    }

    async fn revoke_key(&self, key_id: &str, now: i64) -> Result<bool, StoreError> {
        let done =
            sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                .bind(key_id)
                .bind(now)
                .execute(&self.writer.pool)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn create_job(&self, job: &NewJob, now: i64) -> Result<CreateOutcome, StoreError> {
        if job.idempotency_key.is_none() {
            let (reply, outcome) = oneshot::channel();
            let closed = || StoreError::Database(sqlx::Error::PoolClosed);
            self.submissions.send((job.clone(), now, reply)).await.map_err(|_| closed())?;
            return Ok(CreateOutcome::Created(outcome.await.map_err(|_| closed())??));
        }
        // With a key the lookup and the insert must be one transaction, so these go alone.
        let mut tx = self.begin().await?;
        if let Some(key) = &job.idempotency_key {
            let existing = sqlx::query(&format!(
                "SELECT {JOB_COLUMNS}, request_hash FROM jobs WHERE tenant_id = $1 AND idempotency_key = $2"
            ))
            .bind(&job.tenant_id)
            .bind(key)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(row) = existing {
                let hash: String = row.try_get("request_hash")?;
                return Ok(if hash == job.request_hash {
                    CreateOutcome::Existing(job_from_row(&row)?)
                } else {
                    CreateOutcome::Conflict
                });
            }
        }
        let record = insert_jobs(&mut tx, &[(job, now)])
            .await?
            .remove(&job.id)
            .ok_or_else(|| not_returned(job))?;
        tx.commit().await?;
        Ok(CreateOutcome::Created(record))
    }

    async fn get_job(
        &self,
        tenant_id: Option<&str>,
        id: &str,
    ) -> Result<Option<JobRecord>, StoreError> {
        sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1 AND ($2 IS NULL OR tenant_id = $2)"
        ))
        .bind(id)
        .bind(tenant_id)
        .fetch_optional(&self.reader)
        .await?
        .map(|r| job_from_row(&r))
        .transpose()
    }

    async fn list_jobs(
        &self,
        tenant_id: &str,
        f: &JobFilter,
    ) -> Result<Vec<JobRecord>, StoreError> {
        sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE tenant_id = $1 AND ($2 IS NULL OR status = $2) \
             AND ($3 IS NULL OR kind = $3) AND ($4 IS NULL OR seq < $4) ORDER BY seq DESC LIMIT $5"
        ))
        .bind(tenant_id)
        .bind(f.status.map(JobStatus::as_str))
        .bind(&f.kind)
        .bind(f.before_seq)
        .bind(f.limit)
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(job_from_row)
        .collect()
    }

    async fn cancel_job(
        &self,
        tenant_id: &str,
        id: &str,
        now: i64,
    ) -> Result<CancelOutcome, StoreError> {
        let mut tx = self.begin().await?;
        let Some(row) = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1 AND tenant_id = $2"
        ))
        .bind(id)
        .bind(tenant_id)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(CancelOutcome::NotFound);
        };
        let job = job_from_row(&row)?;
        if job.status.is_terminal() {
            return Ok(CancelOutcome::AlreadyFinished(job));
        }
        let row = sqlx::query(&format!(
            "UPDATE jobs SET status = 'cancelled', finished_at = $2, lease_owner = NULL, lease_until = NULL \
             WHERE id = $1 RETURNING {JOB_COLUMNS}"
        ))
        .bind(id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let job = job_from_row(&row)?;
        close_tasks(&mut tx, id, TaskStatus::Abandoned, "cancelled", now).await?;
        announce_done(&mut tx, &job, now).await?;
        tx.commit().await?;
        Ok(CancelOutcome::Cancelled(job))
    }

    async fn claim_job(
        &self,
        worker: &str,
        now: i64,
        lease_until: i64,
    ) -> Result<Option<JobRecord>, StoreError> {
        let mut tx = self.writer.begin_background().await?;
        let Some(row) = sqlx::query(&Dialect::Sqlite.claim_job())
            .bind(worker)
            .bind(now)
            .bind(lease_until)
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(None);
        };
        let job = job_from_row(&row)?;
        // `started_at` is set by the first claim only; a takeover, a retry or a job handed back
        // at shutdown was started before and starts nothing new.
        let first_start = job.started_at == Some(now);
        if !first_start {
            // A fresh attempt starts clean: a dead worker's partial output is not this
            // attempt's. Except a crawl's: its recorded pages are done in its stored frontier,
            // and the new attempt resumes after them instead of fetching and recording them
            // again. A first start has nothing to clear, and saves the writer three statements.
            sqlx::query("DELETE FROM job_results WHERE job_id = $1 AND NOT EXISTS (SELECT 1 FROM crawl_frontier WHERE job_id = $1)")
                .bind(&job.id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM job_artifacts WHERE job_id = $1")
                .bind(&job.id)
                .execute(&mut *tx)
                .await?;
            close_tasks(&mut tx, &job.id, TaskStatus::Abandoned, "lease_expired", now).await?;
        }
        let agent = Agent::for_job_kind(&job.kind).unwrap_or(Agent::Scraper);
        sqlx::query(
            "INSERT INTO agent_tasks (id, job_id, tenant_id, agent, attempt, status, started_at) \
             VALUES ($1, $2, $3, $4, $5, 'running', $6)",
        )
        .bind(format!("task_{}", uuid::Uuid::now_v7().simple()))
        .bind(&job.id)
        .bind(&job.tenant_id)
        .bind(agent.id())
        .bind(job.attempts)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        insert_event(&mut tx, &job.id, "progress", &progress_event(&job, json!({})), now).await?;
        if first_start {
            queue_webhook(&mut tx, &job, crate::firecrawl::events::started(&job, now), now).await?;
        }
        tx.commit().await?;
        Ok(Some(job))
    }

    async fn renew_lease(
        &self,
        job_id: &str,
        worker: &str,
        lease_until: i64,
    ) -> Result<bool, StoreError> {
        let _turn = self.writer.background_turn().await;
        let done = sqlx::query(
            "UPDATE jobs SET lease_until = $3 WHERE id = $1 AND lease_owner = $2 AND status = 'running'",
        )
        .bind(job_id)
        .bind(worker)
        .bind(lease_until)
        .execute(&self.writer.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn finish_job(
        &self,
        job_id: &str,
        worker: &str,
        finish: &Finish,
        now: i64,
    ) -> Result<Option<JobRecord>, StoreError> {
        let mut tx = self.writer.begin_background().await?;
        let (status, run_at, code, message) = match finish {
            Finish::Succeeded { .. } => ("succeeded", None, None, None),
            Finish::Failed { code, message } => ("failed", None, Some(code), Some(message)),
            Finish::Retry { run_at, code, message } => {
                ("queued", Some(*run_at), Some(code), Some(message))
            }
        };
        let finished_at = (status != "queued").then_some(now);
        let Some(row) = sqlx::query(&format!(
            "UPDATE jobs SET status = $3, finished_at = $4, run_at = COALESCE($5, run_at), error = $6, \
                 error_code = $7, lease_owner = NULL, lease_until = NULL, \
                 progress_total = CASE WHEN $3 = 'succeeded' THEN COALESCE(progress_total, progress_done) \
                                  ELSE progress_total END \
             WHERE id = $1 AND lease_owner = $2 AND status = 'running' RETURNING {JOB_COLUMNS}"
        ))
        .bind(job_id)
        .bind(worker)
        .bind(status)
        .bind(finished_at)
        .bind(run_at)
        .bind(message)
        .bind(code)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(None);
        };
        let job = job_from_row(&row)?;
        match finish {
            Finish::Succeeded { usage, summary } => {
                insert_usage(&mut tx, &job.tenant_id, Some(&job.id), usage, now).await?;
                close_tasks(&mut tx, job_id, TaskStatus::Succeeded, summary, now).await?;
                announce_done(&mut tx, &job, now).await?;
            }
            Finish::Failed { code, .. } => {
                close_tasks(&mut tx, job_id, TaskStatus::Failed, code, now).await?;
                announce_done(&mut tx, &job, now).await?;
            }
            Finish::Retry { run_at, code, .. } => {
                close_tasks(&mut tx, job_id, TaskStatus::Failed, code, now).await?;
                let data = progress_event(
                    &job,
                    json!({ "retry_at": crate::model::iso(*run_at), "error_code": code }),
                );
                insert_event(&mut tx, job_id, "progress", &data, now).await?;
            }
        }
        tx.commit().await?;
        Ok(Some(job))
    }

    async fn release_job(&self, job_id: &str, worker: &str) -> Result<bool, StoreError> {
        let now = crate::model::now_ms();
        let mut tx = self.writer.begin_background().await?;
        let Some(row) = sqlx::query(&format!(
            "UPDATE jobs SET status = 'queued', lease_owner = NULL, lease_until = NULL, run_at = $3, \
                 attempts = MAX(attempts - 1, 0) \
             WHERE id = $1 AND lease_owner = $2 AND status = 'running' RETURNING {JOB_COLUMNS}"
        ))
        .bind(job_id)
        .bind(worker)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(false);
        };
        let job = job_from_row(&row)?;
        close_tasks(&mut tx, job_id, TaskStatus::Abandoned, "handed_back_at_shutdown", now).await?;
        insert_event(&mut tx, job_id, "progress", &progress_event(&job, json!({})), now).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn set_progress(
        &self,
        job_id: &str,
        worker: &str,
        done: i64,
        total: Option<i64>,
    ) -> Result<bool, StoreError> {
        let now = crate::model::now_ms();
        let mut tx = self.writer.begin_background().await?;
        let updated = sqlx::query(
            "UPDATE jobs SET progress_done = $3, progress_total = $4 WHERE id = $1 AND lease_owner = $2 AND status = 'running'",
        )
        .bind(job_id)
        .bind(worker)
        .bind(done)
        .bind(total)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Ok(false);
        }
        insert_event(
            &mut tx,
            job_id,
            "progress",
            &json!({ "status": "running", "done": done, "total": total }),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn add_result(
        &self,
        job_id: &str,
        worker: &str,
        record: &Value,
        event: &Value,
    ) -> Result<bool, StoreError> {
        let now = crate::model::now_ms();
        let mut tx = self.writer.begin_background().await?;
        if !record_result(&mut tx, job_id, worker, record, event, now).await? {
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn add_crawl_page(
        &self,
        job_id: &str,
        worker: &str,
        record: &Value,
        event: &Value,
        url: &str,
        discovered: &[FrontierRow],
    ) -> Result<bool, StoreError> {
        let now = crate::model::now_ms();
        let mut tx = self.writer.begin_background().await?;
        if !record_result(&mut tx, job_id, worker, record, event, now).await? {
            return Ok(false);
        }
        // The page's own row may be missing (the start page, or a frontier written before
        // this table existed): insert it done, or mark it done.
        sqlx::query(
            "INSERT INTO crawl_frontier (job_id, url, depth, parent, seq, done) VALUES ($1, $2, 0, NULL, -1, 1) \
             ON CONFLICT (job_id, url) DO UPDATE SET done = 1",
        )
        .bind(job_id)
        .bind(url)
        .execute(&mut *tx)
        .await?;
        // Many rows per statement: a page with hundreds of links costs a few statements.
        for chunk in discovered.chunks(FRONTIER_ROWS_PER_INSERT) {
            let mut insert = sqlx::QueryBuilder::<Sqlite>::new(
                "INSERT INTO crawl_frontier (job_id, url, depth, parent, seq, done) ",
            );
            insert.push_values(chunk, |mut row, f| {
                row.push_bind(job_id)
                    .push_bind(&f.url)
                    .push_bind(f.depth)
                    .push_bind(&f.parent)
                    .push_bind(f.seq)
                    .push_bind(i64::from(f.done));
            });
            insert.push(" ON CONFLICT (job_id, url) DO NOTHING");
            insert.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn crawl_frontier(&self, job_id: &str) -> Result<Vec<FrontierRow>, StoreError> {
        sqlx::query("SELECT url, depth, parent, seq, done FROM crawl_frontier WHERE job_id = $1 ORDER BY seq, url")
            .bind(job_id)
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(|row| {
                let done: i64 = row.try_get("done")?;
                Ok(FrontierRow {
                    url: row.try_get("url")?,
                    depth: row.try_get("depth")?,
                    parent: row.try_get("parent")?,
                    seq: row.try_get("seq")?,
                    done: done != 0,
                })
            })
            .collect()
    }

    async fn add_artifact(
        &self,
        job_id: &str,
        worker: &str,
        a: &ArtifactRecord,
    ) -> Result<bool, StoreError> {
        let _turn = self.writer.background_turn().await;
        let done = sqlx::query(&format!(
            "INSERT OR REPLACE INTO job_artifacts (job_id, name, bytes, content_type) SELECT $1, $3, $4, $5 WHERE {HELD}"
        ))
        .bind(job_id)
        .bind(worker)
        .bind(&a.name)
        .bind(a.bytes)
        .bind(&a.content_type)
        .execute(&self.writer.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn results(
        &self,
        job_id: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(i64, Value)>, StoreError> {
        sqlx::query("SELECT idx, record FROM job_results WHERE job_id = $1 AND idx > $2 ORDER BY idx LIMIT $3")
            .bind(job_id)
            .bind(after)
            .bind(limit)
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(|row| {
                let record: String = row.try_get("record")?;
                Ok((row.try_get("idx")?, parse_json(&record, "job_results.record")?))
            })
            .collect()
    }

    async fn artifacts(&self, job_id: &str) -> Result<Vec<ArtifactRecord>, StoreError> {
        sqlx::query(
            "SELECT name, bytes, content_type FROM job_artifacts WHERE job_id = $1 ORDER BY name",
        )
        .bind(job_id)
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(artifact_from_row)
        .collect()
    }

    async fn events_after(
        &self,
        job_id: &str,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<EventRecord>, StoreError> {
        sqlx::query("SELECT seq, kind, data FROM job_events WHERE job_id = $1 AND seq > $2 ORDER BY seq LIMIT $3")
            .bind(job_id)
            .bind(after_seq)
            .bind(limit)
            .fetch_all(&self.reader)
            .await?
            .iter()
            .map(|row| {
                let data: String = row.try_get("data")?;
                Ok(EventRecord { seq: row.try_get("seq")?, kind: row.try_get("kind")?, data: parse_json(&data, "job_events.data")? })
            })
            .collect()
    }

    async fn job_counts(&self) -> Result<Vec<(JobStatus, i64)>, StoreError> {
        let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status")
            .fetch_all(&self.reader)
            .await?;
        let mut counts: Vec<(JobStatus, i64)> = JobStatus::ALL.iter().map(|s| (*s, 0)).collect();
        for row in rows {
            let status: String = row.try_get("status")?;
            if let Some(slot) = counts.iter_mut().find(|(s, _)| s.as_str() == status) {
                slot.1 = row.try_get("n")?;
            }
        }
        Ok(counts)
    }

    async fn queue_depth(&self, now: i64) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE status = 'queued' AND run_at <= $1")
            .bind(now)
            .fetch_one(&self.reader)
            .await?)
    }

    async fn record_usage(
        &self,
        tenant_id: &str,
        usage: &[UsageEvent],
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        insert_usage(&mut tx, tenant_id, None, usage, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn usage(&self, tenant_id: &str, from: i64, to: i64) -> Result<UsageSummary, StoreError> {
        let rows = sqlx::query(
            "SELECT metric, SUM(quantity) AS q FROM usage_events WHERE tenant_id = $1 AND at >= $2 AND at < $3 GROUP BY metric",
        )
        .bind(tenant_id)
        .bind(from)
        .bind(to)
        .fetch_all(&self.reader)
        .await?;
        let mut summary = UsageSummary::default();
        for row in rows {
            let metric: String = row.try_get("metric")?;
            if let Some(m) = Metric::from_id(&metric) {
                summary.add(m, row.try_get("q")?);
            }
        }
        Ok(summary)
    }

    async fn pages_in_period(&self, tenant_id: &str, period_start: i64) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT COALESCE(SUM(quantity), 0) FROM usage_monthly WHERE tenant_id = $1 AND period_start = $2 \
             AND metric IN ('pages_fetched', 'pages_rendered')",
        )
        .bind(tenant_id)
        .bind(period_start)
        .fetch_one(&self.reader)
        .await?)
    }

    async fn claim_webhooks(
        &self,
        now: i64,
        hold_until: i64,
        limit: i64,
    ) -> Result<Vec<WebhookDelivery>, StoreError> {
        let _turn = self.writer.background_turn().await;
        sqlx::query(
            "UPDATE webhook_deliveries SET next_attempt_at = $2 WHERE id IN ( \
                 SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY id LIMIT $3) \
             RETURNING id, job_id, url, secret, event, body, attempts",
        )
        .bind(now)
        .bind(hold_until)
        .bind(limit)
        .fetch_all(&self.writer.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(WebhookDelivery {
                id: row.try_get("id")?,
                job_id: row.try_get("job_id")?,
                url: row.try_get("url")?,
                secret: row.try_get("secret")?,
                event: row.try_get("event")?,
                body: row.try_get("body")?,
                attempts: row.try_get("attempts")?,
            })
        })
        .collect()
    }

    async fn webhook_delivered(&self, id: i64, attempts: i64, now: i64) -> Result<(), StoreError> {
        let _turn = self.writer.background_turn().await;
        sqlx::query("UPDATE webhook_deliveries SET status = 'delivered', attempts = $2, delivered_at = $3, last_error = NULL WHERE id = $1")
            .bind(id)
            .bind(attempts)
            .bind(now)
            .execute(&self.writer.pool)
            .await?;
        Ok(())
    }

    async fn webhook_failed(
        &self,
        id: i64,
        attempts: i64,
        retry_at: Option<i64>,
        error: &str,
    ) -> Result<(), StoreError> {
        let _turn = self.writer.background_turn().await;
        sqlx::query(
            "UPDATE webhook_deliveries SET attempts = $2, last_error = $3, \
                 status = CASE WHEN $4 IS NULL THEN 'failed' ELSE 'pending' END, \
                 next_attempt_at = COALESCE($4, next_attempt_at) WHERE id = $1",
        )
        .bind(id)
        .bind(attempts)
        .bind(error)
        .bind(retry_at)
        .execute(&self.writer.pool)
        .await?;
        Ok(())
    }

    async fn agent_tasks(&self, job_id: &str) -> Result<Vec<Task>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, job_id, agent, attempt, status, started_at, finished_at, outcome FROM agent_tasks \
             WHERE job_id = $1 ORDER BY started_at, id",
        )
        .bind(job_id)
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|row| {
                let agent: String = row.try_get("agent")?;
                let status: String = row.try_get("status")?;
                let started: i64 = row.try_get("started_at")?;
                let finished: Option<i64> = row.try_get("finished_at")?;
                let to_time =
                    |ms: i64| DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default();
                Ok(Task {
                    id: row.try_get("id")?,
                    job_id: row.try_get("job_id")?,
                    agent: Agent::from_id(&agent).ok_or(StoreError::Corrupt {
                        column: "agent_tasks.agent",
                        detail: agent.clone(),
                    })?,
                    attempt: row.try_get("attempt")?,
                    status: match status.as_str() {
                        "running" => TaskStatus::Running,
                        "succeeded" => TaskStatus::Succeeded,
                        "failed" => TaskStatus::Failed,
                        _ => TaskStatus::Abandoned,
                    },
                    started_at: to_time(started),
                    finished_at: finished.map(to_time),
                    duration_ms: finished.map(|f| f - started),
                    outcome: row.try_get("outcome")?,
                })
            })
            .collect()
    }

    async fn agent_stats(&self, tenant_id: Option<&str>) -> Result<Vec<AgentStats>, StoreError> {
        let rows = sqlx::query(
            "SELECT agent, status, COUNT(*) AS n FROM agent_tasks WHERE ($1 IS NULL OR tenant_id = $1) GROUP BY agent, status",
        )
        .bind(tenant_id)
        .fetch_all(&self.reader)
        .await?;
        let mut stats: Vec<AgentStats> = Agent::ALL
            .iter()
            .map(|a| AgentStats { agent: a.id().to_owned(), ..AgentStats::default() })
            .collect();
        for row in rows {
            let agent: String = row.try_get("agent")?;
            let status: String = row.try_get("status")?;
            let n: i64 = row.try_get("n")?;
            if let Some(s) = stats.iter_mut().find(|s| s.agent == agent) {
                match status.as_str() {
                    "running" => s.running += n,
                    "succeeded" => s.succeeded += n,
                    _ => s.failed += n,
                }
            }
        }
        Ok(stats)
    }
}
