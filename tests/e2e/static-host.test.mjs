// capOS from a plain static host: `capos build-site OUT` served by Python's
// http.server, which sends no COOP/COEP. The site's service worker adds them
// and the page reloads once, then boots as from `capos serve`; the same
// worker serves the preview of the webserver demo. Without service workers
// the page still explains what is missing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../../capos-cli/driver/chromium.mjs';
import { capos, launchBrowser, openBoot, terminalText, ROOT } from './harness.mjs';

let out;
let server;
let url;
let browser;

// Python's http.server on a free loopback port: a host that sets no headers of its own.
function staticServer(dir) {
  const python = existsSync(join(ROOT, 'build', 'venv', 'bin', 'python')) ? join(ROOT, 'build', 'venv', 'bin', 'python') : 'python3';
  return new Promise((resolve, reject) => {
    const child = spawn(python, ['-u', '-m', 'http.server', '0', '--bind', '127.0.0.1', '--directory', dir],
      { stdio: ['ignore', 'pipe', 'ignore'] });
    let said = '';
    child.stdout.on('data', (chunk) => {
      said += chunk;
      const m = said.match(/port (\d+)/);
      if (m) resolve({ url: `http://127.0.0.1:${m[1]}/`, stop: () => child.kill('SIGTERM') });
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`http.server exited (${code})`)));
  });
}

before(async () => {
  out = join(mkdtempSync(join(tmpdir(), 'capos-site-')), 'site');
  const r = capos(['build-site', out]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /capOS site: \d+ files/);
  server = await staticServer(out);
  url = server.url;
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  server?.stop();
  if (out) rmSync(join(out, '..'), { recursive: true, force: true });
});

test('build-site writes the page, the kernel, the manifests and the service worker', () => {
  for (const f of ['index.html', 'main.js', 'service-worker.js', 'kernel/kernel-worker.js', 'pkg/capos_kernel_wasm_bg.wasm',
    'manifests/hello.bin', 'vendor/xterm/lib/xterm.js']) {
    assert.ok(existsSync(join(out, f)), `${f} is missing`);
  }
  assert.ok(JSON.parse(readFileSync(join(out, 'manifests', 'index.json'), 'utf8')).includes('hello'));
  assert.equal(capos(['build-site', out]).code, 64, 'a directory that is not empty is refused');
});

test('on a host without COOP/COEP the page isolates itself once and boots hello', async () => {
  const plain = await fetch(`${url}index.html`);
  assert.equal(plain.headers.get('cross-origin-embedder-policy'), null, 'the host sends no isolation headers');
  const { page, waitFor } = await openBoot(browser.context, `${url}?manifest=hello`);
  const halted = await waitFor(['halted', 'panic', 'bootError', 'fatal'], 60_000);
  const text = await terminalText(page);
  assert.equal(halted.kind, 'halted', JSON.stringify(halted));
  assert.equal(halted.code, 0, text);
  assert.match(text, /hello from init \(pid 1\)/);
  assert.equal(await page.evaluate(() => crossOriginIsolated), true);
  assert.equal(await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL), `${url}service-worker.js?isolate`);
  await page.close();
});

test('on the static host, webserver boots and its preview answers through the same service worker', async () => {
  const { page, waitFor } = await openBoot(browser.context, `${url}?manifest=webserver`);
  assert.deepEqual((await waitFor('listening', 60_000)).ports, [8080, 8081, 8082, 8083]);
  const frame = page.frameLocator('#preview-frame');
  await frame.locator('h1').waitFor({ timeout: 30_000 });
  assert.equal(await frame.locator('h1').textContent(), 'Served by a capOS process');
  const c = await page.evaluate(async () => { const r = await fetch('/preview/8081/'); return [r.status, await r.text()]; });
  assert.equal(c[0], 200);
  assert.match(c[1], /Hello from C/);
  assert.equal(await page.evaluate(() => crossOriginIsolated), true);
  await page.close();
});

test('without service workers the page says why it cannot boot', async () => {
  const profile = mkdtempSync(join(tmpdir(), 'capos-e2e-nosw-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, serviceWorkers: 'block',
  });
  try {
    const { page, waitFor } = await openBoot(context, `${url}?manifest=hello`);
    const fatal = await waitFor(['fatal'], 30_000);
    assert.match(fatal.message, /not cross-origin isolated/);
    assert.match(await page.locator('#fatal').textContent(), /Cross-Origin-Embedder-Policy/);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
});
