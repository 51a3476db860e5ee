// Bad input to the CLI: each a clear message and its documented exit code,
// never a hang, a crash, or a browser left running.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { ROOT, CAPOS, strayBrowsers } from './harness.mjs';

const dir = mkdtempSync(join(tmpdir(), 'capos-cli-inputs-'));
const PROGRAM = join(ROOT, 'build', 'wasi-tests', 'stdio_bytes.wasm');
const capos = (args) => {
  const r = spawnSync(CAPOS, args, { encoding: 'utf8', timeout: 120_000, env: { ...process.env, CAPOS_DAEMON: 'off' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

test('random bytes as a manifest: exit 65, the kernel says why', () => {
  const file = join(dir, 'random.bin');
  writeFileSync(file, randomBytes(4096));
  const r = capos(['boot', file]);
  assert.equal(r.code, 65, r.stderr);
  assert.match(r.stderr, /boot failed: .*not a Cap'n Proto manifest/);
});

test('a truncated .wasm: exit 127, an invalid module', () => {
  const file = join(dir, 'truncated.wasm');
  writeFileSync(file, readFileSync(PROGRAM).subarray(0, 500));
  const r = capos(['run', file]);
  assert.equal(r.code, 127, r.stderr);
  assert.match(r.stderr, /failed to start: invalid wasm module: /);
});

test('a --dir that is a file, and 10,000 --env entries: exit 64 before any browser starts', () => {
  let r = capos(['run', '--dir', PROGRAM, PROGRAM]);
  assert.equal(r.code, 64);
  assert.match(r.stderr, /--dir .*is not a directory/);
  const env = Array.from({ length: 10_000 }, (_, i) => ['--env', `K${i}=v`]).flat();
  r = capos(['run', ...env, PROGRAM]);
  assert.equal(r.code, 64);
  assert.match(r.stderr, /--env: 10000 environment variables \(at most 256\)/);
});

test('no browser is left running by any of them', () => {
  assert.deepEqual(strayBrowsers(), []);
  rmSync(dir, { recursive: true, force: true });
});
