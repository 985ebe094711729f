-- Tenants and their keys (core/venture). Keys are stored as SHA-256 hashes only.
CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    plan TEXT NOT NULL,
    -- Copied from the plan at start-up so the claim query can read it.
    max_concurrent_jobs INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    tenant_id TEXT REFERENCES tenants(id), -- NULL: the operator's admin key
    prefix TEXT NOT NULL,
    hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX api_keys_prefix ON api_keys(prefix);

-- The job queue. Times are milliseconds since the epoch.
CREATE TABLE jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    kind TEXT NOT NULL,
    url TEXT NOT NULL,
    options TEXT NOT NULL,
    webhook_url TEXT,
    webhook_secret TEXT,
    idempotency_key TEXT,
    request_hash TEXT NOT NULL,
    status TEXT NOT NULL,
    progress_done INTEGER NOT NULL DEFAULT 0,
    progress_total INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_at INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until INTEGER,
    error TEXT,
    error_code TEXT,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER
);
CREATE UNIQUE INDEX jobs_idempotency ON jobs(tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
-- Claim order: queued jobs by run_at, running jobs by lease end (rowid breaks ties).
CREATE INDEX jobs_due ON jobs(status, run_at);
CREATE INDEX jobs_leases ON jobs(status, lease_until);
-- A tenant's running jobs, for its concurrent-jobs limit at claim time.
CREATE INDEX jobs_tenant_running ON jobs(tenant_id, status, lease_until);
CREATE INDEX jobs_tenant ON jobs(tenant_id, seq);

CREATE TABLE job_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX job_events_job ON job_events(job_id, seq);

CREATE TABLE job_results (
    job_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (job_id, idx)
);

CREATE TABLE job_artifacts (
    job_id TEXT NOT NULL,
    name TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    PRIMARY KEY (job_id, name)
);

-- Metered usage (core/finance): every event, and a monthly roll-up the quota check reads.
CREATE TABLE usage_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL,
    job_id TEXT,
    metric TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX usage_events_tenant ON usage_events(tenant_id, at);

CREATE TABLE usage_monthly (
    tenant_id TEXT NOT NULL,
    period_start INTEGER NOT NULL,
    metric TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, period_start, metric)
);

-- Webhook outbox: written with the job's outcome, sent by the dispatcher.
CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL,
    url TEXT NOT NULL,
    secret TEXT,
    body TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    delivered_at INTEGER,
    last_error TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at);

-- The agents' task log (core/agents): one task per job attempt.
CREATE TABLE agent_tasks (
    id TEXT PRIMARY KEY,
    job_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    agent TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    status TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    outcome TEXT
);
CREATE INDEX agent_tasks_job ON agent_tasks(job_id);
