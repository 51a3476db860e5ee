// The page holds no authority: every response carries a Content-Security-
// Policy that forbids inline script, and no ring (a SharedArrayBuffer shared
// with the kernel) ever reaches the main thread.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, launchBrowser, openBoot } from './harness.mjs';

let site;
let browser;
before(async () => {
  site = await serve();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  site?.stop();
});

test('every response carries a Content-Security-Policy without inline script', async () => {
  for (const path of ['', 'main.js', 'kernel/kernel-worker.js', 'pkg/capos_wasi.wasm', 'manifests/hello.bin', 'nope']) {
    const response = await fetch(`${site.url}${path}`);
    const csp = response.headers.get('content-security-policy');
    assert.ok(csp, `${path || '/'}: no CSP`);
    const scriptSrc = csp.split(';').map((d) => d.trim()).find((d) => d.startsWith('script-src'));
    assert.equal(scriptSrc, "script-src 'self' 'wasm-unsafe-eval'", path);
    assert.match(csp, /object-src 'none'/);
    assert.match(csp, /frame-ancestors 'self'/);
    // Only the kernel Worker, which performs every Fetch, may connect elsewhere.
    const connect = csp.split(';').map((d) => d.trim()).find((d) => d.startsWith('connect-src'));
    assert.equal(connect, path === 'kernel/kernel-worker.js' ? "connect-src 'self' http: https:" : "connect-src 'self'", path);
  }
});

test('inline script on a page of the site is refused by the browser', async () => {
  const { page } = await openBoot(browser.context, `${site.url}?manifest=hello&inspector=off`);
  const violations = await page.evaluate(() => new Promise((resolve) => {
    const seen = [];
    document.addEventListener('securitypolicyviolation', (e) => seen.push(e.violatedDirective));
    const script = document.createElement('script');
    script.textContent = 'globalThis.__inlineRan = true;';
    document.head.append(script);
    setTimeout(() => resolve({ seen, ran: globalThis.__inlineRan === true }), 200);
  }));
  assert.equal(violations.ran, false, 'the inline script ran');
  assert.ok(violations.seen.some((d) => d.startsWith('script-src')), JSON.stringify(violations));
  await page.close();
});

test('no SharedArrayBuffer from the kernel Worker ever reaches the main thread', async () => {
  // Every message the page receives from any Worker is searched for a
  // SharedArrayBuffer (a ring, or the kernel's doorbell), however deep.
  const { page, waitFor } = await openBoot(browser.context, `${site.url}?manifest=ipc&inspector=trace`, {
    prepare: (p) => p.addInitScript(() => {
      globalThis.__sharedSeen = [];
      globalThis.__messagesSeen = 0;
      const holdsShared = (value, depth = 0, seen = new Set()) => {
        if (value === null || typeof value !== 'object' || depth > 12 || seen.has(value)) return false;
        seen.add(value);
        if (value instanceof SharedArrayBuffer) return true;
        if (ArrayBuffer.isView(value)) return value.buffer instanceof SharedArrayBuffer;
        return Object.values(value).some((v) => holdsShared(v, depth + 1, seen));
      };
      const Original = globalThis.Worker;
      globalThis.Worker = class extends Original {
        constructor(...args) {
          super(...args);
          this.addEventListener('message', ({ data }) => {
            globalThis.__messagesSeen++;
            if (holdsShared(data)) globalThis.__sharedSeen.push(String(data?.type));
          });
        }
      };
    }),
  });
  const halted = await waitFor('halted', 60_000);
  assert.equal(halted.code, 0);
  const { shared, messages } = await page.evaluate(() => ({ shared: globalThis.__sharedSeen, messages: globalThis.__messagesSeen }));
  assert.ok(messages > 10, `the page saw only ${messages} messages`);
  assert.deepEqual(shared, [], 'a message to the main thread carried a SharedArrayBuffer');
  await page.close();
});
