// Differential tests of what the line-oriented suite (differential.test.mjs) cannot see:
// stdio as raw bytes, stdio's terminal-or-not answers when piped, redirected or under a pty,
// and modules importing functions no runtime provides. Each runs under the reference
// (wasmtime, tests/wasi/wasmtime-run.py) and, when CAPOS_RUN is set, under `capos run`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const PROGRAMS = join(ROOT, 'build', 'wasi-tests');
const REFERENCE = [join(ROOT, 'build', 'venv', 'bin', 'python'), join(HERE, 'wasmtime-run.py')];
const CAPOS_RUN = process.env.CAPOS_RUN ? process.env.CAPOS_RUN.trim().split(/\s+/) : null;
const RUNNERS = [['wasmtime', REFERENCE], ...(CAPOS_RUN ? [['capos run', CAPOS_RUN]] : [])];

const quote = (s) => `'${s.replaceAll("'", "'\\''")}'`;

/** Runs RUNNER ARGS with stdin, stdout and stderr as bytes through pipes. */
function piped(runner, args) {
  const [cmd, ...pre] = runner;
  const r = spawnSync(cmd, [...pre, '--timeout', '60', ...args], { cwd: ROOT, input: '', timeout: 120_000 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a shell command line under a pseudo-terminal (util-linux `script`); its output. */
function underPty(commandLine) {
  const r = spawnSync('script', ['-qec', commandLine, '/dev/null'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw r.error;
  return r.stdout.replaceAll('\r\n', '\n');
}

const program = (name) => join(PROGRAMS, name);

for (const [who, runner] of RUNNERS) {
  test(`${who}: stdout and stderr carry bytes exactly, split UTF-8 included`, () => {
    const r = piped(runner, [program('stdio_bytes.wasm'), 'bytes']);
    assert.equal(r.code, 0, r.stderr.toString());
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    assert.deepEqual(r.stdout, Buffer.concat([all, Buffer.from('é\n')]), 'stdout: 256 byte values, é, newline');
    assert.deepEqual(r.stderr, Buffer.from('é\n'));
  });

  test(`${who}: piped stdio is not a terminal`, () => {
    const r = piped(runner, [program('stdio_bytes.wasm'), 'isatty']);
    assert.equal(r.code, 0, r.stderr.toString());
    assert.equal(r.stdout.toString(), [0, 1, 2].map((fd) => `fd ${fd}: isatty 0, filetype 0\n`).join(''));
  });

  test(`${who}: stdio redirected to a file is not a terminal`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'capos-stdio-'));
    try {
      const out = join(dir, 'out.txt');
      const shell = spawnSync('sh', ['-c', `${runner.map(quote).join(' ')} ${quote(program('stdio_bytes.wasm'))} isatty </dev/null >${quote(out)}`],
        { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
      assert.equal(shell.status, 0, shell.stderr);
      assert.equal(readFileSync(out, 'utf8'), [0, 1, 2].map((fd) => `fd ${fd}: isatty 0, filetype 0\n`).join(''));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${who}: under a terminal stdio is one, except a stream piped onward`, () => {
    const run = `${runner.map(quote).join(' ')} ${quote(program('stdio_bytes.wasm'))} isatty`;
    assert.equal(underPty(run), [0, 1, 2].map((fd) => `fd ${fd}: isatty 1, filetype 2\n`).join(''));
    assert.equal(underPty(`${run} | cat`),
      'fd 0: isatty 1, filetype 2\nfd 1: isatty 0, filetype 0\nfd 2: isatty 1, filetype 2\n');
  });

  test(`${who}: an unknown import keeps the program from starting, and the error names it`, () => {
    const r = piped(runner, [program('unknown_import.wasm')]);
    assert.equal(r.code, 127);
    assert.equal(r.stdout.toString(), '');
    assert.match(r.stderr.toString(), /unknown import: `host::answer`/);
  });

  test(`${who}: with --trap-unknown-imports the program runs and traps only if it calls one`, () => {
    let r = piped(runner, ['--trap-unknown-imports', program('unknown_import.wasm')]);
    assert.equal(r.code, 0, r.stderr.toString());
    assert.equal(r.stdout.toString(), 'started\n');
    r = piped(runner, ['--trap-unknown-imports', program('unknown_import.wasm'), 'call']);
    assert.equal(r.code, 134);
    assert.equal(r.stdout.toString(), 'started\n');
    assert.match(r.stderr.toString(), /unknown import/);
  });
}
