//! The capability ring: one per process, in a `SharedArrayBuffer` shared by
//! exactly that process's Worker and the kernel Worker.
//!
//! ```text
//! offset  what                                   written by
//! 0       SQ head   (u32, free-running)          kernel
//! 64      SQ tail   (u32, free-running)          process
//! 128     CQ head   (u32, free-running)          process
//! 192     CQ tail   (u32, free-running)          kernel
//! 256     CQ doorbell (u32, bumped per CQE batch) kernel; the process waits on it
//! 260     flags     (u32, RING_FLAG_*)           kernel
//! 264     magic, 268 version                     kernel, at creation
//! 272     CQ waiting (u32, 1 while asleep on the doorbell) process
//! 512     SQ entries  [SQ_ENTRIES x 32 bytes]    process
//! ..      CQ entries  [CQ_ENTRIES x 32 bytes]    kernel
//! ..      SQ data slots [SQ_ENTRIES x SLOT_DATA_SIZE] process (params)
//! ..      CQ data slots [CQ_ENTRIES x SLOT_DATA_SIZE] kernel (results)
//! ```
//!
//! Each index sits on its own 64-byte line so producer and consumer don't
//! false-share. Counters are free-running `u32`s: `tail - head` (wrapping) is
//! the number of entries in flight and `counter & (ENTRIES - 1)` the slot.
//! Entry data (Cap'n Proto messages) lives in the data slot with the same
//! index as its entry, so no allocator is shared across the trust boundary.
//!
//! Neither side ever reads back from shared memory an index it owns: each
//! keeps its own copy (`SqProducer::tail`, `SqConsumer::head`, ...). The
//! kernel therefore can't be confused by a process overwriting the kernel's
//! indices; the worst a process can do is corrupt its own ring.
//!
//! Memory ordering: entries and data are written with plain stores before the
//! index that publishes them is stored with release semantics, and the other
//! side loads that index with acquire semantics before reading them.
//! (JavaScript's `Atomics` are sequentially consistent, which is stronger.)
//! The CQ-stall handshake alone needs a sequentially consistent fence
//! ([`RingMemory::fence_seqcst`]). See docs/ring.md.

use alloc::vec::Vec;
use core::fmt;

pub const RING_MAGIC: u32 = 0x5250_4143; // "CAPR" little-endian
pub const RING_VERSION: u32 = 1;

/// Submission queue entries (a power of two).
pub const SQ_ENTRIES: u32 = 256;
/// Completion queue entries (a power of two).
pub const CQ_ENTRIES: u32 = 256;
/// Bytes of params (per SQE) or results (per CQE) a slot carries.
pub const SLOT_DATA_SIZE: u32 = 2048;

pub const SQ_HEAD: usize = 0;
pub const SQ_TAIL: usize = 64;
pub const CQ_HEAD: usize = 128;
pub const CQ_TAIL: usize = 192;
pub const CQ_DOORBELL: usize = 256;
pub const FLAGS: usize = 260;
pub const MAGIC: usize = 264;
pub const VERSION: usize = 268;
/// 1 while the process sleeps (`Atomics.wait`) on `CQ_DOORBELL`, else 0:
/// the kernel notifies only then, so a process that is spinning for its
/// answer costs the kernel no `Atomics.notify` (see [`ring_doorbell`]).
pub const CQ_WAITING: usize = 272;
/// Diagnostics only, written by the process's host (JavaScript) and read by
/// no one but a person looking at a stalled boot: how far the process got
/// (1 start received, 2 instantiated, 3 runtime initialised, 4 in `_start`)
/// and how many times it has waited for its CQ.
pub const PROCESS_STAGE: usize = 276;
pub const PROCESS_WAITS: usize = 280;
pub const HEADER_SIZE: usize = 512;

pub const SQE_SIZE: usize = 32;
pub const CQE_SIZE: usize = 32;

pub const SQ_ARRAY: usize = HEADER_SIZE;
pub const CQ_ARRAY: usize = SQ_ARRAY + SQ_ENTRIES as usize * SQE_SIZE;
pub const SQ_DATA: usize = CQ_ARRAY + CQ_ENTRIES as usize * CQE_SIZE;
pub const CQ_DATA: usize = SQ_DATA + SQ_ENTRIES as usize * SLOT_DATA_SIZE as usize;
/// Total bytes of one ring.
pub const RING_SIZE: usize = CQ_DATA + CQ_ENTRIES as usize * SLOT_DATA_SIZE as usize;

/// Set by the kernel when it tears the process down; a waiter that wakes and
/// sees it must stop (the Worker is being terminated).
pub const RING_FLAG_KILLED: u32 = 1;
/// Set by the kernel while it has stopped taking this process's SQEs because
/// the CQ has no room for their completions. A process that frees CQ slots
/// and sees it must wake the kernel (the kernel may be asleep).
pub const RING_FLAG_CQ_STALLED: u32 = 2;

/// Does nothing and completes with 0: the cheapest round trip.
pub const OP_NOP: u8 = 0;
/// Invokes method `method` of interface `interface_id` on capability `cap_id`.
pub const OP_CALL: u8 = 1;
/// Drops capability `cap_id` from the caller's CapTable.
pub const OP_RELEASE: u8 = 2;

const _: () = assert!(SQ_ENTRIES.is_power_of_two() && CQ_ENTRIES.is_power_of_two());
const _: () = assert!(RING_SIZE.is_multiple_of(4));
// Each index on its own 64-byte line; the rest of the header fits before SQ_ARRAY.
const _: () =
    assert!(SQ_TAIL >= SQ_HEAD + 64 && CQ_HEAD >= SQ_TAIL + 64 && CQ_TAIL >= CQ_HEAD + 64);
const _: () = assert!(CQ_DOORBELL >= CQ_TAIL + 64 && PROCESS_WAITS + 4 <= HEADER_SIZE);

/// Why the kernel refused or failed a call; the negative `result` of a CQE.
/// A failed CQE's data slot carries a UTF-8 message for a human.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum CapError {
    /// The id names nothing in the caller's CapTable.
    UnknownCap = -1,
    /// The id named a capability that was released or moved away.
    StaleCap = -2,
    /// The SQE's interface id is not the capability's interface.
    WrongInterface = -3,
    /// The interface has no such method.
    UnknownMethod = -4,
    /// The params are not a valid Cap'n Proto message of the method's type.
    BadParams = -5,
    /// The SQE itself is malformed (opcode, reserved bits, data length).
    BadSqe = -6,
    /// The call is well-formed but asks for more than the kernel allows.
    TooLarge = -7,
    /// The capability does not permit this.
    Denied = -8,
    /// A table or queue is full; retry after releasing something.
    Exhausted = -9,
    /// The process serving the call is gone.
    PeerGone = -10,
    /// The kernel failed for a reason that is not the caller's fault.
    Internal = -11,
}

impl CapError {
    pub const ALL: [CapError; 11] = [
        Self::UnknownCap,
        Self::StaleCap,
        Self::WrongInterface,
        Self::UnknownMethod,
        Self::BadParams,
        Self::BadSqe,
        Self::TooLarge,
        Self::Denied,
        Self::Exhausted,
        Self::PeerGone,
        Self::Internal,
    ];

    pub const fn code(self) -> i32 {
        self as i32
    }

    pub fn from_code(code: i32) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.code() == code)
    }

    pub const fn name(self) -> &'static str {
        match self {
            Self::UnknownCap => "UnknownCap",
            Self::StaleCap => "StaleCap",
            Self::WrongInterface => "WrongInterface",
            Self::UnknownMethod => "UnknownMethod",
            Self::BadParams => "BadParams",
            Self::BadSqe => "BadSqe",
            Self::TooLarge => "TooLarge",
            Self::Denied => "Denied",
            Self::Exhausted => "Exhausted",
            Self::PeerGone => "PeerGone",
            Self::Internal => "Internal",
        }
    }
}

impl fmt::Display for CapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A submission queue entry (32 bytes, little-endian).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sqe {
    pub user_data: u64,
    pub interface_id: u64,
    pub cap_id: u32,
    pub method: u16,
    pub opcode: u8,
    pub flags: u8,
    /// Bytes of params in this entry's data slot.
    pub data_len: u32,
}

impl Sqe {
    pub fn encode(&self) -> [u8; SQE_SIZE] {
        let mut b = [0u8; SQE_SIZE];
        b[0..8].copy_from_slice(&self.user_data.to_le_bytes());
        b[8..16].copy_from_slice(&self.interface_id.to_le_bytes());
        b[16..20].copy_from_slice(&self.cap_id.to_le_bytes());
        b[20..22].copy_from_slice(&self.method.to_le_bytes());
        b[22] = self.opcode;
        b[23] = self.flags;
        b[24..28].copy_from_slice(&self.data_len.to_le_bytes());
        b
    }

    /// Decodes an entry. Returns the entry and whether its reserved bytes
    /// were all zero (the kernel refuses entries with junk there, so the
    /// bytes stay usable for future fields).
    pub fn decode(b: &[u8; SQE_SIZE]) -> (Self, bool) {
        let sqe = Self {
            user_data: u64::from_le_bytes(b[0..8].try_into().expect("8 bytes")),
            interface_id: u64::from_le_bytes(b[8..16].try_into().expect("8 bytes")),
            cap_id: u32::from_le_bytes(b[16..20].try_into().expect("4 bytes")),
            method: u16::from_le_bytes(b[20..22].try_into().expect("2 bytes")),
            opcode: b[22],
            flags: b[23],
            data_len: u32::from_le_bytes(b[24..28].try_into().expect("4 bytes")),
        };
        (sqe, b[28..].iter().all(|&x| x == 0))
    }
}

/// A completion queue entry (32 bytes, little-endian).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cqe {
    pub user_data: u64,
    /// 0 or positive on success, a negated [`CapError`] code on failure.
    pub result: i32,
    /// Bytes of results (or of the error message) in this entry's data slot.
    pub data_len: u32,
    pub flags: u32,
}

impl Cqe {
    pub fn encode(&self) -> [u8; CQE_SIZE] {
        let mut b = [0u8; CQE_SIZE];
        b[0..8].copy_from_slice(&self.user_data.to_le_bytes());
        b[8..12].copy_from_slice(&self.result.to_le_bytes());
        b[12..16].copy_from_slice(&self.data_len.to_le_bytes());
        b[16..20].copy_from_slice(&self.flags.to_le_bytes());
        b
    }

    pub fn decode(b: &[u8; CQE_SIZE]) -> Self {
        Self {
            user_data: u64::from_le_bytes(b[0..8].try_into().expect("8 bytes")),
            result: i32::from_le_bytes(b[8..12].try_into().expect("4 bytes")),
            data_len: u32::from_le_bytes(b[12..16].try_into().expect("4 bytes")),
            flags: u32::from_le_bytes(b[16..20].try_into().expect("4 bytes")),
        }
    }

    pub fn error(&self) -> Option<CapError> {
        (self.result < 0).then(|| CapError::from_code(self.result).unwrap_or(CapError::Internal))
    }
}

/// The shared bytes of one ring, as seen by one side.
///
/// Offsets are byte offsets from the start of the ring. `load` has acquire
/// semantics and `store`/`fetch_add` release semantics; `read`/`write` are
/// plain copies ordered by them. `fence_seqcst` is the one stronger
/// operation, used only by the CQ-stall handshake.
pub trait RingMemory {
    fn load(&self, offset: usize) -> u32;
    fn store(&self, offset: usize, value: u32);
    fn fetch_add(&self, offset: usize, value: u32) -> u32;
    fn read(&self, offset: usize, out: &mut [u8]);
    fn write(&self, offset: usize, data: &[u8]);
    /// Wakes every agent waiting on the word at `offset`.
    fn notify(&self, offset: usize);
    /// A full sequentially consistent fence (`fence(SeqCst)`, Linux's
    /// `smp_mb()`): a store before it and a load after it, of *different*
    /// words, are not reordered.
    ///
    /// Release/acquire cannot give that: it orders accesses around the
    /// publication of one word, but a store may still sit in a store buffer
    /// while a later load of another word reads an old value. That breaks a
    /// handshake in which *each* side stores its word and then loads the
    /// other's (Dekker, "store buffering"): both loads can miss both stores.
    /// The CQ-stall handshake is one ([`CqProducer::flag_stalled_and_recheck`]
    /// against [`CqConsumer::release_and_check_stalled`]): without a fence on
    /// both sides the kernel can sleep on a full CQ the process has just
    /// drained while the process misses the flag and never wakes it.
    /// io_uring's `IORING_SQ_NEED_WAKEUP` check has `smp_mb()` in the same
    /// places. Where every `load` and `store` is already sequentially
    /// consistent (JavaScript `Atomics`), this may do nothing.
    fn fence_seqcst(&self);

    /// Copies each span's `len` bytes at ring offset `ring` to `local` in
    /// `out`: every data slot of a batch in one call, which an implementation
    /// across a costly boundary (a Worker's JS glue) makes one crossing.
    /// Spans are in bounds of the ring and of `out` (the ring code builds
    /// them from its layout).
    fn gather(&self, spans: &[Span], out: &mut [u8]) {
        for s in spans {
            let local = s.local as usize;
            self.read(s.ring as usize, &mut out[local..local + s.len as usize]);
        }
    }

    /// The reverse of [`gather`](Self::gather): each span's `len` bytes at
    /// `local` in `from` to ring offset `ring`.
    fn scatter(&self, spans: &[Span], from: &[u8]) {
        for s in spans {
            let local = s.local as usize;
            self.write(s.ring as usize, &from[local..local + s.len as usize]);
        }
    }
}

/// One piece of a [`RingMemory::gather`] or [`RingMemory::scatter`]: `len`
/// bytes at offset `ring` of the ring and at offset `local` of the caller's
/// buffer. `repr(C)`, three `u32`s: the JS glue reads lists of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct Span {
    pub ring: u32,
    pub local: u32,
    pub len: u32,
}

/// The producer or consumer on the other side broke the ring's rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RingViolation {
    /// The other side claims more entries in flight than the queue holds.
    CounterOutOfRange { head: u32, tail: u32 },
}

impl fmt::Display for RingViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CounterOutOfRange { head, tail } => write!(
                f,
                "ring counters out of range (head {head}, tail {tail}): the queue cannot hold that many entries"
            ),
        }
    }
}

/// Why an entry could not be queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushError {
    /// The queue has no free entry; consume completions and retry.
    Full,
    /// The data does not fit in one slot.
    TooLarge { len: usize, max: usize },
}

impl fmt::Display for PushError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full => f.write_str("queue is full"),
            Self::TooLarge { len, max } => {
                write!(f, "message of {len} bytes exceeds the {max}-byte ring slot")
            }
        }
    }
}

/// Writes the header of a fresh ring whose four counters start at `start`
/// (tests start near `u32::MAX` to cross the wrap early).
pub fn init_ring(mem: &impl RingMemory, start: u32) {
    for offset in [SQ_HEAD, SQ_TAIL, CQ_HEAD, CQ_TAIL] {
        mem.store(offset, start);
    }
    mem.store(CQ_DOORBELL, 0);
    mem.store(FLAGS, 0);
    mem.store(VERSION, RING_VERSION);
    mem.store(MAGIC, RING_MAGIC);
}

pub const fn sqe_offset(counter: u32) -> usize {
    SQ_ARRAY + (counter & (SQ_ENTRIES - 1)) as usize * SQE_SIZE
}
pub const fn sq_data_offset(counter: u32) -> usize {
    SQ_DATA + (counter & (SQ_ENTRIES - 1)) as usize * SLOT_DATA_SIZE as usize
}
const fn cq_data_offset(counter: u32) -> usize {
    CQ_DATA + (counter & (CQ_ENTRIES - 1)) as usize * SLOT_DATA_SIZE as usize
}

/// Writes `entries` (whole encoded entries, `size` bytes each) into the
/// entry array at `array`, starting at the slot of counter `first`: one
/// write, or two where the run wraps. Producers stage entries in their own
/// memory and copy a batch across with this, once, before they publish.
fn write_entry_run(
    mem: &impl RingMemory,
    array: usize,
    entries_in_array: u32,
    size: usize,
    first: u32,
    entries: &[u8],
) {
    let start = (first & (entries_in_array - 1)) as usize;
    let count = entries.len() / size;
    let before_wrap = count.min(entries_in_array as usize - start);
    mem.write(array + start * size, &entries[..before_wrap * size]);
    if count > before_wrap {
        mem.write(array, &entries[before_wrap * size..]);
    }
}

/// Appends `data` to a producer's staged data (8-byte aligned, so the glue
/// copies whole words) with the span that will place it at `ring`.
fn stage_data(staged: &mut Vec<u8>, spans: &mut Vec<Span>, ring: usize, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    let local = staged.len();
    spans.push(Span {
        ring: ring as u32,
        local: local as u32,
        len: data.len() as u32,
    });
    staged.extend_from_slice(data);
    staged.resize(local + data.len().div_ceil(8) * 8, 0);
}

/// Reads `count` entries from the slot of counter `first` on into `out`: the
/// consumers' side of [`write_entry_run`].
fn read_entry_run(
    mem: &impl RingMemory,
    array: usize,
    entries_in_array: u32,
    size: usize,
    first: u32,
    out: &mut [u8],
) {
    let start = (first & (entries_in_array - 1)) as usize;
    let count = out.len() / size;
    let before_wrap = count.min(entries_in_array as usize - start);
    mem.read(array + start * size, &mut out[..before_wrap * size]);
    if count > before_wrap {
        mem.read(array, &mut out[before_wrap * size..]);
    }
}

/// Process side: queues SQEs. Entries become visible to the kernel only at
/// [`SqProducer::submit`], so a batch costs one release store.
#[derive(Debug)]
///
/// `new(start)` is for a fresh ring: it takes the queue to be empty, with
/// both indices at `start`.
pub struct SqProducer {
    /// Next counter to fill (may be ahead of the published tail).
    tail: u32,
    /// Last published tail.
    published: u32,
    /// The kernel's SQ head as last read: re-read only when the queue looks
    /// full, so a batch of pushes costs no shared-memory loads.
    head_seen: u32,
    /// Encoded entries pushed and not yet copied to the ring: a batch
    /// crosses into shared memory in one copy at `submit`.
    staged: Vec<u8>,
    /// Their data, and the spans that place it (one scatter at publish).
    staged_data: Vec<u8>,
    staged_spans: Vec<Span>,
}

impl SqProducer {
    pub fn new(start: u32) -> Self {
        Self {
            tail: start,
            published: start,
            head_seen: start,
            staged: Vec::new(),
            staged_data: Vec::new(),
            staged_spans: Vec::new(),
        }
    }

    /// Entries that can still be pushed before the queue is full.
    pub fn free(&self, mem: &impl RingMemory) -> u32 {
        let used = self.tail.wrapping_sub(mem.load(SQ_HEAD));
        SQ_ENTRIES.saturating_sub(used)
    }

    fn has_room(&mut self, mem: &impl RingMemory) -> bool {
        if self.tail.wrapping_sub(self.head_seen) < SQ_ENTRIES {
            return true;
        }
        self.head_seen = mem.load(SQ_HEAD);
        self.tail.wrapping_sub(self.head_seen) < SQ_ENTRIES
    }

    /// Writes an entry and its params; not yet visible to the kernel.
    pub fn push(&mut self, mem: &impl RingMemory, sqe: &Sqe, data: &[u8]) -> Result<(), PushError> {
        if data.len() > SLOT_DATA_SIZE as usize {
            return Err(PushError::TooLarge {
                len: data.len(),
                max: SLOT_DATA_SIZE as usize,
            });
        }
        if !self.has_room(mem) {
            return Err(PushError::Full);
        }
        let mut entry = *sqe;
        entry.data_len = data.len() as u32;
        stage_data(
            &mut self.staged_data,
            &mut self.staged_spans,
            sq_data_offset(self.tail),
            data,
        );
        self.staged.extend_from_slice(&entry.encode());
        self.tail = self.tail.wrapping_add(1);
        Ok(())
    }

    /// Publishes every pushed entry: copies the staged entries to the ring,
    /// then stores the tail (release). Returns how many were published.
    pub fn submit(&mut self, mem: &impl RingMemory) -> u32 {
        let n = self.tail.wrapping_sub(self.published);
        if n > 0 {
            mem.scatter(&self.staged_spans, &self.staged_data);
            self.staged_data.clear();
            self.staged_spans.clear();
            write_entry_run(
                mem,
                SQ_ARRAY,
                SQ_ENTRIES,
                SQE_SIZE,
                self.published,
                &self.staged,
            );
            self.staged.clear();
            mem.store(SQ_TAIL, self.tail);
            self.published = self.tail;
        }
        n
    }
}

/// An SQE as the kernel took it off the ring.
#[derive(Debug, PartialEq, Eq)]
pub struct Submission {
    pub sqe: Sqe,
    /// Params copied out of the slot; empty if `malformed`.
    pub data: Vec<u8>,
    /// Why the entry itself is unusable (the kernel completes it with
    /// [`CapError::BadSqe`]), or `None`.
    pub malformed: Option<&'static str>,
}

/// Kernel side: takes SQEs off a process's ring.
#[derive(Debug)]
pub struct SqConsumer {
    head: u32,
    /// Last head stored to shared memory.
    released: u32,
    /// The producer's tail as last read (re-read when we catch up with it).
    tail_seen: u32,
}

impl SqConsumer {
    pub fn new(start: u32) -> Self {
        Self {
            head: start,
            released: start,
            tail_seen: start,
        }
    }

    /// Entries published and not yet consumed.
    pub fn pending(&self, mem: &impl RingMemory) -> Result<u32, RingViolation> {
        let tail = mem.load(SQ_TAIL);
        let n = tail.wrapping_sub(self.head);
        if n > SQ_ENTRIES {
            return Err(RingViolation::CounterOutOfRange {
                head: self.head,
                tail,
            });
        }
        Ok(n)
    }

    /// Copies the next entry (and its params) out of shared memory and frees
    /// its slot. Everything is copied before it is validated, so the process
    /// can't change an entry after the kernel checked it.
    pub fn pop(&mut self, mem: &impl RingMemory) -> Result<Option<Submission>, RingViolation> {
        let popped = self.take(mem)?;
        self.release(mem);
        Ok(popped)
    }

    /// Like [`pop`](Self::pop), but the slot stays owned by the kernel until
    /// [`release`](Self::release): a batch of takes costs one release store.
    pub fn take(&mut self, mem: &impl RingMemory) -> Result<Option<Submission>, RingViolation> {
        if self.head == self.tail_seen {
            let tail = mem.load(SQ_TAIL);
            if tail.wrapping_sub(self.head) > SQ_ENTRIES {
                return Err(RingViolation::CounterOutOfRange {
                    head: self.head,
                    tail,
                });
            }
            self.tail_seen = tail;
            if tail == self.head {
                return Ok(None);
            }
        }
        let mut raw = [0u8; SQE_SIZE];
        mem.read(sqe_offset(self.head), &mut raw);
        let (sqe, reserved_clear) = Sqe::decode(&raw);
        let mut data = Vec::new();
        let malformed = if sqe.data_len > SLOT_DATA_SIZE {
            Some("data_len exceeds the ring slot")
        } else if !reserved_clear {
            Some("reserved SQE bytes are not zero")
        } else {
            data.resize(sqe.data_len as usize, 0);
            mem.read(sq_data_offset(self.head), &mut data);
            None
        };
        self.head = self.head.wrapping_add(1);
        Ok(Some(Submission {
            sqe,
            data,
            malformed,
        }))
    }

    /// Hands every taken slot back to the producer.
    pub fn release(&mut self, mem: &impl RingMemory) {
        if self.released != self.head {
            mem.store(SQ_HEAD, self.head);
            self.released = self.head;
        }
    }

    /// Takes up to `max` published entries at once, copying them into
    /// `entries` (`SQE_SIZE` bytes each) with one read, or two where the run
    /// wraps: the kernel's fast path, which crosses into shared memory once
    /// per batch rather than once per entry. Returns the counter of the first
    /// entry taken and how many were taken; each one's params are then copied
    /// with [`read_params`](Self::read_params). The slots stay the kernel's
    /// until [`release`](Self::release).
    pub fn take_batch(
        &mut self,
        mem: &impl RingMemory,
        max: u32,
        entries: &mut [u8],
    ) -> Result<(u32, u32), RingViolation> {
        let tail = mem.load(SQ_TAIL);
        let available = tail.wrapping_sub(self.head);
        if available > SQ_ENTRIES {
            return Err(RingViolation::CounterOutOfRange {
                head: self.head,
                tail,
            });
        }
        self.tail_seen = tail;
        let count = available.min(max).min((entries.len() / SQE_SIZE) as u32);
        let first = self.head;
        let run = &mut entries[..count as usize * SQE_SIZE];
        read_entry_run(mem, SQ_ARRAY, SQ_ENTRIES, SQE_SIZE, first, run);
        self.head = self.head.wrapping_add(count);
        Ok((first, count))
    }

    /// Copies the params of the batch taken from counter `first` (taken and
    /// not yet released) in one gather: entry `i`'s `lens[i]` bytes (bounded
    /// by the slot size; 0 for none) to `out[i * SLOT_DATA_SIZE..]`.
    /// `spans` is scratch space.
    pub fn read_params(
        &self,
        mem: &impl RingMemory,
        first: u32,
        lens: &[u32],
        out: &mut [u8],
        spans: &mut Vec<Span>,
    ) {
        spans.clear();
        for (i, &len) in lens.iter().enumerate() {
            if len > 0 {
                spans.push(Span {
                    ring: sq_data_offset(first.wrapping_add(i as u32)) as u32,
                    local: i as u32 * SLOT_DATA_SIZE,
                    len: len.min(SLOT_DATA_SIZE),
                });
            }
        }
        mem.gather(spans, out);
    }
}

/// Kernel side: posts CQEs to a process's ring.
#[derive(Debug)]
pub struct CqProducer {
    tail: u32,
    /// Last tail stored to shared memory.
    published: u32,
    /// The process's CQ head as last read: re-read only when the queue looks
    /// full, so staging a batch costs no shared-memory loads.
    head_seen: u32,
    /// Encoded entries staged and not yet copied to the ring (see `publish`).
    staged: Vec<u8>,
    /// Their data, and the spans that place it (one scatter at publish).
    staged_data: Vec<u8>,
    staged_spans: Vec<Span>,
}

impl CqProducer {
    pub fn new(start: u32) -> Self {
        Self {
            tail: start,
            published: start,
            head_seen: start,
            staged: Vec::new(),
            staged_data: Vec::new(),
            staged_spans: Vec::new(),
        }
    }

    /// Free CQ entries. A process that corrupts its CQ head only ever makes
    /// this smaller (never more than `CQ_ENTRIES`), so it can at worst stall
    /// its own completions, not make the kernel overwrite unread ones.
    pub fn room(&self, mem: &impl RingMemory) -> u32 {
        let used = self.tail.wrapping_sub(mem.load(CQ_HEAD));
        CQ_ENTRIES.saturating_sub(used)
    }

    /// Kernel side of the CQ-stall handshake, for when the CQ looked too
    /// full to take another SQE: sets [`RING_FLAG_CQ_STALLED`] in `flags`
    /// (the kernel's own copy of `FLAGS`; it never reads the word back),
    /// stores it if that changed it, and returns the room as it is once the
    /// flag is visible. Room the process frees after this look is announced
    /// by the process (see [`CqConsumer::release_and_check_stalled`]), so a
    /// kernel that still finds too little room may sleep.
    pub fn flag_stalled_and_recheck(&self, mem: &impl RingMemory, flags: &mut u32) -> u32 {
        if *flags & RING_FLAG_CQ_STALLED == 0 {
            *flags |= RING_FLAG_CQ_STALLED;
            mem.store(FLAGS, *flags);
        }
        // Store FLAGS, then load CQ_HEAD: the process does the mirror image,
        // so with a fence on each side one of the two loads sees the other
        // side's store. (If the flag was already set, the fence that followed
        // that store would do; fencing every time keeps the rule local.)
        mem.fence_seqcst();
        self.room(mem)
    }

    /// Writes and publishes one completion.
    pub fn push(&mut self, mem: &impl RingMemory, cqe: &Cqe, data: &[u8]) -> Result<(), PushError> {
        self.stage(mem, cqe, data)?;
        self.publish(mem);
        Ok(())
    }

    /// Publishes every staged completion: copies the staged entries to the
    /// ring, then stores the tail (release). Returns whether there was
    /// anything to publish.
    pub fn publish(&mut self, mem: &impl RingMemory) -> bool {
        if self.published == self.tail {
            return false;
        }
        mem.scatter(&self.staged_spans, &self.staged_data);
        self.staged_data.clear();
        self.staged_spans.clear();
        write_entry_run(
            mem,
            CQ_ARRAY,
            CQ_ENTRIES,
            CQE_SIZE,
            self.published,
            &self.staged,
        );
        self.staged.clear();
        mem.store(CQ_TAIL, self.tail);
        self.published = self.tail;
        true
    }

    /// Writes one completion without publishing it (see [`publish`](Self::publish)).
    pub fn stage(
        &mut self,
        mem: &impl RingMemory,
        cqe: &Cqe,
        data: &[u8],
    ) -> Result<(), PushError> {
        if data.len() > SLOT_DATA_SIZE as usize {
            return Err(PushError::TooLarge {
                len: data.len(),
                max: SLOT_DATA_SIZE as usize,
            });
        }
        if self.tail.wrapping_sub(self.head_seen) >= CQ_ENTRIES {
            self.head_seen = mem.load(CQ_HEAD);
            // A head the process moved past our tail claims room that is not
            // there: count the queue as full rather than trust it.
            if self.tail.wrapping_sub(self.head_seen) >= CQ_ENTRIES {
                return Err(PushError::Full);
            }
        }
        let mut entry = *cqe;
        entry.data_len = data.len() as u32;
        stage_data(
            &mut self.staged_data,
            &mut self.staged_spans,
            cq_data_offset(self.tail),
            data,
        );
        self.staged.extend_from_slice(&entry.encode());
        self.tail = self.tail.wrapping_add(1);
        Ok(())
    }
}

/// Changes the doorbell word, then wakes the process if it sleeps on it.
/// Changing the word first means a waiter that checked the CQ just before
/// the new entries landed, and is about to wait on the old doorbell value,
/// finds it changed and returns at once instead of missing the wake.
///
/// The process sets [`CQ_WAITING`] before it waits (and clears it after), so
/// `notify` is skipped while it spins, which is most of the time under load.
/// That is a store-then-load on each side (the kernel: doorbell, then the
/// flag; the process: the flag, then the wait's compare of the doorbell), so
/// a SeqCst fence sits between, as in the CQ-stall handshake: one of the two
/// loads sees the other side's store, so either the kernel notifies or the
/// wait returns at once.
pub fn ring_doorbell(mem: &impl RingMemory) {
    mem.fetch_add(CQ_DOORBELL, 1);
    mem.fence_seqcst();
    if mem.load(CQ_WAITING) != 0 {
        mem.notify(CQ_DOORBELL);
    }
}

/// Process side: takes CQEs off its ring.
#[derive(Debug)]
pub struct CqConsumer {
    head: u32,
    released: u32,
    /// Entries from `head` on, copied out of the ring in one read when the
    /// consumer caught up with the tail it had seen (`take` then decodes
    /// from here): a batch of completions crosses shared memory once.
    fetched: Vec<u8>,
    /// How many of `fetched` have been taken.
    fetched_taken: usize,
    /// Their results, gathered in the same refill: entry `i`'s at
    /// `fetched_at[i]` in `fetched_data`.
    fetched_data: Vec<u8>,
    fetched_at: Vec<usize>,
    spans: Vec<Span>,
}

impl CqConsumer {
    pub fn new(start: u32) -> Self {
        Self {
            head: start,
            released: start,
            fetched: Vec::new(),
            fetched_taken: 0,
            fetched_data: Vec::new(),
            fetched_at: Vec::new(),
            spans: Vec::new(),
        }
    }

    /// Hands every taken slot back to the kernel.
    pub fn release(&mut self, mem: &impl RingMemory) {
        if self.released != self.head {
            mem.store(CQ_HEAD, self.head);
            self.released = self.head;
        }
    }

    /// Process side of the CQ-stall handshake: hands every taken slot back
    /// and returns whether the kernel had stopped for want of CQ room, in
    /// which case the caller must wake it (it may be asleep). Returns false
    /// without looking if no slot was freed: only freed room can unstall
    /// the kernel, and whoever freed it checked the flag then. Use
    /// [`take`](Self::take), not [`pop`](Self::pop), before this: `pop`
    /// releases by itself, leaving nothing for this to free.
    pub fn release_and_check_stalled(&mut self, mem: &impl RingMemory) -> bool {
        if self.released == self.head {
            return false;
        }
        self.release(mem);
        // Store CQ_HEAD, then load FLAGS: the mirror image of
        // `CqProducer::flag_stalled_and_recheck`.
        mem.fence_seqcst();
        mem.load(FLAGS) & RING_FLAG_CQ_STALLED != 0
    }

    pub fn pending(&self, mem: &impl RingMemory) -> Result<u32, RingViolation> {
        let tail = mem.load(CQ_TAIL);
        let n = tail.wrapping_sub(self.head);
        if n > CQ_ENTRIES {
            return Err(RingViolation::CounterOutOfRange {
                head: self.head,
                tail,
            });
        }
        Ok(n)
    }

    /// Copies the next completion and its data out, then frees its slot.
    pub fn pop(
        &mut self,
        mem: &impl RingMemory,
        data: &mut Vec<u8>,
    ) -> Result<Option<Cqe>, RingViolation> {
        let popped = self.take(mem, data)?;
        self.release(mem);
        Ok(popped)
    }

    /// Like [`pop`](Self::pop), but the slot stays the process's until
    /// [`release`](Self::release): a batch of takes costs one release store.
    pub fn take(
        &mut self,
        mem: &impl RingMemory,
        data: &mut Vec<u8>,
    ) -> Result<Option<Cqe>, RingViolation> {
        if self.fetched_taken * CQE_SIZE == self.fetched.len() {
            let pending = self.pending(mem)?;
            if pending == 0 {
                return Ok(None);
            }
            self.refill(mem, pending);
        }
        let i = self.fetched_taken;
        let raw: &[u8; CQE_SIZE] = self.fetched[i * CQE_SIZE..][..CQE_SIZE]
            .try_into()
            .expect("CQE_SIZE bytes");
        self.fetched_taken += 1;
        let mut cqe = Cqe::decode(raw);
        cqe.data_len = cqe.data_len.min(SLOT_DATA_SIZE);
        data.clear();
        let at = self.fetched_at[i];
        data.extend_from_slice(&self.fetched_data[at..at + cqe.data_len as usize]);
        self.head = self.head.wrapping_add(1);
        Ok(Some(cqe))
    }

    /// Copies the `pending` published entries from `head` on, then their
    /// results in one gather.
    fn refill(&mut self, mem: &impl RingMemory, pending: u32) {
        self.fetched.resize(pending as usize * CQE_SIZE, 0);
        self.fetched_taken = 0;
        read_entry_run(
            mem,
            CQ_ARRAY,
            CQ_ENTRIES,
            CQE_SIZE,
            self.head,
            &mut self.fetched,
        );
        self.spans.clear();
        self.fetched_at.clear();
        let mut total = 0;
        for (i, raw) in self.fetched.chunks_exact(CQE_SIZE).enumerate() {
            let raw: &[u8; CQE_SIZE] = raw.try_into().expect("CQE_SIZE bytes");
            let len = Cqe::decode(raw).data_len.min(SLOT_DATA_SIZE);
            self.fetched_at.push(total);
            if len > 0 {
                self.spans.push(Span {
                    ring: cq_data_offset(self.head.wrapping_add(i as u32)) as u32,
                    local: total as u32,
                    len,
                });
            }
            total += (len as usize).div_ceil(8) * 8;
        }
        self.fetched_data.resize(total, 0);
        mem.gather(&self.spans, &mut self.fetched_data);
    }
}

pub mod local;
pub mod op;

#[cfg(test)]
mod tests;

/// Shared references and `Rc`s to a ring are rings too (the kernel's tests
/// and the JS-facing harness hold rings that way).
macro_rules! forward_ring_memory {
    ($($ty:ty),*) => {$(
        impl<T: RingMemory + ?Sized> RingMemory for $ty {
            fn load(&self, offset: usize) -> u32 {
                (**self).load(offset)
            }
            fn store(&self, offset: usize, value: u32) {
                (**self).store(offset, value)
            }
            fn fetch_add(&self, offset: usize, value: u32) -> u32 {
                (**self).fetch_add(offset, value)
            }
            fn read(&self, offset: usize, out: &mut [u8]) {
                (**self).read(offset, out)
            }
            fn write(&self, offset: usize, data: &[u8]) {
                (**self).write(offset, data)
            }
            fn notify(&self, offset: usize) {
                (**self).notify(offset)
            }
            fn gather(&self, spans: &[Span], out: &mut [u8]) {
                (**self).gather(spans, out)
            }
            fn scatter(&self, spans: &[Span], from: &[u8]) {
                (**self).scatter(spans, from)
            }
            fn fence_seqcst(&self) {
                (**self).fence_seqcst()
            }
        }
    )*};
}

forward_ring_memory!(&T, alloc::rc::Rc<T>);
