// The page's .zip writer (web/ui/zip.js), read back by Python's zipfile,
// and a dropped folder read through the Entries API (web/ui/folder-reader.js)
// with stand-ins for the browser's entries: what a test in Chromium cannot
// synthesize (a real drop of a folder).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, zipBlob } from '../../web/ui/zip.js';
import { readDropped } from '../../web/ui/folder-reader.js';

test('crc32 is the standard one', () => {
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  assert.equal(crc32(new Uint8Array()), 0);
});

test('a .zip of files, folders, a symlink and UTF-8 names reads back entry by entry', async () => {
  const big = new Uint8Array(100_000).fill(7); // deflates well
  const random = crypto.getRandomValues(new Uint8Array(4096)); // does not
  const entries = [
    { path: 'dir', kind: 'dir', data: new Uint8Array(), mtimeMs: Date.UTC(2024, 5, 1, 12, 0, 0) },
    { path: 'dir/big.bin', kind: 'file', data: big, mtimeMs: Date.UTC(2024, 5, 1, 12, 0, 0) },
    { path: 'dir/noise.bin', kind: 'file', data: random, mtimeMs: 0 },
    { path: 'héllo wörld.txt', kind: 'file', data: new TextEncoder().encode('grüße\n'), mtimeMs: Date.now() },
    { path: 'link', kind: 'symlink', data: new TextEncoder().encode('dir/big.bin'), mtimeMs: Date.now() },
    { path: 'empty', kind: 'file', data: new Uint8Array(), mtimeMs: Date.now() },
  ];
  const seen = [];
  const blob = await zipBlob(entries, (done, total) => seen.push(`${done}/${total}`));
  assert.deepEqual(seen.at(-1), '6/6');
  const path = join(mkdtempSync(join(tmpdir(), 'capos-zip-')), 'x.zip');
  writeFileSync(path, Buffer.from(await blob.arrayBuffer()));
  const info = JSON.parse(execFileSync('python3', ['-c', `
import json, stat, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
print(json.dumps([[i.filename, i.compress_type, i.file_size, stat.S_IFMT(i.external_attr >> 16), z.read(i).hex()] for i in z.infolist()]))
`, path], { encoding: 'utf8' }));
  const byName = Object.fromEntries(info.map(([name, ...rest]) => [name, rest]));
  assert.deepEqual(Object.keys(byName), ['dir/', 'dir/big.bin', 'dir/noise.bin', 'héllo wörld.txt', 'link', 'empty']);
  assert.equal(byName['dir/big.bin'][0], 8, 'deflated');
  assert.equal(byName['dir/noise.bin'][0], 0, 'stored: deflating made it larger');
  assert.equal(byName['dir/big.bin'][1], 100_000);
  assert.equal(Buffer.from(byName['dir/big.bin'][3], 'hex').equals(Buffer.from(big)), true);
  assert.equal(Buffer.from(byName['héllo wörld.txt'][3], 'hex').toString(), 'grüße\n');
  assert.equal(byName.link[2], 0o120000, 'a symlink, by its mode');
  assert.equal(Buffer.from(byName.link[3], 'hex').toString(), 'dir/big.bin');
  assert.equal(byName['dir/'][2], 0o040000, 'a directory');
  assert.equal(byName.empty[1], 0);
});

test('a .zip past 65,535 entries is refused rather than written wrong', async () => {
  const many = Array.from({ length: 65_536 }, (_, i) => ({ path: `f${i}`, kind: 'file', data: new Uint8Array(), mtimeMs: 0 }));
  await assert.rejects(zipBlob(many), /at most 65,535/);
});

// Stand-ins for the Entries API: a directory entry of {name: children | text}.
function entry(name, content) {
  if (content === null) return { name, isFile: false, isDirectory: false };
  if (typeof content === 'string' || content instanceof Error) {
    return {
      name, isFile: true, isDirectory: false,
      file: (ok, fail) => (content instanceof Error ? fail(content) : ok(new Blob([content]))),
    };
  }
  const children = Object.entries(content).map(([n, c]) => entry(n, c));
  return {
    name, isFile: false, isDirectory: true,
    createReader: () => {
      // Hands out entries two at a time, as readEntries may, then none.
      let at = 0;
      return { readEntries: (ok) => { ok(children.slice(at, at + 2)); at += 2; } };
    },
  };
}
const dropped = (root) => ({ items: [{ kind: 'file', webkitGetAsEntry: () => root }], files: [] });

test('a dropped folder is read whole; what cannot be read is skipped and listed', async () => {
  const root = entry('project', {
    'main.py': 'print(1)\n',
    src: { 'a.py': 'a', 'b.py': 'b', deep: { 'c.py': 'c' } },
    'gone.txt': Object.assign(new Error('it vanished'), { name: 'NotFoundError' }),
    'device': null,
  });
  const progress = [];
  const read = await readDropped(dropped(root), (done, total) => progress.push([done, total]));
  assert.equal(read.name, 'project');
  assert.equal(read.folder, true);
  const files = Object.fromEntries(await Promise.all(read.files.map(async (f) => [f.path, new TextDecoder().decode(f.data)])));
  assert.deepEqual(files, { 'main.py': 'print(1)\n', 'src/a.py': 'a', 'src/b.py': 'b', 'src/deep/c.py': 'c' });
  assert.deepEqual(read.skipped.map((s) => s.path).sort(), ['device', 'gone.txt']);
  assert.match(read.skipped.find((s) => s.path === 'gone.txt').reason, /NotFoundError: it vanished/);
  assert.deepEqual(progress.at(-1), [5, 5]);
});
