// Display and Clipboard: capabilities whose service is the page itself. The
// display demo draws Life on a canvas until it is done or the person closes
// the display; the clipboard works when the browser allows it and is refused,
// with the page's reason, when it does not.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { capos, serve, launchBrowser, openBoot, terminalText } from './harness.mjs';

let server;
let browser;
before(async () => { server = await serve(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); server?.stop(); });

// How many pixels of the display canvas are not the dead-cell background.
const livePixels = (page) => page.evaluate(() => {
  const canvas = document.getElementById('display');
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let live = 0;
  for (let i = 0; i < data.length; i += 4) if (data[i + 1] > 60) live++;
  return { live, width: canvas.width, height: canvas.height };
});

test('display: Life is drawn on the page, frame after frame, and the clipboard round-trips when allowed', async () => {
  await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(server.url).origin });
  const { page, waitFor } = await openBoot(browser.context, `${server.url}?manifest=display`);
  const opened = await waitFor('display', 60_000);
  assert.deepEqual([opened.width, opened.height], [640, 480]);
  const halted = await waitFor(['halted', 'panic', 'bootError'], 120_000);
  const text = await terminalText(page);
  assert.equal(halted.code, 0, text);
  assert.match(text, /display: 300 frames of 640x480 presented in [\d.]+ s \([\d.]+ frames\/s\), \d+ cells alive/);
  const pixels = await livePixels(page);
  assert.deepEqual([pixels.width, pixels.height], [640, 480]);
  assert.ok(pixels.live > 1000, `the canvas shows live cells (${pixels.live} pixels)`);
  assert.match(text, /display: clipboard written and read back: "capOS Life: 300 generations, \d+ cells alive"/);
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), text.match(/read back: "(.*)"/)[1]);
  await page.close();
  await browser.context.clearPermissions();
});

test('display: closing it on the page is an event the program handles, not a crash', async () => {
  const { page, waitFor } = await openBoot(browser.context, `${server.url}?manifest=display`);
  await waitFor('display', 60_000);
  await page.waitForTimeout(300);
  await page.click('#display-close');
  assert.equal(await page.locator('#display-pane').isHidden(), true);
  const halted = await waitFor(['halted', 'panic', 'bootError'], 60_000);
  const text = await terminalText(page);
  assert.equal(halted.code, 0, text);
  const m = text.match(/display: the page closed the display after (\d+) frames; stopping/);
  assert.ok(m, text);
  assert.ok(Number(m[1]) < 300, text);
  // No clipboard permission in this context: the page refuses the read, and says why.
  assert.match(text, /display: clipboard refused \(Denied\): the page refused: /);
  await page.close();
});

test('capos boot display: the same demo headless, the clipboard refusal printed, exit 0', () => {
  const r = capos(['boot', 'display', '--timeout', '120']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /display: 300 frames of 640x480 presented/);
  assert.match(r.stdout, /display: clipboard (refused \(Denied\): the page refused: |written and read back)/);
});
