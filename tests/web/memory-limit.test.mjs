// The memory limit a process gets: its module's own memory maximum, lowered
// before it is compiled (web/kernel/memory-limit.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { limitMemory, MemoryOverLimit } from '../../web/kernel/memory-limit.js';

// A module exporting one memory with `initial` pages and, if given, a maximum.
function moduleWithMemory(initial, maximum) {
  const limits = maximum === undefined ? [0x00, initial] : [0x01, initial, maximum];
  const memory = [0x01, ...limits];
  const exports = [0x01, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00]; // "mem", memory 0
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x05, memory.length, ...memory,
    0x07, exports.length, ...exports,
  ]);
}

const grow = (bytes, pages) => {
  const { mem } = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports;
  try {
    mem.grow(pages);
    return true;
  } catch {
    return false;
  }
};

test('a memory without a maximum gets the limit as its maximum', () => {
  const limited = limitMemory(moduleWithMemory(1), 4);
  assert.equal(grow(limited, 3), true);
  assert.equal(grow(limited, 4), false, 'growing past the limit is refused');
});

test('a declared maximum below the limit stays; one above it is lowered', () => {
  assert.equal(grow(limitMemory(moduleWithMemory(1, 2), 4), 2), false);
  assert.equal(grow(limitMemory(moduleWithMemory(1, 100), 4), 3), true);
  assert.equal(grow(limitMemory(moduleWithMemory(1, 100), 4), 4), false);
});

test('a memory that starts over the limit, and bytes that are no module, are refused', () => {
  assert.throws(() => limitMemory(moduleWithMemory(8), 4), (e) => e instanceof MemoryOverLimit && /starts at 0.5 MiB, over its limit of 0.25 MiB/.test(e.message));
  assert.throws(() => limitMemory(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), 4), /not a WebAssembly module/);
  const truncated = moduleWithMemory(1).slice(0, 11);
  assert.throws(() => limitMemory(truncated, 4), /past the end/);
});

test('a module without a memory of its own is left as it is', () => {
  const empty = Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  assert.equal(limitMemory(empty, 4), empty);
});
