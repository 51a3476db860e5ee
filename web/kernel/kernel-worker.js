// The kernel Worker: loads the Rust kernel, boots the manifest the page asked
// for, and runs the kernel's event loop. Every decision is the kernel's
// (Rust); this file only waits and forwards.

import init, { Kernel } from '../pkg/capos_kernel_wasm.js';
import { ProcessHost, prewarm } from './process-host.js';
import { checkPageMessage } from '../shared/messages.js';
import { StoreHost, storeBackend } from './store-host.js';

// Loading starts with the Worker, not with the boot request: a page standing
// by for a warm `capos run` has the kernel compiled before it is asked.
const kernelLoaded = init();
kernelLoaded.catch(() => {}); // A failure is reported by the boot that awaits it.
let booted = false;
let running = null; // { kernel, host } once booted
const earlyInput = []; // input that arrived before the kernel was up
// What the page's inspector shows (it may change its mind before the boot).
let inspect = { graph: false, trace: false };

self.onmessage = (event) => {
  const message = event.data;
  const problem = checkPageMessage(message);
  if (problem) {
    self.postMessage({ type: 'bootError', message: `kernel refused a message from the page: ${problem}` });
    return;
  }
  if (message.type === 'inspect') {
    inspect = { graph: message.graph, trace: message.trace };
    if (running && !running.host.dead) running.kernel.setInspect(inspect.graph, inspect.trace);
    return;
  }
  if (message.type === 'boot' || message.type === 'bootWasi' || message.type === 'bootProject') {
    if (booted) return;
    if (message.inspect) inspect = { graph: message.inspect.graph, trace: message.inspect.trace };
    booted = true;
    boot(message).catch((err) => {
      self.postMessage({ type: 'panic', message: `kernel Worker failed: ${err?.stack || err}` });
    });
    return;
  }
  if (message.type === 'netConnect') {
    connect(message);
    return;
  }
  if (message.type === 'prewarm') {
    if (!booted) prewarm({ shim: message.shim === true });
    return;
  }
  if (message.type === 'netConnector') {
    // The preview's service worker asks for connections here directly,
    // without a hop through the page for each: {t: 'connect', port} with
    // the connection's MessagePort.
    message.channel.onmessage = (event) => {
      const request = event.data;
      const channel = event.ports?.[0];
      if (!(channel instanceof MessagePort)) return;
      if (request?.t !== 'connect' || !Number.isInteger(request.port) || request.port < 1 || request.port > 65535) {
        channel.postMessage({ t: 'refused', message: 'malformed connection request' });
        channel.close();
        return;
      }
      connect({ port: request.port, peer: 'preview', channel });
    };
    return;
  }
  if (FILE_REQUESTS.has(message.type)) {
    fileRequest(message);
    return;
  }
  if (PAGE_ANSWERS.has(message.type)) {
    // Answers to the kernel's own requests: none can come before the boot.
    if (running && !running.host.dead) running.host.page.answer(message);
    return;
  }
  if (running) deliverInput(running, message);
  else earlyInput.push(message);
};

const PAGE_ANSWERS = new Set(['clipboardResult', 'displayDrawn', 'displayEvent']);
const FILE_REQUESTS = new Set(['watchFiles', 'editFiles', 'readFiles']);

// The page's own store, held for its file browser: 'none' (the boot has
// no page or grants it to a program), 'wanted', 'loading', 'held'.
let pageHome = 'none';

function storeProblem(stores, name, err) {
  return `cannot open the persistent directory "${name}" (${stores.kind}): ${err?.message ?? err}`;
}

async function showHome() {
  if (pageHome !== 'wanted' || !running) return;
  pageHome = 'loading';
  const { kernel, host, stores } = running;
  try {
    await stores.load(kernel, 'home');
    if (host.dead) return;
    kernel.attachStores();
    pageHome = 'held';
  } catch (err) {
    self.postMessage({ type: 'storeFailed', store: 'home', message: storeProblem(stores, 'home', err) });
  }
}

// The page's file browser: views while it is shown, and a person's edits
// (an upload is a run of writes, then `flush` commits them at once). Each
// request with an id gets one `filesAnswer`.
let filesWatched = false;
function fileRequest(message) {
  if (message.type === 'watchFiles') {
    filesWatched = message.on;
    if (running && !running.host.dead) {
      running.kernel.watchFiles(message.on);
      if (message.on) showHome();
    }
    return;
  }
  const answer = (fields, transfer = []) => self.postMessage({ type: 'filesAnswer', id: message.id, ...fields }, transfer);
  if (!running || running.host.dead) {
    answer({ ok: false, message: 'the system is not running' });
    return;
  }
  const { kernel } = running;
  try {
    if (message.type === 'readFiles') {
      const entries = kernel.readFiles(message.mount, message.path);
      answer({ ok: true, entries }, entries.map((e) => e.data.buffer));
      return;
    }
    const failures = [];
    for (const edit of message.edits) {
      try {
        kernel.editFiles(edit.op, message.mount, edit.path, edit.to ?? '', edit.data ?? new Uint8Array());
      } catch (err) {
        failures.push(err.message);
      }
    }
    kernel.flushFiles();
    answer({ ok: failures.length === 0, message: failures.slice(0, 20).join('\n'), failed: failures.length });
  } catch (err) {
    answer({ ok: false, message: String(err?.message ?? err) });
  }
}

// A connection to one of the system's ports (the preview, or `capos run
// --tcplisten`): its MessagePort goes to the kernel's network host.
function connect({ port, peer, channel }) {
  if (!running || running.host.dead) {
    channel.postMessage({ t: 'refused', message: 'no capOS system is running' });
    channel.close();
    return;
  }
  running.host.net.connect(running.kernel, port, peer, channel);
}

function deliverInput({ kernel, host }, message) {
  if (host.dead) return;
  try {
    if (message.type === 'stdin') kernel.consoleInput(message.data);
    else kernel.consoleEof();
  } catch (err) {
    host.kernelDied(err);
  }
}

async function boot(request) {
  await kernelLoaded;
  // The kernel's doorbell: processes bump and notify it after publishing
  // SQEs; the kernel sleeps on it with Atomics.waitAsync when idle. One word
  // for all processes, so the kernel never has more than one waiter.
  // Word 1 is 1 while the kernel sleeps on word 0: processes notify only then.
  const wake = new Int32Array(new SharedArrayBuffer(8));
  const stores = new StoreHost(storeBackend(request.store), (action) => host.reply(action));
  const host = new ProcessHost(wake, (event, transfer = []) => {
    if (event.type === 'trace') measureCalls(event.calls);
    // The system is down only once what it stored has landed: a page
    // reloaded at "halted" must find every committed change, and `capos run`
    // every changed file it writes back. What the persistent mounts hold is
    // reported as storage has it, read back.
    if (event.type === 'halted') {
      outbox = outbox.then(() => Promise.all([stores.settled(), host.hostFiles.settled()]))
        .then(() => self.postMessage(event, transfer));
    } else if (event.type === 'filesystems' && request.readBack && event.mounts.some((m) => m.store)) {
      outbox = outbox.then(() => storedFilesystems(stores, event)).then((e) => self.postMessage(e));
    } else {
      self.postMessage(event, transfer);
    }
  }, stores);
  self.__caposState.rings = () => host.ringStates();
  self.__caposState.wake = () => [Atomics.load(wake, 0), Atomics.load(wake, 1)];
  const kernel = new Kernel(host);
  host.attach(kernel);
  kernel.setInspect(inspect.graph, inspect.trace);
  // For a test that checks no capability id reaches the page: it reads the
  // ids from inside this Worker, which holds them anyway.
  self.__caposKernel = kernel;
  let manifest;
  if (request.type === 'bootWasi') {
    manifest = Kernel.wasiManifest(request.name, request.program ?? new Uint8Array(), request.runtime ?? '', request.argv,
      request.env, request.file?.name ?? '', request.file?.data ?? new Uint8Array(), request.home === true);
  } else if (request.type === 'bootProject') {
    manifest = projectManifest(request);
  } else {
    manifest = await fetchManifest(request.manifestUrl);
  }
  if (!manifest) return;
  // The stores the manifest mounts must load, or it does not boot. The
  // page's own "home", when no program is granted it, loads only once the
  // file browser is shown (`showHome`): a boot does not wait for it.
  const needed = new Set(Kernel.storesOf(manifest));
  for (const name of needed) {
    try {
      await stores.load(kernel, name);
    } catch (err) {
      self.postMessage({ type: 'bootError', message: storeProblem(stores, name, err) });
      return;
    }
  }
  pageHome = request.home && !needed.has('home') ? 'wanted' : 'none';
  try {
    kernel.boot(manifest);
  } catch {
    return; // The kernel has reported a bootError with its reason.
  }
  if (request.type === 'bootProject') {
    // Into the project's folder (granted as /project) before its program
    // can run: the program's Worker is still starting.
    const failed = [];
    for (const file of request.files) {
      try {
        kernel.editFiles('write', 0, file.path, '', file.data);
      } catch (err) {
        failed.push(err.message);
      }
    }
    kernel.flushFiles();
    if (failed.length) {
      self.postMessage({ type: 'storeFailed', store: 'home', message: `${failed.length} of the project's files were not copied: ${failed.slice(0, 5).join('; ')}` });
    }
  }
  running = { kernel, host, stores };
  if (filesWatched) {
    kernel.watchFiles(true);
    showHome();
  }
  for (const message of earlyInput.splice(0)) deliverInput(running, message);
  // Process states change without any call (a process falls asleep in
  // cap_enter); the kernel looks this often, and flushes the call trace.
  const ticker = setInterval(() => {
    if (host.dead || kernel.isHalted()) return;
    try {
      kernel.tick();
    } catch (err) {
      host.kernelDied(err);
    }
  }, TICK_MS);
  try {
    await run(kernel, wake, host);
  } finally {
    clearInterval(ticker);
  }
}

const TICK_MS = 100;

// Events that wait for storage, in the order the kernel sent them.
let outbox = Promise.resolve();

async function storedFilesystems(stores, event) {
  await stores.settled();
  const mounts = [];
  for (const m of event.mounts) {
    if (!m.store) {
      mounts.push(m);
      continue;
    }
    try {
      mounts.push(await stores.snapshot(Kernel, m.store, m.guest, m.storePath));
    } catch (err) {
      self.postMessage({ type: 'storeFailed', store: m.store, message: `cannot read it back: ${err?.message ?? err}` });
      mounts.push(m);
    }
  }
  return { ...event, mounts };
}

// The traced calls on this Worker's track in DevTools' Performance panel, as
// "pid 3 Endpoint.call 41 us". The entries are cleared at once: the panel
// records them as they are made, and a long trace must not fill the buffer.
function measureCalls(calls) {
  for (const c of calls) {
    const outcome = c.outcome === 'ok' ? '' : ` ${c.outcome}`;
    const name = `pid ${c.pid} ${c.interface}.${c.method} ${Math.round(c.durUs)} us${outcome}`;
    try {
      performance.measure(name, { start: c.startMs, end: c.startMs + c.durUs / 1000 });
    } catch {
      // A start before this Worker's time origin (cannot happen) is not worth a failure.
    }
  }
  performance.clearMeasures();
}

// A project folder's manifest, from what its files say it is; or null
// after reporting why it cannot run (the files looked for).
function projectManifest({ name, files, args, env }) {
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const textPaths = [];
  const texts = [];
  for (const file of files) {
    if (file.path !== 'package.json' && file.path !== 'pyproject.toml') continue;
    try {
      texts.push(utf8.decode(file.data));
      textPaths.push(file.path);
    } catch {
      // Not UTF-8: detection says it cannot read it.
    }
  }
  let plan;
  try {
    plan = Kernel.projectPlan(name, files.map((f) => f.path), textPaths, texts);
  } catch (err) {
    self.postMessage({ type: 'bootError', message: err.message });
    return null;
  }
  const module = plan.wasm ? files.find((f) => f.path === plan.wasm).data : new Uint8Array();
  const program = plan.runtime || plan.wasm;
  self.postMessage({ type: 'project', name, language: plan.language, command: [program, ...plan.args, ...args].join(' ') });
  return Kernel.projectManifest(name, module, plan.runtime, [program, ...plan.args, ...args], [...plan.env, ...env]);
}

// The manifest's bytes, or null after reporting why there are none.
async function fetchManifest(manifestUrl) {
  const url = new URL(manifestUrl, self.location.href);
  if (url.origin !== self.location.origin) {
    self.postMessage({ type: 'bootError', message: `manifest ${url} is not on this origin; refusing to boot it` });
    return null;
  }
  let response;
  try {
    response = await fetch(url);
  } catch (err) {
    self.postMessage({ type: 'bootError', message: `cannot fetch manifest ${url}: ${err}` });
    return null;
  }
  if (!response.ok) {
    self.postMessage({ type: 'bootError', message: `manifest ${url.pathname}: HTTP ${response.status} ${response.statusText}` });
    return null;
  }
  return new Uint8Array(await response.arrayBuffer());
}

// Yields to the event loop so Worker messages (exits, panics) get handled,
// without setTimeout's 4 ms clamp.
const channel = new MessageChannel();
const resumers = [];
channel.port1.onmessage = () => resumers.shift()?.();
const nextTask = () => new Promise((resolve) => { resumers.push(resolve); channel.port2.postMessage(0); });

// After the last piece of work, keep watching the doorbell this long before
// sleeping: a process that calls again at once (the common case in a call
// loop) is then served without a waitAsync wake-up, which costs 5-10 us.
const IDLE_SPIN_MS = 0.3;
// The longest the kernel sleeps without looking at the rings. The wake-up
// protocol loses no wake-up (loom checks it), so this only bounds what a
// lost one would cost -- a hang becomes a 50 ms stall -- for a few idle
// polls a second.
const MAX_SLEEP_MS = 50;

// However busy, the loop lets Worker messages (exits, panics, input) in this
// often: by time, not by rounds, since a round may be one call or 256.
const YIELD_EVERY_MS = 4;

// What the loop is doing, for a driver to read when a boot stalls.
self.__caposState = { stage: 'loaded', rounds: 0, lastRoundMs: 0 };

async function run(kernel, wake, host) {
  let lastYield = performance.now();
  const state = self.__caposState;
  state.stage = 'running';
  while (!host.dead && !kernel.isHalted()) {
    state.rounds++;
    let now = performance.now();
    state.lastRoundMs = Math.round(now);
    // Whatever the rings are doing, let Worker messages in this often.
    if (now - lastYield > YIELD_EVERY_MS) {
      await nextTask();
      now = performance.now();
      lastYield = now;
    }
    // Read the doorbell before polling: a process that publishes after the
    // poll looked at its ring has changed the word, so the wait returns.
    const seen = Atomics.load(wake, 0);
    let busy;
    try {
      // The round's time: timers and the call trace use it.
      busy = kernel.poll(now);
    } catch (err) {
      host.kernelDied(err);
      return;
    }
    if (busy) continue;
    const spinUntil = performance.now() + IDLE_SPIN_MS;
    while (Atomics.load(wake, 0) === seen && performance.now() < spinUntil);
    if (Atomics.load(wake, 0) !== seen) continue;
    // Sleep until a process rings, or the next timer is due. Raise the
    // sleeping flag first: a process that bumps the word after this store
    // sees it and notifies, and one that bumped it before makes waitAsync
    // return at once (Atomics are sequentially consistent).
    const deadline = kernel.nextDeadlineMs();
    Atomics.store(wake, 1, 1);
    const wait = Atomics.waitAsync(wake, 0, seen, Math.min(deadline ?? Infinity, MAX_SLEEP_MS));
    if (wait.async) {
      await wait.value;
      lastYield = performance.now();
    }
    Atomics.store(wake, 1, 0);
  }
  state.stage = host.dead ? 'dead' : 'halted';
}
