"""The unmodified firecrawl-py SDK (v2 client and its v1 client) against port 9004.

Run by tests/firecrawl_sdk.rs with ACE_API_URL, ACE_KEY and ACE_SITE (a fixture server).
Every check is an assert; the last line printed is a JSON summary the Rust test reads.
"""
import json
import os

from firecrawl import Firecrawl
from firecrawl.v2.types import ScrapeOptions

api, key, site = os.environ["ACE_API_URL"], os.environ["ACE_KEY"], os.environ["ACE_SITE"]
fc = Firecrawl(api_key=key, api_url=api)
summary = {}

# Scrape with markdown and links.
doc = fc.scrape(f"{site}/page/alpha", formats=["markdown", "links", "rawHtml"])
assert "Page alpha" in doc.markdown, doc.markdown
assert doc.metadata.status_code == 200 and doc.metadata.title == "Page alpha", doc.metadata
assert doc.metadata.source_url == f"{site}/page/alpha"
assert any(link.endswith("/page/next") for link in doc.links), doc.links
assert "<h1>Page alpha</h1>" in doc.raw_html
summary["scrape"] = doc.metadata.title

# Crawl: the waiter polls until completed and follows `next` through every page.
job = fc.crawl(f"{site}/wide/250/index.html", limit=400, poll_interval=1, timeout=120,
               scrape_options=ScrapeOptions(formats=["markdown"]))
assert job.status == "completed", job.status
assert job.completed == 251 and len(job.data) == 251, (job.completed, len(job.data))
titles = {d.metadata.title for d in job.data}
assert titles == {"Wide index"} | {f"Wide {i}" for i in range(250)}, len(titles)
assert all(d.markdown for d in job.data)
summary["crawl_docs"] = len(job.data)

# Start, read one status page, cancel a crawl that would not end by itself.
started = fc.start_crawl(f"{site}/site/cal/2026/1", limit=5000, max_discovery_depth=5000, crawl_entire_domain=True, delay=1)
status = fc.get_crawl_status(started.id)
assert status.status in ("scraping", "completed"), status.status
assert fc.cancel_crawl(started.id) is True
assert fc.get_crawl_status(started.id).status == "cancelled"
summary["cancelled"] = True

# Batch scrape, waited for.
batch = fc.batch_scrape([f"{site}/page/one", f"{site}/page/two"], formats=["markdown"], poll_interval=1, wait_timeout=60)
assert batch.status == "completed", batch.status
assert sorted(d.metadata.title for d in batch.data) == ["Page one", "Page two"], batch.data
summary["batch_docs"] = len(batch.data)

# Map: every page of a flat site, as objects.
m = fc.map(f"{site}/wide/40/index.html", limit=100)
mapped = {link.url for link in m.links}
assert {f"{site}/wide/40/p{i}.html" for i in range(40)} <= mapped, sorted(mapped)
summary["map_links"] = len(mapped)

# The v1 client.
v1 = fc.v1
r = v1.scrape_url(f"{site}/page/gamma", formats=["markdown", "html"])
assert "Page gamma" in r.markdown and r.metadata["title"] == "Page gamma", r
c = v1.crawl_url(f"{site}/wide/30/index.html", limit=100, poll_interval=1)
assert c.status == "completed" and len(c.data) == 31, (c.status, len(c.data))
summary["v1_crawl_docs"] = len(c.data)
b = v1.batch_scrape_urls([f"{site}/page/v1a", f"{site}/page/v1b"], formats=["markdown"], poll_interval=1)
assert b.status == "completed" and len(b.data) == 2, b
summary["v1_batch_docs"] = len(b.data)
m1 = v1.map_url(f"{site}/wide/40/index.html")
assert f"{site}/wide/40/p39.html" in m1.links, m1.links
summary["v1_map_links"] = len(m1.links)

print(json.dumps(summary))
