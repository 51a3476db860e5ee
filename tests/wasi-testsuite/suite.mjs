// Running the official WASI preview1 conformance suite (WebAssembly/wasi-testsuite) through
// `capos run`, as the suite's specification.md says: argv[0] is the file name, `env` is the
// whole environment, a fresh copy of `root` (its *.cleanup files removed) is preopened as the
// guest's `/`, the exit code must match exactly and stdout/stderr match by prefix.
// Used by official.test.mjs (make test) and by the bench (make bench).
//
// The suite is data, never part of the repo: WASI_TESTSUITE names it, else
// ../shared/wasi-testsuite beside the checkout. CAPOS_BIN names the capos binary.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
export const SUITE = process.env.WASI_TESTSUITE || join(ROOT, '..', 'shared', 'wasi-testsuite');
const CAPOS = process.env.CAPOS_BIN || join(ROOT, 'target', 'release', 'capos');
const RUN_TIMEOUT_S = 60;

/** Every preview1 test of the suite: [{lang, name, wasm, spec}], sorted. */
export function listTests(suite) {
  const tests = [];
  const langs = join(suite, 'tests');
  for (const lang of readdirSync(langs).sort()) {
    const dir = join(langs, lang, 'testsuite', 'wasm32-wasip1');
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir).sort()) {
      if (!file.endsWith('.wasm')) continue;
      const name = basename(file, '.wasm');
      const specFile = join(dir, `${name}.json`);
      const spec = existsSync(specFile) ? JSON.parse(readFileSync(specFile, 'utf8')) : {};
      tests.push({ lang, name, dir, wasm: join(dir, file), spec });
    }
  }
  return tests;
}

/** The fresh copy of the test's `root` (cleanup files removed), or null when it has none. */
function prepareRoot(t) {
  if (!t.spec.root) return null;
  const copy = mkdtempSync(join(tmpdir(), `wasi-testsuite-${t.name}-`));
  cpSync(join(t.dir, t.spec.root), copy, { recursive: true, verbatimSymlinks: true });
  const removeCleanup = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.name.endsWith('.cleanup')) rmSync(path, { recursive: true, force: true });
      else if (entry.isDirectory()) removeCleanup(path);
    }
  };
  removeCleanup(copy);
  return copy;
}

/** Runs one test through `capos run`; resolves {code, stdout, stderr} (stdout/stderr bytes). */
export function runTest(t, capos = CAPOS) {
  const root = prepareRoot(t);
  const args = ['run', '--timeout', String(RUN_TIMEOUT_S)];
  for (const [key, value] of Object.entries(t.spec.env ?? {})) args.push('--env', `${key}=${value}`);
  if (root) args.push('--dir', `${root}::/`);
  args.push(t.wasm, ...(t.spec.args ?? []));
  return new Promise((resolve, reject) => {
    const child = spawn(capos, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (chunk) => out.push(chunk));
    child.stderr.on('data', (chunk) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (root) rmSync(root, { recursive: true, force: true });
      resolve({ code: signal ? `signal ${signal}` : code, stdout: Buffer.concat(out), stderr: Buffer.concat(err) });
    });
  });
}

/** What differs between a result and the test's expectations, as sentences (none: passed). */
export function judge(t, result) {
  const problems = [];
  const expected = t.spec.exit_code ?? 0;
  if (result.code !== expected) problems.push(`exit code ${result.code}, expected ${expected}`);
  for (const stream of ['stdout', 'stderr']) {
    if (t.spec[stream] === undefined) continue;
    const want = Buffer.from(t.spec[stream]);
    const got = result[stream].subarray(0, want.length);
    if (!got.equals(want)) problems.push(`${stream} starts ${JSON.stringify(got.toString())}, expected ${JSON.stringify(want.toString())}`);
  }
  return problems;
}

/** Whether the suite is there to run. */
export const suitePresent = (suite = SUITE) => existsSync(join(suite, 'tests'));

export const HOW_TO_GET = 'git clone -b prod/testsuite-base https://github.com/WebAssembly/wasi-testsuite';
