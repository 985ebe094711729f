-- A job's webhook may announce more than its end: Firecrawl's crawl and batch-scrape
-- webhooks send `crawl.started` and one `crawl.page` per page too. Each delivery names the
-- event it carries (the `X-Ace-Event` header); rows from before are job documents.
ALTER TABLE webhook_deliveries ADD COLUMN event TEXT NOT NULL DEFAULT 'job.done';
