-- Resumable crawls: each crawl job's frontier (URLs queued) and done set (pages recorded).
-- A page turns done in the same transaction that stores its result and inserts the URLs it
-- discovered, so a crawl resumed after its process died refetches nothing it recorded and
-- loses nothing it had queued. `seq` is the discovery order, for breadth-first resumption.
CREATE TABLE crawl_frontier (
    job_id TEXT NOT NULL,
    url TEXT NOT NULL,
    depth INTEGER NOT NULL,
    parent TEXT,
    seq INTEGER NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (job_id, url)
);
