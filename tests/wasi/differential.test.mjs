// The WASI differential suite: each program in build/wasi-tests/ runs under the reference
// (wasmtime, through tests/wasi/wasmtime-run.py in build/venv) and, when CAPOS_RUN is set
// (e.g. CAPOS_RUN="target/release/capos run"), under capOS too. Both take `wasmtime run`'s
// arguments. Each run gets a fresh copy of the fixture at /sandbox, with outside.txt beside
// it for escapes to find.
//
// The programs check themselves against the specification and print one line per check
// (tests/wasi/c/check.h). Where wasmtime departs from the specification, the case lists the
// departure (DIFFERENCES.md says why each is one): the reference must show exactly those
// departures and no others, and capOS must produce what the specification asks, which is the
// reference's output with those lines corrected. Where the specification allows more than one
// answer, a case can accept each of them. Exit code, stdout, stderr and the resulting directory
// tree (inside and beside the sandbox) are compared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  mkdtempSync, mkdirSync, writeFileSync, symlinkSync, readdirSync, lstatSync, readFileSync,
  readlinkSync, rmSync, existsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const PROGRAMS = join(ROOT, 'build', 'wasi-tests');
const REFERENCE = [join(ROOT, 'build', 'venv', 'bin', 'python'), join(HERE, 'wasmtime-run.py')];
const CAPOS_RUN = process.env.CAPOS_RUN ? process.env.CAPOS_RUN.trim().split(/\s+/) : null;
const RUN_TIMEOUT_S = 60;

// ---- the fixture: what every run's /sandbox starts as -------------------------------------

const DIR = { dir: true };
const link = (target) => ({ link: target });
const FIXTURE = {
  'hello.txt': 'hello, world\n',
  'sub': DIR,
  'sub/nested.txt': 'nested\n',
  'link-to-hello': link('hello.txt'),
  'link-to-sub': link('sub'),
  'escape-link': link('../outside.txt'),
  'escape-dir-link': link('..'),
  'abs-link': link('/etc/passwd'),
};
const OUTSIDE = { 'outside.txt': 'outside\n' };

function materialize(root, entries) {
  for (const [path, entry] of Object.entries(entries)) {
    const full = join(root, path);
    if (typeof entry === 'string') writeFileSync(full, entry);
    else if (entry.dir) mkdirSync(full, { recursive: true });
    else symlinkSync(entry.link, full);
  }
}

// The tree under `root` in FIXTURE's notation (file contents as text, links as targets).
function snapshot(root, skip = new Set(), prefix = '') {
  const tree = {};
  for (const name of readdirSync(join(root, prefix)).sort()) {
    const path = prefix ? `${prefix}/${name}` : name;
    if (skip.has(path)) continue;
    const stat = lstatSync(join(root, path));
    if (stat.isSymbolicLink()) tree[path] = link(readlinkSync(join(root, path)));
    else if (stat.isDirectory()) Object.assign(tree, { [path]: DIR }, snapshot(root, skip, path));
    else tree[path] = readFileSync(join(root, path), 'utf8');
  }
  return tree;
}

// FIXTURE with what a program adds to it.
const fixtureWith = (added) => ({ ...FIXTURE, ...added });

// ---- running one program under one runtime ------------------------------------------------

function run(runner, c) {
  const work = mkdtempSync(join(tmpdir(), 'capos-wasi-'));
  try {
    const sandbox = join(work, 'sandbox');
    mkdirSync(sandbox);
    materialize(sandbox, FIXTURE);
    materialize(work, OUTSIDE);
    const dirs = (c.dirs ?? ['::/sandbox']).flatMap((spec) => {
      const [host, guest] = spec.split('::');
      return ['--dir', `${join(sandbox, host)}::${guest}`];
    });
    const env = Object.entries(c.env ?? {}).flatMap(([k, v]) => ['--env', `${k}=${v}`]);
    const [cmd, ...pre] = runner;
    const r = spawnSync(cmd, [...pre, ...dirs, ...env, '--timeout', String(RUN_TIMEOUT_S),
      join(PROGRAMS, c.program), ...(c.args ?? [])], {
      cwd: ROOT, input: c.stdin ?? '', encoding: 'utf8', timeout: (RUN_TIMEOUT_S + 30) * 1000,
    });
    if (r.error) throw r.error;
    return {
      code: r.status, stdout: r.stdout, stderr: r.stderr,
      tree: snapshot(sandbox), outside: snapshot(work, new Set(['sandbox'])),
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// ---- what the specification asks, from the reference's run and the case's deviations ------

const CHECK_LINE = /^(ok  |FAIL) (.*?)(?: (->|=) (.*?)(?: \(spec: (.*)\))?)?$/;
const SUMMARY_LINE = /^\d+ of \d+ checks failed\n/m;

const labelMatches = (check, label) => (check instanceof RegExp ? check.test(label) : check === label);
const answers = (spec) => [].concat(spec);

// The lines the specification accepts for one line of the reference's stdout: a string, or an
// array of the acceptable lines.
function acceptedLine(c, line, unusedDeviations) {
  const m = CHECK_LINE.exec(line);
  if (!m) return line;
  const [, verdict, label, sep, got] = m;
  const render = (answer) => (sep ? `ok   ${label} ${sep} ${answer}` : `ok   ${label}`);
  if (verdict === 'FAIL') {
    const d = (c.deviations ?? []).find((dev) => labelMatches(dev.check, label) && dev.reference === got);
    assert.ok(d, `wasmtime departs from the specification, and the case does not say so:\n  ${line}`);
    unusedDeviations.delete(d);
    const accepted = answers(d.spec).map(render);
    return accepted.length === 1 ? accepted[0] : accepted;
  }
  const open = (c.open ?? []).find((o) => labelMatches(o.check, label));
  if (!open) return line;
  assert.ok(open.accept.includes(got), `${line}: wasmtime's answer is one the case accepts`);
  return open.accept.map(render);
}

// Asserts the reference shows exactly the case's declared departures, and returns the outcome
// the specification asks for (stdout as an array of accepted lines).
function specOutcome(c, ref) {
  const expectedTree = c.tree ?? FIXTURE;
  assert.deepEqual(ref.outside, OUTSIDE, 'nothing beside the sandbox changed');
  if (c.referenceTraps) {
    // The whole run departs: wasmtime traps where the specification asks for an errno.
    assert.equal(ref.code, 134, `wasmtime traps (exit 134)\n${ref.stdout}\n${ref.stderr}`);
    assert.match(ref.stderr, c.referenceTraps, 'the trap is the documented one');
    assert.deepEqual(ref.tree, expectedTree, 'the sandbox after the run');
    return { code: 0, stdout: c.specStdout.split('\n'), stderr: '', tree: expectedTree, outside: OUTSIDE };
  }
  const unused = new Set(c.deviations ?? []);
  const stdout = ref.stdout.split('\n').map((line) => acceptedLine(c, line, unused));
  assert.deepEqual([...unused].map((d) => String(d.check)), [],
    'every declared departure of wasmtime is still seen (remove the ones it no longer makes)');
  const departed = (c.deviations ?? []).length > 0;
  assert.equal(ref.code, departed ? 1 : c.code ?? 0, `wasmtime's exit code\n${ref.stdout}\n${ref.stderr}`);
  const stderr = departed ? ref.stderr.replace(SUMMARY_LINE, '') : ref.stderr;
  assert.equal(stderr, c.stderr ?? '', "wasmtime's stderr");
  if (c.stdout !== undefined) assert.equal(ref.stdout, c.stdout, "wasmtime's stdout");
  assert.deepEqual(ref.tree, expectedTree, 'the sandbox after the run');
  return { code: c.code ?? 0, stdout, stderr, tree: expectedTree, outside: OUTSIDE };
}

// Compares a run with the specification's outcome: where a line has several accepted forms,
// the run's line stands if it is one of them.
function assertMatchesSpec(got, spec) {
  const lines = got.stdout.split('\n');
  const stdout = spec.stdout
    .map((accepted, i) => (Array.isArray(accepted) ? (accepted.includes(lines[i]) ? lines[i] : accepted[0]) : accepted))
    .join('\n');
  assert.deepEqual(got, { ...spec, stdout });
}

// ---- the cases ------------------------------------------------------------------------------

// A case: `name`, `program` (in build/wasi-tests), `args`, `env` ({KEY: VALUE}), `stdin`,
// `dirs` ("HOST::GUEST" with HOST inside the fixture copy; default the whole copy at /sandbox),
// what a spec-following run gives (`code`, default 0; `stdout` when fixed in advance; `stderr`,
// default ''; `tree`, default the fixture unchanged), `deviations` of wasmtime from the
// specification ({check: label or RegExp, reference: its answer, spec: the specification's
// answer or answers}; a bare check line has neither), and `open` answers the specification
// leaves to the runtime ({check, accept: [answers]}).

// What fs_fd's small_writes_checks leaves: `count` 64-byte records, record i being i in five
// digits, a space, a letter (a + i mod 26) repeated, and a newline.
function manyWrites(count) {
  let out = '';
  for (let i = 0; i < count; i++) {
    out += `${String(i).padStart(5, '0')} ${String.fromCharCode(97 + (i % 26)).repeat(57)}\n`;
  }
  return out;
}

// Preview1 says ENOTCAPABLE; wasmtime says EPERM (DIFFERENCES.md, "Escaping a preopen").
const ESCAPES = { check: /./, reference: 'EPERM', spec: 'ENOTCAPABLE' };

const CASES = [
  {
    name: 'fs_fd', program: 'fs_fd.wasm',
    deviations: [
      { check: 'fd_fdstat_set_rights(all but FD_READ)', reference: 'ENOTSUP', spec: 'success' },
      { check: 'FD_READ is gone from fdstat' },
      { check: 'fd_read without FD_READ', reference: 'success', spec: 'ENOTCAPABLE' },
      { check: 'fd_fdstat_set_rights adding FD_READ back', reference: 'ENOTSUP', spec: 'ENOTCAPABLE' },
      {
        check: 'fd_fdstat_set_rights(dir, all but PATH_FILESTAT_SET_SIZE)', reference: 'ENOTSUP', spec: 'success',
      },
      {
        check: 'path_open(trunc.txt, TRUNC) without PATH_FILESTAT_SET_SIZE', reference: 'success',
        spec: 'ENOTCAPABLE',
      },
      { check: 'fd_read(dir)', reference: 'EBADF', spec: 'EISDIR' },
      { check: 'fd_sync(dir)', reference: 'EBADF', spec: 'success' },
      { check: 'fd_readdir(regular file)', reference: 'EBADF', spec: 'ENOTDIR' },
    ],
    tree: fixtureWith({
      'fd-test.txt': 'HELLO, world\ntail\n', 'renumbered.txt': 'renumbered\n', 'many-writes.bin': manyWrites(3000),
    }),
  },
  {
    name: 'fs_path', program: 'fs_path.wasm',
    deviations: [
      { check: 'path_filestat_get(regular file fd, x)', reference: 'EBADF', spec: 'ENOTDIR' },
      { check: 'path_remove_directory(empty-target/)', reference: 'EINVAL', spec: 'success' },
    ],
    tree: fixtureWith({
      'made': DIR, 'made/inner': DIR, 'hard-link': 'new\n',
      'kept-link': link('hello.txt'), 'dangling': link('no-such-target'),
    }),
  },
  { name: 'sandbox', program: 'sandbox.wasm', deviations: [ESCAPES] },
  { name: 'preopens: none granted', program: 'preopens.wasm', dirs: [] },
  {
    name: 'preopens: two granted', program: 'preopens.wasm',
    dirs: ['::/sandbox', 'sub::/data/sub'], args: ['/sandbox', '/data/sub'],
  },
  {
    name: 'args_env', program: 'args_env.wasm', dirs: [],
    args: ['alpha', 'two words', 'ünïcödé', ''],
    env: { GREETING: 'hello', EMPTY: '', WITH_EQUALS: 'a=b=c', UNICODE: 'žluťoučký' },
  },
  {
    name: 'clocks_poll', program: 'clocks_poll.wasm', dirs: [],
    deviations: [
      // Optional clocks: supported, or EINVAL.
      {
        check: /^clock_(res|time)_get\((PROCESS|THREAD)_CPUTIME_ID\)$/, reference: 'EBADF',
        spec: ['EINVAL', 'success'],
      },
      { check: 'poll_oneoff(fd_read on unused fd 4000, +10 s)', reference: 'EBADF', spec: 'success' },
      { check: 'fd 4000 event error', reference: 'success', spec: 'EBADF' },
      { check: 'only the fd 4000 event fired' },
    ],
  },
  { name: 'random', program: 'random.wasm', dirs: [] },
  {
    name: 'unsupported', program: 'unsupported.wasm', dirs: [],
    open: [{ check: 'proc_raise(SIGTERM)', accept: ['ENOTSUP', 'ENOSYS'] }],
  },
  {
    name: 'stdio', program: 'stdio.wasm', dirs: [],
    stdin: 'first line\nsecond line\n', stderr: 'a line on stderr\n',
    deviations: [
      { check: 'fd_readdir(stdin)', reference: 'EBADF', spec: 'ENOTDIR' },
      { check: 'fd_sync(stdout)', reference: 'EBADF', spec: 'EINVAL' },
      { check: 'fd_datasync(stdout)', reference: 'EBADF', spec: 'EINVAL' },
      { check: 'fd_filestat_set_size(stdout, 0)', reference: 'EBADF', spec: 'EINVAL' },
    ],
  },
  {
    name: 'exit_code: proc_exit(7)', program: 'exit_code.wasm', dirs: [], args: ['7'], code: 7,
    stdout: 'stdout before exit, no newline', stderr: 'stderr before exit, no newline',
  },
  {
    name: 'exit_code: _start returns', program: 'exit_code.wasm', dirs: [], args: ['0'], code: 0,
    stdout: 'stdout before exit, no newline', stderr: 'stderr before exit, no newline',
  },
];

// A trap: exit 134 and a message on stderr, whose wording is each runtime's own.
// The programs that work on files, run against each persistent backend too.
const STORE_PROGRAMS = new Set(['fs_fd.wasm', 'fs_path.wasm', 'sandbox.wasm', 'preopens.wasm']);

const TRAP_CASE = { name: 'trap', program: 'trap.wasm', dirs: [], code: 134 };

// isolated_call: one call per run. wasmtime traps on all but one of them (the message it
// traps with is the one matched); the specification asks for an errno.
const ISOLATED_REFERENCE_TRAPS = {
  'clock-unknown-id': /Invalid enum value Clockid/,
  'clock-res-unknown-id': /Invalid enum value Clockid/,
  'seek-unknown-whence': /Invalid enum value Whence/,
  'advise-unknown-advice': /Invalid enum value Advice/,
  'fdflags-undefined-bit': /Invalid flag value Fdflags/,
  'fdflags-high-bits': /Fdflags: Int conversion error/,
  'path-invalid-utf8': null,
  'write-iovs-out-of-bounds': /Pointer out of bounds/,
  'write-buffer-out-of-bounds': /Pointer out of bounds/,
  'read-buffer-out-of-bounds': /Pointer out of bounds/,
  'random-out-of-bounds': /Pointer out of bounds/,
  'clock-result-out-of-bounds': /Pointer out of bounds/,
  'args-out-of-bounds': /Pointer out of bounds/,
  'path-out-of-bounds': /Pointer out of bounds/,
  'poll-out-of-bounds': /Pointer out of bounds/,
};

for (const program of new Set([...CASES, TRAP_CASE].map((c) => c.program))) {
  if (!existsSync(join(PROGRAMS, program))) {
    throw new Error(`${join(PROGRAMS, program)} is missing: run make wasi-test-programs`);
  }
}

function isolatedCases() {
  const list = spawnSync(REFERENCE[0], [REFERENCE[1], join(PROGRAMS, 'isolated_call.wasm'), 'list'], {
    encoding: 'utf8',
  });
  assert.equal(list.status, 0, `isolated_call.wasm list: ${list.stderr}`);
  const cases = list.stdout.trim().split('\n').map((line) => line.split('\t'));
  assert.deepEqual(cases.map(([name]) => name).sort(), Object.keys(ISOLATED_REFERENCE_TRAPS).sort(),
    'every isolated_call case has its reference behaviour recorded here');
  return cases.map(([name, dirs, specLine]) => ({
    name: `isolated_call ${name}`, program: 'isolated_call.wasm', args: [name],
    dirs: dirs === 'sandbox' ? ['::/sandbox'] : [],
    referenceTraps: ISOLATED_REFERENCE_TRAPS[name] ?? undefined,
    specStdout: `# isolated_call ${name}\n${specLine}\n`,
  }));
}

// ---- the tests ------------------------------------------------------------------------------

for (const c of [...CASES, ...isolatedCases()]) {
  test(c.name, async (t) => {
    const ref = run(REFERENCE, c);
    const spec = specOutcome(c, ref);
    await t.test('capos run matches the specification', { skip: !CAPOS_RUN && 'CAPOS_RUN is not set' }, () => {
      assertMatchesSpec(run(CAPOS_RUN, c), spec);
    });
    // The file programs again, each directory served by a persistent store
    // (docs/files.md): the same tree code, committed to the browser's
    // storage, and the tree written back read back from it.
    if (!STORE_PROGRAMS.has(c.program)) return;
    for (const backend of ['opfs', 'idb']) {
      await t.test(`capos run --dir-store ${backend} matches the specification`, { skip: !CAPOS_RUN && 'CAPOS_RUN is not set' }, () => {
        assertMatchesSpec(run([...CAPOS_RUN, '--dir-store', backend], c), spec);
      });
    }
  });
}

test(TRAP_CASE.name, async (t) => {
  const check = (r, who) => {
    assert.equal(r.code, 134, `${who} exits 134 on a trap\n${r.stderr}`);
    assert.equal(r.stdout, 'before the trap\n', `${who} keeps what was written before the trap`);
    assert.match(r.stderr, /unreachable/i, `${who} names the trap on stderr`);
    assert.deepEqual(r.tree, FIXTURE);
  };
  check(run(REFERENCE, TRAP_CASE), 'wasmtime');
  await t.test('capos run traps the same way', { skip: !CAPOS_RUN && 'CAPOS_RUN is not set' }, () => {
    check(run(CAPOS_RUN, TRAP_CASE), 'capos run');
  });
});
