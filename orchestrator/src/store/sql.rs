//! SQL that differs between the embedded and the scale-out database.

/// Which SQL dialect a store speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite: one writer at a time, so a plain subquery cannot race.
    Sqlite,
    /// PostgreSQL: many workers claim at once; `SKIP LOCKED` lets each take a different row
    /// without waiting on the others' locks.
    Postgres,
}

impl Dialect {
    /// Claims one due job for a worker, in one statement. Parameters: `$1` worker, `$2` now
    /// (ms), `$3` lease end (ms). A dead worker's job ([`Due::ExpiredLease`]) is taken over
    /// before new work ([`Due::Queued`]).
    ///
    /// Each candidate query walks one index in claim order and stops at the first eligible
    /// row; a candidate's tenant is checked against its concurrent-jobs limit with one seek in
    /// `jobs_tenant_running`, and tenants at their limit are skipped so one tenant cannot
    /// take every worker. That keeps a claim cheap however long the queue grows, which matters
    /// because claims share the store's single writer with every API write.
    pub fn claim_job(self) -> String {
        format!(
            "UPDATE jobs SET status = 'running', lease_owner = $1, lease_until = $3, \
                 attempts = attempts + 1, started_at = COALESCE(started_at, $2) \
             WHERE seq = COALESCE(({}), ({})) \
             RETURNING {JOB_COLUMNS}",
            self.candidate(Due::ExpiredLease),
            self.candidate(Due::Queued)
        )
    }

    /// The first job `due` a claim may take, as a subquery.
    fn candidate(self, due: Due) -> String {
        let lock = match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE OF j SKIP LOCKED",
        };
        let (condition, order) = match due {
            Due::ExpiredLease => {
                ("j.status = 'running' AND j.lease_until < $2", "j.lease_until, j.seq")
            }
            Due::Queued => ("j.status = 'queued' AND j.run_at <= $2", "j.run_at, j.seq"),
        };
        format!(
            "SELECT j.seq FROM jobs j JOIN tenants t ON t.id = j.tenant_id \
             WHERE {condition} \
               AND (SELECT COUNT(*) FROM jobs r WHERE r.tenant_id = j.tenant_id \
                    AND r.status = 'running' AND r.lease_until >= $2) < t.max_concurrent_jobs \
             ORDER BY {order} LIMIT 1{lock}"
        )
    }
}

/// Which due jobs a claim looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Running, but the lease ran out: the worker died or stalled.
    ExpiredLease,
    /// Queued and past its `run_at`.
    Queued,
}

/// The columns every job query returns, in [`crate::store::JobRecord`] order.
pub const JOB_COLUMNS: &str = "seq, id, tenant_id, kind, url, options, webhook_url, webhook_secret, status, \
    progress_done, progress_total, attempts, max_attempts, run_at, lease_owner, lease_until, error, \
    error_code, created_at, started_at, finished_at";

/// The fence every worker write carries: the job is still running under this worker's lease.
/// Parameters: `$1` job id, `$2` worker.
pub const HELD: &str =
    "EXISTS (SELECT 1 FROM jobs WHERE id = $1 AND lease_owner = $2 AND status = 'running')";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_twin_skips_locked_rows_and_sqlite_does_not_lock() {
        let pg = Dialect::Postgres.claim_job();
        let lite = Dialect::Sqlite.claim_job();
        assert_eq!(
            pg.matches("FOR UPDATE OF j SKIP LOCKED").count(),
            2,
            "both candidates skip locked rows"
        );
        assert!(!lite.contains("FOR UPDATE"));
        assert_eq!(
            pg.replace(" FOR UPDATE OF j SKIP LOCKED", ""),
            lite,
            "the dialects differ only in locking"
        );
    }
}
