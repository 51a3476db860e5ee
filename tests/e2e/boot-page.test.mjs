// The demo page in headless Chromium: what a person opening it sees.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, serve, launchBrowser, openBoot, terminalText, processRows } from './harness.mjs';

let server;
let browser;
before(async () => { server = await serve(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); server?.stop(); });

test('the page boots hello: greeting on the terminal, init reaped, no Worker left', async () => {
  const { page, events, waitFor } = await openBoot(browser.context, `${server.url}?manifest=hello`);
  const halted = await waitFor('halted');
  assert.equal(halted.code, 0);
  await page.waitForFunction(() => globalThis.capos?.terminalText().includes('system halted'));
  const text = await terminalText(page);
  assert.match(text, /hello from init \(pid 1\)/);
  assert.match(text, /my CapSet holds 1 capability\(ies\): console/);
  const exited = events.find((e) => e.kind === 'processExited');
  assert.deepEqual([exited.pid, exited.name, exited.code], [1, 'init', 0]);
  assert.equal(events.filter((e) => e.kind === 'workers').at(-1).live, 0, 'no process Worker remains');
  assert.deepEqual(await processRows(page), [['1', 'init', 'exited 0', '0']]);
  assert.match(await page.locator('#status').innerText(), /halted: init exited with code 0/);
  await page.close();
});

test('while init runs the process list shows it, with its capability count', async () => {
  const { page, events, waitFor } = await openBoot(browser.context, `${server.url}?manifest=hello`);
  await waitFor('halted');
  const running = events.find((e) => e.kind === 'processes' && e.processes.length === 1);
  assert.deepEqual(running.processes[0], { pid: 1, name: 'init', state: 'running', blockedOn: [], caps: 1 });
  assert.ok(!JSON.stringify(events).match(/capId|cap_id/i), 'no capability id reaches the page');
  await page.close();
});

test('a kernel panic is shown plainly and tears every Worker down', async () => {
  const { page, events, waitFor } = await openBoot(browser.context, `${server.url}?manifest=kernel-panic`);
  const panic = await waitFor('panic');
  assert.match(panic.message, /kernel panic: [\s\S]*KernelPanicTrigger invoked by pid 1/);
  await page.waitForSelector('#fatal:not([hidden])');
  assert.match(await page.locator('#fatal').innerText(), /KernelPanicTrigger/);
  assert.match(await page.locator('#status').innerText(), /KERNEL PANIC/);
  assert.equal(events.filter((e) => e.kind === 'workers').at(-1).live, 0);
  assert.deepEqual(await processRows(page), [['1', 'init', 'killed', '0']], 'no process is shown as running');
  await page.close();
});

test('a manifest that does not exist is a clear boot error', async () => {
  const { page, waitFor } = await openBoot(browser.context, `${server.url}?manifest=no-such-demo`);
  const err = await waitFor('bootError');
  assert.match(err.message, /HTTP 404/);
  assert.match(await page.locator('#fatal').innerText(), /cannot boot no-such-demo/);
  await page.close();
});

test('without COOP/COEP the page explains why it cannot boot', async () => {
  // The same page from a server that omits the isolation headers, and
  // without the site's service worker, which would add them (that way is
  // static-host.test.mjs's).
  const plain = http.createServer((req, res) => {
    const path = req.url.split('?')[0];
    if (path === '/service-worker.js') {
      res.writeHead(404).end();
      return;
    }
    const file = path === '/' ? 'web/index.html'
      : path.startsWith('/vendor/xterm/') ? `node_modules/@xterm/xterm/${path.slice(14)}`
      : path.startsWith('/vendor/xterm-fit/') ? `node_modules/@xterm/addon-fit/${path.slice(18)}`
      : `web${path}`;
    try {
      const body = readFileSync(join(ROOT, file));
      const type = /\.m?js$/.test(file) ? 'text/javascript' : file.endsWith('.css') ? 'text/css' : 'text/html';
      res.writeHead(200, { 'Content-Type': type }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((r) => plain.listen(0, '127.0.0.1', r));
  try {
    const { page, waitFor } = await openBoot(browser.context, `http://127.0.0.1:${plain.address().port}/`);
    const fatal = await waitFor('fatal');
    assert.match(fatal.message, /not cross-origin isolated/);
    assert.match(await page.locator('#fatal').innerText(), /Cross-Origin-Embedder-Policy: require-corp/);
    await page.close();
  } finally {
    plain.close();
  }
});
