//! The kernel: processes, their CapTables and rings, and SQE dispatch.
//!
//! Everything here is a plain function of kernel state; the substrate (Workers,
//! SharedArrayBuffers, the UI) is behind [`Host`]. Nothing a process writes to
//! its ring can panic the kernel: every entry is copied out, then validated,
//! and a malformed one completes with an error.

use crate::caps;
use crate::exit_code;
use crate::host::{Host, Startup};
use crate::view::{ProcessView, Stream, UiEvent};
use capos_config::capset::{CapSet, CapSetEntry};
use capos_config::manifest::{CapSource, KernelService, Manifest, ProcessSpec, TransferMode};
use capos_config::ring::{
    CapError, CqProducer, Cqe, FLAGS, OP_CALL, OP_NOP, OP_RELEASE, RING_FLAG_CQ_STALLED,
    RING_FLAG_KILLED, RingMemory, SLOT_DATA_SIZE, SqConsumer, Submission, init_ring, ring_doorbell,
};
use capos_lib::{CallContext, CapId, CapLookupError, CapObject, CapTable, Completion};
use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::collections::{BinaryHeap, VecDeque};
use std::rc::{Rc, Weak};

/// Most capabilities one process may hold.
pub const CAPS_PER_PROCESS: usize = 1024;
/// Most SQEs taken from one process per poll, so one busy process can't
/// starve the others.
pub const SQES_PER_POLL: u32 = 256;

/// A capability as a process holds it.
pub struct CapEntry<H: Host> {
    pub object: Rc<dyn CapObject<Kernel<H>>>,
    /// Seen by the object on every call through this capability.
    pub badge: u64,
}

impl<H: Host> Clone for CapEntry<H> {
    fn clone(&self) -> Self {
        Self {
            object: self.object.clone(),
            badge: self.badge,
        }
    }
}

/// How a process ended, and who is waiting to hear it.
#[derive(Debug, Default)]
pub struct ExitState {
    pub status: Option<(i32, String)>,
    /// (pid, user_data) of pending `ProcessHandle.wait` calls.
    pub waiters: Vec<(u32, u64)>,
}

pub struct Process<H: Host> {
    pub pid: u32,
    pub name: String,
    /// Shared with every ProcessHandle to this process.
    pub exit: Rc<RefCell<ExitState>>,
    ring: H::Ring,
    sq: SqConsumer,
    cq: CqProducer,
    pub caps: CapTable<CapEntry<H>>,
    /// Calls taken off the SQ whose completion is still owed. The kernel
    /// only takes an SQE when the CQ has room for it and for all of these,
    /// so no completion ever finds the CQ full (nothing is dropped).
    in_flight: u32,
    /// The ring's FLAGS word as the kernel last wrote it (never read back).
    flags: u32,
}

impl<H: Host> Process<H> {
    fn set_flag(&mut self, flag: u32, on: bool) {
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

    /// Whether the CQ has room for one more completion besides those owed.
    /// If not, flags the ring so the process wakes the kernel once it frees
    /// room, then looks again: room freed between the look and the flag is
    /// seen here, room freed after it is announced by the process.
    fn cq_has_room(&mut self) -> bool {
        if self.cq.room(&self.ring) > self.in_flight {
            self.set_flag(RING_FLAG_CQ_STALLED, false);
            return true;
        }
        self.set_flag(RING_FLAG_CQ_STALLED, true);
        self.cq.room(&self.ring) > self.in_flight
    }
}

pub struct Kernel<H: Host> {
    host: H,
    processes: BTreeMap<u32, Process<H>>,
    next_pid: u32,
    init_pid: Option<u32>,
    halted: bool,
    /// Initial value of every new ring's counters (tests start near
    /// `u32::MAX` to cross the wrap).
    ring_counter_start: u32,
    /// The booted manifest: what BootPackage serves and spawn draws from.
    package: Option<Rc<Manifest>>,
    /// Every endpoint, so the kernel can fail calls nobody can answer.
    endpoints: Vec<Weak<RefCell<caps::EndpointState<H>>>>,
    /// Pending deadlines, earliest first.
    timers: BinaryHeap<Reverse<Timer>>,
    next_timer: u64,
    /// What was typed (or piped) and not yet read.
    input: Input,
    /// Every mounted directory tree, and (guest path, root) of each mount.
    fs: Rc<RefCell<crate::fs_tree::Tree>>,
    mounts: Vec<(String, crate::fs_tree::Ino)>,
}

/// A deadline and what to complete when it passes.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Timer {
    deadline_ns: u64,
    /// Breaks ties in arrival order; names the timer for cancellation.
    id: u64,
    pid: u32,
    user_data: u64,
    kind: TimerKind,
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum TimerKind {
    /// `Timer.sleep` ends.
    Sleep,
    /// `Console.waitReadable` gives up.
    ReadableTimeout,
}

/// The terminal's input stream, shared by every Console.
#[derive(Debug, Default)]
struct Input {
    buffered: VecDeque<u8>,
    ended: bool,
    /// Blocked `Console.read` calls: (pid, user_data, max bytes).
    readers: VecDeque<(u32, u64, u32)>,
    /// Blocked `Console.waitReadable` calls: (pid, user_data, timer id).
    watchers: Vec<(u32, u64, Option<u64>)>,
}

/// A capability placed in a process's table, as the result message names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GrantedCap {
    pub cap_id: u32,
    pub interface_id: u64,
}

impl<H: Host> Kernel<H> {
    pub fn new(host: H) -> Self {
        Self {
            host,
            processes: BTreeMap::new(),
            next_pid: 1,
            init_pid: None,
            halted: false,
            ring_counter_start: 0,
            package: None,
            endpoints: Vec::new(),
            timers: BinaryHeap::new(),
            next_timer: 1,
            input: Input::default(),
            fs: Rc::default(),
            mounts: Vec::new(),
        }
    }

    /// Completes `(pid, user_data)` once `ns` nanoseconds have passed.
    pub fn sleep(&mut self, pid: u32, user_data: u64, ns: u64) {
        self.add_timer(pid, user_data, ns, TimerKind::Sleep);
    }

    fn add_timer(&mut self, pid: u32, user_data: u64, ns: u64, kind: TimerKind) -> u64 {
        let id = self.next_timer;
        self.next_timer += 1;
        let deadline_ns = self.host.now_ns().saturating_add(ns);
        self.timers.push(Reverse(Timer {
            deadline_ns,
            id,
            pid,
            user_data,
            kind,
        }));
        id
    }

    /// Milliseconds until the earliest deadline (the event loop sleeps at
    /// most this long), or `None` if there is none.
    pub fn next_deadline_ms(&mut self) -> Option<f64> {
        let deadline = self.timers.peek()?.0.deadline_ns;
        Some(deadline.saturating_sub(self.host.now_ns()) as f64 / 1e6)
    }

    /// Completes every timer whose deadline has passed. Returns whether any did.
    fn fire_timers(&mut self) -> bool {
        let now = self.host.now_ns();
        let mut fired = false;
        while self.timers.peek().is_some_and(|t| t.0.deadline_ns <= now) {
            let Reverse(timer) = self.timers.pop().expect("peeked");
            fired = true;
            match timer.kind {
                TimerKind::Sleep => {
                    self.complete_pending(timer.pid, timer.user_data, Completion::Done(Vec::new()))
                }
                TimerKind::ReadableTimeout => {
                    let before = self.input.watchers.len();
                    self.input.watchers.retain(|w| w.2 != Some(timer.id));
                    if self.input.watchers.len() != before {
                        self.complete_pending(
                            timer.pid,
                            timer.user_data,
                            caps::readable_results(false),
                        );
                    }
                }
            }
        }
        fired
    }

    /// `Console.read`: completes now if input is buffered (or ended).
    pub fn read_input(&mut self, pid: u32, user_data: u64, max: u32) -> Completion {
        self.input.readers.push_back((pid, user_data, max.max(1)));
        self.serve_input();
        Completion::Pending
    }

    /// `Console.waitReadable`.
    pub fn watch_input(&mut self, pid: u32, user_data: u64, timeout_ns: u64) -> Completion {
        if !self.input.buffered.is_empty() || self.input.ended {
            return caps::readable_results(true);
        }
        let timer = (timeout_ns != u64::MAX)
            .then(|| self.add_timer(pid, user_data, timeout_ns, TimerKind::ReadableTimeout));
        self.input.watchers.push((pid, user_data, timer));
        Completion::Pending
    }

    /// Bytes typed at the terminal or piped in.
    pub fn console_input(&mut self, bytes: &[u8]) {
        if self.input.ended {
            return;
        }
        self.input.buffered.extend(bytes);
        self.serve_input();
    }

    /// The input stream ended (Ctrl-D on the page, EOF on `capos run`'s stdin).
    pub fn console_eof(&mut self) {
        self.input.ended = true;
        self.serve_input();
    }

    /// Hands buffered input to blocked readers, in order.
    fn serve_input(&mut self) {
        if self.input.buffered.is_empty() && !self.input.ended {
            return;
        }
        for (pid, user_data, timer) in std::mem::take(&mut self.input.watchers) {
            if let Some(id) = timer {
                self.timers.retain(|t| t.0.id != id);
            }
            self.complete_pending(pid, user_data, caps::readable_results(true));
        }
        while let Some(&(pid, user_data, max)) = self.input.readers.front() {
            if self.input.buffered.is_empty() && !self.input.ended {
                break;
            }
            self.input.readers.pop_front();
            if !self.processes.contains_key(&pid) {
                continue; // Its reader is gone; leave the input for the next.
            }
            let n = self.input.buffered.len().min(max as usize);
            let data: Vec<u8> = self.input.buffered.drain(..n).collect();
            let eof = data.is_empty();
            self.complete_pending(pid, user_data, caps::read_results(&data, eof));
        }
    }

    pub fn package(&self) -> Option<Rc<Manifest>> {
        self.package.clone()
    }

    pub fn is_alive(&self, pid: u32) -> bool {
        self.processes.contains_key(&pid)
    }

    pub fn exit_state(&self, pid: u32) -> Option<Rc<RefCell<ExitState>>> {
        self.processes.get(&pid).map(|p| p.exit.clone())
    }

    pub fn register_endpoint(&mut self, endpoint: &Rc<RefCell<caps::EndpointState<H>>>) {
        self.endpoints.push(Rc::downgrade(endpoint));
    }

    /// Puts `entry` in `pid`'s table under a fresh id.
    pub fn insert_cap(&mut self, pid: u32, entry: CapEntry<H>) -> Result<GrantedCap, Completion> {
        let p = self
            .processes
            .get_mut(&pid)
            .ok_or_else(|| Completion::Failed(CapError::PeerGone, format!("pid {pid} is gone")))?;
        let interface_id = entry.object.interface_id();
        let id = p
            .caps
            .insert(entry)
            .map_err(|e| Completion::Failed(CapError::Exhausted, format!("pid {pid}: {e}")))?;
        self.publish_processes();
        Ok(GrantedCap {
            cap_id: id.raw(),
            interface_id,
        })
    }

    /// Takes capabilities out of `pid`'s table for a transfer: copies stay,
    /// moves leave. All ids are checked first, so on error nothing moved.
    pub fn take_caps(
        &mut self,
        pid: u32,
        transfers: &[(u32, TransferMode)],
    ) -> Result<Vec<CapEntry<H>>, Completion> {
        let p = self
            .processes
            .get_mut(&pid)
            .ok_or_else(|| Completion::Failed(CapError::PeerGone, format!("pid {pid} is gone")))?;
        for (i, (id, mode)) in transfers.iter().enumerate() {
            if let Err(e) = p.caps.get(CapId::from_raw(*id)) {
                return Err(Completion::Failed(lookup_error(e), describe_lookup(*id, e)));
            }
            if *mode == TransferMode::Move && transfers[..i].iter().any(|(other, _)| other == id) {
                return Err(Completion::Failed(
                    CapError::BadParams,
                    format!("capability {id:#x} is transferred twice and moved"),
                ));
            }
        }
        let mut taken = Vec::with_capacity(transfers.len());
        for (id, mode) in transfers {
            let id = CapId::from_raw(*id);
            taken.push(match mode {
                TransferMode::Copy => p.caps.get(id).expect("checked above").clone(),
                TransferMode::Move => p.caps.remove(id).expect("checked above"),
            });
        }
        if transfers.iter().any(|(_, m)| *m == TransferMode::Move) {
            self.publish_processes();
        }
        Ok(taken)
    }

    /// Places transferred capabilities in `pid`'s table. If they don't all
    /// fit, none stay (the ones placed are removed again and dropped).
    pub fn deliver_caps(
        &mut self,
        pid: u32,
        entries: Vec<CapEntry<H>>,
    ) -> Result<Vec<GrantedCap>, Completion> {
        let mut granted = Vec::with_capacity(entries.len());
        for entry in entries {
            match self.insert_cap(pid, entry) {
                Ok(g) => granted.push(g),
                Err(e) => {
                    if let Some(p) = self.processes.get_mut(&pid) {
                        for g in &granted {
                            let _ = p.caps.remove(CapId::from_raw(g.cap_id));
                        }
                    }
                    return Err(e);
                }
            }
        }
        Ok(granted)
    }

    /// `ProcessHandle.kill`: ends `pid` as if the kernel killed it.
    pub fn kill(&mut self, pid: u32, by: u32) {
        if self.processes.contains_key(&pid) {
            self.reap(pid, exit_code::KILLED, format!("killed by pid {by}"));
        }
    }

    pub fn set_ring_counter_start(&mut self, start: u32) {
        self.ring_counter_start = start;
    }

    pub fn host(&self) -> &H {
        &self.host
    }

    pub fn host_mut(&mut self) -> &mut H {
        &mut self.host
    }

    pub fn emit(&mut self, event: UiEvent) {
        self.host.emit(event);
    }

    pub fn is_halted(&self) -> bool {
        self.halted
    }

    pub fn process(&self, pid: u32) -> Option<&Process<H>> {
        self.processes.get(&pid)
    }

    pub fn live_pids(&self) -> Vec<u32> {
        self.processes.keys().copied().collect()
    }

    /// Decodes, validates and boots a manifest: spawns init with the kernel
    /// capabilities its spec names. A bad manifest is reported and halts.
    pub fn boot(&mut self, manifest_bytes: &[u8]) -> Result<u32, String> {
        let result = crate::manifest::decode(manifest_bytes).and_then(|m| self.boot_manifest(&m));
        if let Err(message) = &result {
            self.host.emit(UiEvent::BootError {
                message: message.clone(),
            });
            self.halted = true;
        }
        result
    }

    fn boot_manifest(&mut self, manifest: &Manifest) -> Result<u32, String> {
        if self.init_pid.is_some() {
            return Err("this kernel has already booted".into());
        }
        let now = self.host.realtime_ns();
        for mount in &manifest.mounts {
            let root = self.fs.borrow_mut().insert_tree(&mount.root, None, now);
            self.mounts.push((mount.guest.clone(), root));
        }
        let mut grants = Vec::new();
        for grant in &manifest.init.caps {
            let object: Rc<dyn CapObject<Kernel<H>>> = match &grant.source {
                CapSource::Kernel(service) => kernel_service(*service),
                CapSource::Mount(index) => {
                    let (guest, root) = self.mounts[*index as usize].clone();
                    Rc::new(caps::fs::Directory {
                        tree: self.fs.clone(),
                        ino: root,
                        label: guest,
                    })
                }
                CapSource::FromParent { .. } => {
                    return Err(format!(
                        "init's capability {:?} must come from the kernel",
                        grant.name
                    ));
                }
            };
            grants.push((grant.name.clone(), CapEntry { object, badge: 0 }));
        }
        let package = Rc::new(manifest.clone());
        self.package = Some(package.clone());
        let binary = &package
            .blob(&manifest.init.binary)
            .expect("validated: init's binary is a blob")
            .data;
        let pid = self.spawn(&manifest.init, binary, grants)?;
        self.init_pid = Some(pid);
        Ok(pid)
    }

    /// Creates a process: a ring, a CapTable holding `grants`, a Worker.
    pub fn spawn(
        &mut self,
        spec: &ProcessSpec,
        binary: &[u8],
        grants: Vec<(String, CapEntry<H>)>,
    ) -> Result<u32, String> {
        let pid = self.next_pid;
        let name = spec
            .argv
            .first()
            .cloned()
            .unwrap_or_else(|| spec.binary.clone());
        // Different ids in every process: an id seen elsewhere names nothing here.
        let salt = (pid as u16).wrapping_mul(0x6b43).wrapping_add(0x2f1d);
        let mut caps = CapTable::with_limit_and_salt(CAPS_PER_PROCESS, salt);
        let mut entries = Vec::new();
        for (cap_name, entry) in grants {
            let interface_id = entry.object.interface_id();
            let id = caps.insert(entry).map_err(|e| e.to_string())?;
            entries.push(CapSetEntry {
                name: cap_name,
                cap_id: id.raw(),
                interface_id,
            });
        }
        let capset = CapSet::new(entries).map_err(|e| e.to_string())?.encode();
        let argv = nul_terminated(&spec.argv);
        let env = nul_terminated(&spec.env);
        let ring = self.host.create_ring();
        init_ring(&ring, self.ring_counter_start);
        self.next_pid += 1;
        let startup = Startup {
            capset: &capset,
            argv: &argv,
            env: &env,
        };
        self.host.start_process(pid, &name, binary, &ring, &startup);
        self.processes.insert(
            pid,
            Process {
                pid,
                name,
                exit: Rc::new(RefCell::new(ExitState::default())),
                ring,
                sq: SqConsumer::new(self.ring_counter_start),
                cq: CqProducer::new(self.ring_counter_start),
                caps,
                in_flight: 0,
                flags: 0,
            },
        );
        self.publish_processes();
        Ok(pid)
    }

    /// Serves every process's ring once. Returns whether anything happened,
    /// so the event loop knows whether to poll again or sleep.
    pub fn poll(&mut self) -> bool {
        if self.halted {
            return false;
        }
        let mut progressed = self.fire_timers();
        for pid in self.live_pids() {
            progressed |= self.service(pid, SQES_PER_POLL);
        }
        self.settle_endpoints();
        progressed
    }

    /// Fails the endpoint calls and receives that can no longer complete:
    /// calls on an endpoint no process can receive on, calls whose server
    /// ended, receives nobody can call. Run after anything that drops
    /// capabilities or ends processes.
    pub fn settle_endpoints(&mut self) {
        let mut failures = Vec::new();
        self.endpoints.retain(|weak| {
            let Some(endpoint) = weak.upgrade() else {
                return false;
            };
            let alive = |pid: u32| self.processes.contains_key(&pid);
            failures.extend(endpoint.borrow_mut().settle(alive));
            true
        });
        for (pid, user_data, completion) in failures {
            self.complete_pending(pid, user_data, completion);
        }
    }

    /// Takes up to `budget` SQEs off `pid`'s ring and dispatches them. The
    /// slots taken are handed back, and the completions made published (one
    /// doorbell), once for the whole batch.
    fn service(&mut self, pid: u32, budget: u32) -> bool {
        let mut taken = 0;
        while taken < budget {
            let Some(p) = self.processes.get_mut(&pid) else {
                break;
            };
            if !p.cq_has_room() {
                break; // CQ backpressure: stop consuming until the process reaps.
            }
            let submission = match p.sq.take(&p.ring) {
                Ok(Some(s)) => s,
                Ok(None) => break,
                Err(violation) => {
                    let reason = format!("killed: ring protocol violation: {violation}");
                    self.reap(pid, exit_code::KILLED, reason);
                    return true;
                }
            };
            taken += 1;
            // Reserve the completion's CQ room before dispatching: the call
            // may complete (through complete_pending) before dispatch returns.
            p.in_flight += 1;
            let user_data = submission.sqe.user_data;
            if let Some((result, data)) = self.dispatch(pid, &submission)
                && let Some(p) = self.processes.get_mut(&pid)
            {
                p.in_flight -= 1;
                self.post(pid, user_data, result, &data);
            }
        }
        self.publish(pid);
        taken > 0
    }

    /// Hands consumed SQ slots back and publishes staged CQEs, ringing the
    /// doorbell if there were any.
    fn publish(&mut self, pid: u32) {
        if let Some(p) = self.processes.get_mut(&pid) {
            p.sq.release(&p.ring);
            if p.cq.publish(&p.ring) {
                ring_doorbell(&p.ring);
            }
        }
    }

    /// Stages one CQE (published by the next `publish`).
    fn post(&mut self, pid: u32, user_data: u64, result: i32, data: &[u8]) {
        let Some(p) = self.processes.get_mut(&pid) else {
            return;
        };
        let data = &data[..data.len().min(SLOT_DATA_SIZE as usize)];
        let cqe = Cqe {
            user_data,
            result,
            ..Cqe::default()
        };
        // Room was reserved before the SQE was taken, so this cannot be full
        // unless the process corrupted its own CQ head; then the completion
        // is lost to that process alone.
        let _ = p.cq.stage(&p.ring, &cqe, data);
    }

    /// Completes a call an object answered with [`Completion::Pending`].
    pub fn complete_pending(&mut self, pid: u32, user_data: u64, completion: Completion) {
        let (result, data) = match completion {
            Completion::Done(data) => (0, data),
            Completion::Failed(e, message) => (e.code(), message.into_bytes()),
            Completion::Pending => return,
        };
        if let Some(p) = self.processes.get_mut(&pid) {
            p.in_flight = p.in_flight.saturating_sub(1);
        }
        self.post(pid, user_data, result, &data);
        self.publish(pid);
    }

    /// One SQE to its result: `Some((result, data))` now, or `None` if the
    /// capability will complete it later.
    fn dispatch(&mut self, pid: u32, s: &Submission) -> Option<(i32, Vec<u8>)> {
        let fail = |e: CapError, m: String| Some((e.code(), m.into_bytes()));
        if let Some(why) = s.malformed {
            return fail(CapError::BadSqe, format!("malformed SQE: {why}"));
        }
        match s.sqe.opcode {
            OP_NOP => Some((0, Vec::new())),
            OP_RELEASE => {
                let p = self.processes.get_mut(&pid)?;
                match p.caps.remove(CapId::from_raw(s.sqe.cap_id)) {
                    Ok(_) => {
                        self.publish_processes();
                        Some((0, Vec::new()))
                    }
                    Err(e) => fail(lookup_error(e), describe_lookup(s.sqe.cap_id, e)),
                }
            }
            OP_CALL => {
                let p = self.processes.get(&pid)?;
                let entry = match p.caps.get(CapId::from_raw(s.sqe.cap_id)) {
                    Ok(entry) => entry.clone(),
                    Err(e) => return fail(lookup_error(e), describe_lookup(s.sqe.cap_id, e)),
                };
                if entry.object.interface_id() != s.sqe.interface_id {
                    return fail(
                        CapError::WrongInterface,
                        format!(
                            "capability {:#x} is a {} ({:#x}), not interface {:#x}",
                            s.sqe.cap_id,
                            entry.object.interface_name(),
                            entry.object.interface_id(),
                            s.sqe.interface_id
                        ),
                    );
                }
                let call = CallContext {
                    caller: pid,
                    user_data: s.sqe.user_data,
                    method: s.sqe.method,
                    params: &s.data,
                    badge: entry.badge,
                };
                match entry.object.call(self, &call) {
                    Completion::Done(data) if data.len() > SLOT_DATA_SIZE as usize => fail(
                        CapError::Internal,
                        format!("results of {} bytes exceed the ring slot", data.len()),
                    ),
                    Completion::Done(data) => Some((0, data)),
                    Completion::Failed(e, message) => fail(e, message),
                    Completion::Pending => None,
                }
            }
            op => fail(CapError::BadSqe, format!("unknown opcode {op}")),
        }
    }

    /// The process's Worker reported `exit(code)`.
    pub fn process_exited(&mut self, pid: u32, code: i32) {
        if !self.processes.contains_key(&pid) {
            return;
        }
        // Serve what it queued before exiting (its last writes, typically).
        self.service(pid, capos_config::ring::SQ_ENTRIES);
        self.reap(pid, code, format!("exited with code {code}"));
    }

    /// The process panicked (capos-rt's panic hook reported `message`).
    pub fn process_panicked(&mut self, pid: u32, message: &str) {
        self.process_failed_with(pid, exit_code::PANICKED, format!("panicked: {message}"));
    }

    /// The process's module trapped.
    pub fn process_trapped(&mut self, pid: u32, message: &str) {
        self.process_failed_with(pid, exit_code::TRAPPED, format!("trapped: {message}"));
    }

    /// The process's Worker or module could not start.
    pub fn process_failed(&mut self, pid: u32, message: &str) {
        self.process_failed_with(
            pid,
            exit_code::START_FAILED,
            format!("failed to start: {message}"),
        );
    }

    fn process_failed_with(&mut self, pid: u32, code: i32, reason: String) {
        let Some(p) = self.processes.get(&pid) else {
            return;
        };
        let text = format!("[pid {pid} {}] {reason}\n", p.name);
        self.service(pid, capos_config::ring::SQ_ENTRIES);
        self.host.emit(UiEvent::Console {
            pid,
            stream: Stream::Stderr,
            text,
        });
        self.reap(pid, code, reason);
    }

    /// Ends a process: releases everything it held, stops its Worker, wakes
    /// any waiter still parked on its doorbell, and tells the UI.
    fn reap(&mut self, pid: u32, code: i32, reason: String) {
        let Some(mut p) = self.processes.remove(&pid) else {
            return;
        };
        drop(p.caps.drain());
        self.timers.retain(|t| t.0.pid != pid);
        self.input.readers.retain(|r| r.0 != pid);
        self.input.watchers.retain(|w| w.0 != pid);
        let waiters = {
            let mut exit = p.exit.borrow_mut();
            exit.status = Some((code, reason.clone()));
            std::mem::take(&mut exit.waiters)
        };
        self.host.stop_process(pid);
        // A Worker blocked in Atomics.wait lingers after terminate() until
        // woken: flag the ring and ring its doorbell.
        p.set_flag(RING_FLAG_KILLED, true);
        ring_doorbell(&p.ring);
        self.host.emit(UiEvent::ProcessExited {
            pid,
            name: p.name.clone(),
            code,
            reason: reason.clone(),
        });
        self.publish_processes();
        for (waiter, user_data) in waiters {
            let results = caps::process::wait_results(code, &reason);
            self.complete_pending(waiter, user_data, results);
        }
        self.settle_endpoints();
        if self.init_pid == Some(pid) {
            self.halt(code, format!("init {reason}"));
        }
    }

    /// init is gone: kill everything else and stop.
    fn halt(&mut self, code: i32, reason: String) {
        if self.halted {
            return;
        }
        self.halted = true;
        for pid in self.live_pids() {
            self.reap(pid, exit_code::KILLED, "killed: system halted".into());
        }
        if !self.mounts.is_empty() {
            // What the mounted trees hold now, for `capos run` to write back.
            let tree = self.fs.borrow();
            let mounts = self
                .mounts
                .iter()
                .map(|(guest, root)| crate::view::mount_snapshot(guest, &tree.export(*root, "")))
                .collect();
            drop(tree);
            self.host.emit(UiEvent::Filesystems { mounts });
        }
        self.host.emit(UiEvent::Halted { code, reason });
    }

    fn publish_processes(&mut self) {
        let processes = self
            .processes
            .values()
            .map(|p| ProcessView {
                pid: p.pid,
                name: p.name.clone(),
                state: "running",
                caps: p.caps.len(),
            })
            .collect();
        self.host.emit(UiEvent::Processes { processes });
    }
}

fn nul_terminated(strings: &[String]) -> Vec<u8> {
    let mut out = Vec::new();
    for s in strings {
        out.extend_from_slice(s.as_bytes());
        out.push(0);
    }
    out
}

/// init's capabilities, by the name its manifest gives the service.
fn kernel_service<H: Host>(service: KernelService) -> Rc<dyn CapObject<Kernel<H>>> {
    match service {
        KernelService::Console => Rc::new(caps::Console::new(Stream::Stdout)),
        KernelService::Stderr => Rc::new(caps::Console::new(Stream::Stderr)),
        KernelService::Random => Rc::new(caps::RandomSource),
        KernelService::KernelPanicTrigger => Rc::new(caps::KernelPanicTrigger),
        KernelService::ProcessSpawner => Rc::new(caps::ProcessSpawner),
        KernelService::BootPackage => Rc::new(caps::BootPackage),
        KernelService::EndpointFactory => Rc::new(caps::EndpointFactory),
        KernelService::Timer => Rc::new(caps::Timer),
        KernelService::Echo => Rc::new(caps::Echo),
    }
}

pub(crate) fn lookup_error(e: CapLookupError) -> CapError {
    match e {
        CapLookupError::Unknown => CapError::UnknownCap,
        CapLookupError::Stale => CapError::StaleCap,
    }
}

pub(crate) fn describe_lookup(cap_id: u32, e: CapLookupError) -> String {
    format!("capability {cap_id:#x}: {e}")
}
