// Drives headless Debian Chromium for `capos boot`: opens the page, relays
// what the page reports (console text, exits, halt, panic) to stdout as JSON
// lines, and always closes the browser. Usage: node boot.mjs URL TIMEOUT_MS
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.mjs';


const FINAL = new Set(['halted', 'panic', 'bootError', 'fatal']);
const emit = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);

async function main() {
  const [url, timeoutArg] = process.argv.slice(2);
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
    await page.exposeFunction('__caposReport', (event) => {
      if (event === null || typeof event !== 'object' || typeof event.kind !== 'string') return;
      emit(event);
      if (FINAL.has(event.kind)) finish(event);
    });
    page.on('pageerror', (err) => emit({ kind: 'pageError', message: String(err) }));
    page.on('crash', () => finish(emit({ kind: 'browserError', message: 'the page crashed' })));
    const timer = setTimeout(() => finish(emit({ kind: 'timeout', message: `no halt within ${timeoutMs} ms` })), timeoutMs);
    try {
      await page.goto(url, { timeout: timeoutMs });
    } catch (err) {
      emit({ kind: 'browserError', message: `cannot load ${url}: ${err.message.split('\n')[0]}` });
      clearTimeout(timer);
      return 0;
    }
    await finished;
    clearTimeout(timer);
    return 0;
  } finally {
    await context?.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  }
}

process.exitCode = await main();
