// The browser of the `capos` daemon: one headless Chromium kept up between
// runs, and one page standing by (the headless page, web/headless.html:
// loaded, its kernel Worker compiled). Each run takes the standby page, boots
// its manifest there, relays what the page reports, then navigates the tab
// away (or closes it) and clears the site's storage: a run's document,
// Workers, kernel and storage are never seen by the next one. What
// runs share is the HTTP cache, and with it the browser's compiled code for
// the page, the kernel and the shim: that is what makes a warm run fast.
// The next standby page is prepared once no run is going on: on two cores a
// page loading beside a run takes the CPU the run needs (a run with the
// machine to itself took 60-120 ms, one beside a loading page 200-250).
//
// Usage: node pool.mjs SITE_URL. Commands arrive on stdin as JSON lines:
//   {"op":"run","id":N,"manifest":"/runs/…/manifest.bin","timeoutMs":T}
//   {"op":"input","id":N,"data":BASE64} {"op":"eof","id":N} {"op":"cancel","id":N}
//   {"op":"net","id":N,"net":{...}} (a --tcplisten connection's traffic, web/net/bridge.js)
// Events leave on stdout as JSON lines, each with "run": N; a run's last is
// {"run":N,"kind":"closed"}. End of stdin closes the browser and exits.
import { chromium } from 'playwright-core';
import { createInterface } from 'node:readline';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.mjs';
import { pageState } from './diagnose.mjs';
import { exposeReport } from './report.mjs';

const FINAL = new Set(['halted', 'panic', 'bootError', 'fatal']);
const siteUrl = process.argv[2];
const emit = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);

const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, '--disable-back-forward-cache'], timeout: 60_000 })
  .catch((err) => {
    emit({ kind: 'browserError', message: `cannot start ${CHROMIUM}: ${err.message.split('\n')[0]}` });
    process.exit(1);
  });
const context = await browser.newContext();
const origin = new URL(siteUrl).origin;
const cdp = await context.newCDPSession(await context.newPage());
emit({ kind: 'ready' });

// A load that stalls must not hang a run: a standby page not ready in time
// is replaced, a few times.
const READY_WITHIN_MS = 5000;
// A page that does not close in this long is left to the browser.
const CLOSE_WITHIN_MS = 5000;
const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });
const PAGE_ATTEMPTS = 3;

const STANDBY_URL = `${siteUrl}headless.html?standby&store=memory`;

/**
 * A tab with the headless page loaded with ?standby; `report` is where its
 * events go. `committed`: a tab already navigated to it (the last run's, see
 * `retire`), tried first.
 */
async function standbyPage(committed = null) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await loadStandby(READY_WITHIN_MS * attempt, attempt === 1 ? committed : null);
    } catch (err) {
      if (attempt === PAGE_ATTEMPTS) throw err;
    }
  }
}

async function newTab() {
  const page = await context.newPage();
  const tab = { page, report: () => {} };
  await exposeReport(page, (event) => tab.report(event));
  page.on('pageerror', (err) => tab.report({ kind: 'pageError', message: String(err) }));
  page.on('crash', () => tab.report({ kind: 'browserError', message: 'the page crashed' }));
  return tab;
}

async function loadStandby(readyWithinMs, committed) {
  const tab = committed ?? await newTab();
  try {
    if (!committed) await tab.page.goto(STANDBY_URL, { timeout: readyWithinMs, waitUntil: 'commit' });
    await tab.page.waitForFunction(() => typeof globalThis.capos?.boot === 'function', null, { timeout: readyWithinMs });
  } catch (err) {
    await tab.page.close().catch(() => {});
    throw err;
  }
  return tab;
}

// Ends a run's page. If no standby page is ready and no other run goes on
// (whose end will do it), its tab navigates to the next standby page (a new
// document in the same tab is ready in about a third of the time a new tab
// takes); otherwise it is closed. Either way the run's document is gone, and
// every Worker with it, before the site's storage is cleared. (The browser
// keeps no page in the back/forward cache: --disable-back-forward-cache.) A
// run that starts meanwhile takes that page, and boots once the storage is
// cleared (every run waits for `cleaning`).
async function retire(tab) {
  tab.report = () => {};
  const close = () => Promise.race([tab.page.close().catch(() => {}), sleep(CLOSE_WITHIN_MS)]);
  if (runs.size > 0 || next !== null) {
    await close();
    await clearStorage();
    return;
  }
  const navigated = Promise.race([
    tab.page.goto(STANDBY_URL, { timeout: CLOSE_WITHIN_MS, waitUntil: 'commit' }).then(() => true, () => false),
    sleep(CLOSE_WITHIN_MS).then(() => false),
  ]);
  next = navigated.then((ok) => standbyPage(ok ? tab : null));
  next.catch(() => {});
  if (!await navigated) await close();
  await clearStorage();
}

// id -> { booted: resolves to the page once it is booting, finish, cancelled }
const runs = new Map();
// The standby page the next run takes (loaded or loading), or null: the
// first is loaded now, the others by `retire`.
let next = standbyPage();
next.catch(() => {});
// Settles once every run that ended has had its page closed and the site's
// storage cleared: a run boots only then, so it never sees what one before
// it stored (its client may already have gone, with its outcome).
let cleaning = Promise.resolve();

async function run({ id, manifest, timeoutMs, store = 'memory' }) {
  let booted;
  const entry = { booted: new Promise((resolve) => { booted = resolve; }), finish: () => {}, cancelled: false };
  runs.set(id, entry);
  // Taken before any await: runs that start together never share a page.
  const mine = next ?? standbyPage();
  next = null;
  mine.catch(() => {});
  let spare;
  try {
    spare = await mine;
  } catch {
    spare = null; // That standby page failed: try once more, now.
  }
  try {
    spare ??= await standbyPage();
  } catch (err) {
    emit({ run: id, kind: 'browserError', message: `cannot open the page: ${err.message.split('\n')[0]}` });
    runs.delete(id);
    booted(null);
    emit({ run: id, kind: 'closed' });
    return;
  }
  const seen = { events: 0, last: [] };
  let finish;
  const finished = new Promise((resolve) => { finish = resolve; });
  spare.report = (event) => {
    seen.events++;
    seen.last = [...seen.last.slice(-7), event.kind];
    emit({ ...event, run: id });
    if (FINAL.has(event.kind)) finish();
  };
  entry.finish = finish;
  if (entry.cancelled) finish();
  const timer = setTimeout(async () => {
    const state = await pageState(spare.page).catch(() => 'unknown');
    emit({ run: id, kind: 'timeout', message: `no halt within ${timeoutMs} ms (${seen.events} events from the page, the last: ${seen.last.join(' ') || 'none'}; ${state})` });
    finish();
  }, timeoutMs);
  try {
    // A page that hangs must not hold the run past its timeout.
    await cleaning;
    if (!entry.cancelled) await Promise.race([spare.page.evaluate(([path, backend]) => globalThis.capos.boot(path, { store: backend }), [manifest, store]), finished]);
    booted(spare.page);
    await finished;
  } catch (err) {
    emit({ run: id, kind: 'browserError', message: `the page failed: ${err.message.split('\n')[0]}` });
  } finally {
    clearTimeout(timer);
    booted(null);
    runs.delete(id);
    inputs.delete(id);
    const cleanup = cleaning.then(() => retire(spare));
    cleaning = cleanup;
    await cleanup;
    emit({ run: id, kind: 'closed' });
  }
}

// Everything a run may have stored (IndexedDB, OPFS, caches), except what
// runs share: the HTTP cache, and the runtime cache. A runtime is cached by
// its SHA-256 and checked against it on every load, so a run can neither
// see another's data in it nor plant a module there that would be run.
const RUNTIME_CACHE = 'capos-runtimes-v1';
const STORAGE_TYPES = 'appcache,cookies,file_systems,indexeddb,local_storage,shader_cache,websql,service_workers,'
  + 'interest_groups,shared_storage,storage_buckets,other';
async function clearStorage() {
  await cdp.send('Storage.clearDataForOrigin', { origin, storageTypes: STORAGE_TYPES }).catch(() => {});
  const { caches = [] } = await cdp.send('CacheStorage.requestCacheNames', { storageKey: `${origin}/` })
    .catch(() => cdp.send('CacheStorage.requestCacheNames', { securityOrigin: origin }))
    .catch(() => ({}));
  for (const cache of caches) {
    if (cache.cacheName !== RUNTIME_CACHE) await cdp.send('CacheStorage.deleteCache', { cacheId: cache.cacheId }).catch(() => {});
  }
}

// Input for a run goes in order: each waits for the one before it.
const inputs = new Map(); // id -> promise chain
function input(id, action) {
  const target = runs.get(id);
  if (!target) return;
  const chain = (inputs.get(id) ?? target.booted).then((page) => page?.evaluate(...action).then(() => page)).catch(() => null);
  inputs.set(id, chain);
}

// A run's --tcplisten traffic that arrives together goes to the page in one
// evaluation (each is a round trip through the DevTools protocol), in order.
const pendingNet = new Map(); // id -> messages not yet sent
function queueNet(id, message) {
  const pending = pendingNet.get(id);
  if (pending) {
    pending.push(message);
    return;
  }
  pendingNet.set(id, [message]);
  setImmediate(() => {
    const batch = pendingNet.get(id);
    pendingNet.delete(id);
    input(id, [(ms) => { for (const m of ms) globalThis.capos.net(m); }, batch]);
  });
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  let command;
  try {
    command = JSON.parse(line);
  } catch {
    continue;
  }
  if (!Number.isInteger(command?.id)) continue;
  switch (command.op) {
    case 'run':
      if (typeof command.manifest === 'string' && Number.isFinite(command.timeoutMs)) run(command);
      break;
    case 'input':
      if (typeof command.data === 'string') {
        input(command.id, [(b64) => globalThis.capos.input(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))), command.data]);
      }
      break;
    case 'eof':
      input(command.id, [() => globalThis.capos.endInput()]);
      break;
    case 'net':
      if (command.net !== null && typeof command.net === 'object') queueNet(command.id, command.net);
      break;
    case 'cancel': {
      const entry = runs.get(command.id);
      if (entry) {
        entry.cancelled = true;
        entry.finish();
      }
      break;
    }
  }
}
await browser.close().catch(() => {});
process.exit(0);
