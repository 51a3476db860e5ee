// The Rust/wasm peer (a Worker): runs ring_tests_js.wasm, which plays the
// kernel side of the ring with capos-config's own SqConsumer and CqProducer.
// This file is glue only, like web/process/process-worker.js: the `ring`
// imports copy between the module's memory and the SharedArrayBuffers with
// typed arrays and Atomics, and block in Atomics.wait without a timeout.

import { PeerStatus, PEER_WASM, KERNEL_WAKE_WORD } from './status.js';

const ERROR_KINDS = { 1: 'mismatch', 2: 'ring violation', 3: 'bad ring header' };

let exports;
let status;

self.onmessage = async ({ data }) => {
  if (data.type === 'init') {
    try {
      exports = await instantiate(data);
      self.postMessage({ type: 'ready' });
    } catch (err) {
      self.postMessage({ type: 'failed', error: `cannot start ring_tests_js.wasm: ${err.message}` });
    }
    return;
  }
  const { role, count, seed, start } = data;
  const t0 = performance.now();
  let code;
  status.running();
  try {
    if (role === 'consumeSq') code = exports.consume_sq(count, seed, start);
    else if (role === 'produceCq') code = exports.produce_cq(count, seed, start);
    else throw new Error(`unknown role ${role}`);
  } catch (err) {
    self.postMessage({ type: 'done', ok: false, error: `trapped: ${err.message}`, ms: performance.now() - t0 });
    return;
  } finally {
    status.idle();
  }
  const ms = performance.now() - t0;
  const stats = {
    waits: exports.stat_waits(), full: exports.stat_full(), batches: exports.stat_batches(),
    doorbells: exports.stat_doorbells(), fills: exports.stat_fills(),
  };
  if (code === 0) {
    self.postMessage({ type: 'done', ok: true, stats, ms });
    return;
  }
  const message = new TextDecoder().decode(
    new Uint8Array(exports.memory.buffer, exports.error_ptr(), exports.error_len()).slice());
  self.postMessage({ type: 'done', ok: false, error: `${ERROR_KINDS[code] ?? `error ${code}`}: ${message}`, stats, ms });
};

async function instantiate({ ring, wake, status: statusBuffer, wasmUrl }) {
  const words = new Int32Array(ring);
  const bytes = new Uint8Array(ring);
  const wakeWords = new Int32Array(wake);
  status = new PeerStatus(statusBuffer, PEER_WASM);
  let memory = null;
  let memoryBytes = null;
  // A fresh view after the module's memory grows (growing detaches the old one).
  const moduleBytes = () => {
    if (memoryBytes?.buffer !== memory.buffer) memoryBytes = new Uint8Array(memory.buffer);
    return memoryBytes;
  };
  // Throw (a trap in the module) rather than let a typed array clamp a bad offset.
  const wordIndex = (offset) => {
    offset >>>= 0;
    if (offset % 4 !== 0 || offset + 4 > ring.byteLength) throw new RangeError(`bad ring word offset ${offset}`);
    return offset >>> 2;
  };
  const range = (offset, len) => {
    offset >>>= 0; len >>>= 0;
    if (offset + len > ring.byteLength) throw new RangeError(`ring range ${offset}+${len} out of bounds`);
    return [offset, len];
  };
  const imports = {
    ring: {
      load: (offset) => Atomics.load(words, wordIndex(offset)),
      store: (offset, value) => { Atomics.store(words, wordIndex(offset), value); },
      fetch_add: (offset, value) => Atomics.add(words, wordIndex(offset), value),
      read: (offset, ptr, len) => {
        const [o, n] = range(offset, len);
        moduleBytes().set(bytes.subarray(o, o + n), ptr >>> 0);
      },
      write: (offset, ptr, len) => {
        const [o, n] = range(offset, len);
        ptr >>>= 0;
        bytes.set(moduleBytes().subarray(ptr, ptr + n), o);
      },
      notify: (offset) => { Atomics.notify(words, wordIndex(offset)); },
      wait: (offset, expected) => { status.wait(words, wordIndex(offset), expected, offset >>> 0); },
      kernel_wake_load: () => Atomics.load(wakeWords, 0),
      kernel_wake_wait: (expected) => { status.wait(wakeWords, 0, expected, KERNEL_WAKE_WORD); },
    },
  };
  const { instance } = await WebAssembly.instantiateStreaming(fetch(wasmUrl), imports);
  memory = instance.exports.memory;
  return instance.exports;
}
