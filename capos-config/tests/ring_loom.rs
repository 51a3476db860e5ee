//! Model checks of the ring protocol with loom: every interleaving (up to a
//! preemption bound) of one producer thread and one consumer thread, under
//! the C11 memory model, running the real `capos_config::ring` code.
//!
//! The ring code is generic over [`RingMemory`], so no `--cfg loom` build is
//! needed: [`ModelRing`] implements the trait with loom atomics using exactly
//! the orderings the trait promises (acquire loads, release stores, relaxed
//! byte copies, `fence(SeqCst)` for `fence_seqcst`) and nothing stronger, so
//! a missing release/acquire pair in the ring code shows up here as a stale
//! entry or payload. (Loom treats SeqCst *accesses* as AcqRel, but models
//! `fence(SeqCst)`, which is all the trait offers.)
//!
//! Blocking is modelled as a futex, the way `Atomics.wait`/`Atomics.notify`
//! behave: [`ModelRing::wait`] checks the word and sleeps under one mutex,
//! and `notify` takes that mutex to wake every sleeper. A lost wake-up is
//! then a sleeper nobody wakes, which loom reports as a deadlock, instead
//! of a spin loop that never ends. The tests named after a failure break a
//! protocol on purpose (the doorbell twice, the CQ-stall handshake's fences
//! once) and check that the model catches it.
//!
//! Loom does not model load buffering (a load reading a store that comes
//! later in the other thread), so it cannot show why a consumer's head
//! store needs release; it does catch a head published before the entry is
//! copied out (see `sq_full_refuses_until_the_kernel_frees_a_slot`).
//!
//! `LOOM_MAX_PREEMPTIONS=N` explores deeper than the default bound.
//!
//! Run: `cargo test -p capos-config --release --test ring_loom`.

use capos_config::ring::{
    CQ_ARRAY, CQ_DATA, CQ_DOORBELL, CQ_ENTRIES, CQ_HEAD, CQ_TAIL, CQ_WAITING, CQE_SIZE, CqConsumer,
    CqProducer, Cqe, FLAGS, MAGIC, OP_CALL, PushError, RING_FLAG_CQ_STALLED, RING_SIZE, RingMemory,
    SLOT_DATA_SIZE, SQ_ARRAY, SQ_DATA, SQ_ENTRIES, SQ_HEAD, SQ_TAIL, SQE_SIZE, SqConsumer,
    SqProducer, Sqe, VERSION, init_ring, ring_doorbell,
};
use loom::sync::atomic::AtomicU32;
use loom::sync::{Arc, Condvar, Mutex};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The kernel's wake word: not part of the ring (in the browser it is a
/// separate 4-byte SharedArrayBuffer), so the model places it past the end.
const KERNEL_WAKE: usize = RING_SIZE;
/// 1 while the kernel sleeps on `KERNEL_WAKE` (the kernel Worker's loop sets
/// it around `Atomics.waitAsync`; the process glue notifies only then).
const KERNEL_SLEEPING: usize = RING_SIZE + 4;

/// Preemptions loom explores per execution unless `LOOM_MAX_PREEMPTIONS`
/// says otherwise: every race between two threads that each block a couple
/// of times, in a few seconds. `cargo test --workspace` builds this
/// unoptimised, where loom is about twenty times slower, so it explores
/// less there; `make loom` runs the release build at the full bound.
const DEFAULT_PREEMPTION_BOUND: usize = if cfg!(debug_assertions) { 2 } else { 4 };

/// Longest payload a model writes: two words, one of them partial, keeps
/// loom's state space small while still crossing a word boundary.
const MAX_PAYLOAD: usize = 7;

fn sq_slot(counter: u32) -> usize {
    (counter & (SQ_ENTRIES - 1)) as usize
}

fn cq_slot(counter: u32) -> usize {
    (counter & (CQ_ENTRIES - 1)) as usize
}

/// A ring whose words are loom atomics. Only the words a model may touch
/// exist (a real ring is 1 MiB, far too many loom objects per execution);
/// touching any other word panics, which also checks that the ring code
/// writes only the slots its counters select.
///
/// Filler entries, pushed single-threaded to bring a queue near full, are
/// written into the void: their slots are not mapped, writes to them are
/// dropped, and they read as zeros (a consumer copies a whole batch of
/// entries at once, filler included, but never takes one).
struct ModelRing {
    /// Keyed by byte offset (a multiple of 4).
    words: BTreeMap<usize, AtomicU32>,
    /// Which SQ and CQ slots hold filler entries.
    sq_filler: [bool; SQ_ENTRIES as usize],
    cq_filler: [bool; CQ_ENTRIES as usize],
    futex: Mutex<()>,
    woken: Condvar,
    /// Whether `fence_seqcst` fences (off only to show what it is for).
    seq_cst_fences: bool,
}

impl ModelRing {
    /// Maps the header, the kernel wake word, and the entry and data words
    /// of the SQ slots for `sq_counters` and CQ slots for `cq_counters`.
    fn new(sq_counters: &[u32], cq_counters: &[u32]) -> Self {
        let mut offsets = vec![
            SQ_HEAD,
            SQ_TAIL,
            CQ_HEAD,
            CQ_TAIL,
            CQ_DOORBELL,
            FLAGS,
            MAGIC,
            VERSION,
            CQ_WAITING,
            KERNEL_WAKE,
            KERNEL_SLEEPING,
        ];
        let slot_words = |entry: usize, data: usize, offsets: &mut Vec<usize>| {
            offsets.extend((0..SQE_SIZE.max(CQE_SIZE) / 4).map(|w| entry + 4 * w));
            offsets.extend((0..MAX_PAYLOAD.div_ceil(4)).map(|w| data + 4 * w));
        };
        for &c in sq_counters {
            slot_words(
                SQ_ARRAY + sq_slot(c) * SQE_SIZE,
                SQ_DATA + sq_slot(c) * SLOT_DATA_SIZE as usize,
                &mut offsets,
            );
        }
        for &c in cq_counters {
            slot_words(
                CQ_ARRAY + cq_slot(c) * CQE_SIZE,
                CQ_DATA + cq_slot(c) * SLOT_DATA_SIZE as usize,
                &mut offsets,
            );
        }
        offsets.sort_unstable();
        offsets.dedup();
        Self {
            words: offsets
                .into_iter()
                .map(|o| (o, AtomicU32::new(0)))
                .collect(),
            sq_filler: [false; SQ_ENTRIES as usize],
            cq_filler: [false; CQ_ENTRIES as usize],
            futex: Mutex::new(()),
            woken: Condvar::new(),
            seq_cst_fences: true,
        }
    }

    /// Makes `fence_seqcst` do nothing, as a ring whose loads and stores are
    /// only acquire/release would need, to show the fence is necessary.
    fn without_seq_cst_fences(mut self) -> Self {
        self.seq_cst_fences = false;
        self
    }

    /// Marks the SQ entries at `sq_counters` and CQ entries at `cq_counters`
    /// as filler (with empty payloads, so their data slots are never written).
    fn with_filler(mut self, sq_counters: &[u32], cq_counters: &[u32]) -> Self {
        for &c in sq_counters {
            self.sq_filler[sq_slot(c)] = true;
        }
        for &c in cq_counters {
            self.cq_filler[cq_slot(c)] = true;
        }
        self
    }

    /// Whether the word at `offset` belongs to a filler entry.
    fn is_filler(&self, offset: usize) -> bool {
        if (SQ_ARRAY..CQ_ARRAY).contains(&offset) {
            self.sq_filler[(offset - SQ_ARRAY) / SQE_SIZE]
        } else if (CQ_ARRAY..SQ_DATA).contains(&offset) {
            self.cq_filler[(offset - CQ_ARRAY) / CQE_SIZE]
        } else {
            false
        }
    }

    fn word(&self, offset: usize) -> &AtomicU32 {
        self.words
            .get(&offset)
            .unwrap_or_else(|| panic!("ring word {offset:#x} is outside the slots this model maps"))
    }

    /// `Atomics.wait`: sleeps while the word at `offset` holds `expected`,
    /// until some `notify`. Returns after one wake; callers re-check.
    ///
    /// A sleeper on the doorbell or the kernel's wake word first raises its
    /// flag (`CQ_WAITING`, `KERNEL_SLEEPING`), fenced, as the process glue's
    /// `ring_wait` and the kernel Worker's loop do, and lowers it after.
    fn wait(&self, offset: usize, expected: u32) {
        let flag = match offset {
            CQ_DOORBELL => Some(CQ_WAITING),
            KERNEL_WAKE => Some(KERNEL_SLEEPING),
            _ => None,
        };
        if let Some(flag) = flag {
            self.store(flag, 1);
            self.fence_seqcst();
        }
        {
            let guard = self.futex.lock().unwrap();
            if self.word(offset).load(Ordering::Acquire) == expected {
                drop(self.woken.wait(guard).unwrap());
            }
        }
        if let Some(flag) = flag {
            self.store(flag, 0);
        }
    }

    /// What a process does after publishing SQEs (`kernel_notify`): bump the
    /// word, then notify only a kernel that sleeps.
    fn wake_kernel(&self) {
        self.fetch_add(KERNEL_WAKE, 1);
        self.fence_seqcst();
        if self.load(KERNEL_SLEEPING) != 0 {
            self.notify(KERNEL_WAKE);
        }
    }
}

impl RingMemory for ModelRing {
    fn load(&self, offset: usize) -> u32 {
        self.word(offset).load(Ordering::Acquire)
    }
    fn store(&self, offset: usize, value: u32) {
        self.word(offset).store(value, Ordering::Release)
    }
    fn fetch_add(&self, offset: usize, value: u32) -> u32 {
        self.word(offset).fetch_add(value, Ordering::AcqRel)
    }
    fn read(&self, offset: usize, out: &mut [u8]) {
        let mut at = offset;
        let mut filled = 0;
        while filled < out.len() {
            let base = at & !3;
            // A consumer copies every published entry of a batch at once, so
            // it may copy filler it never takes: that reads as zeros.
            let bytes = if !self.words.contains_key(&base) && self.is_filler(base) {
                [0; 4]
            } else {
                self.word(base).load(Ordering::Relaxed).to_le_bytes()
            };
            let from = at - base;
            let n = (4 - from).min(out.len() - filled);
            out[filled..filled + n].copy_from_slice(&bytes[from..from + n]);
            filled += n;
            at += n;
        }
    }
    fn write(&self, offset: usize, data: &[u8]) {
        let mut at = offset;
        let mut done = 0;
        while done < data.len() {
            let base = at & !3;
            let from = at - base;
            let n = (4 - from).min(data.len() - done);
            if !self.words.contains_key(&base) && self.is_filler(base) {
                done += n;
                at += n;
                continue;
            }
            let word = self.word(base);
            // Only one side ever writes a given slot, so merging a partial
            // word with a separate load and store loses nothing.
            let mut bytes = if n == 4 {
                [0; 4]
            } else {
                word.load(Ordering::Relaxed).to_le_bytes()
            };
            bytes[from..from + n].copy_from_slice(&data[done..done + n]);
            word.store(u32::from_le_bytes(bytes), Ordering::Relaxed);
            done += n;
            at += n;
        }
    }
    fn notify(&self, _offset: usize) {
        // One condvar for every word: a sleeper woken for another word
        // re-checks its own and sleeps again, like a spurious futex wake.
        let _guard = self.futex.lock().unwrap();
        self.woken.notify_all();
    }
    fn fence_seqcst(&self) {
        if self.seq_cst_fences {
            loom::sync::atomic::fence(Ordering::SeqCst);
        }
    }
}

/// Runs `model` under loom and reports how many executions it explored.
fn check(name: &str, model: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = builder.preemption_bound.or(Some(DEFAULT_PREEMPTION_BOUND));
    let executions = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = executions.clone();
    builder.check(move || {
        counter.fetch_add(1, Ordering::Relaxed);
        model();
    });
    let n = executions.load(Ordering::Relaxed);
    println!("{name}: {n} executions explored");
    assert!(n > 1, "{name}: loom explored no interleavings");
}

/// The SQE and params the producer sends as entry `seq`: every field and
/// every payload byte depends on `seq`, so a stale or torn read is visible.
fn sqe(seq: u64) -> (Sqe, Vec<u8>) {
    let entry = Sqe {
        user_data: 0x5100_0000_0000_0000 | seq,
        interface_id: seq.wrapping_mul(0x9E37_79B9_7F4A_7C15),
        cap_id: 0x0100 + seq as u32,
        method: seq as u16 ^ 0x5a,
        opcode: OP_CALL,
        flags: 0,
        data_len: 0,
    };
    (entry, payload(seq))
}

fn cqe(seq: u64) -> (Cqe, Vec<u8>) {
    let entry = Cqe {
        user_data: 0xC000_0000_0000_0000 | seq,
        result: -(seq as i32) - 1,
        data_len: 0,
        flags: 0,
    };
    (entry, payload(seq ^ 0xff))
}

/// Lengths 0, 3, 7, 1, ...: empty, partial-word and two-word payloads.
fn payload(seq: u64) -> Vec<u8> {
    let len = [0, 3, MAX_PAYLOAD, 1][seq as usize % 4];
    (0..len)
        .map(|i| (seq as u8).wrapping_mul(31) ^ (i as u8 + 1))
        .collect()
}

/// Takes one SQE, if there is one, and checks it is exactly entry `seq` as
/// sent. Returns whether there was one. The slot stays the kernel's until
/// the caller releases it.
fn expect_sqe(sq: &mut SqConsumer, mem: &ModelRing, seq: u64) -> bool {
    let Some(got) = sq.take(mem).expect("counters stay in range") else {
        return false;
    };
    let (mut want, data) = sqe(seq);
    want.data_len = data.len() as u32;
    assert_eq!(
        got.sqe, want,
        "SQE {seq}: wrong entry (lost, duplicated, reordered or torn)"
    );
    assert_eq!(got.data, data, "SQE {seq}: payload bytes differ");
    assert_eq!(got.malformed, None, "SQE {seq}");
    true
}

/// Pops one CQE, if there is one, and checks it is exactly entry `seq`.
fn expect_cqe(cq: &mut CqConsumer, mem: &ModelRing, seq: u64) -> bool {
    let got = expect_taken_cqe(cq, mem, seq);
    cq.release(mem);
    got
}

/// Like [`expect_cqe`], but the slot stays the process's until the caller
/// releases it.
fn expect_taken_cqe(cq: &mut CqConsumer, mem: &ModelRing, seq: u64) -> bool {
    let mut data = Vec::new();
    let Some(got) = cq.take(mem, &mut data).expect("counters stay in range") else {
        return false;
    };
    let (mut want, payload) = cqe(seq);
    want.data_len = payload.len() as u32;
    assert_eq!(
        got, want,
        "CQE {seq}: wrong entry (lost, duplicated, reordered or torn)"
    );
    assert_eq!(data, payload, "CQE {seq}: payload bytes differ");
    true
}

/// Counters `start..start + n` (wrapping).
fn counters(start: u32, n: u32) -> Vec<u32> {
    (0..n).map(|i| start.wrapping_add(i)).collect()
}

/// Three SQEs, published as a batch of two and a batch of one, with the
/// counters crossing `u32::MAX` in between. The consumer works like the
/// kernel's event loop: read the wake word, take everything published,
/// release the slots with one store, sleep only while the word is unchanged.
#[test]
fn sq_entries_arrive_once_in_order_intact_across_the_wrap() {
    const START: u32 = u32::MAX - 1;
    const N: u64 = 3;
    check("sq_in_order", || {
        let mem = Arc::new(ModelRing::new(&counters(START, N as u32), &[]));
        init_ring(&*mem, START);

        let kernel = {
            let mem = mem.clone();
            loom::thread::spawn(move || {
                let mut sq = SqConsumer::new(START);
                let mut next = 0;
                while next < N {
                    let seen = mem.load(KERNEL_WAKE);
                    while expect_sqe(&mut sq, &mem, next) {
                        next += 1;
                    }
                    sq.release(&*mem);
                    if next < N {
                        mem.wait(KERNEL_WAKE, seen);
                    }
                }
                assert_eq!(sq.pending(&*mem), Ok(0), "nothing beyond what was sent");
            })
        };

        let mut sq = SqProducer::new(START);
        for batch in [0..2, 2..N] {
            for seq in batch {
                let (entry, data) = sqe(seq);
                sq.push(&*mem, &entry, &data).unwrap();
            }
            sq.submit(&*mem);
            mem.wake_kernel();
        }
        kernel.join().unwrap();
        let tail = mem.load(SQ_TAIL);
        assert_eq!(tail, START.wrapping_add(N as u32));
        assert!(tail < START, "the SQ counters wrapped during the model");
    });
}

/// The producer finds the SQ full (256 entries between the kernel's head
/// and its tail) and may only reuse a slot after the kernel has copied the
/// entry out of it and released it. Before the threads start, the producer
/// queues the kernel's next three entries (`OLD`) and then filler up to one
/// short of full; the kernel takes and releases the `OLD` entries one by one
/// while the producer pushes on. The producer's second new entry
/// goes into the very slot the kernel's first take reads, so a head
/// published before the copy finished would show as a torn `OLD` entry.
#[test]
fn sq_full_refuses_until_the_kernel_frees_a_slot() {
    const START: u32 = u32::MAX - 2;
    const OLD: u32 = 3;
    const NEW: u64 = 3;
    const NEW_SEQ: u64 = 100;
    check("sq_full", || {
        let first_new = START.wrapping_add(SQ_ENTRIES - 1);
        let mut mapped = counters(START, OLD);
        mapped.extend(counters(first_new, NEW as u32));
        let filler = counters(START.wrapping_add(OLD), SQ_ENTRIES - 1 - OLD);
        let mem = Arc::new(ModelRing::new(&mapped, &[]).with_filler(&filler, &[]));
        init_ring(&*mem, START);
        let mut sq = SqProducer::new(START);
        for seq in 0..OLD as u64 {
            let (entry, data) = sqe(seq);
            sq.push(&*mem, &entry, &data).unwrap();
        }
        for _ in &filler {
            sq.push(&*mem, &Sqe::default(), &[]).unwrap();
        }
        sq.submit(&*mem);
        assert_eq!(sq.free(&*mem), 1, "one slot short of full");
        let (entry, data) = sqe(NEW_SEQ);
        sq.push(&*mem, &entry, &data).unwrap();
        let (entry, data) = sqe(NEW_SEQ + 1);
        assert_eq!(sq.push(&*mem, &entry, &data), Err(PushError::Full));
        sq.submit(&*mem);

        let kernel = {
            let mem = mem.clone();
            loom::thread::spawn(move || {
                let mut sq = SqConsumer::new(START);
                for seq in 0..OLD as u64 {
                    assert!(
                        expect_sqe(&mut sq, &mem, seq),
                        "published before the model began"
                    );
                    sq.release(&*mem);
                    mem.notify(SQ_HEAD);
                }
            })
        };

        for seq in NEW_SEQ + 1..NEW_SEQ + NEW {
            let (entry, data) = sqe(seq);
            loop {
                let head = mem.load(SQ_HEAD);
                match sq.push(&*mem, &entry, &data) {
                    Ok(()) => break,
                    Err(PushError::Full) => mem.wait(SQ_HEAD, head),
                    Err(e) => panic!("{e}"),
                }
            }
            sq.submit(&*mem);
        }
        kernel.join().unwrap();

        // The kernel freed OLD slots and the producer took NEW - 1 more.
        assert_eq!(sq.free(&*mem), 1 + OLD - NEW as u32);
        let mut sq = SqConsumer::new(first_new);
        for seq in NEW_SEQ..NEW_SEQ + NEW {
            assert!(
                expect_sqe(&mut sq, &mem, seq),
                "new SQE {seq} was published"
            );
        }
        assert_eq!(sq.pending(&*mem), Ok(0));
    });
}

/// The kernel posts three completions across the counter wrap as its
/// `publish` does: a batch of two, then one, each staged, published with one
/// store and followed by one doorbell. The process waits the way `cap_enter`
/// does: read the doorbell, drain the CQ, sleep only while
/// the doorbell still holds what it read. A lost wake-up would leave the
/// process asleep with completions pending: a loom deadlock.
///
/// The kernel notifies only a process that has raised `CQ_WAITING`, so this
/// also checks that flag's handshake; without its fences (the second test)
/// loom finds the process asleep with its completions posted.
#[test]
fn cq_completions_arrive_once_in_order_and_the_doorbell_loses_no_wake_up() {
    doorbell_model(true);
}

#[test]
fn without_seq_cst_fences_a_process_asleep_on_its_doorbell_is_never_woken() {
    expect_deadlock(
        "without_seq_cst_fences_a_process_asleep_on_its_doorbell_is_never_woken",
        || doorbell_model(false),
    );
}

fn doorbell_model(fences: bool) {
    const START: u32 = u32::MAX;
    const N: u64 = 3;
    check("cq_doorbell", move || {
        let mem = ModelRing::new(&[], &counters(START, N as u32));
        let mem = Arc::new(if fences {
            mem
        } else {
            mem.without_seq_cst_fences()
        });
        init_ring(&*mem, START);

        let process = {
            let mem = mem.clone();
            loom::thread::spawn(move || {
                let mut cq = CqConsumer::new(START);
                let mut next = 0;
                while next < N {
                    let seen = mem.load(CQ_DOORBELL);
                    while expect_cqe(&mut cq, &mem, next) {
                        next += 1;
                    }
                    if next < N {
                        mem.wait(CQ_DOORBELL, seen);
                    }
                }
            })
        };

        let mut cq = CqProducer::new(START);
        for batch in [0..2, 2..N] {
            for seq in batch {
                let (entry, data) = cqe(seq);
                cq.stage(&*mem, &entry, &data).unwrap();
            }
            assert!(cq.publish(&*mem));
            ring_doorbell(&*mem);
        }
        process.join().unwrap();
        let tail = mem.load(CQ_TAIL);
        assert_eq!(tail, START.wrapping_add(N as u32));
        assert!(tail < START, "the CQ counters wrapped during the model");
        assert_eq!(mem.load(CQ_DOORBELL), 2, "one doorbell per batch");
    });
}

/// The CQ is one entry short of full (filler, as in
/// `sq_full_refuses_until_the_kernel_frees_a_slot`); each further completion
/// must wait until the process has copied an older one out and released it,
/// and then lands in the slot just freed.
#[test]
fn cq_full_refuses_until_the_process_reaps() {
    const START: u32 = u32::MAX - 1;
    const OLD: u32 = 3;
    const NEW: u64 = 3;
    const NEW_SEQ: u64 = 200;
    check("cq_full", || {
        let first_new = START.wrapping_add(CQ_ENTRIES - 1);
        let mut mapped = counters(START, OLD);
        mapped.extend(counters(first_new, NEW as u32));
        let filler = counters(START.wrapping_add(OLD), CQ_ENTRIES - 1 - OLD);
        let mem = Arc::new(ModelRing::new(&[], &mapped).with_filler(&[], &filler));
        init_ring(&*mem, START);
        let mut cq = CqProducer::new(START);
        for seq in 0..OLD as u64 {
            let (entry, data) = cqe(seq);
            cq.stage(&*mem, &entry, &data).unwrap();
        }
        for _ in &filler {
            cq.stage(&*mem, &Cqe::default(), &[]).unwrap();
        }
        assert_eq!(cq.room(&*mem), 1, "one slot short of full");
        let (entry, data) = cqe(NEW_SEQ);
        cq.stage(&*mem, &entry, &data).unwrap();
        let (entry, data) = cqe(NEW_SEQ + 1);
        assert_eq!(cq.stage(&*mem, &entry, &data), Err(PushError::Full));
        cq.publish(&*mem);

        let process = {
            let mem = mem.clone();
            loom::thread::spawn(move || {
                let mut cq = CqConsumer::new(START);
                for seq in 0..OLD as u64 {
                    assert!(
                        expect_cqe(&mut cq, &mem, seq),
                        "posted before the model began"
                    );
                    mem.notify(CQ_HEAD);
                }
            })
        };

        for seq in NEW_SEQ + 1..NEW_SEQ + NEW {
            let (entry, data) = cqe(seq);
            loop {
                let head = mem.load(CQ_HEAD);
                match cq.push(&*mem, &entry, &data) {
                    Ok(()) => break,
                    Err(PushError::Full) => mem.wait(CQ_HEAD, head),
                    Err(e) => panic!("{e}"),
                }
            }
        }
        process.join().unwrap();

        assert_eq!(cq.room(&*mem), 1 + OLD - NEW as u32);
        let mut cq = CqConsumer::new(first_new);
        for seq in NEW_SEQ..NEW_SEQ + NEW {
            assert!(expect_cqe(&mut cq, &mem, seq), "new CQE {seq} was posted");
        }
        assert_eq!(cq.pending(&*mem), Ok(0));
    });
}

/// The CQ-stall handshake (docs/ring.md, "Waking a stalled kernel"), with
/// the real `CqProducer::flag_stalled_and_recheck` and
/// `CqConsumer::release_and_check_stalled`. The CQ starts full and the
/// kernel has `NEW` more completions to post, one at a time. For each, the
/// kernel works like its event loop and `Process::cq_budget`: read the wake
/// word, look at the CQ room (clearing the flag if there is some), else flag
/// the stall and look again, and sleep on the wake word if there is still
/// no room. The process reaps the oldest completions one per drain, the way
/// capos-rt's `drain` does (take, then release and check the flag), and
/// wakes the kernel if the flag is set. If neither side sees the other's
/// store, the kernel sleeps and nobody wakes it: a loom deadlock. With two
/// stalls, the kernel also stalls again while its flag is still set from
/// the first.
///
/// Each new completion lands in a slot the process just freed, so the model
/// also checks they are intact there.
fn cq_stall_handshake_model(fences: bool) {
    const START: u32 = u32::MAX - 1;
    const NEW: u32 = 2;
    const NEW_SEQ: u64 = 300;
    let name = if fences {
        "cq_stall_handshake"
    } else {
        "cq_stall_handshake_without_fences"
    };
    check(name, move || {
        let filler = counters(START.wrapping_add(NEW), CQ_ENTRIES - NEW);
        let mem = ModelRing::new(&[], &counters(START, NEW)).with_filler(&[], &filler);
        let mem = Arc::new(if fences {
            mem
        } else {
            mem.without_seq_cst_fences()
        });
        init_ring(&*mem, START);
        let mut cq = CqProducer::new(START);
        for seq in 0..NEW as u64 {
            let (entry, data) = cqe(seq);
            cq.stage(&*mem, &entry, &data).unwrap();
        }
        for _ in &filler {
            cq.stage(&*mem, &Cqe::default(), &[]).unwrap();
        }
        assert!(cq.publish(&*mem));
        assert_eq!(cq.room(&*mem), 0, "the CQ starts full");

        let process = {
            let mem = mem.clone();
            loom::thread::spawn(move || {
                let mut cq = CqConsumer::new(START);
                for seq in 0..NEW as u64 {
                    assert!(
                        expect_taken_cqe(&mut cq, &mem, seq),
                        "posted before the model began"
                    );
                    if cq.release_and_check_stalled(&*mem) {
                        mem.wake_kernel();
                    }
                }
            })
        };

        let mut flags = 0;
        for seq in NEW_SEQ..NEW_SEQ + NEW as u64 {
            loop {
                let seen = mem.load(KERNEL_WAKE);
                if cq.room(&*mem) > 0 {
                    if flags & RING_FLAG_CQ_STALLED != 0 {
                        flags &= !RING_FLAG_CQ_STALLED;
                        mem.store(FLAGS, flags);
                    }
                    break;
                }
                if cq.flag_stalled_and_recheck(&*mem, &mut flags) > 0 {
                    break;
                }
                mem.wait(KERNEL_WAKE, seen);
            }
            let (entry, data) = cqe(seq);
            cq.push(&*mem, &entry, &data).unwrap();
        }
        process.join().unwrap();

        let mut cq = CqConsumer::new(START.wrapping_add(CQ_ENTRIES));
        for seq in NEW_SEQ..NEW_SEQ + NEW as u64 {
            assert!(expect_cqe(&mut cq, &mem, seq), "new CQE {seq} was posted");
        }
        assert_eq!(cq.pending(&*mem), Ok(0));
    });
}

#[test]
fn a_kernel_stalled_on_a_full_cq_is_woken_once_the_process_reaps() {
    cq_stall_handshake_model(true);
}

/// Release/acquire alone lets both loads of the handshake read the old
/// values (store buffering): loom must find the kernel asleep forever.
#[test]
fn without_seq_cst_fences_a_stalled_kernel_can_sleep_forever() {
    expect_deadlock(
        "without_seq_cst_fences_a_stalled_kernel_can_sleep_forever",
        || cq_stall_handshake_model(false),
    );
}

/// How a process might get the doorbell wrong; the model must reject both.
#[derive(Clone, Copy)]
enum BrokenDoorbell {
    /// The waiter looks at the CQ first and reads the doorbell afterwards,
    /// so a completion posted in between is covered by the value it waits on.
    WaiterReadsDoorbellLate,
    /// The kernel notifies before changing the word, so a waiter that has
    /// not started sleeping yet misses the notify and sleeps on the new value.
    NotifyBeforeBump,
}

/// One completion and one waiter using `broken`'s protocol. Loom must find
/// the interleaving in which the waiter sleeps forever.
fn broken_doorbell_model(broken: BrokenDoorbell) {
    const START: u32 = 0;
    check("broken_doorbell", move || {
        let mem = Arc::new(ModelRing::new(&[], &[START]));
        init_ring(&*mem, START);
        let process = {
            let mem = mem.clone();
            loom::thread::spawn(move || {
                let mut cq = CqConsumer::new(START);
                loop {
                    let early = mem.load(CQ_DOORBELL);
                    if expect_cqe(&mut cq, &mem, 0) {
                        return;
                    }
                    let seen = match broken {
                        BrokenDoorbell::WaiterReadsDoorbellLate => mem.load(CQ_DOORBELL),
                        BrokenDoorbell::NotifyBeforeBump => early,
                    };
                    mem.wait(CQ_DOORBELL, seen);
                }
            })
        };
        let mut cq = CqProducer::new(START);
        let (entry, data) = cqe(0);
        cq.push(&*mem, &entry, &data).unwrap();
        match broken {
            BrokenDoorbell::WaiterReadsDoorbellLate => ring_doorbell(&*mem),
            BrokenDoorbell::NotifyBeforeBump => {
                mem.notify(CQ_DOORBELL);
                mem.fetch_add(CQ_DOORBELL, 1);
            }
        }
        process.join().unwrap();
    });
}

/// Set in the child process that runs a broken model (see `expect_deadlock`).
const RUN_BROKEN_MODEL: &str = "CAPOS_LOOM_RUN_BROKEN_MODEL";

/// Runs the broken model `model` in a child process and asserts loom
/// reports a deadlock there. A child, because loom's deadlock panic leaves
/// its runtime half torn down and aborts the process while unwinding, so
/// `#[should_panic]` cannot catch it. `test_name` is the calling test,
/// which the child re-enters with [`RUN_BROKEN_MODEL`] set.
fn expect_deadlock(test_name: &str, model: fn()) {
    if std::env::var_os(RUN_BROKEN_MODEL).is_some() {
        model();
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test_name, "--nocapture", "--test-threads=1"])
        .env(RUN_BROKEN_MODEL, "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("deadlock"),
        "loom did not catch the lost wake-up in {test_name} (exit {:?}):\n{}\n{stderr}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
    );
}

#[test]
fn a_waiter_that_reads_the_doorbell_after_checking_the_cq_can_sleep_forever() {
    expect_deadlock(
        "a_waiter_that_reads_the_doorbell_after_checking_the_cq_can_sleep_forever",
        || broken_doorbell_model(BrokenDoorbell::WaiterReadsDoorbellLate),
    );
}

#[test]
fn a_kernel_that_notifies_before_bumping_the_doorbell_can_leave_a_waiter_asleep_forever() {
    expect_deadlock(
        "a_kernel_that_notifies_before_bumping_the_doorbell_can_leave_a_waiter_asleep_forever",
        || broken_doorbell_model(BrokenDoorbell::NotifyBeforeBump),
    );
}
