// Drives the proxy with unmodified playwright-core connectOverCDP: two clients at once, each
// must see only its own pages. Prints one JSON line of findings.
const { chromium } = require('playwright-core');

async function client(ws, site, marker) {
  const browser = await chromium.connectOverCDP(ws);
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${site}/page/${marker}`);
  const form = await context.newPage();
  await form.goto(`${site}/form`);
  await form.fill('#name', `playwright ${marker}`);
  await form.click('#go');
  const text = await form.textContent('#result');
  const shot = await form.screenshot();
  const defaultPage = await browser.contexts()[0].newPage();
  await defaultPage.goto(`${site}/js`);
  return { browser, context, text, shotBytes: shot.length };
}

(async () => {
  const [wsA, wsB, site] = process.argv.slice(2);
  const a = await client(wsA, site, 333);
  const b = await client(wsB, site, 444);
  const seen = (c) => c.browser.contexts().flatMap((ctx) => ctx.pages().map((p) => p.url()));
  const out = { a: { text: a.text, shotBytes: a.shotBytes, urls: seen(a) }, b: { text: b.text, shotBytes: b.shotBytes, urls: seen(b) } };
  await a.context.close();
  await a.browser.close();
  await b.browser.close();
  console.log(JSON.stringify(out));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
