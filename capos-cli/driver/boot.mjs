// Drives headless Debian Chromium for `capos boot`: opens the page, relays
// what the page reports (console text, exits, halt, panic) to stdout as JSON
// lines, and always closes the browser. Usage: node boot.mjs URL TIMEOUT_MS [--stdin]
// (--stdin: forward input lines from this process's stdin, see forwardInput)
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.mjs';
import { pageState } from './diagnose.mjs';
import { exposeReport } from './report.mjs';


const FINAL = new Set(['halted', 'panic', 'bootError', 'fatal']);
// How long a loaded page has to report anything (times the attempt), and how
// many loads it gets.
const PAGE_SPEAKS_WITHIN_MS = 5000;
const PAGE_ATTEMPTS = 3;
const emit = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);
// If capos went away (killed, or its reader closed), there is no one to
// report to: stop, which closes the browser in main's finally.
let finishEarly = () => {};
process.stdout.on('error', () => finishEarly());

let forwardStdin = false;

// `capos run` pipes its stdin here as JSON lines: {"data": base64} and
// finally {"eof": true}. Each goes to the page exactly as typed input would.
// Lines {"net": {...}} carry `--tcplisten` connections (web/net/bridge.js):
// those waiting together go to the page in one evaluation (each is a round
// trip through the DevTools protocol).
const isNet = (m) => m?.net !== null && typeof m?.net === 'object';
async function forwardInput(page) {
  await page.waitForFunction(() => globalThis.capos?.input);
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  const queue = [];
  let wake = null;
  let ended = false;
  lines.on('line', (line) => {
    try {
      queue.push(JSON.parse(line));
    } catch {
      return;
    }
    wake?.();
  });
  lines.on('close', () => { ended = true; wake?.(); });
  for (;;) {
    if (queue.length === 0) {
      if (ended) return;
      await new Promise((resolve) => { wake = resolve; });
      wake = null;
      continue;
    }
    const message = queue.shift();
    if (typeof message.data === 'string') {
      await page.evaluate((b64) => globalThis.capos.input(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))), message.data);
    } else if (message.eof === true) {
      await page.evaluate(() => globalThis.capos.endInput());
    } else if (isNet(message)) {
      const batch = [message.net];
      while (isNet(queue[0])) batch.push(queue.shift().net);
      await page.evaluate((ms) => { for (const m of ms) globalThis.capos.net(m); }, batch);
    }
  }
}

async function main() {
  const [url, timeoutArg, mode] = process.argv.slice(2);
  forwardStdin = mode === '--stdin';
  const timeoutMs = Number(timeoutArg);
  if (!url || !Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    emit({ kind: 'driverError', message: 'usage: boot.mjs URL TIMEOUT_MS' });
    return 2;
  }
  const profile = mkdtempSync(join(tmpdir(), 'capos-chromium-'));
  let context;
  try {
    try {
      context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 60_000,
      });
    } catch (err) {
      emit({ kind: 'browserError', message: `cannot start ${CHROMIUM}: ${err.message.split('\n')[0]}` });
      return 0;
    }
    const page = context.pages()[0] ?? (await context.newPage());
    let finish;
    const finished = new Promise((resolve) => { finish = resolve; });
    finishEarly = () => finish({ kind: 'orphaned' });
    // What the page last reported, for a timeout to say where things stood.
    const seen = { events: 0, last: [], processes: null };
    await exposeReport(page, (event) => {
      seen.events++;
      seen.last = [...seen.last.slice(-7), event.kind];
      if (event.kind === 'processes') seen.processes = event.processes;
      emit(event);
      if (FINAL.has(event.kind)) finish(event);
    });
    page.on('pageerror', (err) => emit({ kind: 'pageError', message: String(err) }));
    page.on('crash', () => finish(emit({ kind: 'browserError', message: 'the page crashed' })));
    const timer = setTimeout(async () => {
      const procs = (seen.processes ?? []).map((p) => `pid ${p.pid} ${p.name}`).join(', ') || 'none';
      const state = await pageState(page).catch(() => 'unknown');
      const message = `no halt within ${timeoutMs} ms (${seen.events} events from the page, the last: `
        + `${seen.last.join(' ') || 'none'}; processes: ${procs}; ${state})`;
      finish(emit({ kind: 'timeout', message }));
    }, timeoutMs);
    // A stalled load must not become a hang: a page that has said nothing
    // in time is loaded again, a few times, before giving up.
    let loaded = false;
    for (let attempt = 1; attempt <= PAGE_ATTEMPTS && !loaded; attempt++) {
      try {
        if (attempt === 1) await page.goto(url, { timeout: timeoutMs, waitUntil: 'commit' });
        else await page.reload({ timeout: timeoutMs, waitUntil: 'commit' });
        const deadline = Date.now() + PAGE_SPEAKS_WITHIN_MS * attempt;
        while (seen.events === 0 && Date.now() < deadline) await new Promise((r) => { setTimeout(r, 20); });
        loaded = seen.events > 0;
      } catch (err) {
        emit({ kind: 'browserError', message: `cannot load ${url}: ${err.message.split('\n')[0]}` });
        clearTimeout(timer);
        return 0;
      }
    }
    if (!loaded) {
      finish(emit({ kind: 'browserError', message: `the page at ${url} did not start (${PAGE_ATTEMPTS} loads)` }));
    }
    if (forwardStdin) forwardInput(page).catch((err) => emit({ kind: 'driverError', message: `stdin: ${err.message}` }));
    await finished;
    clearTimeout(timer);
    return 0;
  } finally {
    await context?.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  }
}

process.exitCode = await main();
