// The process side of a capOS ring, written again in JavaScript from
// docs/ring.md and the generated layout, independently of capos-config's
// Rust: the SQ producer and the CQ consumer. Counters are free-running u32s
// (`>>> 0` after every sum); each side keeps the index it owns privately and
// only ever stores it. Entries and data are plain typed-array writes, made
// visible by the Atomics.store of the index (Atomics are sequentially
// consistent, so that store publishes everything written before it).

import {
  SQ_HEAD, SQ_TAIL, CQ_HEAD, CQ_TAIL, CQ_DOORBELL, SQ_ENTRIES, CQ_ENTRIES, SQE_SIZE, CQE_SIZE,
  SQ_ARRAY, CQ_ARRAY, SQ_DATA, CQ_DATA, SLOT_DATA_SIZE, RING_SIZE, RING_MAGIC, RING_VERSION,
  MAGIC, VERSION, FLAGS,
} from '/generated/abi.js';

export class RingViolation extends Error {}

const word = (offset) => offset >>> 2;

// Writes a fresh ring header with all four counters at `start`.
export function initRing(ring, start) {
  if (ring.byteLength !== RING_SIZE) throw new RangeError(`ring is ${ring.byteLength} bytes, not ${RING_SIZE}`);
  const words = new Int32Array(ring);
  for (const offset of [SQ_HEAD, SQ_TAIL, CQ_HEAD, CQ_TAIL]) Atomics.store(words, word(offset), start);
  Atomics.store(words, word(CQ_DOORBELL), 0);
  Atomics.store(words, word(FLAGS), 0);
  Atomics.store(words, word(VERSION), RING_VERSION);
  Atomics.store(words, word(MAGIC), RING_MAGIC);
}

// Reads a counter (u32) from the ring.
export const loadCounter = (words, offset) => Atomics.load(words, word(offset)) >>> 0;

export class SqProducer {
  constructor(ring, start) {
    this.words = new Int32Array(ring);
    this.bytes = new Uint8Array(ring);
    this.view = new DataView(ring);
    this.tail = start >>> 0; // next counter to fill
    this.published = start >>> 0;
  }

  // Free entries, given the kernel's head as it is now.
  free() {
    const head = loadCounter(this.words, SQ_HEAD);
    const used = (this.tail - head) >>> 0;
    if (used > SQ_ENTRIES) throw new RingViolation(`SQ head ${head} is not within ${SQ_ENTRIES} of tail ${this.tail}`);
    return SQ_ENTRIES - used;
  }

  // Writes `sqe` and its params (payload(bytes, at) writes them and returns
  // their length) into the next slot, unpublished. False if the SQ is full.
  push(sqe, payload) {
    if (this.free() === 0) return false;
    const slot = this.tail & (SQ_ENTRIES - 1);
    const len = payload(this.bytes, SQ_DATA + slot * SLOT_DATA_SIZE);
    if (len !== sqe.dataLen || len > SLOT_DATA_SIZE) throw new RangeError(`params of ${len} bytes for an SQE saying ${sqe.dataLen}`);
    const at = SQ_ARRAY + slot * SQE_SIZE;
    const v = this.view;
    v.setUint32(at, sqe.userData[0], true);
    v.setUint32(at + 4, sqe.userData[1], true);
    v.setUint32(at + 8, sqe.interfaceId[0], true);
    v.setUint32(at + 12, sqe.interfaceId[1], true);
    v.setUint32(at + 16, sqe.capId, true);
    v.setUint16(at + 20, sqe.method, true);
    v.setUint8(at + 22, sqe.opcode);
    v.setUint8(at + 23, sqe.flags);
    v.setUint32(at + 24, len, true);
    v.setUint32(at + 28, 0, true); // reserved: the kernel refuses junk here
    this.tail = (this.tail + 1) >>> 0;
    return true;
  }

  // Publishes every pushed entry with one store; returns how many.
  submit() {
    const n = (this.tail - this.published) >>> 0;
    if (n > 0) {
      Atomics.store(this.words, word(SQ_TAIL), this.tail);
      this.published = this.tail;
    }
    return n;
  }
}

export class CqConsumer {
  constructor(ring, start) {
    this.words = new Int32Array(ring);
    this.bytes = new Uint8Array(ring);
    this.view = new DataView(ring);
    this.head = start >>> 0; // next counter to read
    this.released = start >>> 0;
  }

  // Completions posted and not yet taken.
  pending() {
    const tail = loadCounter(this.words, CQ_TAIL);
    const n = (tail - this.head) >>> 0;
    if (n > CQ_ENTRIES) throw new RingViolation(`CQ tail ${tail} is not within ${CQ_ENTRIES} of head ${this.head}`);
    return n;
  }

  // The next completion, if pending() said there is one: its fields and
  // where its data lies in `bytes`. The slot stays ours until release().
  take() {
    const slot = this.head & (CQ_ENTRIES - 1);
    const at = CQ_ARRAY + slot * CQE_SIZE;
    const v = this.view;
    let reserved = 0;
    for (let r = 20; r < CQE_SIZE; r += 4) reserved |= v.getUint32(at + r, true);
    const cqe = {
      counter: this.head,
      userData: [v.getUint32(at, true), v.getUint32(at + 4, true)],
      result: v.getInt32(at + 8, true),
      dataLen: v.getUint32(at + 12, true),
      flags: v.getUint32(at + 16, true),
      reservedClear: reserved === 0,
      dataAt: CQ_DATA + slot * SLOT_DATA_SIZE,
    };
    this.head = (this.head + 1) >>> 0;
    return cqe;
  }

  // Hands every taken slot back to the kernel with one store.
  release() {
    if (this.head !== this.released) {
      Atomics.store(this.words, word(CQ_HEAD), this.head);
      this.released = this.head;
    }
  }
}
