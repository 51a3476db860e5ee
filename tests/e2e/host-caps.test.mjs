// Host-backed capabilities: Fetch and HttpEndpoint against the two loopback
// origins `capos serve` starts beside the site (A sends CORS headers, B
// does not), and KvStore over IndexedDB across boots, through `capos boot`
// and on the page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { capos, serve, launchBrowser, openBoot, terminalText } from './harness.mjs';

// What the fetch demo must show, wherever it runs.
function assertFetchDemo(text) {
  const a = text.match(/origin A is (http:\/\/127\.0\.0\.1:\d+)/)?.[1];
  const b = text.match(/origin B is (http:\/\/127\.0\.0\.1:\d+)/)?.[1];
  assert.ok(a && b, text);
  // Init's unattenuated Fetch: a CORS refusal says CORS and what to send;
  // a closed port is a network error; a slow answer meets its timeout.
  assert.match(text, /init's Fetch of B\/hello refused \(Denied\): CORS: .* the server must send Access-Control-Allow-Origin/);
  assert.match(text, /init's Fetch of a closed port refused \(PeerGone\): network error/);
  assert.match(text, /init's Fetch of A\/slow refused \(PeerGone\): no response from .* within 300 ms/);
  assert.match(text, new RegExp(`init minted an HttpEndpoint bound to ${a}`));
  // The child holding the endpoint for A reaches A, and only A.
  assert.match(text, new RegExp(`fetch-client: GET ${a}/hello: 200 OK: hello from origin A`));
  assert.match(text, new RegExp(`GET ${b}/hello through the endpoint for A: refused: ${b} is not this endpoint's origin`));
  assert.match(text, /GET A\/redirect to B: refused: .* answered with a redirect, which an HttpEndpoint refuses/);
  assert.match(text, /POST .*\/echo: 24 bytes back, byte for byte/);
  assert.match(text, /POST .*\/echo with a 100000-byte body \(an HttpUpload\): echoed intact/);
  assert.match(text, /GET .*\/bytes: 1000000 bytes in \d+ reads, every byte as sent/);
  // The child granted nothing has nothing and can forge nothing.
  assert.match(text, /fetch-nothing: 0 network capabilities in my CapSet; 256 guessed ids, 0 answered as an HttpEndpoint/);
  assert.match(text, /fetch: every check passed/);
}

test('capos boot fetch: an endpoint reaches its origin only, refusals say why', () => {
  const r = capos(['boot', 'fetch', '--timeout', '90']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assertFetchDemo(r.stdout);
});

test('capos boot kv: a fresh profile starts at boot 1 and round-trips a large value', () => {
  const r = capos(['boot', 'kv', '--timeout', '60']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /kv: boot number 1 of this manifest/);
  assert.match(r.stdout, /kv: wrote a 300000-byte value/);
  assert.match(r.stdout, /kv: put, get, list and delete all answered as expected/);
});

describePage();

function describePage() {
  let server;
  let browser;
  before(async () => { server = await serve(); browser = await launchBrowser(); });
  after(async () => { await browser?.close(); server?.stop(); });

  async function boot(name) {
    const { page, waitFor } = await openBoot(browser.context, `${server.url}?manifest=${name}`);
    const halted = await waitFor(['halted', 'panic', 'bootError'], 90_000);
    await page.waitForFunction(() => globalThis.capos?.terminalText().includes('system halted'));
    const text = await terminalText(page);
    await page.close();
    return { halted, text };
  }

  test('the fetch demo on the page', async () => {
    const { halted, text } = await boot('fetch');
    assert.equal(halted.code, 0, text);
    assertFetchDemo(text);
  });

  test('kv on the page: what one boot stores, the next boot (a reload) finds', async () => {
    const first = await boot('kv');
    assert.equal(first.halted.code, 0, first.text);
    assert.match(first.text, /kv: boot number 1 of this manifest/);
    assert.match(first.text, /kv: wrote a 300000-byte value/);
    const second = await boot('kv');
    assert.equal(second.halted.code, 0, second.text);
    assert.match(second.text, /kv: boot number 2 of this manifest/);
    assert.match(second.text, /kv: the 300000-byte value from the first boot read back intact/);
    assert.match(second.text, /kv: 2 boots logged under boot\/: boot\/0001, boot\/0002/);
  });
}
