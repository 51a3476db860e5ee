// A process Worker: instantiates one capOS program and gives it exactly the
// `capos` imports (capos-imports.js), so its only way out is its ring. A
// WASI program instead gets `wasi_snapshot_preview1`, served by the WASI
// shim, which itself has the `capos` imports (wasi-imports.js).

import { checkStartMessage } from '../shared/messages.js';
import { caposImports, ProcessEnded } from './capos-imports.js';
import { appAccess, caposHttpImports, wasiImports } from './wasi-imports.js';
import { linkImports } from './link.js';

let started = false;
// How far this process got, for a driver to read when a boot stalls.
self.__caposState = { stage: 'loaded' };

self.onmessage = (event) => {
  const problem = checkStartMessage(event.data);
  if (problem) {
    self.postMessage({ type: 'failed', message: `process Worker got a malformed start message: ${problem}` });
    return;
  }
  if (started) return;
  started = true;
  run(event.data);
};

function run({ pid, module, ring, wake, capset, argv, env, wasiShim, trapUnknownImports, memoryLimitBytes, diagnostics }) {
  self.__caposState.stage = 'instantiating';
  // Also in the ring, where the kernel's diagnostics can see it while this
  // Worker is too busy to answer.
  const stageWord = new Int32Array(ring, diagnostics.stage, 1);
  Atomics.store(stageWord, 0, 1);
  const startup = [capset, argv, env];
  let runtimeMemory = null; // the memory of the module linking capos-rt
  const capos = caposImports({ pid, ring, wake, startup, memory: () => runtimeMemory, waitsWord: diagnostics.waits });

  let program;
  let init = () => 0;
  try {
    if (wasiShim) {
      let appMemory = null;
      const shim = new WebAssembly.Instance(wasiShim, {
        capos,
        capos_app: appAccess(() => appMemory, () => runtimeMemory),
      });
      runtimeMemory = shim.exports.memory;
      const provided = { wasi_snapshot_preview1: wasiImports(shim), capos_http: caposHttpImports(shim) };
      program = new WebAssembly.Instance(module, linkImports(module, provided, trapUnknownImports));
      appMemory = program.exports.memory;
      init = shim.exports.capos_wasi_init;
    } else {
      program = new WebAssembly.Instance(module, linkImports(module, { capos }, trapUnknownImports));
      runtimeMemory = program.exports.memory;
    }
  } catch (err) {
    self.postMessage({ type: 'failed', message: err.message.startsWith('unknown import')
      ? err.message : `cannot instantiate: ${err.message}` });
    return;
  }
  Atomics.store(stageWord, 0, 2);
  if (!(program.exports.memory instanceof WebAssembly.Memory) || typeof program.exports._start !== 'function') {
    self.postMessage({ type: 'failed', message: 'module must export `memory` and `_start`' });
    return;
  }
  try {
    if (init() !== 0) {
      self.postMessage({ type: 'failed', message: 'the WASI shim could not start' });
      return;
    }
    Atomics.store(stageWord, 0, 3);
    self.__caposState.stage = 'running';
    Atomics.store(stageWord, 0, 4);
    program.exports._start();
    self.__caposState.stage = 'returned';
    self.postMessage({ type: 'exit', code: 0 });
  } catch (err) {
    if (err instanceof ProcessEnded) return;
    const memory = program.exports.memory.buffer.byteLength;
    self.postMessage({ type: 'trap', message: `${String(err?.message || err)}${memoryNote(memory, memoryLimitBytes)}` });
  }
}

// A trap with memory within this much of its limit is taken for an
// allocation the limit refused (memory.grow fails there; the program then
// aborts). Below it, the figures are given, for a person to judge.
const NEAR_LIMIT_BYTES = 4 * 1024 * 1024;
const MIB = 1024 * 1024;

function memoryNote(used, limit) {
  if (used + NEAR_LIMIT_BYTES >= limit) {
    return ` (at its memory limit of ${limit / MIB} MiB: memory.grow was refused)`;
  }
  return ` (memory ${(used / MIB).toFixed(1)} of its ${limit / MIB} MiB limit)`;
}

// Loaded and listening: the kernel sends `start` only after this.
self.postMessage({ type: 'ready' });
