// `capos run --tcplisten`: real TCP on the host reaches a WASI program's
// listening socket. Rust's static-server answers curl-like clients, many at
// once; bad input (a malformed request line, a 100 MB body, a client that
// stops reading, one that hangs up halfway) costs only that connection; the
// socket calls behave as preview1 says (net_probe); a port in use fails the
// run before it starts.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, CAPOS } from './harness.mjs';

const site = mkdtempSync(join(tmpdir(), 'capos-net-site-'));
writeFileSync(join(site, 'index.html'), '<h1>hello over TCP</h1>\n');
mkdirSync(join(site, 'sub'));
writeFileSync(join(site, 'sub', 'data.bin'), Buffer.alloc(1 << 20, 7));
writeFileSync(join(site, 'sub', 'big.bin'), Buffer.alloc(8 << 20, 9));
after(() => rmSync(site, { recursive: true, force: true }));

const STATIC = join(ROOT, 'build', 'wasi', 'static-server.wasm');
const PROBE = join(ROOT, 'build', 'wasi-tests', 'net_probe.wasm');

// A free loopback port.
function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Starts `capos run` with ARGS; resolves once `ready` matches its stdout.
function start(args, ready) {
  const child = spawn(CAPOS, ['run', '--timeout', '120', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  const seen = new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => { stdout += d; if (ready.test(stdout)) resolve(); });
    child.stderr.on('data', (d) => { stderr += d; });
    exited.then((code) => reject(new Error(`exited ${code} before ready: ${stdout} ${stderr}`)));
  });
  return { child, seen, exited, out: () => stdout, err: () => stderr };
}

// One raw HTTP exchange over TCP: what came back, as a Buffer.
function exchange(port, request, { closeAfterMs } = {}) {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks = [];
    socket.on('connect', () => {
      if (typeof request === 'function') request(socket);
      else socket.write(request);
      if (closeAfterMs !== undefined) setTimeout(() => socket.destroy(), closeAfterMs);
    });
    socket.on('data', (d) => chunks.push(d));
    socket.on('close', () => resolve(Buffer.concat(chunks)));
    socket.on('error', (e) => (e.code === 'ECONNRESET' || e.code === 'EPIPE' ? resolve(Buffer.concat(chunks)) : reject(e)));
  });
}

const get = (port, path) => exchange(port, `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
const status = (response) => Number(/^HTTP\/1\.1 (\d{3})/.exec(response.toString('latin1'))?.[1] ?? 0);

test('static-server answers real TCP clients, many at once, and bad input costs only that connection', async () => {
  const port = await freePort();
  const run = start(['--tcplisten', `127.0.0.1:${port}`, '--dir', `${site}::/site`, STATIC, '/site'], /serving \/site/);
  try {
    await run.seen;
    const page = await get(port, '/');
    assert.equal(status(page), 200, page.toString());
    assert.match(page.toString(), /<h1>hello over TCP<\/h1>/);
    // 16 clients at once, each the whole 1 MiB file, byte for byte.
    const bodies = await Promise.all(Array.from({ length: 16 }, () => get(port, '/sub/data.bin')));
    for (const b of bodies) {
      const body = b.subarray(b.indexOf('\r\n\r\n') + 4);
      assert.equal(body.length, 1 << 20);
      assert.ok(body.every((x) => x === 7));
    }
    // A malformed request line: 400, and the server goes on.
    assert.equal(status(await exchange(port, 'NONSENSE\r\n\r\n')), 400);
    // A 100 MB upload: refused (405), the connection closed; the rest of the body goes nowhere.
    const big = await exchange(port, (s) => {
      s.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${100 << 20}\r\n\r\n`);
      const chunk = Buffer.alloc(1 << 20);
      let sent = 0;
      const pump = () => { while (sent < 100 && s.write(chunk)) sent++; if (sent < 100 && !s.destroyed) s.once('drain', pump); };
      pump();
    });
    assert.ok(big.length === 0 || status(big) === 405, big.toString().slice(0, 80));
    // A client that hangs up halfway through its request, and one that stops reading an 8 MiB answer.
    await exchange(port, 'GET /sub/da', { closeAfterMs: 50 });
    const stalled = connect(port, '127.0.0.1');
    stalled.on('error', () => {});
    stalled.write('GET /sub/big.bin HTTP/1.1\r\n\r\n');
    stalled.pause();
    await new Promise((r) => { setTimeout(r, 500); });
    // Still serving the others while that one sits unread.
    assert.equal(status(await get(port, '/')), 200);
    stalled.destroy();
    // A thousand connections at once: each is answered or closed (the kernel queues 128 per
    // port and refuses the rest), none hangs, and the server serves on.
    const many = await Promise.all(Array.from({ length: 1000 }, () => get(port, '/')));
    const answered = many.filter((b) => status(b) === 200).length;
    assert.ok(answered >= 100, `${answered} of 1000 answered`);
    assert.ok(many.every((b) => b.length === 0 || status(b) === 200));
    assert.equal(status(await get(port, '/')), 200);
    assert.match(run.out(), /GET \/ 200/);
    assert.match(run.out(), /\? \? 400/);
  } finally {
    run.child.kill('SIGTERM');
    await run.exited;
  }
});

test('the socket calls behave as preview1 says, and a program that exits mid-response closes the connection', async () => {
  const port = await freePort();
  const run = start(['--tcplisten', String(port), '--dir', `${site}::/site`, PROBE], /^ready$/m);
  await run.seen;
  const answer = await exchange(port, (s) => {
    s.write('01234');
    setTimeout(() => s.write('56789'), 200);
    s.on('end', () => s.end());
  });
  assert.equal(answer.toString(), 'pong:0123456789');
  const half = await exchange(port, () => {});
  assert.equal(half.toString(), 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhalf');
  assert.equal(await run.exited, 3, run.out() + run.err());
  assert.doesNotMatch(run.out(), /FAIL/);
  assert.match(run.out(), /ok {3}non-blocking sock_accept, none waiting -> EAGAIN/);
  assert.match(run.out(), /ok {3}WAITALL waited for all ten/);
});

test('a port in use fails the run before anything starts, and a bad address is a usage error', async () => {
  const busy = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => busy.on('listening', r));
  const { port } = busy.address();
  try {
    let r = spawnSync(CAPOS, ['run', '--tcplisten', `127.0.0.1:${port}`, STATIC], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 69, r.stderr);
    assert.match(r.stderr, new RegExp(`cannot listen on 127.0.0.1:${port}`));
    r = spawnSync(CAPOS, ['run', '--tcplisten', 'localhost:http', STATIC], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 64, r.stderr);
    assert.match(r.stderr, /expected ADDRESS:PORT/);
  } finally {
    busy.close();
  }
});

test('a JavaScript handler (QuickJS serve) answers over --tcplisten', async () => {
  const port = await freePort();
  const handlers = join(ROOT, 'demos', 'webserver', 'handlers');
  const run = start(['--tcplisten', String(port), '--dir', `${handlers}::/app`, 'qjs', '/app/hello.js'], /serving on the listening socket/);
  try {
    await run.seen;
    const json = await get(port, '/json/a');
    assert.equal(status(json), 200, json.toString());
    assert.deepEqual(JSON.parse(json.subarray(json.indexOf('\r\n\r\n') + 4).toString()), { served: 1, method: 'GET', path: '/json/a' });
    assert.equal(status(await exchange(port, 'BROKEN\r\n\r\n')), 400);
    assert.match((await get(port, '/x')).toString(), /Request 2: GET \/x/);
  } finally {
    run.child.kill('SIGTERM');
    await run.exited;
  }
});
