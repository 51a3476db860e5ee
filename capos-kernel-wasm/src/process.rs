//! A process as the kernel core holds it: its ring, its CapTable and the
//! calls it is owed. Only the core (`kernel.rs`) reaches inside.

use crate::host::Host;
use crate::kernel::CapEntry;
use capos_config::ring::{
    CqProducer, Cqe, FLAGS, RING_FLAG_CQ_STALLED, RingMemory, SLOT_DATA_SIZE, SqConsumer,
};
use capos_lib::CapTable;

pub(crate) struct Process<H: Host> {
    pub(crate) name: String,
    pub(crate) ring: H::Ring,
    pub(crate) sq: SqConsumer,
    cq: CqProducer,
    pub(crate) caps: CapTable<CapEntry<H>>,
    /// `user_data` of every call taken off the SQ and parked by a service
    /// (a multiset: the process chooses `user_data`, and may repeat one).
    /// The kernel takes an SQE only while the CQ has room for it and for all
    /// of these, so no completion ever finds the CQ full.
    parked: Vec<u64>,
    /// The ring's FLAGS word as the kernel last wrote it (never read back).
    flags: u32,
}

impl<H: Host> Process<H> {
    pub(crate) fn new(
        name: String,
        ring: H::Ring,
        start: u32,
        caps: CapTable<CapEntry<H>>,
    ) -> Self {
        Self {
            name,
            ring,
            sq: SqConsumer::new(start),
            cq: CqProducer::new(start),
            caps,
            parked: Vec::new(),
            flags: 0,
        }
    }

    pub(crate) fn set_flag(&mut self, flag: u32, on: bool) {
        let flags = if on {
            self.flags | flag
        } else {
            self.flags & !flag
        };
        if flags != self.flags {
            self.flags = flags;
            self.ring.store(FLAGS, flags);
        }
    }

    /// How many more SQEs may be taken: CQ slots free beyond those owed to
    /// parked calls. At zero, flags the ring so the process wakes the kernel
    /// once it frees room, then looks again (see docs/ring.md, "Waking a
    /// stalled kernel").
    pub(crate) fn cq_budget(&mut self) -> u32 {
        let owed = self.parked.len() as u32;
        let budget = self.cq.room(&self.ring).saturating_sub(owed);
        if budget > 0 {
            self.set_flag(RING_FLAG_CQ_STALLED, false);
            return budget;
        }
        self.cq
            .flag_stalled_and_recheck(&self.ring, &mut self.flags)
            .saturating_sub(owed)
    }

    pub(crate) fn park(&mut self, user_data: u64) {
        self.parked.push(user_data);
    }

    /// Forgets one parked call with `user_data`; whether there was one.
    pub(crate) fn unpark(&mut self, user_data: u64) -> bool {
        match self.parked.iter().position(|&u| u == user_data) {
            Some(i) => {
                self.parked.swap_remove(i);
                true
            }
            None => false,
        }
    }

    /// Stages one CQE (published by the next `publish`). `data` fits a slot:
    /// the core's completion path checks that before it gets here.
    pub(crate) fn post(&mut self, user_data: u64, result: i32, data: &[u8]) {
        debug_assert!(data.len() <= SLOT_DATA_SIZE as usize);
        let cqe = Cqe {
            user_data,
            result,
            ..Cqe::default()
        };
        // Room was reserved before the SQE was taken, so this cannot be full
        // unless the process corrupted its own CQ head; then the completion
        // is lost to that process alone.
        let _ = self.cq.stage(&self.ring, &cqe, data);
    }

    /// Hands consumed SQ slots back and publishes staged CQEs; whether any
    /// CQE was published (the doorbell is then due).
    pub(crate) fn publish(&mut self) -> bool {
        self.sq.release(&self.ring);
        self.cq.publish(&self.ring)
    }
}
