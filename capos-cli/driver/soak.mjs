// `make soak`: the `soak` manifest in headless Chromium (1,000 spawn/exit
// cycles, then 100 processes at once), with the kernel's counts and the live
// Workers read before and after. Prints a table, writes target/bench/soak.json
// and exits 1 if anything was left behind.
// Usage: node capos-cli/driver/soak.mjs  (CAPOS_BIN: the capos binary)
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.mjs';
import { serveSite } from './serve.mjs';
import { exposeReport } from './report.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CAPOS = process.env.CAPOS_BIN || join(ROOT, 'target', 'release', 'capos');
// What must come back to where it was.
export const COUNTED = ['processes', 'capsHeld', 'parkedCalls', 'timers', 'workers', 'pageWorkers'];

const sleep = (ms) => new Promise((r) => { setTimeout(r, ms); });

/** Runs the soak manifest on `siteUrl` in `context`; resolves to its figures. */
export async function soak(context, siteUrl, timeoutMs = 300_000) {
  const page = await context.newPage();
  const events = [];
  let liveWorkers = null;
  await exposeReport(page, (event) => {
    events.push(event);
    if (event.kind === 'workers') liveWorkers = event.live;
  });
  const text = () => events.filter((e) => e.kind === 'console').map((e) => e.text).join('');
  const until = async (what, test) => {
    const deadline = Date.now() + timeoutMs;
    while (!test()) {
      const failed = events.find((e) => ['panic', 'bootError', 'fatal'].includes(e.kind));
      if (failed) throw new Error(`soak: ${failed.kind}: ${failed.message}`);
      if (Date.now() > deadline) throw new Error(`soak: no ${what} in ${timeoutMs} ms; console: ${text()}`);
      await sleep(20);
    }
  };
  await page.goto(`${siteUrl}?manifest=soak&inspector=off`);
  const kernelWorker = async () => {
    await until('kernel Worker', () => page.workers().some((w) => w.url().endsWith('/kernel/kernel-worker.js')));
    return page.workers().find((w) => w.url().endsWith('/kernel/kernel-worker.js'));
  };
  const reading = async () => ({
    ...(await (await kernelWorker()).evaluate(() => self.__caposKernel.stats())),
    workers: liveWorkers,
    pageWorkers: page.workers().length,
  });
  await until('"soak: ready"', () => text().includes('soak: ready'));
  const before = await reading();
  // The main thread keeps answering meanwhile: the slowest answer, in ms.
  let slowestAnswerMs = 0;
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      const t = performance.now();
      await page.evaluate(() => 0);
      slowestAnswerMs = Math.max(slowestAnswerMs, performance.now() - t);
      await sleep(50);
    }
  })();
  await until('"soak: done"', () => text().includes('soak: done'));
  // A Worker goes some time after its process ends: let the last ones go.
  await sleep(300);
  const after = await reading();
  if (events.some((e) => e.kind === 'halted')) {
    throw new Error('soak: init had exited before the counts after the soak were read (the page fell behind)');
  }
  watching = false;
  await watcher;
  await until('halt', () => events.some((e) => e.kind === 'halted'));
  const halted = events.find((e) => e.kind === 'halted');
  await page.close();
  const done = /soak: done: (\d+) spawn\/exit cycles in (\d+) ms, then (\d+) at once in (\d+) ms/.exec(text());
  return {
    exitCode: halted.code,
    cycles: Number(done?.[1]), cyclesMs: Number(done?.[2]),
    concurrent: Number(done?.[3]), concurrentMs: Number(done?.[4]),
    before, after,
    slowestMainThreadAnswerMs: Math.round(slowestAnswerMs),
    leftBehind: COUNTED.filter((k) => before[k] !== after[k]),
  };
}

async function main() {
  const server = await serveSite(CAPOS);
  const profile = mkdtempSync(join(tmpdir(), 'capos-soak-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  try {
    const r = await soak(context, server.url);
    mkdirSync(join(ROOT, 'target', 'bench'), { recursive: true });
    writeFileSync(join(ROOT, 'target', 'bench', 'soak.json'), `${JSON.stringify(r, null, 2)}\n`);
    const pad = (s, n) => String(s).padEnd(n);
    console.log(`\nsoak: ${r.cycles} spawn/exit cycles in ${r.cyclesMs} ms (${(r.cyclesMs / r.cycles).toFixed(1)} ms each), `
      + `then ${r.concurrent} at once in ${r.concurrentMs} ms; init exited ${r.exitCode}\n`);
    console.log(`${pad('', 16)}${pad('before', 14)}after`);
    for (const k of [...COUNTED, 'memoryBytes']) console.log(`${pad(k, 16)}${pad(r.before[k], 14)}${r.after[k]}`);
    console.log(`\nslowest main-thread answer during the soak: ${r.slowestMainThreadAnswerMs} ms`);
    console.log(r.leftBehind.length ? `LEFT BEHIND: ${r.leftBehind.join(', ')}` : 'nothing left behind');
    console.log('written: target/bench/soak.json');
    if (r.leftBehind.length || r.exitCode !== 0) process.exitCode = 1;
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
    server.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err) => { console.error(`soak: ${err.message}`); process.exitCode = 1; });
}
