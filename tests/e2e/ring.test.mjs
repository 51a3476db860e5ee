// The ring protocol across languages and Workers, in headless Chromium:
// /ring-tests/ runs a JavaScript producer against capos-config's Rust
// consumer (compiled to wasm) on one SharedArrayBuffer ring, then the
// reverse, and reports what it saw. RING_SEED=N replays a run.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { serve, launchBrowser, openBoot } from './harness.mjs';

const SQ_ENTRIES_SENT = 2_000_000;
const CQ_ENTRIES_SENT = 1_000_000;
// The page gives up after 100 s and reports who is stuck; this is the backstop.
const RESULT_TIMEOUT_MS = 130_000;

function seedFromEnv() {
  const text = process.env.RING_SEED;
  if (text === undefined || text === '') return randomInt(2 ** 32);
  const seed = Number(text);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) throw new Error(`RING_SEED=${text} is not a u32`);
  return seed;
}

const seed = seedFromEnv();
const replay = `replay with RING_SEED=${seed}`;

let server;
let browser;
before(async () => { server = await serve(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); server?.stop(); });

test('JavaScript and Rust/wasm peers pass millions of entries each way through one ring', { timeout: RESULT_TIMEOUT_MS + 30_000 }, async () => {
  const url = `${server.url}ring-tests/?seed=${seed}&sq=${SQ_ENTRIES_SENT}&cq=${CQ_ENTRIES_SENT}`;
  console.log(`ring tests: seed ${seed} (${replay}; or open ${url})`);
  const { page, waitFor } = await openBoot(browser.context, url);
  const pageErrors = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  assert.equal(await page.evaluate(() => globalThis.crossOriginIsolated), true, 'the page is cross-origin isolated');

  let r;
  try {
    r = await waitFor('ringTests', RESULT_TIMEOUT_MS);
  } catch (err) {
    const shown = await page.locator('#log').innerText().catch(() => '');
    throw new Error(`seed ${seed}: the page reported nothing (${replay}): ${err.message}\n${shown}\n${pageErrors.join('\n')}`);
  }
  assert.ok(r.ok, `ring tests FAILED for seed ${seed} (${replay}):\n${r.errors.join('\n')}`);
  assert.equal(r.seed, seed);
  assert.equal(r.crossOriginIsolated, true);

  for (const [key, sent, producer] of [['sq', SQ_ENTRIES_SENT, 'JavaScript'], ['cq', CQ_ENTRIES_SENT, 'Rust/wasm']]) {
    const phase = r[key];
    const where = `${key.toUpperCase()} phase, seed ${seed} (${replay})`;
    assert.equal(phase.entries, sent, `${where}: entries delivered and checked`);
    assert.equal(phase.finalCounter, (r.start + sent) % 2 ** 32, `${where}: the ring's counters end at start + entries`);
    assert.ok(phase.wrapped, `${where}: the u32 counters crossed 2^32 during the run`);
    assert.ok(phase.producer.full > 0, `${where}: the ${producer} producer never found the queue full`);
    assert.ok(phase.producer.batches > 1 && phase.consumer.batches > 1, `${where}: entries moved in batches`);
    console.log(`ring tests ${key.toUpperCase()} (${producer} producer): ${phase.entries} entries in ${phase.ms} ms = `
      + `${phase.entriesPerSecond} entries/s, ${phase.payloadMiBPerSecond} MiB/s payload; `
      + `producer found it full ${phase.producer.full} times; consumer waited ${phase.consumer.waits} times`);
  }
  assert.equal(await page.locator('#verdict').getAttribute('data-state'), 'passed');
  assert.deepEqual(pageErrors, []);
  await page.close();
});
