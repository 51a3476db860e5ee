// Warm `capos run`: the background daemon that keeps a browser up. Each test
// gets a private runtime directory (XDG_RUNTIME_DIR), so it never meets a
// daemon of the person running the tests.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, CAPOS } from './harness.mjs';

const TESTS = join(ROOT, 'build', 'wasi-tests');
let runtime;
let env;

before(() => {
  runtime = mkdtempSync(join(tmpdir(), 'capos-daemon-test-'));
  env = { ...process.env, XDG_RUNTIME_DIR: runtime, CAPOS_DAEMON: 'on', CAPOS_DAEMON_IDLE_S: '60' };
});
after(() => {
  spawnSync(CAPOS, ['daemon', 'stop'], { env, timeout: 60_000 });
  rmSync(runtime, { recursive: true, force: true });
});

const capos = (args, { input = '', extraEnv = {} } = {}) => {
  const r = spawnSync(CAPOS, args, { env: { ...env, ...extraEnv }, input, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
};
// input null: stdin stays open (the program waits for more).
const caposAsync = (args, input = '') => new Promise((resolve) => {
  const child = spawn(CAPOS, args, { env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  child.on('close', (code) => { child.stdin.destroy(); resolve({ code, stdout, stderr }); });
  if (input !== null) child.stdin.end(input);
});
// The daemon's processes: its own, and the browser pool it drives.
const daemonProcesses = (dir = runtime) => {
  const files = existsSync(join(dir, 'capos')) ? readdirSync(join(dir, 'capos')) : [];
  const sockets = files.filter((f) => f.endsWith('.sock'));
  const pids = spawnSync('pgrep', ['-f', 'capos-cli/driver/pool.mjs'], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
  return { files, sockets, pools: pids };
};

test('the first run starts the daemon, later runs reuse it, each in a fresh kernel', () => {
  assert.equal(capos(['daemon', 'status']).code, 3, 'no daemon yet');
  const first = capos(['run', join(TESTS, 'stdio_bytes.wasm'), 'split']);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout, 'café\n');
  assert.equal(first.stderr, 'é\n');
  const status = capos(['daemon', 'status']);
  assert.equal(status.code, 0);
  assert.match(status.stdout, /running: pid \d+, .*1 runs served/);
  // Input, exit codes and arguments travel through the daemon as they do cold.
  const echo = capos(['run', join(ROOT, 'build', 'wasi', 'echo-lines.wasm')], { input: 'over the socket\n' });
  assert.equal(echo.code, 0, echo.stderr);
  assert.match(echo.stdout, /you said: over the socket/);
  const exit = capos(['run', join(TESTS, 'exit_code.wasm'), '7']);
  assert.equal(exit.code, 7);
  assert.match(capos(['daemon', 'status']).stdout, /3 runs served/);
});

test('runs at the same time each get their own page and kernel', async () => {
  const runs = await Promise.all([1, 2, 3].map((n) => caposAsync(['run', join(ROOT, 'build', 'wasi', 'echo-lines.wasm')], `run ${n}\n`)));
  runs.forEach((r, i) => {
    assert.equal(r.code, 0);
    assert.match(r.stdout, new RegExp(`you said: run ${i + 1}\\n`));
    assert.doesNotMatch(r.stdout, new RegExp(`run (?!${i + 1})\\d`), 'no other run\'s input');
  });
});

test('a timeout inside a warm run is reported and the daemon serves the next run', async () => {
  const stuck = await caposAsync(['run', '--timeout', '2', join(ROOT, 'build', 'wasi', 'echo-lines.wasm')], null);
  assert.equal(stuck.code, 124, stuck.stderr);
  const next = capos(['run', join(TESTS, 'stdio_bytes.wasm'), 'split']);
  assert.equal(next.code, 0, next.stderr);
});

test('stop closes the browser and leaves nothing behind', () => {
  assert.ok(daemonProcesses().sockets.length === 1, 'a daemon runs');
  const stop = capos(['daemon', 'stop']);
  assert.equal(stop.code, 0, stop.stderr);
  assert.match(stop.stdout, /stopped/);
  assert.equal(capos(['daemon', 'status']).code, 3);
  assert.deepEqual(daemonProcesses().files, [], 'no socket, lock or log left');
  assert.equal(capos(['daemon', 'stop']).stdout.trim(), 'not running');
});

test('an idle daemon exits by itself', async () => {
  const r = capos(['run', join(TESTS, 'stdio_bytes.wasm'), 'split'], { extraEnv: { CAPOS_DAEMON_IDLE_S: '2' } });
  assert.equal(r.code, 0, r.stderr);
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && capos(['daemon', 'status']).code === 0) await new Promise((s) => setTimeout(s, 250));
  assert.equal(capos(['daemon', 'status']).code, 3, 'gone after 2 idle seconds');
  assert.deepEqual(daemonProcesses().files, []);
});

test('CAPOS_DAEMON=off runs cold and starts no daemon', () => {
  const r = capos(['run', join(TESTS, 'stdio_bytes.wasm'), 'split'], { extraEnv: { CAPOS_DAEMON: 'off' } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'café\n');
  assert.equal(capos(['daemon', 'status']).code, 3);
});
