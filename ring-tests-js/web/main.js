// The ring tests page: creates one ring, starts the JavaScript peer and the
// Rust/wasm peer in their own Workers, runs the SQ phase (JavaScript
// produces, Rust consumes) then the CQ phase (Rust produces, JavaScript
// consumes), and reports through __caposReport and the DOM. A phase that
// does not finish before the deadline is reported with what each peer is
// blocked on and where the ring's counters stand.

import { RING_SIZE, SQ_HEAD, SQ_TAIL, CQ_HEAD, CQ_TAIL, CQ_DOORBELL } from '/generated/abi.js';
import { initRing, loadCounter } from './ring.js';
import { STATUS_BYTES, PEER_JS, PEER_WASM, PEER_NAMES, describePeer } from './status.js';

// Every counter starts here, so all four cross 2^32 early in their phase.
const START = 0xffff_ff00;
const DEFAULT_COUNTS = { sq: 2_000_000, cq: 1_000_000 };
// For both phases together; the node test allows a little more.
const DEADLINE_MS = 100_000;

const logEl = document.getElementById('log');
const verdictEl = document.getElementById('verdict');
const log = (line) => { logEl.textContent += `${line}\n`; };

function u32Param(params, name, fallback) {
  if (!params.has(name)) return fallback;
  const text = params.get(name).trim();
  const value = Number(text);
  if (text === '' || !Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw new RangeError(`?${name}=${params.get(name)} is not a u32`);
  }
  return value;
}

function report(result) {
  verdictEl.dataset.state = result.ok ? 'passed' : 'failed';
  verdictEl.textContent = result.ok
    ? `passed (seed ${result.seed})`
    : `FAILED (seed ${result.seed}; replay with ${result.replay})`;
  for (const e of result.errors) log(`error: ${e}`);
  globalThis.__caposReport?.({ kind: 'ringTests', ...result });
}

// A Worker and a way to send it a message and await its next answer.
function startPeer(url, peer) {
  const worker = new Worker(new URL(url, import.meta.url), { type: 'module', name: `ring tests: ${PEER_NAMES[peer]}` });
  let pending = null;
  const fail = (error) => { pending?.resolve({ ok: false, error }); pending = null; };
  worker.onmessage = ({ data }) => {
    if (data.type === 'failed') fail(data.error);
    else { pending?.resolve({ ok: true, ...data }); pending = null; }
  };
  worker.onerror = (event) => fail(`${PEER_NAMES[peer]} Worker error: ${event.message}`);
  return {
    worker,
    call(message) {
      return new Promise((resolve) => { pending = { resolve }; worker.postMessage(message); });
    },
  };
}

// Resolves with every peer's answer, or as soon as one fails (the other is
// then likely asleep waiting for it), or with `null` at the deadline.
function settle(calls, deadline) {
  return new Promise((resolve) => {
    const results = new Array(calls.length);
    let left = calls.length;
    const timer = setTimeout(() => resolve(null), Math.max(0, deadline - performance.now()));
    calls.forEach((call, i) => call.then((r) => {
      results[i] = r;
      if (!r.ok || --left === 0) { clearTimeout(timer); resolve(results); }
    }));
  });
}

function ringState(words, wake) {
  const c = (offset) => loadCounter(words, offset).toString(16).padStart(8, '0');
  return `SQ head 0x${c(SQ_HEAD)} tail 0x${c(SQ_TAIL)}, CQ head 0x${c(CQ_HEAD)} tail 0x${c(CQ_TAIL)}, `
    + `CQ doorbell ${loadCounter(words, CQ_DOORBELL)}, kernel wake word ${Atomics.load(wake, 0) >>> 0}`;
}

async function run(seed, counts, replay) {
  const result = { ok: false, seed, start: START, replay, errors: [] };
  if (!globalThis.crossOriginIsolated) {
    result.errors.push('the page is not cross-origin isolated (COOP/COEP headers missing): no SharedArrayBuffer');
    return result;
  }
  result.crossOriginIsolated = true;
  const ring = new SharedArrayBuffer(RING_SIZE);
  initRing(ring, START);
  const words = new Int32Array(ring);
  const wake = new Int32Array(new SharedArrayBuffer(4));
  const status = new SharedArrayBuffer(STATUS_BYTES);
  const js = startPeer('./js-peer.js', PEER_JS);
  const wasm = startPeer('./wasm-peer.js', PEER_WASM);
  const deadline = performance.now() + DEADLINE_MS;
  try {
    const wasmUrl = new URL('./ring_tests_js.wasm', import.meta.url).href;
    const starts = [
      js.call({ type: 'init', ring, wake: wake.buffer, status }),
      wasm.call({ type: 'init', ring, wake: wake.buffer, status, wasmUrl }),
    ];
    const started = [false, false];
    starts.forEach((start, i) => start.then(() => { started[i] = true; }));
    const ready = await settle(starts, deadline);
    if (ready === null) {
      // Name the peer that never answered (its Worker script or, for the
      // wasm peer, ring_tests_js.wasm did not load).
      [PEER_JS, PEER_WASM].forEach((peer, i) => {
        if (!started[i]) result.errors.push(`the ${PEER_NAMES[peer]} peer did not start within ${DEADLINE_MS} ms`);
      });
    }
    for (const r of ready ?? []) {
      if (r && !r.ok) result.errors.push(r.error);
    }
    if (result.errors.length) return result;

    const phases = [
      { key: 'sq', name: 'SQ: JavaScript produces, Rust/wasm consumes', js: 'produceSq', wasm: 'consumeSq', producer: 'js', tail: SQ_TAIL, head: SQ_HEAD },
      { key: 'cq', name: 'CQ: Rust/wasm produces, JavaScript consumes', js: 'consumeCq', wasm: 'produceCq', producer: 'wasm', tail: CQ_TAIL, head: CQ_HEAD },
    ];
    for (const p of phases) {
      const count = counts[p.key];
      log(`${p.name}: ${count} entries…`);
      const t0 = performance.now();
      const message = (role) => ({ type: 'run', role, count, seed, start: START });
      const answers = await settle([js.call(message(p.js)), wasm.call(message(p.wasm))], deadline);
      const ms = performance.now() - t0;
      if (answers === null) {
        result.stuck = `${p.name}: no result within ${DEADLINE_MS} ms. `
          + `${describePeer(status, PEER_JS)}; ${describePeer(status, PEER_WASM)}; ${ringState(words, wake)}`;
        result.errors.push(result.stuck);
        return result;
      }
      const [jsAnswer, wasmAnswer] = answers;
      for (const [peer, answer] of [[PEER_JS, jsAnswer], [PEER_WASM, wasmAnswer]]) {
        if (answer && !answer.ok) result.errors.push(`${p.name}: ${PEER_NAMES[peer]}: ${answer.error}`);
      }
      if (result.errors.length) {
        result.errors.push(`ring at failure: ${ringState(words, wake)}`);
        return result;
      }
      const end = (START + count) >>> 0;
      const head = loadCounter(words, p.head);
      const tail = loadCounter(words, p.tail);
      if (head !== end || tail !== end) {
        result.errors.push(`${p.name}: both peers finished but head 0x${head.toString(16)} / tail 0x${tail.toString(16)} `
          + `are not start + ${count} = 0x${end.toString(16)}`);
        return result;
      }
      const producer = p.producer === 'js' ? jsAnswer : wasmAnswer;
      const consumer = p.producer === 'js' ? wasmAnswer : jsAnswer;
      const payloadBytes = jsAnswer.stats.payloadBytes;
      const figures = {
        entries: count,
        ms: Math.round(ms),
        entriesPerSecond: Math.round(count / (ms / 1000)),
        payloadMiBPerSecond: +((payloadBytes / 2 ** 20) / (ms / 1000)).toFixed(1),
        payloadBytes,
        // The counter ended below where it started: it crossed 2^32 mid-phase.
        wrapped: tail < START,
        finalCounter: tail,
        producer: producer.stats,
        consumer: consumer.stats,
      };
      result[p.key] = figures;
      log(`  ${figures.ms} ms, ${figures.entriesPerSecond} entries/s, ${figures.payloadMiBPerSecond} MiB/s of payload; `
        + `counter wrapped: ${figures.wrapped}; producer found the queue full ${producer.stats.full} times`);
      log(`  producer ${JSON.stringify(producer.stats)}`);
      log(`  consumer ${JSON.stringify(consumer.stats)}`);
    }
    result.ok = true;
    return result;
  } finally {
    js.worker.terminate();
    wasm.worker.terminate();
    // A Worker blocked in Atomics.wait lingers after terminate() until woken.
    for (const offset of [SQ_HEAD, SQ_TAIL, CQ_HEAD, CQ_DOORBELL]) Atomics.notify(words, offset >>> 2);
    Atomics.notify(wake, 0);
  }
}

async function main() {
  const params = new URLSearchParams(location.search);
  let seed = null;
  try {
    seed = u32Param(params, 'seed', crypto.getRandomValues(new Uint32Array(1))[0]);
    const counts = { sq: u32Param(params, 'sq', DEFAULT_COUNTS.sq), cq: u32Param(params, 'cq', DEFAULT_COUNTS.cq) };
    const replay = `?seed=${seed}` + (counts.sq !== DEFAULT_COUNTS.sq ? `&sq=${counts.sq}` : '')
      + (counts.cq !== DEFAULT_COUNTS.cq ? `&cq=${counts.cq}` : '');
    log(`seed ${seed} (replay: ${replay}); counters start at 0x${START.toString(16)}`);
    report(await run(seed, counts, replay));
  } catch (err) {
    report({ ok: false, seed, replay: seed === null ? '' : `?seed=${seed}`, errors: [`harness error: ${err.stack || err}`] });
  }
}

main();
