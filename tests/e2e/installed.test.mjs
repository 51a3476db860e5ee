// An installed `capos` (as `cargo install --path capos-cli` leaves it) carries its site: a
// copy of the binary elsewhere, run with no CAPOS_ROOT and a fresh HOME, unpacks the site into
// that HOME's cache and boots, runs programs and runtimes from it, never the checkout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, CAPOS } from './harness.mjs';

let home;
let installed;
let env;

before(() => {
  home = mkdtempSync(join(tmpdir(), 'capos-installed-'));
  installed = join(home, 'bin-capos');
  copyFileSync(CAPOS, installed);
  env = { ...process.env, HOME: join(home, 'home'), XDG_RUNTIME_DIR: join(home, 'run'), CAPOS_DAEMON: 'on' };
  delete env.CAPOS_ROOT;
  delete env.XDG_CACHE_HOME;
});
after(() => {
  spawnSync(installed, ['daemon', 'stop'], { env, timeout: 60_000 });
  rmSync(home, { recursive: true, force: true });
});

const capos = (args, input = '') => {
  const r = spawnSync(installed, args, { env, cwd: home, input, timeout: 180_000 });
  return { code: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
};

test('an installed capos boots, runs and serves from the site it carries', { timeout: 400_000 }, () => {
  const boot = capos(['boot', 'hello']);
  assert.equal(boot.code, 0, boot.stderr);
  assert.match(boot.stdout, /hello from init/);
  const [site] = readdirSync(join(home, 'home', '.cache', 'capos')).filter((n) => n.startsWith('site-'));
  assert.ok(site, 'the site is unpacked into the cache');

  const program = join(ROOT, 'build', 'wasi-tests', 'stdio_bytes.wasm');
  const run = capos(['run', program, 'split']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, 'café\n');

  const work = join(home, 'work');
  mkdirSync(work);
  writeFileSync(join(work, 'hello.py'), 'print(6 * 7)\n');
  const python = capos(['run', '--dir', `${work}::/work`, 'python', '/work/hello.py']);
  assert.equal(python.code, 0, python.stderr);
  assert.equal(python.stdout, '42\n');

  const status = capos(['daemon', 'status']);
  assert.match(status.stdout, new RegExp(`^site: ${join(home, 'home', '.cache', 'capos', site)}$`, 'm'));
});
