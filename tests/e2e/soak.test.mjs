// Processes coming and going (demos/soak, through the `make soak` driver):
// after 1,000 spawn/exit cycles and 100 processes at once, the kernel holds
// what it held before, and no Worker is left behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serve, launchBrowser } from './harness.mjs';
import { soak } from '../../capos-cli/driver/soak.mjs';

test('soak: nothing is left behind', async () => {
  const site = await serve();
  const browser = await launchBrowser();
  try {
    const r = await soak(browser.context, site.url);
    assert.equal(r.exitCode, 0);
    assert.equal(r.cycles, 1000);
    assert.equal(r.concurrent, 100);
    assert.deepEqual(r.leftBehind, [], JSON.stringify({ before: r.before, after: r.after }));
    assert.equal(r.after.processes, 1, 'init alone');
    assert.equal(r.after.workers, 1, 'init\'s Worker alone');
  } finally {
    await browser.close();
    site.stop();
  }
});
