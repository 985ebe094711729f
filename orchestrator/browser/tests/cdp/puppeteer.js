// Drives the proxy with unmodified puppeteer-core: two clients at once, each must see only
// its own pages. Prints one JSON line of findings.
const puppeteer = require('puppeteer-core');

async function client(ws, site, marker) {
  const browser = await puppeteer.connect({ browserWSEndpoint: ws });
  const page = await browser.newPage();
  await page.goto(`${site}/page/${marker}`);
  const form = await browser.newPage();
  await form.goto(`${site}/form`);
  await form.type('#name', `puppeteer ${marker}`);
  await form.click('#go');
  const text = await form.$eval('#result', (e) => e.textContent);
  const shot = await form.screenshot();
  const context = await browser.createBrowserContext();
  const isolated = await context.newPage();
  await isolated.goto(`${site}/echo`);
  return { browser, context, text, shotBytes: shot.length };
}

(async () => {
  const [wsA, wsB, site] = process.argv.slice(2);
  const a = await client(wsA, site, 111);
  const b = await client(wsB, site, 222);
  const seen = async (c) => {
    const urls = c.browser.targets().map((t) => t.url());
    for (const p of await c.browser.pages()) urls.push(p.url());
    return urls;
  };
  const out = { a: { text: a.text, shotBytes: a.shotBytes, urls: await seen(a) }, b: { text: b.text, shotBytes: b.shotBytes, urls: await seen(b) } };
  await a.context.close();
  await a.browser.close();
  await b.browser.disconnect();
  console.log(JSON.stringify(out));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
