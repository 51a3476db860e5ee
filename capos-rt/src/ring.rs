//! The process side of the capability ring.

use crate::{CapRef, Error};
use capos_config::ring::{
    CQ_DOORBELL, CQ_HEAD, CapError, CqConsumer, Cqe, FLAGS, OP_CALL, OP_NOP, OP_RELEASE, PushError,
    RING_FLAG_KILLED, RingMemory, SQ_TAIL, SqProducer, Sqe,
};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Hashes a `user_data` as itself: this process numbers its calls 1, 2, 3...,
/// so the numbers are already spread, and SipHash on every completion showed
/// up in profiles of batched calls.
#[derive(Default)]
struct UserDataHasher(u64);

impl Hasher for UserDataHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type ByUserData<V> = HashMap<u64, V, BuildHasherDefault<UserDataHasher>>;

/// What a process needs from its host besides the ring's shared memory.
pub trait KernelPort {
    /// Tells the kernel new SQEs are published.
    fn wake_kernel(&self);
    /// Blocks while the ring word at `offset` still holds `expected`, at most
    /// `timeout_ms` (forever if `None`). Spurious returns are fine.
    fn wait(&self, offset: usize, expected: u32, timeout_ms: Option<u32>);
}

/// The process's ring: queues calls, blocks for completions.
pub struct RingClient<M: RingMemory, P: KernelPort> {
    mem: M,
    port: P,
    sq: SqProducer,
    cq: CqConsumer,
    next_user_data: u64,
    /// Completions that arrived while waiting for another one.
    stash: ByUserData<(Cqe, Vec<u8>)>,
    /// Calls whose completion nobody waits for, by `user_data`.
    deferred: ByUserData<Deferred>,
    /// The first failed deferred call on each capability, by cap id, until
    /// someone asks (so a failed file write is reported on that file).
    deferred_errors: HashMap<u32, Error>,
}

/// A deferred call in flight.
struct Deferred {
    /// The capability it was made on; `None` once that was released (then
    /// nobody is left to tell of a failure).
    cap_id: Option<u32>,
    /// The check its results must pass.
    check: ResultsCheck,
}

impl<M: RingMemory, P: KernelPort> RingClient<M, P> {
    /// Attaches to a ring the kernel has initialised. The process owns SQ tail
    /// and CQ head; it reads their starting values once, here.
    pub fn new(mem: M, port: P) -> Self {
        let sq = SqProducer::new(mem.load(SQ_TAIL));
        let cq = CqConsumer::new(mem.load(CQ_HEAD));
        Self {
            mem,
            port,
            sq,
            cq,
            next_user_data: 1,
            stash: ByUserData::default(),
            deferred: ByUserData::default(),
            deferred_errors: HashMap::new(),
        }
    }

    fn killed(&self) -> bool {
        self.mem.load(FLAGS) & RING_FLAG_KILLED != 0
    }

    /// Queues one entry, waiting for room if the SQ is full, and publishes it.
    /// Returns the entry's `user_data`.
    pub fn submit(&mut self, sqe: Sqe, params: &[u8]) -> Result<u64, Error> {
        let user_data = self.queue(sqe, params)?;
        self.flush();
        Ok(user_data)
    }

    /// Publishes every queued entry and wakes the kernel once for all.
    pub fn flush(&mut self) {
        if self.sq.submit(&self.mem) > 0 {
            self.port.wake_kernel();
        }
    }

    /// Queues one entry without publishing it (batch several, then
    /// [`flush`](Self::flush)). Returns its `user_data`.
    pub fn queue(&mut self, mut sqe: Sqe, params: &[u8]) -> Result<u64, Error> {
        sqe.user_data = self.next_user_data;
        self.next_user_data += 1;
        loop {
            match self.sq.push(&self.mem, &sqe, params) {
                Ok(()) => break,
                Err(PushError::Full) => self.wait_for_sq_room()?,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(sqe.user_data)
    }

    /// Moves completions from the CQ into the stash until at least
    /// `min_complete` are stashed or `timeout_ms` passes. This is `cap_enter`.
    pub fn cap_enter(
        &mut self,
        min_complete: usize,
        timeout_ms: Option<u32>,
    ) -> Result<usize, Error> {
        loop {
            // Read the doorbell before looking at the CQ: a completion posted
            // after the look changes the word, so the wait below returns.
            let seen = self.mem.load(CQ_DOORBELL);
            self.drain()?;
            if self.stash.len() >= min_complete {
                return Ok(self.stash.len());
            }
            if self.killed() {
                return Err(Error::Other("process was killed by the kernel".into()));
            }
            self.port.wait(CQ_DOORBELL, seen, timeout_ms);
            if timeout_ms.is_some() {
                self.drain()?;
                return Ok(self.stash.len());
            }
        }
    }

    /// Publishes what is queued, wakes the kernel and blocks until it has
    /// taken at least one SQE, collecting completions meanwhile (so the CQ
    /// never holds the kernel back).
    fn wait_for_sq_room(&mut self) -> Result<(), Error> {
        self.flush();
        loop {
            let seen = self.mem.load(CQ_DOORBELL);
            self.drain()?;
            if self.sq.free(&self.mem) > 0 {
                return Ok(());
            }
            if self.killed() {
                return Err(Error::Other("process was killed by the kernel".into()));
            }
            // A consumed SQE whose call is still pending rings no doorbell,
            // so look again after a millisecond at most.
            self.port.wait(CQ_DOORBELL, seen, Some(1));
        }
    }

    /// Moves every posted completion off the CQ: deferred ones are judged
    /// and dropped, the rest stashed for whoever waits on them. The slots
    /// go back to the kernel with one store at the end, and if the kernel
    /// stopped taking SQEs because the CQ was full, it is told there is
    /// room again.
    fn drain(&mut self) -> Result<(), Error> {
        let mut data = Vec::new();
        while let Some(cqe) = self.cq.take(&self.mem, &mut data)? {
            let data = std::mem::take(&mut data);
            if let Some(call) = self.deferred.remove(&cqe.user_data) {
                let outcome = completion_result(&cqe, data).and_then(|r| (call.check)(&r));
                if let (Some(cap_id), Err(e)) = (call.cap_id, outcome) {
                    self.deferred_errors.entry(cap_id).or_insert(e);
                }
                continue;
            }
            self.stash.insert(cqe.user_data, (cqe, data));
        }
        if self.cq.release_and_check_stalled(&self.mem) {
            self.port.wake_kernel();
        }
        Ok(())
    }

    /// Blocks until the completion of `user_data` arrives and returns it.
    pub fn wait_for(&mut self, user_data: u64) -> Result<(Cqe, Vec<u8>), Error> {
        loop {
            if let Some(done) = self.stash.remove(&user_data) {
                return Ok(done);
            }
            let want = self.stash.len() + 1;
            self.cap_enter(want, None)?;
        }
    }

    /// Calls `method` on `cap` with a Cap'n Proto params message and returns
    /// the results message.
    pub fn call(&mut self, cap: CapRef, method: u16, params: &[u8]) -> Result<Vec<u8>, Error> {
        let user_data = self.submit(call_sqe(cap, method), params)?;
        let (cqe, data) = self.wait_for(user_data)?;
        completion_result(&cqe, data)
    }

    /// Queues a call nobody will wait for and publishes it. Its completion
    /// is consumed when it arrives: a refusal, or results that `check`
    /// rejects, is kept for `take_deferred_error(cap)`.
    pub fn call_deferred(
        &mut self,
        cap: CapRef,
        method: u16,
        params: &[u8],
        check: ResultsCheck,
    ) -> Result<(), Error> {
        let user_data = self.queue(call_sqe(cap, method), params)?;
        self.deferred.insert(
            user_data,
            Deferred {
                cap_id: Some(cap.cap_id),
                check,
            },
        );
        self.flush();
        Ok(())
    }

    /// The first failure of a deferred call on `cap` since the last time
    /// this was asked (completions that arrived so far; see `settle_deferred`).
    pub fn take_deferred_error(&mut self, cap: CapRef) -> Option<Error> {
        self.deferred_errors.remove(&cap.cap_id)
    }

    /// Blocks until every deferred call has completed.
    pub fn settle_deferred(&mut self) -> Result<(), Error> {
        while !self.deferred.is_empty() {
            let seen = self.mem.load(CQ_DOORBELL);
            self.drain()?;
            if self.deferred.is_empty() {
                break;
            }
            if self.killed() {
                return Err(Error::Other("process was killed by the kernel".into()));
            }
            self.port.wait(CQ_DOORBELL, seen, None);
        }
        Ok(())
    }

    /// Makes every call in `calls` with one kernel wake-up and returns their
    /// outcomes in order. At most `SQ_ENTRIES` calls fit one batch.
    pub fn call_batch(
        &mut self,
        calls: &[(CapRef, u16, &[u8])],
    ) -> Result<Vec<Result<Vec<u8>, Error>>, Error> {
        let entries: Vec<(Sqe, &[u8])> = calls
            .iter()
            .map(|(cap, method, params)| (call_sqe(*cap, *method), *params))
            .collect();
        self.submit_raw(&entries)
    }

    /// Makes two calls with one kernel wake-up and returns both outcomes, in
    /// order (the kernel serves them in order).
    pub fn call_pair(
        &mut self,
        first: (CapRef, u16, &[u8]),
        second: (CapRef, u16, &[u8]),
    ) -> Result<(crate::CallOutcome, crate::CallOutcome), Error> {
        let a = self.queue(call_sqe(first.0, first.1), first.2)?;
        let b = self.queue(call_sqe(second.0, second.1), second.2)?;
        self.flush();
        let (cqe_a, data_a) = self.wait_for(a)?;
        let (cqe_b, data_b) = self.wait_for(b)?;
        Ok((
            completion_result(&cqe_a, data_a),
            completion_result(&cqe_b, data_b),
        ))
    }

    /// Drops `cap` from this process's CapTable.
    pub fn release(&mut self, cap: CapRef) -> Result<(), Error> {
        let sqe = Sqe {
            cap_id: cap.cap_id,
            opcode: OP_RELEASE,
            ..Sqe::default()
        };
        let user_data = self.submit(sqe, &[])?;
        let released = self.wait_for(user_data);
        // The id now names nothing (and may name something else later): drop
        // what is owed to it.
        self.deferred_errors.remove(&cap.cap_id);
        for call in self.deferred.values_mut() {
            if call.cap_id == Some(cap.cap_id) {
                call.cap_id = None;
            }
        }
        let (cqe, data) = released?;
        completion_result(&cqe, data).map(drop)
    }

    /// Submits `entries` as given (only `user_data` is the runtime's) with
    /// one kernel wake-up, and returns their outcomes in order. For programs
    /// that test the kernel's defences: an entry may be malformed on purpose
    /// (an unknown opcode, flags or reserved bits set, garbage params).
    pub fn submit_raw(
        &mut self,
        entries: &[(Sqe, &[u8])],
    ) -> Result<Vec<crate::CallOutcome>, Error> {
        let mut ids = Vec::with_capacity(entries.len());
        for (sqe, params) in entries {
            ids.push(self.queue(*sqe, params)?);
        }
        self.flush();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let (cqe, data) = self.wait_for(id)?;
            out.push(completion_result(&cqe, data));
        }
        Ok(out)
    }

    /// Behaves as a process that stopped reading its completions: queues
    /// copies of `sqe` and publishes them for as long as the kernel keeps
    /// taking them, never looking at the CQ, up to `max`. Stops when the
    /// kernel has taken nothing for `patience_ms` (it stops once the CQ is
    /// full: backpressure) and returns every entry's `user_data`; the caller
    /// then [`reap`](Self::reap)s them.
    pub fn submit_without_reaping(
        &mut self,
        sqe: Sqe,
        params: &[u8],
        max: usize,
        patience_ms: u32,
    ) -> Result<Vec<u64>, Error> {
        let mut ids = Vec::new();
        let mut idle_ms = 0;
        while ids.len() < max && idle_ms < patience_ms {
            let mut entry = sqe;
            entry.user_data = self.next_user_data;
            match self.sq.push(&self.mem, &entry, params) {
                Ok(()) => {
                    self.next_user_data += 1;
                    ids.push(entry.user_data);
                    idle_ms = 0;
                }
                Err(PushError::Full) => {
                    self.flush();
                    // A sleep that is no call (a call could not complete:
                    // the CQ is what is full).
                    let seen = self.mem.load(CQ_DOORBELL);
                    self.port.wait(CQ_DOORBELL, seen, Some(1));
                    idle_ms += 1;
                }
                Err(e) => return Err(e.into()),
            }
        }
        self.flush();
        Ok(ids)
    }

    /// Submitted SQEs the kernel has not taken yet.
    pub fn sq_waiting(&self) -> u32 {
        capos_config::ring::SQ_ENTRIES - self.sq.free(&self.mem)
    }

    /// Blocks until each of `user_data` has completed; returns how many
    /// completions arrived for them (every one, or the ring broke).
    pub fn reap(&mut self, user_data: &[u64]) -> Result<usize, Error> {
        let mut n = 0;
        for id in user_data {
            self.wait_for(*id)?;
            n += 1;
        }
        Ok(n)
    }

    /// A round trip through the kernel that does nothing.
    pub fn nop(&mut self) -> Result<(), Error> {
        let user_data = self.submit(
            Sqe {
                opcode: OP_NOP,
                ..Sqe::default()
            },
            &[],
        )?;
        self.wait_for(user_data).map(drop)
    }
}

fn call_sqe(cap: CapRef, method: u16) -> Sqe {
    Sqe {
        interface_id: cap.interface_id,
        cap_id: cap.cap_id,
        method,
        opcode: OP_CALL,
        ..Sqe::default()
    }
}

/// Judges the results message of a deferred call (for interfaces that
/// report failure in their results, such as an errno field).
pub type ResultsCheck = fn(&[u8]) -> Result<(), Error>;

/// For deferred calls whose results carry no failure of their own.
pub fn results_ok(_: &[u8]) -> Result<(), Error> {
    Ok(())
}

/// A CQE's outcome: its results message, or the kernel's error and message.
pub fn completion_result(cqe: &Cqe, data: Vec<u8>) -> Result<Vec<u8>, Error> {
    match cqe.error() {
        None => Ok(data),
        Some(error) => Err(Error::Cap {
            error,
            message: String::from_utf8_lossy(&data).into_owned(),
        }),
    }
}

impl Error {
    /// The kernel's error code, if the kernel refused the call.
    pub fn cap_error(&self) -> Option<CapError> {
        match self {
            Self::Cap { error, .. } => Some(*error),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use capos_config::ring::local::LocalRing;
    use capos_config::ring::{
        CQ_ENTRIES, CqProducer, RING_FLAG_CQ_STALLED, SQ_ENTRIES, SqConsumer, init_ring,
    };
    use std::cell::RefCell;

    /// A kernel that answers every call synchronously when woken, as far as
    /// CQ room allows: the result is the params reversed, or an error for
    /// cap id 0.
    struct FakeKernel<'a> {
        mem: &'a LocalRing,
        sq: RefCell<SqConsumer>,
        cq: RefCell<CqProducer>,
        /// Its own copy of FLAGS, like the kernel's.
        flags: RefCell<u32>,
        wakes: RefCell<u32>,
    }

    impl KernelPort for &FakeKernel<'_> {
        fn wake_kernel(&self) {
            *self.wakes.borrow_mut() += 1;
            let mut sq = self.sq.borrow_mut();
            let mut cq = self.cq.borrow_mut();
            let mut flags = self.flags.borrow_mut();
            loop {
                // Like the kernel: stop taking SQEs while the CQ is full, and
                // flag it so the process wakes us once it has reaped.
                if cq.room(self.mem) > 0 {
                    if *flags & RING_FLAG_CQ_STALLED != 0 {
                        *flags &= !RING_FLAG_CQ_STALLED;
                        self.mem.store(FLAGS, *flags);
                    }
                } else if cq.flag_stalled_and_recheck(self.mem, &mut flags) == 0 {
                    break;
                }
                let Some(s) = sq.pop(self.mem).unwrap() else {
                    break;
                };
                let (result, data) = if s.sqe.opcode == OP_CALL && s.sqe.cap_id == 0 {
                    (CapError::UnknownCap.code(), b"no such cap".to_vec())
                } else {
                    (0, s.data.iter().rev().copied().collect())
                };
                let cqe = Cqe {
                    user_data: s.sqe.user_data,
                    result,
                    ..Cqe::default()
                };
                cq.push(self.mem, &cqe, &data).unwrap();
            }
            capos_config::ring::ring_doorbell(self.mem);
        }
        fn wait(&self, offset: usize, expected: u32, _timeout: Option<u32>) {
            assert_ne!(
                self.mem.load(offset),
                expected,
                "would block forever: nothing can complete in this single-threaded test"
            );
        }
    }

    fn setup(start: u32) -> (&'static LocalRing, FakeKernel<'static>) {
        let mem: &'static LocalRing = Box::leak(Box::new(LocalRing::new()));
        init_ring(mem, start);
        let kernel = FakeKernel {
            mem,
            sq: RefCell::new(SqConsumer::new(start)),
            cq: RefCell::new(CqProducer::new(start)),
            flags: RefCell::new(0),
            wakes: RefCell::new(0),
        };
        (mem, kernel)
    }

    #[test]
    fn call_returns_the_results_message() {
        let (mem, kernel) = setup(0);
        let mut client = RingClient::new(mem, &kernel);
        let cap = CapRef {
            cap_id: 5,
            interface_id: 9,
        };
        assert_eq!(client.call(cap, 0, b"abc").unwrap(), b"cba");
        assert_eq!(*kernel.wakes.borrow(), 1);
    }

    #[test]
    fn refusals_carry_the_kernel_error_and_message() {
        let (mem, kernel) = setup(0);
        let mut client = RingClient::new(mem, &kernel);
        let err = client
            .call(
                CapRef {
                    cap_id: 0,
                    interface_id: 9,
                },
                0,
                b"",
            )
            .unwrap_err();
        assert_eq!(err.cap_error(), Some(CapError::UnknownCap));
        assert!(err.to_string().contains("no such cap"));
    }

    #[test]
    fn deferred_completions_are_consumed_and_their_failures_kept() {
        let (mem, kernel) = setup(0);
        let mut client = RingClient::new(mem, &kernel);
        let good = CapRef {
            cap_id: 3,
            interface_id: 9,
        };
        let missing = CapRef {
            cap_id: 0,
            interface_id: 9,
        };
        for _ in 0..100 {
            client.call_deferred(good, 0, b"ok", results_ok).unwrap();
        }
        client.settle_deferred().unwrap();
        assert!(client.deferred.is_empty() && client.stash.is_empty());
        assert!(client.take_deferred_error(good).is_none());

        client.call_deferred(missing, 0, b"", results_ok).unwrap();
        client.call_deferred(good, 0, b"x", results_ok).unwrap();
        client.settle_deferred().unwrap();
        assert!(
            client.take_deferred_error(good).is_none(),
            "kept for its own cap"
        );
        let err = client
            .take_deferred_error(missing)
            .expect("the refusal is kept");
        assert_eq!(err.cap_error(), Some(CapError::UnknownCap));
        assert!(
            client.take_deferred_error(missing).is_none(),
            "reported once"
        );
        assert!(client.stash.is_empty());

        // Once a cap is released, its failures are nobody's.
        client.call_deferred(missing, 0, b"", results_ok).unwrap();
        client.settle_deferred().unwrap();
        let _ = client.release(missing);
        assert!(client.take_deferred_error(missing).is_none());
    }

    #[test]
    fn deferred_calls_beyond_the_cq_size_wake_a_stalled_kernel() {
        let (mem, kernel) = setup(0);
        let mut client = RingClient::new(mem, &kernel);
        let cap = CapRef {
            cap_id: 3,
            interface_id: 9,
        };
        // Nobody reaps between these until the SQ fills, so the CQ fills
        // first and the kernel stalls; the client must reap and wake it.
        for i in 0..(4 * (SQ_ENTRIES + CQ_ENTRIES)) {
            client
                .call_deferred(cap, 0, &i.to_le_bytes(), results_ok)
                .unwrap();
        }
        client.settle_deferred().unwrap();
        assert!(client.take_deferred_error(cap).is_none());
        assert_eq!(mem.load(FLAGS) & RING_FLAG_CQ_STALLED, 0);
    }

    #[test]
    fn a_deferred_call_whose_results_fail_the_check_is_reported() {
        let (mem, kernel) = setup(0);
        let mut client = RingClient::new(mem, &kernel);
        let cap = CapRef {
            cap_id: 3,
            interface_id: 9,
        };
        fn refuse_nonempty(results: &[u8]) -> Result<(), Error> {
            match results {
                [] => Ok(()),
                _ => Err(Error::Other("results said no".into())),
            }
        }
        client.call_deferred(cap, 0, b"", refuse_nonempty).unwrap();
        client.settle_deferred().unwrap();
        assert!(client.take_deferred_error(cap).is_none());
        client
            .call_deferred(cap, 0, b"no", refuse_nonempty)
            .unwrap();
        // A later synchronous call still gets its own answer.
        assert_eq!(client.call(cap, 0, b"ab").unwrap(), b"ba");
        assert!(
            client
                .take_deferred_error(cap)
                .unwrap()
                .to_string()
                .contains("said no")
        );
    }

    #[test]
    fn many_calls_across_counter_wrap() {
        let (mem, kernel) = setup(u32::MAX - 10);
        let mut client = RingClient::new(mem, &kernel);
        let cap = CapRef {
            cap_id: 1,
            interface_id: 1,
        };
        for i in 0..1000u32 {
            let out = client.call(cap, 0, &i.to_be_bytes()).unwrap();
            assert_eq!(out, i.to_le_bytes());
        }
        client.nop().unwrap();
    }
}
