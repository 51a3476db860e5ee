//! A process as the kernel core holds it: its ring, its CapTable and the
//! calls it is owed. Only the core (`kernel.rs`) reaches inside.

use crate::host::Host;
use crate::kernel::CapEntry;
use capos_config::ring::{
    CQ_WAITING, CqProducer, Cqe, FLAGS, PROCESS_WAITS, RING_FLAG_CQ_STALLED, RingMemory,
    SLOT_DATA_SIZE, SqConsumer,
};
use capos_lib::CapTable;

/// A capability in a process's table, and where it came from (which only
/// the inspector reads).
pub(crate) struct Held<H: Host> {
    pub(crate) entry: CapEntry<H>,
    pub(crate) origin: Origin,
}

/// Where a held capability came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Named `name` in the process's CapSet at spawn, by its parent `from`
    /// (0: the kernel, for init).
    Granted { name: String, from: u32 },
    /// Carried by an endpoint message or reply from process `from`.
    Received { from: u32 },
    /// In the results of a call (`None`: the kernel placed it unasked).
    Returned { via: Option<CallId> },
}

/// A method of an interface, as an SQE names it; names are looked up only
/// when a person is shown them, never on the dispatch path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CallId {
    pub interface_id: u64,
    pub method: u16,
}

impl CallId {
    /// (interface, method) as the schema names them.
    pub fn names(self) -> (&'static str, &'static str) {
        capos_schema::interfaces::method_name(self.interface_id, self.method)
            .unwrap_or(("unknown interface", "?"))
    }
}

/// A call taken off the SQ and parked by a service.
pub(crate) struct Parked {
    pub(crate) user_data: u64,
    /// What was called, for the inspector.
    pub(crate) call: CallId,
    /// When it was taken, if the call trace was on then.
    pub(crate) since_ns: Option<u64>,
}

/// What the kernel counts of a process's ring, for the inspector.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct RingCounts {
    pub(crate) sqes: u64,
    pub(crate) cqes: u64,
    /// Times the kernel found the CQ without room and stopped taking SQEs.
    pub(crate) cq_stalls: u64,
}

pub(crate) struct Process<H: Host> {
    pub(crate) name: String,
    pub(crate) ring: H::Ring,
    pub(crate) sq: SqConsumer,
    cq: CqProducer,
    pub(crate) caps: CapTable<Held<H>>,
    /// Every call taken off the SQ and parked by a service (`user_data` is
    /// a multiset: the process chooses it, and may repeat one). The kernel
    /// takes an SQE only while the CQ has room for it and for all of these,
    /// so no completion ever finds the CQ full.
    pub(crate) parked: Vec<Parked>,
    pub(crate) counts: RingCounts,
    /// The ring's FLAGS word as the kernel last wrote it (never read back).
    flags: u32,
}

impl<H: Host> Process<H> {
    pub(crate) fn new(name: String, ring: H::Ring, start: u32, caps: CapTable<Held<H>>) -> Self {
        Self {
            name,
            ring,
            sq: SqConsumer::new(start),
            cq: CqProducer::new(start),
            caps,
            parked: Vec::new(),
            counts: RingCounts::default(),
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
        let budget = self
            .cq
            .flag_stalled_and_recheck(&self.ring, &mut self.flags)
            .saturating_sub(owed);
        if budget == 0 {
            self.counts.cq_stalls += 1;
        }
        budget
    }

    pub(crate) fn park(&mut self, parked: Parked) {
        self.parked.push(parked);
    }

    /// Takes one parked call with `user_data`, if there is one.
    pub(crate) fn unpark(&mut self, user_data: u64) -> Option<Parked> {
        let i = self.parked.iter().position(|p| p.user_data == user_data)?;
        Some(self.parked.swap_remove(i))
    }

    /// Whether the process sleeps in `cap_enter` waiting for its CQ.
    pub(crate) fn is_waiting(&self) -> bool {
        self.ring.load(CQ_WAITING) == 1
    }

    /// How many times the process has slept waiting for its CQ (written by
    /// its host; diagnostics only, so not trusted for anything).
    pub(crate) fn doorbell_waits(&self) -> u32 {
        self.ring.load(PROCESS_WAITS)
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
        self.counts.cqes += 1;
    }

    /// Hands consumed SQ slots back and publishes staged CQEs; whether any
    /// CQE was published (the doorbell is then due).
    pub(crate) fn publish(&mut self) -> bool {
        self.sq.release(&self.ring);
        self.cq.publish(&self.ring)
    }
}
