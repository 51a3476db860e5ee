//! The Rust/wasm half of the ring tests: the kernel's side of one capOS ring,
//! using capos-config's own `SqConsumer` and `CqProducer`, run in a Worker by
//! web/wasm-peer.js while web/js-peer.js plays the process side with an
//! independent JavaScript implementation of the protocol.
//!
//! [`consume_sq`] takes the SQEs JavaScript publishes and checks each against
//! pattern.rs; [`produce_cq`] posts completions for JavaScript to check. Both
//! sleep in `Atomics.wait` (through the glue) when they cannot go on, and
//! now and then stop draining until the queue is full, so the other side's
//! producer meets the full boundary often. A failed check returns a nonzero
//! code and leaves a message at [`error_ptr`]/[`error_len`]; the counters of
//! the last run are read through the `stat_*` exports.
#![cfg(target_arch = "wasm32")]

mod host;
mod pattern;

use capos_config::ring::{
    CQ_HEAD, CQ_TAIL, CqProducer, MAGIC, PushError, RING_MAGIC, RING_VERSION, RingMemory,
    RingViolation, SQ_ENTRIES, SQ_HEAD, SQ_TAIL, SqConsumer, Submission, VERSION, ring_doorbell,
};
use host::{HostRing, KernelWake};
use pattern::{
    Mulberry32, STREAM_CQ_PRODUCER, STREAM_SQ_CONSUMER, cqe, entry_key, expected_sqe, fill_payload,
    payload_byte,
};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// What the exports return.
const OK: u32 = 0;
/// An entry or payload differs from what the other side must have sent.
const MISMATCH: u32 = 1;
/// The other side's counters say more entries are in flight than fit.
const RING_VIOLATION: u32 = 2;
/// The ring header is not a fresh ring starting at the given counter.
const BAD_HEADER: u32 = 3;

/// On average one drain in this many is followed by waiting for the queue
/// to fill up completely before draining again.
const FILL_ONE_IN: u32 = 32;

#[derive(Clone, Copy)]
struct Stats {
    /// `Atomics.wait` calls.
    waits: u32,
    /// Pushes that found the queue full (producer only).
    full: u32,
    /// Drain batches (consumer) or batches posted (producer).
    batches: u32,
    /// Doorbells rung (producer only).
    doorbells: u32,
    /// Times the consumer let the queue fill before draining again.
    fills: u32,
}

impl Stats {
    const ZERO: Self = Self {
        waits: 0,
        full: 0,
        batches: 0,
        doorbells: 0,
        fills: 0,
    };
}

struct LastRun {
    stats: Stats,
    error: String,
}

static LAST_RUN: Mutex<LastRun> = Mutex::new(LastRun {
    stats: Stats::ZERO,
    error: String::new(),
});

fn last_run() -> MutexGuard<'static, LastRun> {
    LAST_RUN.lock().unwrap_or_else(PoisonError::into_inner)
}

struct Failure {
    code: u32,
    message: String,
}

fn mismatch(message: String) -> Failure {
    Failure {
        code: MISMATCH,
        message,
    }
}

fn violation(v: RingViolation) -> Failure {
    Failure {
        code: RING_VIOLATION,
        message: v.to_string(),
    }
}

fn finish(stats: Stats, result: Result<(), Failure>) -> u32 {
    let mut last = last_run();
    last.stats = stats;
    match result {
        Ok(()) => {
            last.error.clear();
            OK
        }
        Err(f) => {
            last.error = f.message;
            f.code
        }
    }
}

/// Checks the ring is initialised and that `index` starts at `start`.
fn check_header(mem: &HostRing, index: usize, start: u32) -> Result<(), Failure> {
    let (magic, version, at) = (mem.load(MAGIC), mem.load(VERSION), mem.load(index));
    if magic != RING_MAGIC || version != RING_VERSION || at != start {
        return Err(Failure {
            code: BAD_HEADER,
            message: format!(
                "ring header: magic {magic:#x} version {version}, counter at offset {index} \
                 is {at:#x}; expected {RING_MAGIC:#x} version {RING_VERSION}, {start:#x}"
            ),
        });
    }
    Ok(())
}

/// Takes `count` SQEs off the ring, as the kernel does (a drain of random
/// size, then one release), and checks that each is entry `seq` of seed
/// `seed`, in order. Sleeps on the kernel wake word when there is nothing
/// to take, reading the word before looking at the SQ like the kernel's
/// event loop, and notifies `SQ_HEAD` after each release for a producer
/// asleep on a full SQ.
// SAFETY: exported under its own name; nothing else in the module defines it.
#[unsafe(no_mangle)]
pub extern "C" fn consume_sq(count: u32, seed: u32, start: u32) -> u32 {
    let mut stats = Stats::ZERO;
    let result = consume(count, seed, start, &mut stats);
    finish(stats, result)
}

fn consume(count: u32, seed: u32, start: u32, stats: &mut Stats) -> Result<(), Failure> {
    let mem = HostRing;
    let wake = KernelWake;
    check_header(&mem, SQ_HEAD, start)?;
    let mut sq = SqConsumer::new(start);
    let mut rng = Mulberry32::new(seed ^ STREAM_SQ_CONSUMER);
    let mut next = 0u32;
    let mut fill = false;
    while next < count {
        let seen = wake.load();
        let pending = sq.pending(&mem).map_err(violation)?;
        let wanted = if fill {
            SQ_ENTRIES.min(count - next)
        } else {
            1
        };
        if pending < wanted {
            stats.waits += 1;
            wake.wait(seen);
            continue;
        }
        fill = false;
        let limit = rng.batch_size();
        let mut taken = 0;
        while taken < limit && next < count {
            let Some(submission) = sq.take(&mem).map_err(violation)? else {
                break;
            };
            check_sqe(seed, start, next, &submission)?;
            next += 1;
            taken += 1;
        }
        // One store hands the whole drain back, as Kernel::service does.
        sq.release(&mem);
        stats.batches += 1;
        mem.notify(SQ_HEAD);
        if rng.one_in(FILL_ONE_IN) {
            fill = true;
            stats.fills += 1;
        }
    }
    match sq.pending(&mem).map_err(violation)? {
        0 => Ok(()),
        extra => Err(mismatch(format!(
            "{extra} SQE(s) published beyond the {count} sent (SQ tail {:#x})",
            mem.load(SQ_TAIL)
        ))),
    }
}

fn check_sqe(seed: u32, start: u32, seq: u32, got: &Submission) -> Result<(), Failure> {
    let key = entry_key(seed, seq);
    let want = expected_sqe(key, seq);
    let at = || {
        let counter = start.wrapping_add(seq);
        format!(
            "SQE {seq} (counter {counter:#010x}, slot {})",
            counter & (SQ_ENTRIES - 1)
        )
    };
    if let Some(why) = got.malformed {
        return Err(mismatch(format!("{}: malformed: {why}", at())));
    }
    if got.sqe != want {
        return Err(mismatch(format!(
            "{}: got {:?}, expected {want:?}",
            at(),
            got.sqe
        )));
    }
    if let Some(i) = (0..got.data.len()).find(|&i| got.data[i] != payload_byte(key, i)) {
        return Err(mismatch(format!(
            "{}: payload byte {i} of {} is {:#04x}, expected {:#04x}",
            at(),
            got.data.len(),
            got.data[i],
            payload_byte(key, i)
        )));
    }
    Ok(())
}

/// Posts `count` CQEs, as the kernel does: batches of random size, staged,
/// then published with one store and one doorbell. When the CQ is full it
/// publishes and rings for what it has staged (the process may be waiting
/// for exactly that) and sleeps on `CQ_HEAD` until the process has reaped.
// SAFETY: exported under its own name; nothing else in the module defines it.
#[unsafe(no_mangle)]
pub extern "C" fn produce_cq(count: u32, seed: u32, start: u32) -> u32 {
    let mut stats = Stats::ZERO;
    let result = produce(count, seed, start, &mut stats);
    finish(stats, result)
}

fn produce(count: u32, seed: u32, start: u32, stats: &mut Stats) -> Result<(), Failure> {
    let mem = HostRing;
    check_header(&mem, CQ_TAIL, start)?;
    let mut cq = CqProducer::new(start);
    let mut rng = Mulberry32::new(seed ^ STREAM_CQ_PRODUCER);
    let mut payload = Vec::new();
    let mut next = 0u32;
    while next < count {
        let size = rng.batch_size().min(count - next);
        for _ in 0..size {
            let key = entry_key(seed, next);
            let entry = cqe(key, next);
            fill_payload(key, &mut payload);
            let mut found_full = false;
            loop {
                let head = mem.load(CQ_HEAD);
                match cq.stage(&mem, &entry, &payload) {
                    Ok(()) => break,
                    Err(PushError::Full) => {
                        if !found_full {
                            found_full = true;
                            stats.full += 1;
                        }
                        if cq.publish(&mem) {
                            ring_doorbell(&mem);
                            stats.doorbells += 1;
                        }
                        stats.waits += 1;
                        mem.wait(CQ_HEAD, head);
                    }
                    Err(e @ PushError::TooLarge { .. }) => {
                        return Err(mismatch(format!("CQE {next}: {e}")));
                    }
                }
            }
            next += 1;
        }
        if cq.publish(&mem) {
            ring_doorbell(&mem);
            stats.doorbells += 1;
        }
        stats.batches += 1;
    }
    Ok(())
}

// SAFETY: exported under its own name; nothing else in the module defines it.
#[unsafe(no_mangle)]
pub extern "C" fn stat_waits() -> u32 {
    last_run().stats.waits
}

// SAFETY: exported under its own name; nothing else in the module defines it.
#[unsafe(no_mangle)]
pub extern "C" fn stat_full() -> u32 {
    last_run().stats.full
}

// SAFETY: exported under its own name; nothing else in the module defines it.
#[unsafe(no_mangle)]
pub extern "C" fn stat_batches() -> u32 {
    last_run().stats.batches
}

// SAFETY: exported under its own name; nothing else in the module defines it.
#[unsafe(no_mangle)]
pub extern "C" fn stat_doorbells() -> u32 {
    last_run().stats.doorbells
}

// SAFETY: exported under its own name; nothing else in the module defines it.
#[unsafe(no_mangle)]
pub extern "C" fn stat_fills() -> u32 {
    last_run().stats.fills
}

/// The last run's failure message (UTF-8, `error_len` bytes); valid until
/// the next run.
// SAFETY: exported under its own name; nothing else in the module defines it.
#[unsafe(no_mangle)]
pub extern "C" fn error_ptr() -> *const u8 {
    last_run().error.as_ptr()
}

// SAFETY: exported under its own name; nothing else in the module defines it.
#[unsafe(no_mangle)]
pub extern "C" fn error_len() -> u32 {
    last_run().error.len() as u32
}
