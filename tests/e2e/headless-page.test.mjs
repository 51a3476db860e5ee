// The headless page (web/headless.html) that `capos boot` and `capos run`
// drive: what a driver gets from it, and what it refuses.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, launchBrowser, openBoot } from './harness.mjs';

let server;
let browser;
before(async () => { server = await serve(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); server?.stop(); });

const bytesOf = (events) => Buffer.concat(events.filter((e) => e.kind === 'console').map((e) => Buffer.from(e.data, 'base64'))).toString();

test('?manifest= boots at once: the driver gets the output as events, and no terminal is built', async () => {
  const { page, events, waitFor } = await openBoot(browser.context, `${server.url}headless.html?manifest=hello`);
  const halted = await waitFor('halted');
  assert.equal(halted.code, 0);
  assert.match(bytesOf(events), /hello from init \(pid 1\)/);
  assert.equal(await page.locator('.xterm').count(), 0, 'no xterm on the headless page');
  assert.equal(events.filter((e) => e.kind === 'workers').at(-1).live, 0, 'no process Worker remains');
  await page.close();
});

test('?standby waits for capos.boot, which boots once; a second boot and a bad name are refused', async () => {
  const { page, events, waitFor } = await openBoot(browser.context, `${server.url}headless.html?standby`);
  await page.waitForFunction(() => typeof globalThis.capos?.boot === 'function');
  assert.equal(events.filter((e) => e.kind === 'booting').length, 0, 'nothing boots before it is asked');
  assert.equal(await page.evaluate(() => globalThis.capos.boot('../etc/passwd')), false);
  assert.match(events.find((e) => e.kind === 'bootError').message, /neither a demo name nor a path/);
  assert.equal(await page.evaluate(() => globalThis.capos.boot('hello', { store: 'memory' })), true);
  assert.equal((await waitFor('halted')).code, 0);
  assert.match(bytesOf(events), /hello from init/);
  await page.evaluate(() => globalThis.capos.boot('hello'));
  const refusals = events.filter((e) => e.kind === 'bootError').map((e) => e.message);
  assert.equal(refusals.length, 2);
  assert.match(refusals[1], /booted once already/);
  await page.close();
});

test('a manifest that does not exist is a boot error, not a hang', async () => {
  const { page, waitFor } = await openBoot(browser.context, `${server.url}headless.html?manifest=no-such-demo`);
  assert.match((await waitFor('bootError')).message, /HTTP 404/);
  await page.close();
});
