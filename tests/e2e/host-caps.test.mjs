// Host-backed capabilities: Fetch and HttpEndpoint against the two loopback
// origins `capos serve` starts beside the site (A sends CORS headers, B
// does not), and KvStore over IndexedDB across boots, through `capos boot`
// and on the page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

// The interpreters' fetch, over the WASI shim's capos_http imports.
const SCRIPTS = {
  'f.js': `
const origins = await (await fetch('/demo-http/origins.json')).json();
const r = await fetch(origins.a + '/hello');
console.log('hello', r.status, r.headers.get('content-type'), JSON.stringify(await r.text()));
const e = await fetch(origins.a + '/echo', { method: 'POST', body: new Uint8Array([0, 255, 7]) });
console.log('echo', JSON.stringify([...await e.bytes()]));
const big = await (await fetch(origins.a + '/bytes?n=300000')).bytes();
console.log('bytes', big.length, big.every((b, i) => b === i % 251));
try { await fetch(origins.b + '/hello'); } catch (err) { console.log('B', err.code, err.message); }
`,
  'f.py': `
import capos
origins = capos.fetch("/demo-http/origins.json").json()
r = capos.fetch(origins["a"] + "/hello")
print("hello", r.status, r.headers["content-type"], repr(r.text()))
print("echo", list(capos.fetch(origins["a"] + "/echo", method="POST", body=bytes([0, 255, 7])).read()))
big = capos.fetch(origins["a"] + "/bytes?n=300000").read()
print("bytes", len(big), all(b == i % 251 for i, b in enumerate(big)))
try:
    capos.fetch(origins["b"] + "/hello")
except PermissionError as err:
    print("B", type(err).__name__, err)
`,
};

function runScript(runtime, file, extra) {
  const dir = mkdtempSync(join(tmpdir(), 'capos-fetch-'));
  try {
    writeFileSync(join(dir, file), SCRIPTS[file]);
    const module = runtime === 'qjs' ? ['-m'] : [];
    return capos(['run', ...extra, '--dir', `${dir}::/w`, runtime, ...module, `/w/${file}`], { timeoutMs: 180_000 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('fetch() in QuickJS and capos.fetch in Python, with --fetch; refused without it', () => {
  const js = runScript('qjs', 'f.js', ['--fetch']);
  assert.equal(js.code, 0, js.stderr + js.stdout);
  assert.match(js.stdout, /^hello 200 text\/plain; charset=utf-8 "hello from origin A\\n"$/m);
  assert.match(js.stdout, /^echo \[0,255,7\]$/m);
  assert.match(js.stdout, /^bytes 300000 true$/m);
  assert.match(js.stdout, /^B EACCES EACCES: CORS: .* must send Access-Control-Allow-Origin/m);
  const py = runScript('python', 'f.py', ['--fetch']);
  assert.equal(py.code, 0, py.stderr + py.stdout);
  assert.match(py.stdout, /^hello 200 text\/plain; charset=utf-8 'hello from origin A\\n'$/m);
  assert.match(py.stdout, /^echo \[0, 255, 7\]$/m);
  assert.match(py.stdout, /^bytes 300000 True$/m);
  assert.match(py.stdout, /^B PermissionError CORS: /m);
  // Without --fetch the program holds nothing that reaches the network.
  const jsDenied = runScript('qjs', 'f.js', []);
  assert.equal(jsDenied.code, 1, jsDenied.stderr + jsDenied.stdout);
  assert.match(jsDenied.stderr, /ENOTCAPABLE: no capability for the path \/demo-http\/origins\.json; this program holds no Fetch or HttpEndpoint capability/);
  const pyDenied = runScript('python', 'f.py', []);
  assert.equal(pyDenied.code, 1, pyDenied.stderr + pyDenied.stdout);
  assert.match(pyDenied.stderr, /PermissionError: no capability for the path \/demo-http\/origins\.json/);
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
