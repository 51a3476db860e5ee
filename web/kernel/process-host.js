// The kernel's JavaScript host: owns the process Worker objects. The Rust
// kernel calls startProcess/stopProcess/emit/kernelPanic; process Workers'
// messages are validated here and handed to the kernel.

import { checkProcessMessage } from '../shared/messages.js';
import { RuntimeLoader } from './runtime-loader.js';
import { limitMemory, MemoryOverLimit, PAGE_BYTES } from './memory-limit.js';
import { HttpHost } from './http-host.js';
import { HostFiles } from './host-files.js';
import { KvHost } from './kv-host.js';
import { NetHost } from './net-host.js';
import { PageHost } from './page-host.js';
import {
  CQ_DOORBELL, CQ_HEAD, CQ_TAIL, CQ_WAITING, FLAGS, PROCESS_STAGE, PROCESS_WAITS, SQ_HEAD, SQ_TAIL,
} from '../generated/abi.js';

const PROCESS_WORKER_URL = new URL('../process/process-worker.js', import.meta.url);
const WASI_SHIM_URL = new URL('../pkg/capos_wasi.wasm', import.meta.url);

// A page starts its first process's Worker before it is asked to boot (and the
// headless page, whose programs are mostly WASI ones, compiles the WASI shim
// too), so the boot waits for neither. The Worker is blank until a process is started in
// it (DevTools names it "started spare").
let spare = null; // { worker, ready: Promise<boolean> }
let spareShim = null;
export function prewarm({ shim }) {
  if (shim && !spareShim) {
    spareShim = compileShim();
    spareShim.catch(() => {}); // Compiled again, and reported, when a process needs it.
  }
  if (spare) return;
  const worker = new Worker(PROCESS_WORKER_URL, { type: 'module', name: 'capOS process (started spare)' });
  const ready = new Promise((resolve) => {
    worker.onmessage = ({ data }) => resolve(data?.type === 'ready');
    worker.onerror = (event) => {
      event.preventDefault();
      resolve(false);
    };
  });
  spare = { worker, ready };
}

const compileShim = () => WebAssembly.compileStreaming(fetch(WASI_SHIM_URL));
// How long a new process Worker has to say it is ready (times the attempt),
// and how many Workers a process gets before it fails.
const READY_WITHIN_MS = 3000;
const START_ATTEMPTS = 3;

export class ProcessHost {
  constructor(wake, post, stores) {
    this.wake = wake;
    this.post = post;
    this.workers = new Map(); // pid -> Worker
    this.rings = new Map(); // pid -> its ring, for diagnostics only
    this.phases = new Map(); // pid -> how far its start got, for diagnostics only
    this.kernel = null;
    this.dead = false;
    this.runtimes = new RuntimeLoader(post);
    // Replies to host requests arrive between the kernel's polls.
    const reply = (action) => this.reply(action);
    this.stores = stores;
    this.http = new HttpHost(reply);
    this.kv = new KvHost(reply);
    this.page = new PageHost(post, reply);
    this.net = new NetHost(reply);
    this.hostFiles = new HostFiles(reply);
  }

  attach(kernel) {
    this.kernel = kernel;
  }

  // Runs `action(kernel)` with a host request's answer, unless the kernel
  // is gone.
  reply(action) {
    if (this.dead || !this.kernel) return;
    try {
      action(this.kernel);
    } catch (err) {
      this.kernelDied(err);
    }
  }

  // Called by the kernel (Rust). The program is the module `binaryView`, or
  // (`runtime` not empty) that catalogue runtime, pinned to `runtimeSha256`
  // unless it is empty. Its memory is limited to `memoryLimitMiB` (the
  // module's own maximum is lowered to it). Loading and compiling are
  // asynchronous; a failure is reported back as processFailed, never thrown
  // into the kernel.
  startProcess(pid, name, binaryView, runtime, runtimeSha256, ring, capsetView, argvView, envView, trapUnknownImports, memoryLimitMiB) {
    // The byte arguments are views into the kernel's wasm memory, valid only
    // during this call: copy them before anything asynchronous.
    const binary = binaryView.slice();
    const start = {
      type: 'start', pid, ring, wake: this.wake.buffer,
      capset: capsetView.slice(), argv: argvView.slice(), env: envView.slice(),
      trapUnknownImports: trapUnknownImports === true,
      memoryLimitBytes: memoryLimitMiB * 1024 * 1024,
      diagnostics: { stage: PROCESS_STAGE, waits: PROCESS_WAITS },
    };
    this.rings.set(pid, new Int32Array(ring));
    this.phases.set(pid, 'compiling');
    // On the kernel Worker's track in DevTools' Performance panel.
    performance.mark(`spawn pid ${pid}: ${name}`);
    const maxPages = (memoryLimitMiB * 1024 * 1024) / PAGE_BYTES;
    const module = runtime
      ? this.runtimes.load(runtime, runtimeSha256, maxPages)
      : compileLimited(binary, maxPages);
    const compiled = module.then(async (m) => {
      // A WASI program gets the shim that serves its imports over its ring.
      const wasi = WebAssembly.Module.imports(m).some((i) => i.module === 'wasi_snapshot_preview1');
      return { module: m, wasiShim: wasi ? await this.wasiShim() : null };
    });
    compiled.catch(() => {}); // Reported when the Worker asks for it.
    this.launch(pid, name, compiled, start, 1);
  }

  // Starts the process's Worker; sends it `start` once the Worker says it is
  // ready and the program is compiled. Chromium occasionally never finishes
  // loading a nested module Worker (its scripts are served, it never runs):
  // a Worker that is not ready in time is replaced, a few times, and then
  // the process fails with a message instead of hanging.
  launch(pid, name, compiled, start, attempt) {
    const taken = attempt === 1 ? spare : null;
    if (taken) spare = null;
    const worker = taken?.worker ?? new Worker(PROCESS_WORKER_URL, { type: 'module', name: `pid ${pid}: ${name}` });
    this.workers.set(pid, worker);
    this.publishWorkers();
    this.phases.set(pid, `Worker starting (attempt ${attempt})`);
    let ready = false;
    const patience = READY_WITHIN_MS * attempt;
    const timer = setTimeout(() => {
      if (ready || this.workers.get(pid) !== worker) return;
      worker.terminate();
      if (attempt < START_ATTEMPTS) return this.launch(pid, name, compiled, start, attempt + 1);
      this.toKernel(pid, (k) => k.processFailed(pid, `its Worker did not start (${attempt} tries, the last waited ${patience} ms)`));
    }, patience);
    const onReady = () => {
      ready = true;
      clearTimeout(timer);
      this.phases.set(pid, 'Worker ready');
      compiled.then(({ module, wasiShim }) => {
        if (this.workers.get(pid) !== worker) return;
        this.phases.set(pid, 'start posted');
        worker.postMessage({ ...start, module, wasiShim });
      }).catch((err) => this.toKernel(pid, (k) => k.processFailed(pid, err.message)));
    };
    worker.onmessage = ({ data }) => {
      if (ready) return this.onProcessMessage(pid, data);
      if (data?.type !== 'ready') return this.toKernel(pid, (k) => k.processTrapped(pid, 'process Worker spoke before it was ready'));
      onReady();
    };
    // A spare that said "ready" before it was taken will not say it again;
    // one that failed to load is replaced like any Worker that did not start.
    taken?.ready.then((ok) => {
      if (ready || this.workers.get(pid) !== worker) return;
      if (ok) return onReady();
      clearTimeout(timer);
      worker.terminate();
      this.launch(pid, name, compiled, start, attempt + 1);
    });
    worker.onerror = (event) => {
      event.preventDefault();
      clearTimeout(timer);
      this.toKernel(pid, (k) => k.processFailed(pid, `Worker error: ${event.message || 'script failed to load'}`));
    };
    worker.onmessageerror = () => this.toKernel(pid, (k) => k.processTrapped(pid, 'undeserializable message from process'));
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

  // Work a service asks of the browser (host.rs's HostRequest). `payload`
  // is a view into the kernel's memory, valid only during this call.
  hostRequest(id, request, payload) {
    switch (request.op) {
      case 'httpStart': return this.http.start(id, request, payload.slice());
      case 'httpPull': return this.http.pull(id);
      case 'httpCancel': return this.http.cancel(id);
      case 'clipboardRead':
      case 'clipboardWrite':
      case 'displayOpen':
      case 'displayFrame':
      case 'displayClose':
        return this.page.request(id, request, payload);
      case 'storeCommit': return this.stores.commit(id, request, payload);
      case 'hostFileRead':
      case 'hostFileWrite':
        return this.hostFiles.request(id, request, payload);
      case 'netPull':
      case 'netSend':
      case 'netShutdown':
      case 'netClose':
        return this.net.request(id, request, payload);
      default: return this.kv.request(id, request, payload);
    }
  }

  // The WASI shim module, compiled once and shared by every WASI process.
  wasiShim() {
    this.shim ??= (spareShim ?? compileShim())
      .catch((err) => {
        this.shim = null; // The next process tries again.
        spareShim = null;
        throw new Error(`cannot load the WASI shim: ${err.message}`);
      });
    return this.shim;
  }

  // Each live ring's header words: where a stalled boot shows who waits for whom.
  ringStates() {
    const words = {
      sqHead: SQ_HEAD, sqTail: SQ_TAIL, cqHead: CQ_HEAD, cqTail: CQ_TAIL, doorbell: CQ_DOORBELL, flags: FLAGS,
      cqWaiting: CQ_WAITING, stage: PROCESS_STAGE, waits: PROCESS_WAITS,
    };
    return [...this.rings].map(([pid, ring]) => `pid ${pid} (${this.phases.get(pid)}): `
      + `${Object.entries(words).map(([name, at]) => `${name}=${Atomics.load(ring, at / 4)}`).join(' ')}`);
  }

  stopProcess(pid) {
    this.rings.delete(pid);
    this.phases.delete(pid);
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
    this.net.closeAll();
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

// Compiles a module with its memory held to `maxPages`.
async function compileLimited(binary, maxPages) {
  let limited;
  try {
    limited = limitMemory(binary, maxPages);
  } catch (err) {
    if (err instanceof MemoryOverLimit) throw new Error(`cannot start it within its memory limit: ${err.message}`);
    throw new Error(`invalid wasm module: ${err.message}`);
  }
  try {
    return await WebAssembly.compile(limited);
  } catch (err) {
    throw new Error(`invalid wasm module: ${err.message}`);
  }
}
