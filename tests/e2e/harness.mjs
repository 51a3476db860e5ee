// Shared pieces of the end-to-end tests: the capos binary, a served site,
// and headless Debian Chromium driven by playwright-core.
import { spawnSync } from 'node:child_process';
import { serveSite } from '../../capos-cli/driver/serve.mjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../../capos-cli/driver/chromium.mjs';
import { exposeReport } from '../../capos-cli/driver/report.mjs';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CAPOS = process.env.CAPOS_BIN || join(ROOT, 'target', 'release', 'capos');

// Runs `capos ARGS...` to completion.
export function capos(args, { timeoutMs = 120_000 } = {}) {
  const r = spawnSync(CAPOS, args, { encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// Starts `capos serve --port 0`; resolves to { url, stop }.
export const serve = () => serveSite(CAPOS);

export async function launchBrowser() {
  const profile = mkdtempSync(join(tmpdir(), 'capos-e2e-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS,
  });
  return {
    context,
    close: async () => { await context.close(); rmSync(profile, { recursive: true, force: true }); },
  };
}

// Opens the page and records everything it reports through __caposReport.
// `prepare(page)` runs before the page loads (init scripts, say). As the
// drivers do, so that a stalled load can never hang a test, a page that has
// said nothing in time is loaded again, a few times.
export async function openBoot(context, url, { prepare } = {}) {
  const page = await context.newPage();
  await prepare?.(page);
  const events = [];
  const waiters = [];
  await exposeReport(page, (event) => {
    events.push(event);
    for (const w of [...waiters]) if (w.match(event)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(event); }
  });
  const waitFor = (kinds, timeoutMs = 30_000) => {
    const set = new Set([].concat(kinds));
    const seen = events.find((e) => set.has(e.kind));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${[...set]} within ${timeoutMs} ms; got ${JSON.stringify(events)}`)), timeoutMs);
      waiters.push({ match: (e) => set.has(e.kind), resolve: (e) => { clearTimeout(timer); resolve(e); } });
    });
  };
  for (let attempt = 1; attempt <= 3; attempt++) {
    if (attempt === 1) await page.goto(url, { waitUntil: 'commit' });
    else await page.reload({ waitUntil: 'commit' });
    const deadline = Date.now() + 10_000 * attempt;
    while (events.length === 0 && Date.now() < deadline) await new Promise((r) => { setTimeout(r, 20); });
    if (events.length > 0) break;
  }
  return { page, events, waitFor };
}

// What the terminal shows (xterm's buffer, soft wraps joined).
export const terminalText = (page) => page.evaluate(() => globalThis.capos.terminalText());

// The process table as rows of cell texts.
export const processRows = (page) =>
  page.locator('#processes tbody tr').evaluateAll((rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));

// Live (non-zombie) Chromium processes started with one of our profiles.
export function strayBrowsers() {
  const r = spawnSync('pgrep', ['-f', 'capos-chromium-'], { encoding: 'utf8' });
  return r.stdout.trim().split('\n').filter(Boolean);
}
