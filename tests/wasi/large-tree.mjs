// A tree of 1 GiB that a program touches three files of: tests/wasi/large-tree.test.mjs runs
// large_tree.wasm on it, and `make bench` times the same run against an empty tree. The four
// 256 MiB blobs are sparse (no disk blocks), so making the tree costs nothing.
import { mkdirSync, truncateSync, writeFileSync, closeSync, openSync } from 'node:fs';
import { join } from 'node:path';

export const BLOB_BYTES = 256 * 1024 * 1024;
export const BLOBS = 4;
export const SMALL_FILES = 1000;

// `{ blobBytes: 0, smallFiles: 0 }` makes the same tree without its bulk: the files the
// program opens, and empty blobs (the bench's baseline).
export function makeLargeTree(root, { blobBytes = BLOB_BYTES, smallFiles = SMALL_FILES } = {}) {
  for (const dir of ['docs', 'src/gen', 'deep/a/b/c', 'blobs']) mkdirSync(join(root, dir), { recursive: true });
  writeFileSync(join(root, 'docs/readme.txt'), 'the readme\nsecond line\n');
  writeFileSync(join(root, 'src/main.c'), 'int main(void) { return 0; }\n');
  writeFileSync(join(root, 'deep/a/b/c/leaf.txt'), 'a leaf\n');
  for (let i = 0; i < smallFiles; i++) writeFileSync(join(root, `src/gen/file-${i}.h`), `#define N${i} ${i}\n`);
  for (let i = 0; i < BLOBS; i++) {
    const path = join(root, `blobs/blob-${i}.bin`);
    closeSync(openSync(path, 'w'));
    truncateSync(path, blobBytes);
  }
}
