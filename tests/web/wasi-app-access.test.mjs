// The WASI shim reaches the program's memory only through app_read and
// app_write (web/process/wasi-imports.js), which decode a guest pointer and
// length. Randomized, with the edges of u32 mixed in: every call either
// copies exactly the bytes asked for or answers EFAULT and touches nothing;
// none throws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appAccess } from '../../web/process/wasi-imports.js';

const EFAULT = 21;
const CASES = 50_000;

// xorshift32: the same cases every run.
function random(seed) {
  let s = seed;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s;
  };
}

test(`app_read and app_write: ${CASES} random pointers and lengths, in bounds or EFAULT, never a throw`, () => {
  const app = new WebAssembly.Memory({ initial: 1 });
  const shim = new WebAssembly.Memory({ initial: 2 });
  const appBytes = new Uint8Array(app.buffer);
  const shimBytes = new Uint8Array(shim.buffer);
  for (let i = 0; i < appBytes.length; i++) appBytes[i] = i * 7;
  const access = appAccess(() => app, () => shim);
  const next = random(0x2545f491);
  const size = app.buffer.byteLength;
  const edges = [0, 1, size - 1, size, size + 1, 0x7fffffff, 0x80000000, 0xffffffff, -1, -size];
  const pick = () => (next() % 4 === 0 ? edges[next() % edges.length] : next() % (size + 64));
  let copied = 0;
  let refused = 0;
  for (let n = 0; n < CASES; n++) {
    const ptr = pick();
    const len = next() % 3 === 0 ? edges[next() % edges.length] : next() % 4096;
    const fits = (ptr >>> 0) + (len >>> 0) <= size;
    const before = appBytes.slice();
    const result = n % 2 === 0 ? access.app_read(ptr, len, 0) : access.app_write(ptr, 0, len);
    assert.equal(result, fits ? 0 : EFAULT, `${ptr}+${len}`);
    if (result === 0) {
      const p = ptr >>> 0;
      const l = len >>> 0;
      if (n % 2 === 0) assert.deepEqual(shimBytes.subarray(0, l), appBytes.subarray(p, p + l));
      else assert.deepEqual(appBytes.subarray(p, p + l), shimBytes.subarray(0, l));
      copied++;
      // Put the program's memory back for the next case.
      appBytes.set(before);
    } else {
      assert.deepEqual(appBytes, before, 'a refused write changed the program\'s memory');
      refused++;
    }
  }
  assert.ok(copied > CASES / 4 && refused > CASES / 10, `copied ${copied}, refused ${refused}`);
});
