// The raw ring baseline of `make bench`: the capability ring's layout and
// copies (32-byte entries, params and results in data slots, free-running
// counters, one tail store per batch) in plain JavaScript, between two
// Workers that spin instead of sleeping, with no kernel behind it: no
// decoding, no dispatch, no wasm. `process` pushes batches of null calls
// (24 bytes of params, as a capnp Echo call carries) and reaps their
// completions; `kernel` copies each entry and its params out and answers
// with 24 bytes of results. The page compares capOS's batched calls to this.
import {
  SQ_HEAD, SQ_TAIL, CQ_HEAD, CQ_TAIL, SQ_ARRAY, CQ_ARRAY, SQ_DATA, CQ_DATA,
  SQ_ENTRIES, CQ_ENTRIES, SQE_SIZE, CQE_SIZE, SLOT_DATA_SIZE,
} from '/generated/abi.js';

const PARAMS = 24;

self.onmessage = ({ data }) => {
  const { role, sab, batches, calls } = data;
  const words = new Int32Array(sab);
  // Entries and payloads are whole words at word-aligned offsets: copy words.
  const entry = new Int32Array(SQE_SIZE / 4);
  const payload = new Int32Array(PARAMS / 4);
  const copyIn = (offset, from) => { const w = offset >>> 2; for (let i = 0; i < from.length; i++) words[w + i] = from[i]; };
  const copyOut = (offset, to) => { const w = offset >>> 2; for (let i = 0; i < to.length; i++) to[i] = words[w + i]; };
  const spinUntil = (index, target) => { while (((Atomics.load(words, index) - target) | 0) < 0); };

  if (role === 'kernel') {
    let head = 0;
    let tail = 0;
    const total = batches.reduce((n) => n + calls, 0);
    while (head < total) {
      spinUntil(SQ_TAIL >>> 2, head + 1);
      const published = Atomics.load(words, SQ_TAIL >>> 2);
      for (; head !== published; head++, tail++) {
        const s = head & (SQ_ENTRIES - 1);
        copyOut(SQ_ARRAY + s * SQE_SIZE, entry);
        copyOut(SQ_DATA + s * SLOT_DATA_SIZE, payload);
        const c = tail & (CQ_ENTRIES - 1);
        copyIn(CQ_DATA + c * SLOT_DATA_SIZE, payload);
        copyIn(CQ_ARRAY + c * CQE_SIZE, entry); // CQE_SIZE === SQE_SIZE
      }
      Atomics.store(words, SQ_HEAD >>> 2, head);
      Atomics.store(words, CQ_TAIL >>> 2, tail);
    }
    return;
  }

  // process: for each batch size, `calls` null calls in batches of that size.
  const rates = {};
  let tail = 0;
  for (const batch of batches) {
    const t0 = performance.now();
    for (let done = 0; done < calls; done += batch) {
      for (let i = 0; i < batch; i++) {
        const s = (tail + i) & (SQ_ENTRIES - 1);
        copyIn(SQ_DATA + s * SLOT_DATA_SIZE, payload);
        copyIn(SQ_ARRAY + s * SQE_SIZE, entry);
      }
      tail += batch;
      Atomics.store(words, SQ_TAIL >>> 2, tail);
      spinUntil(CQ_TAIL >>> 2, tail);
      for (let i = batch; i > 0; i--) {
        const c = (tail - i) & (CQ_ENTRIES - 1);
        copyOut(CQ_ARRAY + c * CQE_SIZE, entry);
        copyOut(CQ_DATA + c * SLOT_DATA_SIZE, payload);
      }
      Atomics.store(words, CQ_HEAD >>> 2, tail);
    }
    rates[batch] = calls / ((performance.now() - t0) / 1000);
  }
  self.postMessage(rates);
};
