// Screenshots of the inspector for docs/tour.md: the ipc graph just after
// its clients were spawned, and the swarm while it runs.
// Usage: node scripts/tour-screenshots.mjs  (CAPOS_BIN: the capos binary)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../capos-cli/driver/chromium.mjs';
import { serveSite } from '../capos-cli/driver/serve.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CAPOS = process.env.CAPOS_BIN || join(ROOT, 'target', 'release', 'capos');

const server = await serveSite(CAPOS);
const profile = mkdtempSync(join(tmpdir(), 'capos-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1400, height: 900 },
});
try {
  const page = await context.newPage();
  const halted = () => page.waitForFunction(() => /halted/.test(document.getElementById('status').textContent), null, { timeout: 60_000 });

  await page.goto(`${server.url}?manifest=ipc`);
  await halted();
  const step = await page.evaluate(() => globalThis.capos.inspectorSnapshots().findIndex((s) =>
    s.processes.some((p) => p.name === 'ipc-server' && p.caps.some((c) => c.origin === 'received'))));
  await page.evaluate((i) => globalThis.capos.inspectorShowStep(i), step);
  await page.waitForTimeout(800); // let the transfer animations finish
  await page.screenshot({ path: join(ROOT, 'docs', 'img', 'ipc-graph.png') });

  await page.goto(`${server.url}?manifest=swarm`);
  await page.waitForFunction(() => /calling in pairs/.test(globalThis.capos?.terminalText() ?? ""), null, { timeout: 60_000 });
  await page.waitForTimeout(1500);
  await page.screenshot({ path: join(ROOT, 'docs', 'img', 'swarm-graph.png') });

  await page.goto(`${server.url}?manifest=denied&inspector=trace`);
  await halted();
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(ROOT, 'docs', 'img', 'denied-trace.png') });
  console.log('written: docs/img/ipc-graph.png, swarm-graph.png, denied-trace.png');
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
  server.stop();
}
