// The capability-model demos on the page: terminal text and process list.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, launchBrowser, openBoot, terminalText, processRows } from './harness.mjs';

let server;
let browser;
before(async () => { server = await serve(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); server?.stop(); });

// Boots a demo, waits for the halt, returns what a person would see.
async function boot(name) {
  const { page, events, waitFor } = await openBoot(browser.context, `${server.url}?manifest=${name}`);
  const halted = await waitFor(['halted', 'panic', 'bootError'], 60_000);
  await page.waitForFunction(() => globalThis.capos?.terminalText().includes('system halted'));
  const view = { halted, events, text: await terminalText(page), rows: await processRows(page) };
  await page.close();
  return view;
}

test('endpoint-roundtrip: 10,000 round trips with their mean time', async () => {
  const { halted, text, rows } = await boot('endpoint-roundtrip');
  assert.equal(halted.code, 0, text);
  assert.match(text, /endpoint-roundtrip: 10000 round trips, mean \d+(\.\d+)? us per round trip/);
  assert.deepEqual(rows.map((r) => r.slice(0, 3)), [['1', 'init', 'exited 0'], ['2', 'pinger', 'exited 0']]);
});

test('ipc: the server tells the clients apart by badge and calls back through their consoles', async () => {
  const { halted, text, rows, events } = await boot('ipc');
  assert.equal(halted.code, 0, text);
  for (const n of [1, 2]) {
    assert.match(text, new RegExp(`ipc-server: call from badge ${n}: "hi from client ${n}"`));
    assert.match(text, new RegExp(`\\[client ${n}\\] ipc-server wrote this through the console you sent \\(your badge is ${n}\\)`));
    assert.match(text, new RegExp(`ipc-client ${n}: server replied "hello, badge ${n}"`));
  }
  assert.match(text, /ipc-server: no client left after 2 calls/);
  assert.deepEqual(rows.map((r) => r.slice(1, 3)),
    [['init', 'exited 0'], ['ipc-server', 'exited 0'], ['ipc-client', 'exited 0'], ['ipc-client', 'exited 0']]);
  // While they ran, the list showed how many capabilities each held.
  const peak = events.filter((e) => e.kind === 'processes').map((e) => e.processes.length);
  assert.equal(Math.max(...peak), 4);
  const server = events.flatMap((e) => (e.kind === 'processes' ? e.processes : [])).find((p) => p.name === 'ipc-server');
  assert.equal(server.caps, 2, 'ipc-server starts with exactly console + endpoint');
});

test('denied: every forged or foreign CapId is refused and shown by the parent', async () => {
  const { halted, text } = await boot('denied');
  assert.equal(halted.code, 0, text);
  const leaked = text.match(/my Console is capability (0x[0-9a-f]+)/)[1];
  assert.match(text, new RegExp(`Console.write through the leaker's Console id ${leaked}: refused \\(UnknownCap`));
  assert.match(text, /Console.write through guessed id 0x10001: refused \(UnknownCap/);
  assert.match(text, new RegExp(`release of ${leaked}: refused`));
  assert.doesNotMatch(text, /ALLOWED/);
  assert.doesNotMatch(text, /this process holds no Console/);
});

test('dead-server: a blocked caller gets an error and the kernel keeps serving', async () => {
  const { halted, text, rows } = await boot('dead-server');
  assert.equal(halted.code, 0, text);
  assert.match(text, /the blocked call failed as it should: PeerGone: server pid 2 ended before replying/);
  assert.match(text, /survivor: the kernel still serves new processes/);
  assert.deepEqual(rows.map((r) => r.slice(1, 3)), [['init', 'exited 0'], ['quitter', 'exited 3'], ['survivor', 'exited 0']]);
});

test('the selector lists every demo', async () => {
  const { page } = await openBoot(browser.context, `${server.url}?manifest=hello`);
  await page.waitForFunction(() => document.querySelectorAll('#demo option').length > 1);
  const options = await page.locator('#demo option').allTextContents();
  for (const name of ['hello', 'endpoint-roundtrip', 'ipc', 'denied']) assert.ok(options.includes(name), options.join());
  await page.close();
});
