// The kernel's JavaScript host: owns the process Worker objects. The Rust
// kernel calls startProcess/stopProcess/emit/kernelPanic; process Workers'
// messages are validated here and handed to the kernel.

import { checkProcessMessage } from '../shared/messages.js';

const PROCESS_WORKER_URL = new URL('../process/process-worker.js', import.meta.url);

export class ProcessHost {
  constructor(wake, post) {
    this.wake = wake;
    this.post = post;
    this.workers = new Map(); // pid -> Worker
    this.kernel = null;
    this.dead = false;
  }

  attach(kernel) {
    this.kernel = kernel;
  }

  // Called by the kernel (Rust). Compiling is asynchronous; a failure is
  // reported back as processFailed, never thrown into the kernel.
  startProcess(pid, name, binaryView, ring, capsetView, argvView, envView) {
    // The byte arguments are views into the kernel's wasm memory, valid only
    // during this call: copy them before anything asynchronous.
    const binary = binaryView.slice();
    const capset = capsetView.slice();
    const argv = argvView.slice();
    const env = envView.slice();
    const worker = new Worker(PROCESS_WORKER_URL, { type: 'module', name: `pid ${pid}: ${name}` });
    this.workers.set(pid, worker);
    this.publishWorkers();
    worker.onmessage = (event) => this.onProcessMessage(pid, event.data);
    worker.onerror = (event) => {
      event.preventDefault();
      this.toKernel(pid, (k) => k.processFailed(pid, `Worker error: ${event.message || 'script failed to load'}`));
    };
    worker.onmessageerror = () => this.toKernel(pid, (k) => k.processTrapped(pid, 'undeserializable message from process'));
    WebAssembly.compile(binary).then(
      async (module) => {
        // A WASI program gets the shim that serves its imports over its ring.
        const wasi = WebAssembly.Module.imports(module).some((i) => i.module === 'wasi_snapshot_preview1');
        const wasiShim = wasi ? await this.wasiShim() : null;
        if (!this.workers.has(pid)) return;
        worker.postMessage({ type: 'start', pid, module, ring, wake: this.wake.buffer, capset, argv, env, wasiShim });
      },
      (err) => this.toKernel(pid, (k) => k.processFailed(pid, `invalid wasm module: ${err.message}`)),
    );
  }

  // The Timer capability's clock (monotonic, this Worker's time origin).
  nowMs() {
    return performance.now();
  }

  // Timer.realtime's clock.
  epochMs() {
    return performance.timeOrigin + performance.now();
  }

  // RandomSource: `buf` is a view into the kernel's (unshared) memory.
  fillRandom(buf) {
    crypto.getRandomValues(buf);
  }

  // The WASI shim module, compiled once and shared by every WASI process.
  wasiShim() {
    this.shim ??= WebAssembly.compileStreaming(fetch(new URL('../pkg/capos_wasi.wasm', import.meta.url)));
    return this.shim;
  }

  stopProcess(pid) {
    const worker = this.workers.get(pid);
    if (!worker) return;
    worker.terminate();
    this.workers.delete(pid);
    this.publishWorkers();
  }

  emit(event) {
    this.post(event);
    if (event.type === 'halted') this.wakeKernel();
  }

  // Called from the kernel's panic hook, before the wasm traps.
  kernelPanic(message) {
    this.die(`kernel panic: ${message}`);
  }

  // The kernel threw without its panic hook running (a trap, or a bug here).
  kernelDied(err) {
    if (!this.dead) this.die(`kernel died: ${err?.message || err}`);
  }

  die(message) {
    this.dead = true;
    for (const worker of this.workers.values()) worker.terminate();
    this.workers.clear();
    this.publishWorkers();
    this.post({ type: 'panic', message });
    this.wakeKernel();
  }

  wakeKernel() {
    Atomics.add(this.wake, 0, 1);
    Atomics.notify(this.wake, 0);
  }

  publishWorkers() {
    this.post({ type: 'workers', live: this.workers.size });
  }

  onProcessMessage(pid, message) {
    const problem = checkProcessMessage(message);
    if (problem) {
      this.toKernel(pid, (k) => k.processTrapped(pid, `malformed message from process Worker: ${problem}`));
      return;
    }
    switch (message.type) {
      case 'exit': return this.toKernel(pid, (k) => k.processExited(pid, message.code));
      case 'panic': return this.toKernel(pid, (k) => k.processPanicked(pid, message.message));
      case 'trap': return this.toKernel(pid, (k) => k.processTrapped(pid, message.message));
      case 'failed': return this.toKernel(pid, (k) => k.processFailed(pid, message.message));
    }
  }

  toKernel(pid, action) {
    if (this.dead || !this.kernel || !this.workers.has(pid)) return;
    try {
      action(this.kernel);
    } catch (err) {
      this.kernelDied(err);
    }
  }
}
