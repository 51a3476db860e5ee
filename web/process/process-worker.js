// A process Worker: instantiates one capOS program and gives it exactly the
// `capos` imports (capos-imports.js), so its only way out is its ring. A
// WASI program instead gets `wasi_snapshot_preview1`, served by the WASI
// shim, which itself has the `capos` imports (wasi-imports.js).

import { checkStartMessage } from '../shared/messages.js';
import { caposImports, ProcessEnded } from './capos-imports.js';
import { appAccess, wasiImports } from './wasi-imports.js';

let started = false;

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

function run({ pid, module, ring, wake, capset, argv, env, wasiShim }) {
  const startup = [capset, argv, env];
  let runtimeMemory = null; // the memory of the module linking capos-rt
  const capos = caposImports({ pid, ring, wake, startup, memory: () => runtimeMemory });

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
      program = new WebAssembly.Instance(module, { wasi_snapshot_preview1: wasiImports(shim) });
      appMemory = program.exports.memory;
      init = shim.exports.capos_wasi_init;
    } else {
      program = new WebAssembly.Instance(module, { capos });
      runtimeMemory = program.exports.memory;
    }
  } catch (err) {
    self.postMessage({ type: 'failed', message: `cannot instantiate: ${err.message}` });
    return;
  }
  if (!(program.exports.memory instanceof WebAssembly.Memory) || typeof program.exports._start !== 'function') {
    self.postMessage({ type: 'failed', message: 'module must export `memory` and `_start`' });
    return;
  }
  try {
    if (init() !== 0) {
      self.postMessage({ type: 'failed', message: 'the WASI shim could not start' });
      return;
    }
    program.exports._start();
    self.postMessage({ type: 'exit', code: 0 });
  } catch (err) {
    if (err instanceof ProcessEnded) return;
    self.postMessage({ type: 'trap', message: String(err?.message || err) });
  }
}
