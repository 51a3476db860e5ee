//! The inspector: what the page shows a person learning the system -- who
//! holds which capability, where each came from, what every process is
//! doing, and every call in a trace. All of it is view models built from
//! kernel state; a capability appears as the object it designates (a number
//! assigned here, meaningless outside the view), never as a `CapId`.
//!
//! It costs nothing while the page does not show it: snapshots are built
//! only when `graph` is on, and calls are timed only when `trace` is on.

use crate::exit_code::Ending;
use crate::host::Host;
use crate::process::{CallId, Origin, Process};
use crate::view::{CapView, Counters, InspectedProcess, ObjectView, TraceCall, UiEvent};
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

/// Ended processes a snapshot still shows (faded), newest last.
const ENDED_SHOWN: usize = 64;
/// Calls kept between two flushes: the newest, as many as the page shows
/// (older ones are counted as dropped). At tens of thousands of calls a
/// second, sending and measuring every one would cost the kernel Worker
/// more than the calls themselves.
const TRACE_BUFFER: usize = 500;
/// Snapshots a burst of changes may emit at once, and how many the bucket
/// regains per tick: a demo's start (tens of changes in a few milliseconds)
/// is recorded step by step, while a process minting and releasing in a
/// loop is sampled instead of flooding the page.
const SNAPSHOT_BURST: u32 = 64;
const SNAPSHOT_REFILL_PER_TICK: u32 = 3;

#[derive(Default)]
pub struct Inspector {
    /// The page shows the capability graph / process views: build snapshots.
    pub graph: bool,
    /// The page shows the call trace: time and record every call.
    pub trace: bool,
    /// A CapTable or the process set changed since the last snapshot.
    dirty: bool,
    tokens: u32,
    seq: u64,
    /// Object key -> number; rebuilt at every snapshot from the live tables.
    objects: BTreeMap<(usize, u64), u32>,
    next_object: u32,
    ended: VecDeque<InspectedProcess>,
    /// What the last snapshot showed of live processes, to tell a tick
    /// whether anything moved.
    last_live: Vec<(u32, &'static str, usize, u64, u32)>,
    calls: VecDeque<TraceCall>,
    dropped: u64,
}

/// The state a person would call it: blocked while it sleeps in `cap_enter`.
pub(crate) fn live_state<H: Host>(p: &Process<H>) -> &'static str {
    if p.is_waiting() { "blocked" } else { "running" }
}

/// What its parked calls wait on, as `Interface.method`.
pub(crate) fn blocked_on<H: Host>(p: &Process<H>) -> Vec<String> {
    p.parked
        .iter()
        .map(|c| {
            let (interface, method) = c.call.names();
            format!("{interface}.{method}")
        })
        .collect()
}

impl Inspector {
    pub fn new() -> Self {
        Self {
            tokens: SNAPSHOT_BURST,
            next_object: 1,
            ..Self::default()
        }
    }

    pub fn set(&mut self, graph: bool, trace: bool) {
        self.graph = graph;
        self.trace = trace;
        self.dirty = true;
        if !trace {
            self.calls.clear();
        }
    }

    /// A CapTable or the process set changed.
    pub fn changed(&mut self) {
        self.dirty = true;
    }

    pub fn ended<H: Host>(
        &mut self,
        pid: u32,
        p: &Process<H>,
        ending: Ending,
        code: i32,
        reason: &str,
    ) {
        self.dirty = true;
        if self.ended.len() == ENDED_SHOWN {
            self.ended.pop_front();
        }
        self.ended.push_back(InspectedProcess {
            pid,
            name: p.name.clone(),
            state: ending.name(),
            blocked_on: Vec::new(),
            exit_code: Some(code),
            reason: reason.to_string(),
            counters: counters(p),
            caps: Vec::new(),
        });
    }

    pub fn record(&mut self, call: TraceCall) {
        if self.calls.len() == TRACE_BUFFER {
            self.calls.pop_front();
            self.dropped += 1;
        }
        self.calls.push_back(call);
    }

    /// The calls recorded since the last flush, as one event.
    pub fn flush_trace(&mut self) -> Option<UiEvent> {
        if self.calls.is_empty() && self.dropped == 0 {
            return None;
        }
        let dropped = std::mem::take(&mut self.dropped);
        Some(UiEvent::Trace {
            calls: self.calls.drain(..).collect(),
            dropped,
        })
    }

    /// After a round of work: whether to send a snapshot now (the tables
    /// changed and the burst allows one); takes a token if so.
    pub fn snapshot_due(&mut self) -> bool {
        if !self.graph || !self.dirty || self.tokens == 0 {
            return false;
        }
        self.tokens -= 1;
        true
    }

    /// Every tick (about 10 a second): a snapshot if anything is different
    /// from the last one (states and counters change without the tables).
    pub fn tick<H: Host>(
        &mut self,
        processes: &BTreeMap<u32, Process<H>>,
        now_ns: u64,
    ) -> Option<UiEvent> {
        self.tokens = (self.tokens + SNAPSHOT_REFILL_PER_TICK).min(SNAPSHOT_BURST);
        if !self.graph {
            return None;
        }
        if !self.dirty && self.last_live == live_summary(processes) {
            return None;
        }
        Some(self.snapshot(processes, now_ns))
    }

    /// The whole picture, now.
    pub fn snapshot<H: Host>(
        &mut self,
        processes: &BTreeMap<u32, Process<H>>,
        now_ns: u64,
    ) -> UiEvent {
        self.dirty = false;
        self.seq += 1;
        self.last_live = live_summary(processes);
        let mut numbers = BTreeMap::new();
        let mut objects = Vec::new();
        let mut views: Vec<InspectedProcess> = self.ended.iter().cloned().collect();
        for (&pid, p) in processes {
            let mut caps = Vec::with_capacity(p.caps.len());
            for (_, held) in p.caps.iter() {
                let object = &held.entry.object;
                let key = (
                    object
                        .designates()
                        .unwrap_or(Rc::as_ptr(object) as *const () as usize),
                    object.interface_id(),
                );
                let number = match numbers.get(&key) {
                    Some(&n) => n,
                    None => {
                        let n = self.objects.get(&key).copied().unwrap_or_else(|| {
                            self.next_object += 1;
                            self.next_object - 1
                        });
                        numbers.insert(key, n);
                        objects.push(ObjectView {
                            object: n,
                            interface: object.interface_name(),
                            note: object.describe().unwrap_or_default(),
                        });
                        n
                    }
                };
                let (name, origin, from_pid, via) = match &held.origin {
                    Origin::Granted { name, from } => {
                        (name.clone(), "granted", *from, String::new())
                    }
                    Origin::Received { from } => (String::new(), "received", *from, String::new()),
                    Origin::Returned { via } => {
                        let (interface, method) = via.map_or(("kernel", "grant"), CallId::names);
                        (
                            String::new(),
                            "returned",
                            0,
                            format!("{interface}.{method}"),
                        )
                    }
                };
                caps.push(CapView {
                    name,
                    origin,
                    from_pid,
                    via,
                    interface: object.interface_name(),
                    badge: held.entry.badge.to_string(),
                    object: number,
                });
            }
            views.push(InspectedProcess {
                pid,
                name: p.name.clone(),
                state: live_state(p),
                blocked_on: blocked_on(p),
                exit_code: None,
                reason: String::new(),
                counters: counters(p),
                caps,
            });
        }
        views.sort_by_key(|v| v.pid);
        objects.sort_by_key(|o| o.object);
        self.objects = numbers;
        UiEvent::Inspector {
            seq: self.seq,
            at_ms: now_ns as f64 / 1e6,
            processes: views,
            objects,
        }
    }
}

fn counters<H: Host>(p: &Process<H>) -> Counters {
    Counters {
        sqes: p.counts.sqes,
        cqes: p.counts.cqes,
        in_flight: p.parked.len() as u64,
        doorbell_waits: u64::from(p.doorbell_waits()),
        cq_stalls: p.counts.cq_stalls,
    }
}

/// (pid, state, parked calls, SQEs, doorbell waits) of every live process.
fn live_summary<H: Host>(
    processes: &BTreeMap<u32, Process<H>>,
) -> Vec<(u32, &'static str, usize, u64, u32)> {
    processes
        .iter()
        .map(|(&pid, p)| {
            (
                pid,
                live_state(p),
                p.parked.len(),
                p.counts.sqes,
                p.doorbell_waits(),
            )
        })
        .collect()
}
