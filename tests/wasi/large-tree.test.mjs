// `capos run --dir` on a tree of 1 GiB (tests/wasi/large-tree.mjs): the program opens three
// small files, moves a 256 MiB file it never read, renames, appends, deletes, and writes a new
// 48 MiB file of every byte value (which comes back byte for byte). capOS must
// answer as wasmtime does and leave the same tree, and must not have copied or rewritten what
// the program did not change: the blobs keep their inodes and times.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, lstatSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeLargeTree, BLOB_BYTES } from './large-tree.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PROGRAM = join(ROOT, 'build', 'wasi-tests', 'large_tree.wasm');
const REFERENCE = [join(ROOT, 'build', 'venv', 'bin', 'python'), join(ROOT, 'tests', 'wasi', 'wasmtime-run.py')];
const CAPOS_RUN = process.env.CAPOS_RUN ? process.env.CAPOS_RUN.trim().split(/\s+/) : null;

// path -> 'dir', or a file's size and the SHA-256 of its bytes (of the blobs, too large to
// read each time, the size alone).
function listing(root, prefix = '') {
  const out = {};
  for (const name of readdirSync(join(root, prefix)).sort()) {
    const path = prefix ? `${prefix}/${name}` : name;
    const stat = lstatSync(join(root, path));
    if (stat.isDirectory()) Object.assign(out, { [path]: 'dir' }, listing(root, path));
    else if (stat.size >= BLOB_BYTES) out[path] = stat.size;
    else out[path] = `${stat.size} ${createHash('sha256').update(readFileSync(join(root, path))).digest('hex')}`;
  }
  return out;
}

function runOn(runner) {
  const tree = mkdtempSync(join(tmpdir(), 'capos-large-tree-'));
  makeLargeTree(tree);
  const before = (p) => lstatSync(join(tree, p), { bigint: true });
  const blobs = [0, 1, 3].map((i) => before(`blobs/blob-${i}.bin`));
  const [cmd, ...pre] = runner;
  const r = spawnSync(cmd, [...pre, '--dir', `${tree}::/tree`, PROGRAM, '/tree', '--generate'], {
    cwd: ROOT, encoding: 'utf8', timeout: 120_000,
  });
  if (r.error) throw r.error;
  return { tree, blobs, code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('a program touching three files of a 1 GiB --dir tree', { timeout: 300_000 }, async (t) => {
  const reference = runOn(REFERENCE);
  try {
    assert.equal(reference.code, 0, reference.stdout + reference.stderr);
    assert.match(reference.stdout, /^docs\/readme.txt: the readme$/m);
    assert.match(reference.stdout, new RegExp(`^moved.bin: ${BLOB_BYTES} bytes$`, 'm'));
    await t.test('capos run answers and leaves the tree as wasmtime does', { skip: !CAPOS_RUN && 'CAPOS_RUN is not set' }, () => {
      const capos = runOn(CAPOS_RUN);
      try {
        assert.equal(capos.stderr, reference.stderr);
        assert.equal(capos.stdout, reference.stdout);
        assert.equal(capos.code, reference.code);
        assert.deepEqual(listing(capos.tree), listing(reference.tree));
        // Untouched, and moved rather than copied: the same inodes, the same times.
        const after = (p) => lstatSync(join(capos.tree, p), { bigint: true });
        const [blob0, blob1, blob3] = capos.blobs;
        for (const [before, now, name] of [[blob0, after('blobs/blob-0.bin'), 'blob-0'],
          [blob1, after('moved.bin'), 'blob-1, moved'], [blob3, after('blobs/blob-3.bin'), 'blob-3']]) {
          assert.equal(now.ino, before.ino, `${name} is the same file`);
          assert.equal(now.mtimeNs, before.mtimeNs, `${name} was not rewritten`);
        }
        assert.deepEqual(readdirSync(capos.tree).filter((n) => n.startsWith('.')), [], 'nothing left behind');
      } finally {
        rmSync(capos.tree, { recursive: true, force: true });
      }
    });
  } finally {
    rmSync(reference.tree, { recursive: true, force: true });
  }
});
