// The `capos` imports: everything a capOS runtime (capos-rt) may do from a
// process Worker. Glue only: ring access with bounds checks, the kernel's
// doorbell, startup blocks, and exit.

// How long cap_enter watches its doorbell before sleeping, and how quick
// recent answers must have been for watching to pay: a kernel answer lands
// sooner than a wake-up from Atomics.wait (and the kernel skips its notify
// while nobody sleeps), but when answers are slow -- waiting on another
// process -- spinning only takes a core from whoever does the work.
const SPIN_BEFORE_WAIT_MS = 0.3;
const SPIN_PAYS_BELOW_MS = 1;
// The longest one Atomics.wait sleeps: cap_enter and the other waits re-check
// their queue and wait again, so this only bounds what a lost wake-up would
// cost (the protocol loses none; loom checks it): a stall, not a hang.
const MAX_SLEEP_MS = 100;

// Thrown to unwind the program's stack after exit() or a panic report.
export class ProcessEnded extends Error {}

// `memory()` returns the memory of the module that links capos-rt.
// `waitsWord`: the ring offset where waits are counted (diagnostics only).
export function caposImports({ pid, ring, wake, startup, memory, waitsWord }) {
  const words = new Int32Array(ring);
  const bytes = new Uint8Array(ring);
  const wakeWord = new Int32Array(wake);
  // Moving average of how long recent waits took, whether spun or slept.
  let recentWaitMs = 0;

  // Offsets come from the program: check them, and throw (ending the
  // process) rather than let a typed-array view clamp silently.
  const wordIndex = (offset) => {
    offset >>>= 0;
    if (offset % 4 !== 0 || offset + 4 > ring.byteLength) throw new RangeError(`bad ring word offset ${offset}`);
    return offset / 4;
  };
  const ringRange = (offset, len) => {
    offset >>>= 0; len >>>= 0;
    if (offset + len > ring.byteLength) throw new RangeError(`ring range ${offset}+${len} out of bounds`);
    return [offset, len];
  };
  const programBytes = (ptr, len) => new Uint8Array(memory().buffer, ptr >>> 0, len >>> 0);
  // A view of all program memory, re-made only after memory.grow detached
  // the old buffer (which empties views of it): small copies allocate nothing.
  let view = new Uint8Array(0);
  const programView = () => (view.length !== 0 ? view : (view = new Uint8Array(memory().buffer)));
  let wordView = new Int32Array(0);
  const programWords = () => (wordView.length !== 0 ? wordView : (wordView = new Int32Array(memory().buffer)));
  const block = (which) => {
    const b = startup[which];
    if (!b) throw new RangeError(`no startup block ${which}`);
    return b;
  };

  const forEachSpan = (spansPtr, count, bufferLen, copy) => {
    const mem = programWords();
    const first = spansPtr >>> 0;
    count >>>= 0;
    if (first % 4 !== 0 || first + count * 12 > mem.length * 4) throw new RangeError('span list out of bounds');
    for (let i = 0, s = first >>> 2; i < count; i++, s += 3) {
      const ring = mem[s] >>> 0, local = mem[s + 1] >>> 0, len = mem[s + 2] >>> 0;
      if (local + len > (bufferLen >>> 0)) throw new RangeError(`span ${local}+${len} outside its buffer`);
      copy(ring, local, len);
    }
  };

  const imports = {
    ring_load: (offset) => Atomics.load(words, wordIndex(offset)),
    ring_store: (offset, value) => { Atomics.store(words, wordIndex(offset), value); },
    ring_fetch_add: (offset, value) => Atomics.add(words, wordIndex(offset), value),
    // Small copies (entries, Cap'n Proto messages: whole words, word-aligned
    // on both sides) go a word at a time; large ones through TypedArray.set.
    ring_read: (offset, ptr, len) => {
      const [o, n] = ringRange(offset, len);
      if (n > 256) return programBytes(ptr, n).set(bytes.subarray(o, o + n));
      const p = ptr >>> 0;
      if (((o | p | n) & 3) === 0) {
        const mem = programWords();
        if (p + n > mem.length * 4) throw new RangeError('ring_read past the end of memory');
        const from = o >>> 2, to = p >>> 2;
        for (let i = 0, w = n >>> 2; i < w; i++) mem[to + i] = words[from + i];
        return;
      }
      const mem = programView();
      if (p + n > mem.length) throw new RangeError('ring_read past the end of memory');
      for (let i = 0; i < n; i++) mem[p + i] = bytes[o + i];
    },
    ring_write: (offset, ptr, len) => {
      const [o, n] = ringRange(offset, len);
      if (n > 256) return bytes.set(programBytes(ptr, n), o);
      const p = ptr >>> 0;
      if (((o | p | n) & 3) === 0) {
        const mem = programWords();
        if (p + n > mem.length * 4) throw new RangeError('ring_write past the end of memory');
        const from = p >>> 2, to = o >>> 2;
        for (let i = 0, w = n >>> 2; i < w; i++) words[to + i] = mem[from + i];
        return;
      }
      const mem = programView();
      if (p + n > mem.length) throw new RangeError('ring_write past the end of memory');
      for (let i = 0; i < n; i++) bytes[o + i] = mem[p + i];
    },
    ring_notify: (offset) => { Atomics.notify(words, wordIndex(offset)); },
    // A batch's data slots in one crossing: `count` spans at `spansPtr`
    // (ring offset, offset in the buffer, length: three u32s each), each
    // checked against the ring and against the program's buffer.
    ring_gather: (spansPtr, count, outPtr, outLen) => {
      forEachSpan(spansPtr, count, outLen, (ring, local, len) => imports.ring_read(ring, (outPtr >>> 0) + local, len));
    },
    ring_scatter: (spansPtr, count, fromPtr, fromLen) => {
      forEachSpan(spansPtr, count, fromLen, (ring, local, len) => imports.ring_write(ring, (fromPtr >>> 0) + local, len));
    },
    // cap_enter's block: 0 woken, 1 the word had already changed, 2 timed out.
    // A kernel answer usually lands sooner than a wake-up from Atomics.wait,
    // so watch the word briefly first -- but only while that pays: when
    // completions take longer (waiting on another process), spinning just
    // takes a core from whoever is doing the work. Before sleeping, raise the
    // ring's waiting flag (offset `flagOffset`, from capos-config): the kernel
    // notifies only a process that has (see ring_doorbell); Atomics ops are
    // sequentially consistent, so either it sees the flag or the wait sees
    // the new doorbell.
    ring_wait: (offset, expected, timeoutMs, flagOffset) => {
      Atomics.add(words, waitsWord / 4, 1);
      const index = wordIndex(offset);
      const flag = wordIndex(flagOffset);
      const start = performance.now();
      let result = 1;
      if (recentWaitMs < SPIN_PAYS_BELOW_MS) {
        const spinUntil = start + SPIN_BEFORE_WAIT_MS;
        while (Atomics.load(words, index) === expected && performance.now() < spinUntil);
      }
      if (Atomics.load(words, index) === expected) {
        Atomics.store(words, flag, 1);
        // Callers re-check and wait again, so a capped wait only bounds what a
        // lost wake-up would cost (see MAX_SLEEP_MS).
        const r = Atomics.wait(words, index, expected, Math.min(timeoutMs < 0 ? Infinity : timeoutMs, MAX_SLEEP_MS));
        Atomics.store(words, flag, 0);
        result = r === 'ok' ? 0 : r === 'not-equal' ? 1 : 2;
      }
      recentWaitMs = 0.75 * recentWaitMs + 0.25 * (performance.now() - start);
      return result;
    },
    // Word 0 counts wake-ups; word 1 is 1 while the kernel sleeps on word 0
    // (web/kernel/kernel-worker.js): notify only then.
    kernel_notify: () => {
      Atomics.add(wakeWord, 0, 1);
      if (Atomics.load(wakeWord, 1) !== 0) Atomics.notify(wakeWord, 0);
    },
    startup_len: (which) => block(which).length,
    startup_read: (which, ptr, len) => {
      const b = block(which);
      if ((len >>> 0) !== b.length) throw new RangeError('startup block length mismatch');
      programBytes(ptr, len).set(b);
    },
    process_id: () => pid,
    process_exit: (code) => {
      self.postMessage({ type: 'exit', code: code | 0 });
      throw new ProcessEnded();
    },
    process_panic: (ptr, len) => {
      const message = new TextDecoder().decode(programBytes(ptr, Math.min(len >>> 0, 64 * 1024)).slice());
      self.postMessage({ type: 'panic', message });
      throw new ProcessEnded();
    },
  };
  return imports;
}
