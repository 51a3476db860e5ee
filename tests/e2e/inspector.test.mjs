// The inspector on the page: true process states, who holds what (the graph
// and the per-process view), the call trace, the guided tour, and no
// capability id ever reaching the main thread.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, openBoot, serve } from './harness.mjs';

let server;
let browser;
before(async () => {
  server = await serve();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  server?.stop();
});

// Every snapshot the page received, as the panel keeps them.
const snapshots = (page) => page.evaluate(() => globalThis.capos.inspectorSnapshots());
const holder = (snap, pid) => snap.processes.find((p) => p.pid === pid);

// Moves the history slider to the first snapshot satisfying `predicate`
// (given as source text, evaluated in the page).
async function scrubTo(page, predicate) {
  const step = await page.evaluate((source) => {
    const match = new Function('snap', `return (${source})(snap);`);
    const all = globalThis.capos.inspectorSnapshots();
    return all.findIndex((snap) => match(snap));
  }, predicate.toString());
  assert.ok(step >= 0, `no snapshot matches ${predicate}`);
  await page.evaluate((i) => globalThis.capos.inspectorShowStep(i), step);
  return step;
}

test('a blocked receive shows as blocked on an endpoint, then the kill as killed', async () => {
  const { page, events, waitFor } = await openBoot(browser.context, `${server.url}?manifest=revoke`);
  const halted = await waitFor('halted');
  assert.equal(halted.code, 0, halted.reason);
  // What the process list was given, in order: the server waiting for a
  // call, then the client waiting for the answer (each for 400 ms).
  const states = events.filter((e) => e.kind === 'processes')
    .map((e) => Object.fromEntries(e.processes.map((p) => [p.pid, `${p.state} ${p.blockedOn.join()}`.trim()])));
  const serverWaits = states.findIndex((s) => s[2] === 'blocked Endpoint.receive');
  assert.ok(serverWaits >= 0, JSON.stringify(states));
  assert.ok(states.slice(serverWaits).some((s) => s[3] === 'blocked Endpoint.call'), JSON.stringify(states));
  // The list shows how the server ended.
  const row = page.locator('#processes tbody tr[data-pid="2"]');
  assert.match(await row.textContent(), /killed/);
  const last = (await snapshots(page)).at(-1);
  assert.equal(holder(last, 2).state, 'killed');
  assert.equal(holder(last, 2).reason, 'killed by pid 1');
  await page.close();
});

test('ipc: the clients hold badges 1 and 2 on one endpoint; a move takes the edge from the sender', async () => {
  const { page, waitFor } = await openBoot(browser.context, `${server.url}?manifest=ipc`);
  assert.equal((await waitFor('halted')).code, 0);
  // The snapshot right after both clients were spawned.
  await scrubTo(page, (snap) => [3, 4].every((pid) => snap.processes.find((p) => p.pid === pid)?.caps.some((c) => c.interface === 'Endpoint')));
  const svg = page.locator('#inspector svg');
  const edge = (pid, badge) => svg.locator(`[data-pid="${pid}"][data-badge="${badge}"]`);
  assert.equal(await edge(3, '1').count(), 1, 'client 1 holds badge 1');
  assert.equal(await edge(4, '2').count(), 1, 'client 2 holds badge 2');
  // Both badges designate the same object: the server's endpoint.
  const objectOf = async (pid, badge) => edge(pid, badge).getAttribute('data-object');
  assert.equal(await objectOf(3, '1'), await objectOf(4, '2'));
  assert.equal(await svg.locator(`[data-pid="1"][data-badge="1"], [data-pid="1"][data-badge="2"]`).count(), 0,
    'init moved both badged copies away');
  // The per-process view of client 1 lists where its capability came from.
  await page.locator('#inspector-tab-process').click();
  await page.evaluate(() => globalThis.capos.inspectorSelect(3));
  const rows = page.locator('#inspector [data-cap-row]');
  const text = (await rows.allTextContents()).join('\n');
  assert.match(text, /server/);
  assert.match(text, /Endpoint/);
  assert.match(text, /\b1\b/);
  await page.close();
});

test('the trace lists every refused call with its error', async () => {
  const { page, waitFor } = await openBoot(browser.context, `${server.url}?manifest=denied&inspector=trace`);
  assert.equal((await waitFor('halted')).code, 0);
  const refused = page.locator('#inspector [data-outcome="UnknownCap"]');
  // The trace renders rows as they arrive: wait for all of them, not just the first.
  await page.waitForFunction(
    () => document.querySelectorAll('#inspector [data-outcome="UnknownCap"]').length >= 5,
    null, { timeout: 10_000 },
  ).catch(() => {});
  assert.ok(await refused.count() >= 5, `${await refused.count()} refused calls shown`);
  assert.match(await refused.first().textContent(), /Console\.write|UnknownCap/);
  await page.close();
});

test('no message reaching the main thread carries a capability id', async () => {
  // Record every message a Worker posts to the page, before the page's own scripts run.
  const recordMessages = (page) => page.addInitScript(() => {
    globalThis.__caposSeen = [];
    const original = Worker.prototype.addEventListener;
    const record = (event) => { globalThis.__caposSeen.push(event.data); };
    const onmessage = Object.getOwnPropertyDescriptor(Worker.prototype, 'onmessage');
    Object.defineProperty(Worker.prototype, 'onmessage', {
      set(handler) { onmessage.set.call(this, (event) => { record(event); handler(event); }); },
      get() { return onmessage.get.call(this); },
    });
    Worker.prototype.addEventListener = function (type, handler, options) {
      if (type === 'message') return original.call(this, type, (event) => { record(event); handler(event); }, options);
      return original.call(this, type, handler, options);
    };
  });
  const { page } = await openBoot(browser.context, `${server.url}?manifest=ipc&inspector=trace`, { prepare: recordMessages });
  // The kernel Worker's view of every id held, sampled while the demo runs.
  const kernel = await new Promise((resolve) => {
    const found = page.workers().find((w) => w.url().includes('kernel-worker'));
    if (found) resolve(found);
    else page.on('worker', (w) => { if (w.url().includes('kernel-worker')) resolve(w); });
  });
  const ids = new Set();
  for (let i = 0; i < 40; i++) {
    const live = await kernel.evaluate(() => globalThis.__caposKernel?.liveCapIds() ?? []).catch(() => []);
    for (const id of live) ids.add(id);
    const done = await page.evaluate(() => globalThis.__caposSeen.some((m) => m?.type === 'halted'));
    if (done) break;
    await new Promise((r) => { setTimeout(r, 25); });
  }
  assert.ok(ids.size >= 8, `sampled ${ids.size} ids`);
  const seen = await page.evaluate(() => JSON.stringify(globalThis.__caposSeen, (key, value) =>
    (value instanceof Uint8Array ? Array.from(value) : value)));
  const messages = JSON.parse(seen);
  assert.ok(messages.some((m) => m.type === 'inspector') && messages.some((m) => m.type === 'trace'));
  // Every number and every digit run anywhere in those messages.
  const found = new Set();
  const walk = (v) => {
    if (typeof v === 'number') found.add(v);
    else if (typeof v === 'string') for (const m of v.matchAll(/0x[0-9a-f]+|\d+/gi)) found.add(Number(m[0]));
    else if (v && typeof v === 'object') for (const x of Object.values(v)) walk(x);
  };
  // Console bytes are program output (the denied demo prints ids on purpose; ipc does not).
  walk(messages.map((m) => (m.type === 'console' ? { ...m, data: [] } : m)));
  const leaked = [...ids].filter((id) => found.has(id));
  assert.deepEqual(leaked, [], `capability ids reached the page: ${leaked.map((id) => id.toString(16))}`);
  await page.close();
});

test('the tour walks through its steps, each showing what it says', async () => {
  const { page, waitFor } = await openBoot(browser.context, `${server.url}?tour=1`);
  const tour = page.locator('#tour');
  await tour.locator('h2').waitFor();
  assert.match(await tour.locator('h2').textContent(), /tour 1\/6: One process, one memory/);
  await waitFor('halted');
  // Step 1: init with its one Console, back in the history.
  await scrubTo(page, (snap) => snap.processes.some((p) => p.pid === 1 && p.caps.length === 1));
  assert.equal(await page.locator('#inspector svg g.edge[data-pid="1"][data-interface="Console"]').count(), 1);
  // Step 2: the refusals in the trace.
  await tour.getByRole('button', { name: 'next' }).click();
  assert.match(await tour.locator('h2').textContent(), /2\/6: A forged id is refused/);
  await page.locator('#inspector [data-outcome="UnknownCap"]').first().waitFor({ timeout: 20_000 });
  // Steps 3-5: ipc's graph.
  await tour.getByRole('button', { name: 'next' }).click();
  assert.match(await tour.locator('h2').textContent(), /3\/6: Copy or move/);
  await page.waitForFunction(() => globalThis.capos.inspectorSnapshots().some((s) =>
    s.processes.some((p) => p.name === 'ipc-server' && p.caps.some((c) => c.interface === 'Console' && c.origin === 'received'))));
  await tour.getByRole('button', { name: 'next' }).click();
  await tour.getByRole('button', { name: 'next' }).click();
  assert.match(await tour.locator('h2').textContent(), /5\/6: Attenuation/);
  const prefixed = await page.waitForFunction(() => globalThis.capos.inspectorSnapshots().some((s) =>
    s.objects.some((o) => o.interface === 'Console' && /prefix/.test(o.note))));
  assert.ok(prefixed);
  // Step 6: the killed server's caller answered PeerGone, in the trace.
  await tour.getByRole('button', { name: 'next' }).click();
  assert.match(await tour.locator('h2').textContent(), /6\/6: Killing revokes/);
  const peerGone = page.locator('#inspector [data-outcome="PeerGone"]');
  await peerGone.first().waitFor({ timeout: 20_000 });
  assert.match(await peerGone.first().textContent(), /Endpoint\.call/);
  await page.close();
});

test('DevTools: traced calls are measures and spawns are marks on the kernel Worker', async () => {
  let observing;
  const { page, waitFor } = await openBoot(browser.context, `${server.url}?manifest=revoke&inspector=trace`, {
    // As soon as the kernel Worker exists, watch its User Timing entries (the
    // kernel clears them from its buffer as it makes them; an observer still
    // sees each one, as DevTools' Performance panel does).
    prepare: (page) => page.on('worker', (worker) => {
      if (!worker.url().includes('kernel-worker')) return;
      observing = worker.evaluate(() => {
        globalThis.__caposTimings = [];
        new PerformanceObserver((list) => {
          for (const e of list.getEntries()) globalThis.__caposTimings.push(`${e.entryType} ${e.name}`);
        }).observe({ entryTypes: ['mark', 'measure'] });
      });
    }),
  });
  assert.equal((await waitFor('halted')).code, 0);
  await observing;
  const kernel = page.workers().find((w) => w.url().includes('kernel-worker'));
  const timings = await kernel.evaluate(() => globalThis.__caposTimings);
  assert.ok(timings.includes('mark spawn pid 3: revoke-client'), timings.slice(0, 20).join('\n'));
  assert.ok(timings.some((t) => /^measure pid 3 Endpoint\.call \d+ us PeerGone$/.test(t)), timings.join('\n'));
  assert.ok(timings.some((t) => /^measure pid 1 Timer\.sleep \d+ us$/.test(t)), timings.join('\n'));
  await page.close();
});
