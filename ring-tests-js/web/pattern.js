// What entry `seq` of a run with seed `seed` contains: the same derivations
// as ring-tests-js/src/pattern.rs, so each side checks the other's entries
// from the seed alone. Every field and payload byte depends on a per-entry
// key, so a lost, repeated, stale or torn entry does not match.
// All arithmetic is on u32 (`>>> 0`, Math.imul), as in Rust.

import { SLOT_DATA_SIZE, OP_CALL } from '/generated/abi.js';

// Random streams, one per role (the Rust roles use 0x5143_0002, 0x4350_0003).
export const STREAM_SQ_PRODUCER = 0x5350_0001;
export const STREAM_CQ_CONSUMER = 0x4343_0004;

const GOLDEN = 0x9e37_79b9;

// murmur3's 32-bit finalizer.
export function fmix32(h) {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85eb_ca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2_ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export const entryKey = (seed, seq) => fmix32((seed ^ fmix32((seq + GOLDEN) >>> 0)) >>> 0);

// 0..=SLOT_DATA_SIZE, mostly short (see pattern.rs).
export function payloadLen(key) {
  const pick = key & 63;
  const spread = key >>> 6;
  if (pick === 0) return 0;
  if (pick === 1) return SLOT_DATA_SIZE;
  if (pick < 40) return spread % 33;
  if (pick < 60) return spread % 257;
  return spread % (SLOT_DATA_SIZE + 1);
}

// Payload word `j` is key ^ (j + 1) * golden, stored little-endian.
const payloadWord = (key, j) => (key ^ Math.imul(j + 1, GOLDEN)) >>> 0;

// Writes the payload of the entry keyed `key` at bytes[at..]; returns its length.
export function writePayload(bytes, at, key) {
  const len = payloadLen(key);
  for (let i = 0; i < len; i += 4) {
    const word = payloadWord(key, i >>> 2);
    const n = Math.min(4, len - i);
    for (let b = 0; b < n; b++) bytes[at + i + b] = (word >>> (8 * b)) & 0xff;
  }
  return len;
}

// The index of the first byte of bytes[at..at+len] that is not the payload
// of the entry keyed `key`, or -1.
export function payloadMismatch(bytes, at, len, key) {
  for (let i = 0; i < len; i += 4) {
    const word = payloadWord(key, i >>> 2);
    const n = Math.min(4, len - i);
    for (let b = 0; b < n; b++) if (bytes[at + i + b] !== ((word >>> (8 * b)) & 0xff)) return i + b;
  }
  return -1;
}

export const expectedPayloadByte = (key, i) => (payloadWord(key, i >>> 2) >>> (8 * (i & 3))) & 0xff;

const rotr = (x, n) => ((x >>> n) | (x << (32 - n))) >>> 0;

// The SQE entry `seq` carries; u64 fields as [low, high] u32 halves.
export function sqeFor(key, seq) {
  return {
    userData: [seq >>> 0, key],
    interfaceId: [fmix32(key), ~key >>> 0],
    capId: rotr(key, 7),
    method: key & 0xffff,
    opcode: OP_CALL,
    flags: key >>> 24,
    dataLen: payloadLen(key),
  };
}

// The CQE entry `seq` carries.
export function cqeFor(key, seq) {
  return {
    userData: [seq >>> 0, key],
    result: key | 0,
    dataLen: payloadLen(key),
    flags: rotr(key, 13),
  };
}

// mulberry32, as in pattern.rs: a u32 generator.
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b_79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

// A batch size in 1..=256, as likely tiny as large (see pattern.rs).
export function batchSize(next) {
  const r = next();
  return 1 + ((r >>> 3) % (2 << (r & 7)));
}
