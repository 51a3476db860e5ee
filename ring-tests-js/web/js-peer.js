// The JavaScript peer (a Worker): plays the process side of the ring with
// ring.js, producing SQEs for the Rust/wasm peer to check and checking the
// CQEs it posts. Blocks in Atomics.wait, without a timeout, when it cannot
// go on; the page's overall timeout is what catches a deadlock.

import { SQ_HEAD, CQ_HEAD, CQ_DOORBELL, CQ_WAITING, CQ_ENTRIES } from '/generated/abi.js';
import { SqProducer, CqConsumer, RingViolation } from './ring.js';
import {
  STREAM_SQ_PRODUCER, STREAM_CQ_CONSUMER, entryKey, writePayload, payloadMismatch, expectedPayloadByte,
  sqeFor, cqeFor, mulberry32, batchSize,
} from './pattern.js';
import { PeerStatus, PEER_JS } from './status.js';

// On average one drain in this many is followed by waiting for the CQ to
// fill up completely before draining again (as on the Rust side).
const FILL_ONE_IN = 32;

class Mismatch extends Error {}

let ring;
let ringWords;
let wakeWord;
let status;

self.onmessage = ({ data }) => {
  if (data.type === 'init') {
    ({ ring } = data);
    ringWords = new Int32Array(ring);
    wakeWord = new Int32Array(data.wake);
    status = new PeerStatus(data.status, PEER_JS);
    self.postMessage({ type: 'ready' });
    return;
  }
  const { role, count, seed, start } = data;
  const stats = { waits: 0, full: 0, batches: 0, fills: 0, payloadBytes: 0 };
  const t0 = performance.now();
  status.running();
  try {
    if (role === 'produceSq') produceSq(count, seed, start, stats);
    else if (role === 'consumeCq') consumeCq(count, seed, start, stats);
    else throw new Error(`unknown role ${role}`);
    self.postMessage({ type: 'done', ok: true, stats, ms: performance.now() - t0 });
  } catch (err) {
    const kind = err instanceof Mismatch ? 'mismatch' : err instanceof RingViolation ? 'ring violation' : 'error';
    self.postMessage({ type: 'done', ok: false, error: `${kind}: ${err.message}`, stats, ms: performance.now() - t0 });
  } finally {
    status.idle();
  }
};

// What a process does after publishing SQEs: bump the kernel's wake word and notify it.
function wakeKernel() {
  Atomics.add(wakeWord, 0, 1);
  Atomics.notify(wakeWord, 0);
}

function produceSq(count, seed, start, stats) {
  const sq = new SqProducer(ring, start);
  const random = mulberry32(seed ^ STREAM_SQ_PRODUCER);
  let next = 0;
  while (next < count) {
    const size = Math.min(batchSize(random), count - next);
    for (let i = 0; i < size; i++, next++) {
      const key = entryKey(seed, next);
      const sqe = sqeFor(key, next);
      const payload = (bytes, at) => writePayload(bytes, at, key);
      stats.payloadBytes += sqe.dataLen;
      if (sq.push(sqe, payload)) continue;
      stats.full++;
      // Publish what is queued and wake the kernel before sleeping, or both sides sleep.
      if (sq.submit() > 0) wakeKernel();
      for (;;) {
        const head = Atomics.load(ringWords, SQ_HEAD >>> 2);
        if (sq.free() > 0) break;
        stats.waits++;
        status.wait(ringWords, SQ_HEAD >>> 2, head, SQ_HEAD);
      }
      if (!sq.push(sqe, payload)) throw new RingViolation('SQ still full after the kernel freed a slot');
    }
    sq.submit();
    wakeKernel();
    stats.batches++;
  }
}

function consumeCq(count, seed, start, stats) {
  const cq = new CqConsumer(ring, start);
  const random = mulberry32(seed ^ STREAM_CQ_CONSUMER);
  let next = 0;
  let fill = false;
  while (next < count) {
    // Read the doorbell before looking at the CQ, as cap_enter does: a
    // completion posted after the look changes it, so the wait returns.
    const seen = Atomics.load(ringWords, CQ_DOORBELL >>> 2);
    const pending = cq.pending();
    const wanted = fill ? Math.min(CQ_ENTRIES, count - next) : 1;
    if (pending < wanted) {
      stats.waits++;
      // The kernel side notifies only a process that raised CQ_WAITING.
      Atomics.store(ringWords, CQ_WAITING >>> 2, 1);
      status.wait(ringWords, CQ_DOORBELL >>> 2, seen, CQ_DOORBELL);
      Atomics.store(ringWords, CQ_WAITING >>> 2, 0);
      continue;
    }
    fill = false;
    const n = Math.min(batchSize(random), pending, count - next);
    for (let i = 0; i < n; i++, next++) stats.payloadBytes += checkCqe(cq.take(), cq.bytes, seed, next);
    cq.release();
    // The kernel may be asleep on a full CQ.
    Atomics.notify(ringWords, CQ_HEAD >>> 2);
    stats.batches++;
    if (random() % FILL_ONE_IN === 0) {
      fill = true;
      stats.fills++;
    }
  }
  const extra = cq.pending();
  if (extra !== 0) throw new Mismatch(`${extra} CQE(s) posted beyond the ${count} sent`);
}

function checkCqe(got, bytes, seed, seq) {
  const key = entryKey(seed, seq);
  const want = cqeFor(key, seq);
  const where = `CQE ${seq} (counter 0x${got.counter.toString(16).padStart(8, '0')}, slot ${got.counter & (CQ_ENTRIES - 1)})`;
  const same = got.userData[0] === want.userData[0] && got.userData[1] === want.userData[1]
    && got.result === want.result && got.dataLen === want.dataLen && got.flags === want.flags;
  if (!same || !got.reservedClear) {
    const show = (c) => JSON.stringify({ userData: c.userData, result: c.result, dataLen: c.dataLen, flags: c.flags });
    throw new Mismatch(`${where}: got ${show(got)}${got.reservedClear ? '' : ' with junk in its reserved bytes'}, expected ${show(want)}`);
  }
  const bad = payloadMismatch(bytes, got.dataAt, got.dataLen, key);
  if (bad >= 0) {
    throw new Mismatch(`${where}: payload byte ${bad} of ${got.dataLen} is 0x${bytes[got.dataAt + bad].toString(16)}, `
      + `expected 0x${expectedPayloadByte(key, bad).toString(16)}`);
  }
  return got.dataLen;
}
