// Hostile processes (demos/hostile): each attempt on the capability model is
// refused as it should be, and everyone else keeps running; through
// `capos boot` and on the page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { capos, serve, launchBrowser, openBoot, terminalText } from './harness.mjs';

// What the demo must say, whichever way it is run.
function checkAccount(text) {
  assert.match(text, /^forger: 1000000 forged ids tried, 0 accepted/m);
  const flood = /^flooder: (\d+) malformed entries submitted without pause, (\d+) refused with the right error$/m.exec(text);
  assert.ok(flood && flood[1] === flood[2] && Number(flood[1]) >= 300_000, text);
  const stalled = /^stalled: the kernel stopped taking entries with the CQ full \((\d+) left waiting\); (\d+) submitted, (\d+) completions received$/m.exec(text);
  assert.ok(stalled && Number(stalled[1]) > 0 && stalled[2] === stalled[3], text);
  assert.match(text, /^hostile: spin-server \(pid \d+\) killed by pid 1; its caller \(pid \d+\) exited with code 0$/m);
  assert.match(text, /^hostile: trap-server \(pid \d+\) trapped: unreachable[^;]*; its caller \(pid \d+\) exited with code 0$/m);
  assert.match(text, /^hostile: panic-server \(pid \d+\) panicked: [\s\S]*?; its caller \(pid \d+\) exited with code 0$/m);
  assert.match(text, /^hostile: hog \(pid \d+\) trapped: unreachable \(at its memory limit of 64 MiB: memory.grow was refused\)$/m);
  assert.match(text, /^hostile: every attempt was refused; the kernel and init kept running$/m);
}

test('hostile through capos boot: every attempt refused, init exits 0', () => {
  const r = capos(['boot', 'hostile', '--timeout', '120'], { timeoutMs: 180_000 });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  checkAccount(r.stdout);
});

test('hostile on the page: the same, and the page stays responsive', async () => {
  const site = await serve();
  const browser = await launchBrowser();
  try {
    const { page, waitFor } = await openBoot(browser.context, `${site.url}?manifest=hostile&inspector=off`);
    // The main thread keeps answering while the flood and the forger run.
    let asked = 0;
    let answered = 0;
    const watch = setInterval(() => {
      asked++;
      page.evaluate(() => 1).then(() => { answered++; }, () => {});
    }, 100);
    const halted = await waitFor('halted', 120_000);
    clearInterval(watch);
    const text = await terminalText(page);
    assert.equal(halted.code, 0, text);
    checkAccount(text.replace(/^\[pid \d+ [^\]]+\] .*\n/gm, ''));
    await new Promise((r) => { setTimeout(r, 500); });
    assert.ok(asked > 0 && answered >= asked - 1, `the page answered ${answered} of ${asked}`);
    await page.close();
  } finally {
    await browser.close();
    site.stop();
  }
});
