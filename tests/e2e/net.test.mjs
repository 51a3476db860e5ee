// Virtual networking on the page: the webserver demo's processes hold
// Listeners for ports 8080-8083 (Rust, C, JavaScript, Python), and the preview (an iframe, through the
// site's service worker and the kernel) shows what they serve. A port
// nobody listens on is a 502 page; bytes that are not HTTP are a 502 too;
// many requests at once are all answered; the kernel survives a client
// that goes away.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { serve, launchBrowser, openBoot, terminalText } from './harness.mjs';

let server;
let browser;
before(async () => { server = await serve(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); server?.stop(); });
afterEach(async () => { for (const p of browser.context.pages()) await p.close(); });

// Boots `webserver` and waits until the preview pane shows its first page.
async function bootWebserver() {
  const booted = await openBoot(browser.context, `${server.url}?manifest=webserver`);
  const { page, waitFor } = booted;
  assert.deepEqual((await waitFor('listening')).ports, [8080, 8081, 8082, 8083]);
  const frame = page.frameLocator('#preview-frame');
  await frame.locator('h1').waitFor({ timeout: 30_000 });
  return booted;
}

// Fetches a preview URL from inside the page (through the service worker).
const fetchIn = (page, path, init = {}) => page.evaluate(async ([p, i]) => {
  const r = await fetch(p, i);
  return { status: r.status, type: r.headers.get('content-type'), csp: r.headers.get('content-security-policy'), body: await r.text() };
}, [path, init]);

test('the webserver demo is shown in the preview, served by its WASI processes', async () => {
  const { page } = await bootWebserver();
  const frame = page.frameLocator('#preview-frame');
  assert.equal(await frame.locator('h1').textContent(), 'Served by a capOS process');
  assert.equal(await page.locator('#preview-pane').isHidden(), false);
  // The stylesheet came through the same path.
  const color = await frame.locator('body').evaluate((b) => getComputedStyle(b).color);
  assert.equal(color, 'rgb(29, 35, 48)');
  const text = await fetchIn(page, '/preview/8080/about.txt');
  assert.equal(text.status, 200);
  assert.match(text.body, /static-server read this file from \/site\/about.txt/);
  assert.match(text.csp, /script-src 'none'/);
  const missing = await fetchIn(page, '/preview/8080/missing.html');
  assert.equal(missing.status, 404);
  assert.match(missing.body, /missing.html is not on this site/);
  const c = await fetchIn(page, '/preview/8081/hello?x=1');
  assert.equal(c.status, 200);
  assert.match(c.body, /Hello from C/);
  assert.match(c.body, /GET \/hello\?x=1/);
  // The JavaScript and Python handlers, in their runtimes.
  const js = await fetchIn(page, '/preview/8082/json?x=1');
  assert.equal(js.status, 200, js.body);
  assert.deepEqual(JSON.parse(js.body), { served: 1, method: 'GET', path: '/json?x=1' });
  const py = await fetchIn(page, '/preview/8083/from/the/page', { method: 'POST', body: 'twelve bytes' });
  assert.equal(py.status, 200, py.body);
  assert.match(py.body, /Hello from Python.*Request 1: POST \/from\/the\/page/);
  // The servers logged what they served.
  const terminal = await terminalText(page);
  assert.match(terminal, /GET \/about.txt 200/);
  assert.match(terminal, /GET \/hello\?x=1 200/);
});

test('a port nobody listens on gets a 502 page that says so', async () => {
  const { page } = await bootWebserver();
  const r = await fetchIn(page, '/preview/9999/');
  assert.equal(r.status, 502);
  assert.match(r.body, /nothing listens on port 9999/);
  const bad = await fetchIn(page, '/preview/70000/');
  assert.equal(bad.status, 400);
});

// How many capabilities the system's processes hold, from inside the kernel Worker.
async function capsHeld(page) {
  const kernel = page.workers().find((w) => w.url().includes('kernel-worker'));
  return kernel.evaluate(() => globalThis.__caposKernel.liveCapIds().length);
}

test('many requests at once are all answered, and a POST to the static server is refused by it', async () => {
  const { page } = await bootWebserver();
  await fetchIn(page, '/preview/8081/');
  await fetchIn(page, '/preview/8082/');
  const before = await capsHeld(page);
  const statuses = await page.evaluate(async () => {
    const all = Array.from({ length: 40 }, (_, i) => fetch(`/preview/${i % 2 ? 8080 : 8081}/?n=${i}`).then((r) => r.status));
    return Promise.all(all);
  });
  assert.deepEqual(statuses, Array(40).fill(200));
  const post = await fetchIn(page, '/preview/8080/', { method: 'POST', body: 'x'.repeat(100_000) });
  assert.equal(post.status, 405);
  // A client that goes away mid-request leaves the server serving.
  await page.evaluate(async () => {
    const controller = new AbortController();
    const pending = fetch('/preview/8080/', { signal: controller.signal }).catch(() => null);
    controller.abort();
    await pending;
  });
  assert.equal((await fetchIn(page, '/preview/8080/about.txt')).status, 200);
  // Nothing leaks: every connection's Stream was released when it ended.
  const deadline = Date.now() + 10_000;
  while (await capsHeld(page) !== before && Date.now() < deadline) await new Promise((r) => { setTimeout(r, 100); });
  assert.equal(await capsHeld(page), before);
});
