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
    /// Claims one due job for a worker. Parameters: `$1` worker, `$2` now (ms),
    /// `$3` lease end (ms). A job is due when queued and past `run_at`, or running with an
    /// expired lease (its worker died). Tenants at their concurrent-jobs limit are skipped, so
    /// one tenant cannot take every worker.
    pub fn claim_job(self) -> String {
        let lock = match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => "FOR UPDATE OF j SKIP LOCKED",
        };
        format!(
            "UPDATE jobs SET status = 'running', lease_owner = $1, lease_until = $3, \
                 attempts = attempts + 1, started_at = COALESCE(started_at, $2) \
             WHERE seq = ( \
                 SELECT j.seq FROM jobs j JOIN tenants t ON t.id = j.tenant_id \
                 WHERE ((j.status = 'queued' AND j.run_at <= $2) \
                        OR (j.status = 'running' AND j.lease_until < $2)) \
                   AND (SELECT COUNT(*) FROM jobs r WHERE r.tenant_id = j.tenant_id \
                        AND r.status = 'running' AND r.lease_until >= $2) < t.max_concurrent_jobs \
                 ORDER BY j.run_at, j.seq LIMIT 1 {lock}) \
             RETURNING {JOB_COLUMNS}"
        )
    }
}

/// The columns every job query returns, in [`crate::store::JobRecord`] order.
pub const JOB_COLUMNS: &str = "seq, id, tenant_id, kind, url, options, webhook_url, webhook_secret, status, \
    progress_done, progress_total, attempts, max_attempts, run_at, lease_owner, lease_until, error, \
    error_code, created_at, started_at, finished_at";

/// The fence every worker write carries: the job is still running under this worker's lease.
/// Parameters: `$1` job id, `$2` worker.
pub const HELD: &str = "EXISTS (SELECT 1 FROM jobs WHERE id = $1 AND lease_owner = $2 AND status = 'running')";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_twin_skips_locked_rows_and_sqlite_does_not_lock() {
        let pg = Dialect::Postgres.claim_job();
        assert!(pg.contains("FOR UPDATE OF j SKIP LOCKED"));
        let lite = Dialect::Sqlite.claim_job();
        assert!(!lite.contains("FOR UPDATE"));
        assert_eq!(pg.replace(" FOR UPDATE OF j SKIP LOCKED", ""), lite.replace(" )", ")"));
    }
}
