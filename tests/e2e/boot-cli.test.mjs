// `capos boot` from a terminal: stdout, stderr and exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capos, strayBrowsers } from './harness.mjs';

test('capos boot hello prints the greeting and exits 0', () => {
  const r = capos(['boot', 'hello', '--timeout', '60']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout,
    'hello from init (pid 1): a capOS process in its own Web Worker\n' +
    'my CapSet holds 1 capability(ies): console\n' +
    'init exiting with code 0\n');
  assert.deepEqual(strayBrowsers(), [], 'no browser left behind');
});

test('a kernel panic exits 70 with the panic on stderr', () => {
  const r = capos(['boot', 'kernel-panic', '--timeout', '60']);
  assert.equal(r.code, 70);
  assert.match(r.stdout, /asking the kernel to panic/);
  assert.match(r.stderr, /KERNEL PANIC: [\s\S]*KernelPanicTrigger invoked by pid 1/);
  assert.deepEqual(strayBrowsers(), []);
});

test('an unknown demo is refused with the list of demos, exit 64', () => {
  const r = capos(['boot', 'no-such-demo']);
  assert.equal(r.code, 64);
  assert.match(r.stderr, /unknown demo "no-such-demo"; available: .*hello/);
});

function manifestFile(body) {
  const dir = mkdtempSync(join(tmpdir(), 'capos-manifest-'));
  const path = join(dir, 'manifest.capnp');
  writeFileSync(path, `@0xd1c0ffee12345678;\nusing M = import "/manifest.capnp";\n${body}\n`);
  return { dir, path };
}

test('a manifest file the kernel refuses exits 65 with the reason', () => {
  const { dir, path } = manifestFile(
    'const manifest :M.Manifest = (name = "bad", blobs = [], init = (binary = "ghost"));');
  try {
    const r = capos(['boot', path, '--timeout', '60']);
    assert.equal(r.code, 65, r.stderr);
    assert.match(r.stderr, /binary "ghost" is not among the manifest's blobs/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a manifest file that does not compile exits 64', () => {
  const { dir, path } = manifestFile('const manifest :M.Manifest = (nonsense = 1);');
  try {
    const r = capos(['boot', path]);
    assert.equal(r.code, 64);
    assert.match(r.stderr, /cannot compile/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a process that never exits hits --timeout: exit 124, nothing left running', () => {
  // A module whose _start spins forever: (func (export "_start") (loop (br 0))).
  const spin = Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type: () -> ()
    0x03, 0x02, 0x01, 0x00, // func 0: type 0
    0x05, 0x03, 0x01, 0x00, 0x01, // memory: min 1 page
    0x07, 0x13, 0x02, 0x06, 0x5f, 0x73, 0x74, 0x61, 0x72, 0x74, 0x00, 0x00, // export "_start" func 0
    0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, // export "memory" mem 0
    0x0a, 0x09, 0x01, 0x07, 0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b, // code: loop br 0 end end
  ]);
  const { dir, path } = manifestFile(
    'const manifest :M.Manifest = (name = "spin", blobs = [(name = "spin", data = embed "spin.wasm")], ' +
    'init = (binary = "spin", argv = ["spin"]));');
  writeFileSync(join(dir, 'spin.wasm'), spin);
  try {
    const started = Date.now();
    const r = capos(['boot', path, '--timeout', '3']);
    assert.equal(r.code, 124, r.stderr);
    assert.match(r.stderr, /timed out/);
    assert.ok(Date.now() - started < 30_000);
    assert.deepEqual(strayBrowsers(), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
