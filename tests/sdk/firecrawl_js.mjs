// The unmodified @mendable/firecrawl-js SDK (v2 client and its v1 client) against port 9004.
// Run by tests/firecrawl_sdk.rs with ACE_API_URL, ACE_KEY and ACE_SITE; NODE_PATH points at
// the installed SDK. Every check throws on failure; the last line is a JSON summary.
import { createRequire } from "node:module";
import assert from "node:assert/strict";

const require = createRequire(process.env.ACE_SDK_NODE_MODULES + "/");
const sdk = require("@mendable/firecrawl-js");
const Firecrawl = sdk.default ?? sdk.Firecrawl;
const { ACE_API_URL: apiUrl, ACE_KEY: apiKey, ACE_SITE: site } = process.env;
const fc = new Firecrawl({ apiKey, apiUrl });
const summary = {};

const doc = await fc.scrape(`${site}/page/alpha`, { formats: ["markdown", "links"] });
assert.match(doc.markdown, /Page alpha/);
assert.equal(doc.metadata.statusCode, 200);
assert.equal(doc.metadata.title, "Page alpha");
assert.ok(doc.links.some((l) => l.endsWith("/page/next")), JSON.stringify(doc.links));
summary.scrape = doc.metadata.title;

const job = await fc.crawl(`${site}/wide/250/index.html`, { limit: 400, pollInterval: 1, scrapeOptions: { formats: ["markdown"] } });
assert.equal(job.status, "completed");
assert.equal(job.data.length, 251);
assert.equal(new Set(job.data.map((d) => d.metadata.title)).size, 251);
summary.crawlDocs = job.data.length;

const started = await fc.startCrawl(`${site}/site/cal/2026/1`, { limit: 5000, maxDiscoveryDepth: 5000, crawlEntireDomain: true, delay: 1 });
const status = await fc.getCrawlStatus(started.id, { autoPaginate: false });
assert.ok(["scraping", "completed"].includes(status.status), status.status);
await fc.cancelCrawl(started.id);
assert.equal((await fc.getCrawlStatus(started.id, { autoPaginate: false })).status, "cancelled");
summary.cancelled = true;

const batch = await fc.batchScrape([`${site}/page/one`, `${site}/page/two`], { options: { formats: ["markdown"] }, pollInterval: 1 });
assert.equal(batch.status, "completed");
assert.deepEqual(batch.data.map((d) => d.metadata.title).sort(), ["Page one", "Page two"]);
summary.batchDocs = batch.data.length;

const m = await fc.map(`${site}/wide/40/index.html`, { limit: 100 });
const mapped = new Set(m.links.map((l) => l.url));
for (let i = 0; i < 40; i++) assert.ok(mapped.has(`${site}/wide/40/p${i}.html`), `p${i} mapped`);
summary.mapLinks = mapped.size;

const v1 = fc.v1;
const r = await v1.scrapeUrl(`${site}/page/gamma`, { formats: ["markdown"] });
assert.equal(r.success, true);
assert.match(r.markdown, /Page gamma/);
const c = await v1.crawlUrl(`${site}/wide/30/index.html`, { limit: 100 }, 1);
assert.equal(c.success, true);
assert.equal(c.status, "completed");
assert.equal(c.data.length, 31);
summary.v1CrawlDocs = c.data.length;
const m1 = await v1.mapUrl(`${site}/wide/40/index.html`, {});
assert.equal(m1.success, true);
assert.ok(m1.links.includes(`${site}/wide/40/p39.html`));
summary.v1MapLinks = m1.links.length;

console.log(JSON.stringify(summary));
