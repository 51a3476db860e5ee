// What each peer Worker is doing, in a small SharedArrayBuffer the page can
// read while the peers are blocked: if a phase never ends, the page says
// which side sleeps on which word, and the ring's counters say how far each
// side got. Harness bookkeeping only; not part of the ring protocol.

import { SQ_HEAD, SQ_TAIL, CQ_HEAD, CQ_TAIL, CQ_DOORBELL } from '/generated/abi.js';

export const PEER_JS = 0;
export const PEER_WASM = 1;
export const PEER_NAMES = ['JavaScript peer', 'Rust/wasm peer'];

const IDLE = 0;
const RUNNING = 1;
const WAITING = 2;

// The `word` a peer sleeps on: a ring offset, or this for the kernel wake word.
export const KERNEL_WAKE_WORD = -1;

const FIELDS = 4; // state, word, expected, waits
export const STATUS_BYTES = 2 * FIELDS * 4;

export class PeerStatus {
  constructor(buffer, peer) {
    this.words = new Int32Array(buffer);
    this.base = peer * FIELDS;
  }

  running() {
    Atomics.store(this.words, this.base, RUNNING);
  }

  idle() {
    Atomics.store(this.words, this.base, IDLE);
  }

  // Atomics.wait(words, index, expected), recorded around the wait.
  wait(words, index, expected, word) {
    Atomics.store(this.words, this.base + 1, word);
    Atomics.store(this.words, this.base + 2, expected);
    Atomics.add(this.words, this.base + 3, 1);
    Atomics.store(this.words, this.base, WAITING);
    Atomics.wait(words, index, expected);
    Atomics.store(this.words, this.base, RUNNING);
  }
}

const WORD_NAMES = new Map([
  [KERNEL_WAKE_WORD, 'the kernel wake word'], [SQ_HEAD, 'SQ_HEAD'], [SQ_TAIL, 'SQ_TAIL'],
  [CQ_HEAD, 'CQ_HEAD'], [CQ_TAIL, 'CQ_TAIL'], [CQ_DOORBELL, 'CQ_DOORBELL'],
]);

// One line per peer: what it is doing now.
export function describePeer(buffer, peer) {
  const words = new Int32Array(buffer);
  const base = peer * FIELDS;
  const state = Atomics.load(words, base);
  const waits = Atomics.load(words, base + 3);
  const name = PEER_NAMES[peer];
  if (state === WAITING) {
    const word = Atomics.load(words, base + 1);
    const expected = Atomics.load(words, base + 2) >>> 0;
    return `${name}: asleep in Atomics.wait on ${WORD_NAMES.get(word) ?? `offset ${word}`} `
      + `(expecting ${expected >>> 0}), after ${waits} waits`;
  }
  return `${name}: ${state === RUNNING ? 'running' : 'idle'}, after ${waits} waits`;
}
