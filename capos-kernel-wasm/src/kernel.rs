//! The kernel core: processes, their CapTables and rings, SQE dispatch, the
//! parked calls each process is owed, one timer queue, and one completion
//! path. It names no capability: services own their state (`caps/`) and hear
//! of exits, timers and halts through [`Service`] hooks.
//!
//! Everything here is a plain function of kernel state; the substrate (Workers,
//! SharedArrayBuffers, the UI) is behind [`Host`]. Nothing a process writes to
//! its ring can panic the kernel: every entry is copied out, then decoded into
//! an [`Op`], and a malformed one completes with an error.

use crate::exit_code::{self, Ending};
use crate::host::{Host, HostClient, HostReply, HostRequest, Startup};
use crate::inspect::{self, Inspector};
use crate::process::{CallId, Held, Origin, Parked, Process};
use crate::view::{ProcessView, Stream, TraceCall, UiEvent};
use capos_config::capset::{CapSet, CapSetEntry};
use capos_config::manifest::{Binary, Manifest, ProcessSpec, TransferMode};
use capos_config::ring::op::{Op, SqeFault};
use capos_config::ring::{
    CQ_DOORBELL, CapError, RING_FLAG_KILLED, RingMemory, SLOT_DATA_SIZE, SQ_ENTRIES, SQE_SIZE, Sqe,
    init_ring, ring_doorbell,
};
use capos_lib::{
    CallContext, CapId, CapLookupError, CapObject, CapTable, Completion, Fault, Served, Service,
    TerminalEvent,
};
use std::cell::RefCell;
use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap};
use std::rc::Rc;

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

/// A capability placed in a process's table, as the result message names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GrantedCap {
    pub cap_id: u32,
    pub interface_id: u64,
}

/// One capability a process names to be transferred (`Cap.CapTransfer`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transfer {
    pub cap_id: u32,
    pub mode: TransferMode,
}

/// A named grant for a new process's CapSet.
pub type Grant<H> = (String, CapEntry<H>);

/// Builds init's capabilities for a manifest (and registers the services
/// behind them). `caps::init_grants` is the one place that knows them.
pub type Bundle<H> = fn(&mut Kernel<H>, &Rc<Manifest>) -> Result<Vec<Grant<H>>, String>;

/// What a deadline does when it passes.
pub enum TimerAction<H: Host> {
    /// Finishes a parked call with empty results (`Timer.sleep`): a message
    /// whose root is the empty struct, as every results message is one.
    Finish { pid: u32, user_data: u64 },
    /// Tells a service (`Service::on_timer` with the timer's id).
    Notify { service: Rc<dyn Service<Kernel<H>>> },
}

struct Timer<H: Host> {
    deadline_ns: u64,
    /// Breaks ties in arrival order; names the timer for cancellation.
    id: u64,
    action: TimerAction<H>,
}

impl<H: Host> PartialEq for Timer<H> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl<H: Host> Eq for Timer<H> {}
impl<H: Host> PartialOrd for Timer<H> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<H: Host> Ord for Timer<H> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.deadline_ns, self.id).cmp(&(other.deadline_ns, other.id))
    }
}

/// Buffers the dispatch path reuses for every batch, so a call allocates
/// nothing for its entry or params. A batch's params are gathered into
/// `params` (entry `i`'s at slot `i`) in one copy and decoded in place from
/// there, 8-byte aligned as Cap'n Proto wants.
struct Scratch {
    entries: Vec<u8>,
    params: Vec<capnp::Word>,
    /// The batch's entries, decoded once.
    ops: Vec<(Sqe, Result<Op, SqeFault>)>,
    params_lens: Vec<u32>,
    spans: Vec<capos_config::ring::Span>,
    /// First segment of every results message: results are built here.
    results: Option<capnp::message::ScratchSpaceHeapAllocator<'static>>,
    /// The serialized results of one call.
    out: Vec<u8>,
}

impl Scratch {
    fn new() -> Self {
        // Leaked once per kernel: the results allocator borrows it for the
        // kernel's whole life.
        let results: &'static mut [capnp::Word] = Box::leak(
            capnp::Word::allocate_zeroed_vec(SLOT_DATA_SIZE as usize / 8).into_boxed_slice(),
        );
        Self {
            entries: vec![0; SQ_ENTRIES as usize * SQE_SIZE],
            params: capnp::Word::allocate_zeroed_vec(
                SQ_ENTRIES as usize * SLOT_DATA_SIZE as usize / 8,
            ),
            ops: Vec::with_capacity(SQ_ENTRIES as usize),
            params_lens: Vec::with_capacity(SQ_ENTRIES as usize),
            spans: Vec::with_capacity(SQ_ENTRIES as usize),
            results: Some(capnp::message::ScratchSpaceHeapAllocator::new(
                capnp::Word::words_to_bytes_mut(results),
            )),
            out: Vec::with_capacity(SLOT_DATA_SIZE as usize),
        }
    }
}

/// A message whose root is null (it reads as the empty struct): the params
/// of a call whose params slot is empty, and the results of a parked call
/// finished with nothing to say. Word-aligned: capnp reads a message in
/// place only at a word-aligned address, which a plain byte array has only
/// by chance (it lost it once when the kernel's data moved, and every call
/// with empty params failed as BadParams).
static EMPTY_MESSAGE: WordAligned = WordAligned([0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

#[repr(align(8))]
struct WordAligned([u8; 16]);

/// Counts of what the kernel holds ([`Kernel::stats`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KernelStats {
    pub processes: usize,
    pub caps_held: usize,
    pub parked_calls: usize,
    pub timers: usize,
    /// Host exchanges (fetches, storage requests) still open.
    pub host_requests: usize,
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
    bundle: Bundle<H>,
    /// Every service's hooks, in registration order.
    services: Vec<Rc<dyn Service<Kernel<H>>>>,
    /// Pending deadlines, earliest first.
    timers: BinaryHeap<Reverse<Timer<H>>>,
    next_timer: u64,
    scratch: Option<Scratch>,
    /// The call being served, and its completion if the object finished it
    /// before returning `Pending` (a read of input already buffered, a
    /// receive with a call already queued): posted as soon as it parks.
    serving: Option<(u32, u64)>,
    finished_early: Option<Completion>,
    /// The call being served: what a capability it returns is labelled with.
    serving_call: Option<CallId>,
    /// The process list changed since it was last published.
    processes_changed: bool,
    /// (pid, state, parked calls) of each process as last published.
    published_states: Vec<(u32, &'static str, usize)>,
    /// The time of the round of work in progress, as its caller read it:
    /// timers and the call trace use it instead of reading the clock for
    /// every call.
    round_ns: Option<u64>,
    inspector: Inspector,
    /// Open host exchanges, by id: the service each reply goes to.
    host_clients: BTreeMap<u32, Rc<dyn HostClient<H>>>,
    /// What the page's file browser reaches, if the boot has file trees.
    page_files: Option<Rc<dyn PageFiles<H>>>,
    /// Where connections to the system's ports go, if the boot listens.
    network: Option<Rc<dyn Network<H>>>,
    /// Whether the page shows its file browser (views are built only then).
    files_watched: bool,
    /// Persistent stores the host loaded for the boot, until the bundle
    /// takes them.
    store_images: Vec<crate::host::StoreImage>,
    next_host_id: u32,
    /// While a host reply is handled: the processes whose completions wait
    /// to be published, once each (a body chunk may finish dozens of reads).
    unpublished: Option<Vec<u32>>,
}

/// The boot's file trees as the page's file browser reaches them: views,
/// and the edits a person makes there (upload, delete, rename).
pub trait PageFiles<H: Host> {
    /// The trees as they are now; `None` if nothing changed since the last
    /// view, unless `always`.
    fn view(&self, always: bool) -> Option<UiEvent>;
    fn edit(&self, kernel: &mut Kernel<H>, edit: FileEdit) -> Result<(), String>;
    fn read(&self, mount: u32, path: &str) -> Result<Vec<FileCopy>, String>;
    /// Stores what changed now, without the usual delay.
    fn flush(&self, kernel: &mut Kernel<H>);
    /// Holds a store the host loaded after the boot, for the page only.
    fn attach(&self, kernel: &mut Kernel<H>, image: crate::host::StoreImage) -> Result<(), String>;
}

/// The service that owns the system's ports: connections the host makes
/// ([`Kernel::connect`]) are handed to it, and every later reply of the
/// connection's exchange goes to it as a [`HostClient`].
pub trait Network<H: Host>: HostClient<H> {
    /// Connection `id` (a host exchange, already open) was made to `port`
    /// from `peer`: queue it for the port's listener, or say why not.
    fn connect(&self, kernel: &mut Kernel<H>, id: u32, port: u16, peer: &str)
    -> Result<(), String>;
}

/// A change the person at the page asks for, on mount `mount` of the
/// boot's file view, at paths relative to it.
#[derive(Debug)]
pub enum FileEdit {
    /// Creates or replaces a file (and the directories above it).
    Write {
        mount: u32,
        path: String,
        data: Vec<u8>,
    },
    MakeDirectory {
        mount: u32,
        path: String,
    },
    /// Removes a file, a symlink, or a directory and all it holds.
    Remove {
        mount: u32,
        path: String,
    },
    Rename {
        mount: u32,
        from: String,
        to: String,
    },
}

/// One entry read for the page: relative to what was asked for.
#[derive(Debug, PartialEq, Eq)]
pub struct FileCopy {
    pub path: String,
    /// "file", "dir" or "symlink".
    pub kind: &'static str,
    /// A file's bytes, a symlink's target.
    pub data: Vec<u8>,
    pub mtime_ns: u64,
}

impl<H: Host> Kernel<H> {
    /// A kernel on `host` whose init gets the capabilities `bundle` builds.
    pub fn new(host: H, bundle: Bundle<H>) -> Self {
        Self {
            host,
            processes: BTreeMap::new(),
            next_pid: 1,
            init_pid: None,
            halted: false,
            ring_counter_start: 0,
            bundle,
            services: Vec::new(),
            timers: BinaryHeap::new(),
            next_timer: 1,
            scratch: Some(Scratch::new()),
            serving: None,
            finished_early: None,
            serving_call: None,
            processes_changed: false,
            published_states: Vec::new(),
            round_ns: None,
            inspector: Inspector::new(),
            host_clients: BTreeMap::new(),
            store_images: Vec::new(),
            page_files: None,
            network: None,
            files_watched: false,
            next_host_id: 1,
            unpublished: None,
        }
    }

    /// What the page shows: the capability graph and process views
    /// (`graph`), the call trace (`trace`). Off, they cost nothing.
    pub fn set_inspect(&mut self, graph: bool, trace: bool) {
        self.inspector.set(graph, trace);
    }

    /// Called about ten times a second: publishes process states that
    /// changed without any call (a process falling asleep in `cap_enter`),
    /// the inspector's snapshot if anything moved, and the calls traced.
    pub fn tick(&mut self) {
        if self.processes_changed || self.live_states() != self.published_states {
            self.publish_processes();
        }
        let now = self.host.now_ns();
        if let Some(event) = self.inspector.tick(&self.processes, now) {
            self.host.emit(event);
        }
        if let Some(event) = self.inspector.flush_trace() {
            self.host.emit(event);
        }
        if self.files_watched
            && let Some(files) = self.page_files.clone()
            && let Some(event) = files.view(false)
        {
            self.host.emit(event);
        }
    }

    /// Shows (or stops showing) the boot's file trees on the page: a view
    /// at once, then one each tick anything changed.
    pub fn watch_files(&mut self, on: bool) {
        self.files_watched = on;
        if on
            && let Some(files) = self.page_files.clone()
            && let Some(event) = files.view(true)
        {
            self.host.emit(event);
        }
    }

    /// Gives the page's file browser the boot's trees (the bundle does).
    pub fn set_page_files(&mut self, files: Rc<dyn PageFiles<H>>) {
        self.page_files = Some(files);
    }

    /// Gives the host's connections to the boot's network service (the
    /// bundle does, when the manifest grants a port).
    pub fn set_network(&mut self, network: Rc<dyn Network<H>>) {
        self.network = Some(network);
    }

    /// A connection to `port` arrived from `peer` (the page's preview, or a
    /// TCP client of `capos run --tcplisten`): returns the exchange id its
    /// bytes travel under, or why it is refused (nothing listens there, the
    /// system is down, the backlog is full).
    pub fn connect(&mut self, port: u16, peer: &str) -> Result<u32, String> {
        if self.halted {
            return Err("the system has halted".into());
        }
        let network = self
            .network
            .clone()
            .ok_or_else(|| format!("nothing listens on port {port}"))?;
        let id = self.next_exchange_id();
        // Registered first: the service may continue the exchange at once.
        let client: Rc<dyn HostClient<H>> = network.clone();
        self.host_clients.insert(id, client);
        self.unpublished = Some(Vec::new());
        let result = network.connect(self, id, port, peer);
        for pid in self.unpublished.take().unwrap_or_default() {
            self.publish(pid);
        }
        match result {
            Ok(()) => Ok(id),
            Err(why) => {
                self.host_clients.remove(&id);
                Err(why)
            }
        }
    }

    /// Edits the boot's file trees as the person at the page asked.
    pub fn edit_files(&mut self, edit: FileEdit) -> Result<(), String> {
        let files = self.page_files.clone().ok_or("this boot has no files")?;
        files.edit(self, edit)
    }

    /// Commits what the page's edits changed at once (the event loop may be
    /// gone: the system can halt while the page still edits its files),
    /// and shows the result if the page is watching.
    pub fn flush_files(&mut self) {
        if let Some(files) = self.page_files.clone() {
            files.flush(self);
            if self.files_watched
                && let Some(event) = files.view(false)
            {
                self.host.emit(event);
            }
        }
    }

    /// Holds a store the host loaded after the boot (the page's own
    /// files, loaded once its file browser is shown), and shows it.
    pub fn attach_store(&mut self, image: crate::host::StoreImage) -> Result<(), String> {
        let files = self
            .page_files
            .clone()
            .ok_or("this boot has no file trees")?;
        files.attach(self, image)?;
        if self.files_watched
            && let Some(event) = files.view(true)
        {
            self.host.emit(event);
        }
        Ok(())
    }

    /// Reads what the page's file browser asked for: a file, or every
    /// file under a directory (to download it).
    pub fn read_files(&mut self, mount: u32, path: &str) -> Result<Vec<FileCopy>, String> {
        let files = self.page_files.clone().ok_or("this boot has no files")?;
        files.read(mount, path)
    }

    /// Every capability id any process holds (for a test that checks none
    /// of them ever reaches the page).
    pub fn live_cap_ids(&self) -> Vec<u32> {
        self.processes
            .values()
            .flat_map(|p| p.caps.iter().map(|(id, _)| id.raw()))
            .collect()
    }

    /// Gives a service its hooks (exit, settle, timers, halt).
    pub fn register_service(&mut self, service: Rc<dyn Service<Kernel<H>>>) {
        self.services.push(service);
    }

    /// Runs `action` once `ns` nanoseconds have passed; returns the timer's
    /// id for [`cancel_timer`](Self::cancel_timer).
    pub fn set_timer(&mut self, ns: u64, action: TimerAction<H>) -> u64 {
        let id = self.next_timer;
        self.next_timer += 1;
        let deadline_ns = self.host.now_ns().saturating_add(ns);
        self.timers.push(Reverse(Timer {
            deadline_ns,
            id,
            action,
        }));
        id
    }

    pub fn cancel_timer(&mut self, id: u64) {
        self.timers.retain(|t| t.0.id != id);
    }

    /// Milliseconds until the earliest deadline (the event loop sleeps at
    /// most this long), or `None` if there is none.
    pub fn next_deadline_ms(&mut self) -> Option<f64> {
        let deadline = self.timers.peek()?.0.deadline_ns;
        Some(deadline.saturating_sub(self.host.now_ns()) as f64 / 1e6)
    }

    /// The time of the round in progress, or the clock's outside one.
    fn now_ns(&mut self) -> u64 {
        match self.round_ns {
            Some(now) => now,
            None => self.host.now_ns(),
        }
    }

    /// Runs every timer whose deadline has passed by `now`. Returns whether
    /// any did.
    fn fire_timers(&mut self, now: u64) -> bool {
        let mut fired = false;
        while self.timers.peek().is_some_and(|t| t.0.deadline_ns <= now) {
            let Reverse(timer) = self.timers.pop().expect("peeked");
            fired = true;
            match timer.action {
                TimerAction::Finish { pid, user_data } => {
                    self.finish(pid, user_data, Completion::Done(EMPTY_MESSAGE.0.to_vec()))
                }
                TimerAction::Notify { service } => service.on_timer(self, timer.id),
            }
        }
        fired
    }

    pub fn is_alive(&self, pid: u32) -> bool {
        self.processes.contains_key(&pid)
    }

    /// Puts `entry` in `pid`'s table under a fresh id.
    pub fn insert_cap(&mut self, pid: u32, entry: CapEntry<H>) -> Result<GrantedCap, Fault> {
        let p = self.processes.get_mut(&pid).ok_or_else(|| gone(pid))?;
        let interface_id = entry.object.interface_id();
        let origin = Origin::Returned {
            via: self.serving_call,
        };
        let id = p
            .caps
            .insert(Held { entry, origin })
            .map_err(|e| Fault::new(CapError::Exhausted, format!("pid {pid}: {e}")))?;
        self.caps_changed();
        Ok(GrantedCap {
            cap_id: id.raw(),
            interface_id,
        })
    }

    /// The objects behind `transfers` in `pid`'s table, without taking them:
    /// every id is checked, and a capability moved twice is refused.
    pub fn peek_caps(&self, pid: u32, transfers: &[Transfer]) -> Result<Vec<CapEntry<H>>, Fault> {
        let p = self.processes.get(&pid).ok_or_else(|| gone(pid))?;
        let mut entries = Vec::with_capacity(transfers.len());
        for (i, t) in transfers.iter().enumerate() {
            let entry = &p
                .caps
                .get(CapId::from_raw(t.cap_id))
                .map_err(|e| lookup_fault(t.cap_id, e))?
                .entry;
            // The same capability twice is fine when both are copies.
            let same = |o: &&Transfer| o.cap_id == t.cap_id;
            let repeated = transfers[..i].iter().any(|o| same(&o));
            if repeated
                && transfers[..=i]
                    .iter()
                    .filter(same)
                    .any(|o| o.mode == TransferMode::Move)
            {
                return Err(Fault::new(
                    CapError::BadParams,
                    format!("capability {:#x} is transferred twice and moved", t.cap_id),
                ));
            }
            entries.push(entry.clone());
        }
        Ok(entries)
    }

    /// Whether `pid`'s table has room for `n` more capabilities.
    pub fn check_room(&self, pid: u32, n: usize) -> Result<(), Fault> {
        let p = self.processes.get(&pid).ok_or_else(|| gone(pid))?;
        let room = p.caps.limit() - p.caps.len();
        if n > room {
            return Err(Fault::new(
                CapError::Exhausted,
                format!("pid {pid} has room for {room} more capabilities, not {n}"),
            ));
        }
        Ok(())
    }

    /// Removes the moved ones of `transfers` (already checked with
    /// [`peek_caps`](Self::peek_caps) and copied where they go) from `pid`.
    pub fn drop_moved(&mut self, pid: u32, transfers: &[Transfer]) {
        let Some(p) = self.processes.get_mut(&pid) else {
            return;
        };
        let mut moved = false;
        for t in transfers.iter().filter(|t| t.mode == TransferMode::Move) {
            moved |= p.caps.remove(CapId::from_raw(t.cap_id)).is_ok();
        }
        if moved {
            self.caps_changed();
        }
    }

    /// Moves or copies `transfers` from `from`'s table into `to`'s, all or
    /// nothing: every id and the room in `to` are checked before anything
    /// moves, so a failed transfer leaves both tables as they were.
    pub fn transfer_caps(
        &mut self,
        from: u32,
        to: u32,
        transfers: &[Transfer],
    ) -> Result<Vec<GrantedCap>, Fault> {
        if transfers.is_empty() {
            return Ok(Vec::new());
        }
        let entries = self.peek_caps(from, transfers)?;
        // A capability moved within one table frees its own slot first.
        let freed = if from == to {
            transfers
                .iter()
                .filter(|t| t.mode == TransferMode::Move)
                .count()
        } else {
            0
        };
        self.check_room(to, transfers.len() - freed)?;
        self.drop_moved(from, transfers);
        let receiver = self.processes.get_mut(&to).expect("checked above");
        let granted = entries
            .into_iter()
            .map(|entry| {
                let interface_id = entry.object.interface_id();
                let origin = Origin::Received { from };
                let id = receiver
                    .caps
                    .insert(Held { entry, origin })
                    .expect("room checked above");
                GrantedCap {
                    cap_id: id.raw(),
                    interface_id,
                }
            })
            .collect();
        self.caps_changed();
        Ok(granted)
    }

    /// `ProcessHandle.kill`: ends `pid` as if the kernel killed it.
    pub fn kill(&mut self, pid: u32, by: u32) {
        if self.processes.contains_key(&pid) {
            self.reap(
                pid,
                exit_code::KILLED,
                Ending::Killed,
                format!("killed by pid {by}"),
            );
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

    /// How many capabilities `pid` holds (`None` if it is gone).
    pub fn cap_count(&self, pid: u32) -> Option<usize> {
        self.processes.get(&pid).map(|p| p.caps.len())
    }

    pub fn live_pids(&self) -> Vec<u32> {
        self.processes.keys().copied().collect()
    }

    /// What the kernel holds right now: for soak tests, which check that it
    /// all goes back to where it was once processes have come and gone.
    pub fn stats(&self) -> KernelStats {
        KernelStats {
            processes: self.processes.len(),
            caps_held: self.processes.values().map(|p| p.caps.len()).sum(),
            parked_calls: self.processes.values().map(|p| p.parked.len()).sum(),
            timers: self.timers.len(),
            host_requests: self.host_clients.len(),
        }
    }

    /// Asks the host to start `request` for `client`, which gets every
    /// reply; returns the exchange's id.
    pub fn host_request(&mut self, client: Rc<dyn HostClient<H>>, request: HostRequest<'_>) -> u32 {
        let id = self.next_exchange_id();
        self.host_clients.insert(id, client);
        self.host.host_request(id, request);
        id
    }

    /// A host exchange id not in use (ids wrap, skipping any still open).
    fn next_exchange_id(&mut self) -> u32 {
        loop {
            let id = self.next_host_id;
            self.next_host_id = self.next_host_id.wrapping_add(1).max(1);
            if !self.host_clients.contains_key(&id) {
                return id;
            }
        }
    }

    /// Continues open exchange `id` (the next body chunk, a cancel). A
    /// cancel closes it: whatever the host was still sending is dropped.
    pub fn host_continue(&mut self, id: u32, request: HostRequest<'_>) {
        if !self.host_clients.contains_key(&id) {
            return;
        }
        if request.is_cancel() {
            self.host_clients.remove(&id);
        }
        self.host.host_request(id, request);
    }

    /// What the host answered exchange `id`, for the service that asked. A
    /// reply to an exchange that is closed (cancelled, already ended) is
    /// dropped: the host may still be sending when the kernel stops caring.
    pub fn host_reply(&mut self, id: u32, reply: HostReply) {
        let client = if reply.is_final() {
            self.host_clients.remove(&id)
        } else {
            self.host_clients.get(&id).cloned()
        };
        if let Some(client) = client {
            // Every completion the reply brings is published together: one
            // doorbell per process, not one per completion.
            self.unpublished = Some(Vec::new());
            client.on_reply(self, id, reply);
            for pid in self.unpublished.take().unwrap_or_default() {
                self.publish(pid);
            }
        }
    }

    /// Hands the boot a persistent store the host loaded (before `boot`).
    pub fn add_store_image(&mut self, image: crate::host::StoreImage) {
        self.store_images.retain(|i| i.name != image.name);
        self.store_images.push(image);
    }

    /// The stores the host loaded, for the bundle to mount.
    pub fn take_store_images(&mut self) -> Vec<crate::host::StoreImage> {
        std::mem::take(&mut self.store_images)
    }

    /// Decodes, validates and boots a manifest: spawns init with the
    /// capabilities its spec names. A bad manifest is reported and halts.
    pub fn boot(&mut self, manifest_bytes: &[u8]) -> Result<u32, String> {
        let result = crate::manifest::decode(manifest_bytes).and_then(|m| self.boot_manifest(m));
        if let Err(message) = &result {
            self.host.emit(UiEvent::BootError {
                message: message.clone(),
            });
            self.halted = true;
        }
        result
    }

    fn boot_manifest(&mut self, manifest: Manifest) -> Result<u32, String> {
        if self.init_pid.is_some() {
            return Err("this kernel has already booted".into());
        }
        let manifest = Rc::new(manifest);
        let grants = (self.bundle)(self, &manifest)?;
        let binary = &manifest
            .blob(&manifest.init.binary)
            .expect("validated: init's binary is a blob")
            .binary;
        let pid = self.spawn(&manifest.init, binary, grants)?;
        self.init_pid = Some(pid);
        Ok(pid)
    }

    /// Creates a process: a ring, a CapTable holding `grants`, a Worker.
    /// Fails before anything is created (the grants are then dropped: the
    /// caller moves capabilities in only once this cannot fail).
    pub fn spawn(
        &mut self,
        spec: &ProcessSpec,
        binary: &Binary,
        grants: Vec<Grant<H>>,
    ) -> Result<u32, String> {
        let memory_limit_mib = capos_config::manifest::memory_limit_mib(spec.memory_limit_mib)?;
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
        // The parent is the process whose call is being served (none: init).
        let parent = self.serving.map_or(0, |(caller, _)| caller);
        for (cap_name, entry) in grants {
            let interface_id = entry.object.interface_id();
            let origin = Origin::Granted {
                name: cap_name.clone(),
                from: parent,
            };
            let id = caps
                .insert(Held { entry, origin })
                .map_err(|e| e.to_string())?;
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
            trap_unknown_imports: spec.trap_unknown_imports,
            memory_limit_mib,
        };
        self.host.start_process(pid, &name, binary, &ring, &startup);
        self.processes
            .insert(pid, Process::new(name, ring, self.ring_counter_start, caps));
        self.caps_changed();
        Ok(pid)
    }

    /// Serves every process's ring once. Returns whether anything happened,
    /// so the event loop knows whether to poll again or sleep.
    pub fn poll(&mut self) -> bool {
        let now = self.host.now_ns();
        self.poll_at(now)
    }

    /// [`poll`](Self::poll), with the time of this round as the caller read
    /// it (the event loop reads the clock every round anyway).
    pub fn poll_at(&mut self, now_ns: u64) -> bool {
        if self.halted {
            return false;
        }
        self.round_ns = Some(now_ns);
        let mut progressed = self.fire_timers(now_ns);
        for pid in self.live_pids() {
            progressed |= self.service(pid, SQES_PER_POLL);
        }
        self.settle();
        self.after_round();
        self.round_ns = None;
        progressed
    }

    /// Publishes what a round of work changed: the process list, and the
    /// inspector's snapshot if it is shown.
    fn after_round(&mut self) {
        if self.processes_changed {
            self.publish_processes();
        }
        if self.inspector.snapshot_due() {
            let now = self.now_ns();
            let event = self.inspector.snapshot(&self.processes, now);
            self.host.emit(event);
        }
    }

    /// A CapTable or the set of processes changed.
    fn caps_changed(&mut self) {
        self.processes_changed = true;
        self.inspector.changed();
    }

    /// Lets every service fail the parked calls that can no longer complete.
    /// Run after anything that drops capabilities or ends processes.
    pub fn settle(&mut self) {
        for i in 0..self.services.len() {
            let service = self.services[i].clone();
            service.settle(self);
        }
    }

    /// Takes up to `budget` SQEs off `pid`'s ring (as many as its CQ has
    /// room for) in one batch and dispatches them; the slots are handed back
    /// and the completions published (one doorbell) once for the batch.
    fn service(&mut self, pid: u32, budget: u32) -> bool {
        let Some(p) = self.processes.get_mut(&pid) else {
            return false;
        };
        let budget = budget.min(p.cq_budget());
        if budget == 0 {
            return false; // CQ backpressure: wait until the process reaps.
        }
        let mut scratch = self.scratch.take().expect("dispatch does not nest");
        let (first, count) = match p.sq.take_batch(&p.ring, budget, &mut scratch.entries) {
            Ok(batch) => batch,
            Err(violation) => {
                self.scratch = Some(scratch);
                let reason = format!("killed: ring protocol violation: {violation}");
                self.reap(pid, exit_code::KILLED, Ending::Killed, reason);
                return true;
            }
        };
        // Every call's params in one gather, before anything is dispatched.
        p.counts.sqes += u64::from(count);
        scratch.ops.clear();
        scratch.params_lens.clear();
        for raw in scratch.entries[..count as usize * SQE_SIZE].chunks_exact(SQE_SIZE) {
            let (sqe, op) = Op::decode(raw.try_into().expect("SQE_SIZE bytes"));
            let len = match op {
                Ok(Op::Call { params_len, .. }) => params_len,
                _ => 0,
            };
            scratch.ops.push((sqe, op));
            scratch.params_lens.push(len);
        }
        p.sq.read_params(
            &p.ring,
            first,
            &scratch.params_lens,
            capnp::Word::words_to_bytes_mut(&mut scratch.params),
            &mut scratch.spans,
        );
        // Calls are timed by rounds: a call served at once finishes within
        // the round that took it (quicker than the browser's 5 us clock can
        // tell), a parked one in a later round.
        let tracing = self.inspector.trace;
        let started_ns = if tracing { self.now_ns() } else { 0 };
        for i in 0..count {
            let (sqe, op) = scratch.ops[i as usize];
            let Some(p) = self.processes.get_mut(&pid) else {
                break; // An earlier call in the batch ended this process.
            };

            // Only calls are served by objects (and only they can park).
            let call_id = match op {
                Ok(Op::Call {
                    interface_id,
                    method,
                    ..
                }) => CallId {
                    interface_id,
                    method,
                },
                _ => CallId::default(),
            };
            let outcome = match op {
                Err(fault) => Err(Fault::new(
                    CapError::BadSqe,
                    format!("malformed SQE: {fault}"),
                )),
                Ok(Op::Nop) => Ok(Served::Done),
                Ok(Op::Release { cap_id }) => match p.caps.remove(CapId::from_raw(cap_id)) {
                    Ok(_) => {
                        self.caps_changed();
                        Ok(Served::Done)
                    }
                    Err(e) => Err(lookup_fault(cap_id, e)),
                },
                Ok(Op::Call {
                    cap_id,
                    interface_id,
                    method,
                    params_len,
                }) => {
                    let slot = i as usize * SLOT_DATA_SIZE as usize;
                    let params = slot..slot + params_len as usize;
                    let call = CallContext {
                        caller: pid,
                        user_data: sqe.user_data,
                        method,
                        badge: 0,
                    };
                    self.serving_call = Some(call_id);
                    let outcome = self.call(&mut scratch, call, cap_id, interface_id, params);
                    self.serving_call = None;
                    outcome
                }
            };
            if tracing && !matches!(outcome, Ok(Served::Pending)) && !matches!(op, Ok(Op::Nop)) {
                let fault = outcome.as_ref().err();
                let call = trace_entry(pid, describe_op(&op), fault, false, started_ns);
                self.inspector.record(call);
            }
            let Some(p) = self.processes.get_mut(&pid) else {
                break;
            };
            match outcome {
                Ok(Served::Done) => {
                    let data = if matches!(op, Ok(Op::Call { .. })) {
                        &scratch.out[..]
                    } else {
                        &[]
                    };
                    p.post(sqe.user_data, 0, data);
                }
                Ok(Served::Pending) => {
                    p.park(Parked {
                        user_data: sqe.user_data,
                        call: call_id,
                        since_ns: tracing.then_some(started_ns),
                    });
                    if let Some(completion) = self.finished_early.take() {
                        self.finish(pid, sqe.user_data, completion);
                    }
                }
                Err(fault) => p.post(sqe.user_data, fault.error.code(), fault_text(&fault)),
            }
        }
        self.scratch = Some(scratch);
        self.publish(pid);
        count > 0
    }

    /// One `Op::Call`: resolves the capability, decodes the params in place,
    /// lets the object serve it, and leaves finished results serialized in
    /// `scratch.out`. Results that do not fit a slot are `TooLarge`, never cut.
    fn call(
        &mut self,
        scratch: &mut Scratch,
        mut call: CallContext,
        cap_id: u32,
        interface_id: u64,
        params: std::ops::Range<usize>,
    ) -> Result<Served, Fault> {
        let p = self
            .processes
            .get(&call.caller)
            .expect("the caller is live");
        let entry = p
            .caps
            .get(CapId::from_raw(cap_id))
            .map_err(|e| lookup_fault(cap_id, e))?
            .entry
            .clone();
        if entry.object.interface_id() != interface_id {
            return Err(Fault::new(
                CapError::WrongInterface,
                format!(
                    "capability {cap_id:#x} is a {} ({:#x}), not interface {interface_id:#x}",
                    entry.object.interface_name(),
                    entry.object.interface_id(),
                ),
            ));
        }
        call.badge = entry.badge;
        let params_len = params.len();
        let params = if params_len == 0 {
            &EMPTY_MESSAGE.0[..]
        } else {
            &capnp::Word::words_to_bytes(&scratch.params)[params]
        };
        let options = capnp::message::ReaderOptions {
            traversal_limit_in_words: Some(params_len / 8 + 64),
            nesting_limit: 16,
        };
        let message =
            capnp::serialize::read_message_from_flat_slice_no_alloc(&mut &params[..], options)
                .map_err(|e| {
                    Fault::new(
                        CapError::BadParams,
                        format!("params are not a Cap'n Proto message: {e}"),
                    )
                })?;
        let params = message.get_root::<capnp::any_pointer::Reader<'_>>()?;
        let mut results =
            capnp::message::Builder::new(scratch.results.take().expect("one call at a time"));
        self.serving = Some((call.caller, call.user_data));
        self.finished_early = None;
        let served = entry.object.call(
            self,
            &call,
            params,
            results.get_root::<capnp::any_pointer::Builder<'_>>()?,
        );
        self.serving = None;
        if !matches!(served, Ok(Served::Pending)) {
            debug_assert!(self.finished_early.is_none(), "finished and answered");
            self.finished_early = None;
        }
        scratch.out.clear();
        let served = match served {
            Ok(Served::Done) => {
                serialize_results(&results, &mut scratch.out).map(|()| Served::Done)
            }
            other => other,
        };
        scratch.results = Some(results.into_allocator());
        served
    }

    /// The single completion path for parked calls: posts `completion` to
    /// `(pid, user_data)` and publishes it. A completion for a process that
    /// is gone, or for a call it is not owed, is dropped.
    pub fn finish(&mut self, pid: u32, user_data: u64, completion: Completion) {
        if self.serving == Some((pid, user_data)) {
            debug_assert!(self.finished_early.is_none(), "a call finished twice");
            self.finished_early = Some(completion);
            return;
        }
        let Some(p) = self.processes.get_mut(&pid) else {
            return;
        };
        let Some(parked) = p.unpark(user_data) else {
            debug_assert!(false, "pid {pid} is owed no call {user_data}");
            return;
        };
        let fault = match completion {
            Completion::Done(data) if data.len() > SLOT_DATA_SIZE as usize => {
                Some(too_large(data.len()))
            }
            Completion::Done(data) => {
                p.post(user_data, 0, &data);
                None
            }
            Completion::Failed(fault) => Some(fault),
        };
        if let Some(fault) = &fault {
            p.post(user_data, fault.error.code(), fault_text(fault));
        }
        // A call parked before the trace was turned on has no start to time.
        if self.inspector.trace
            && let Some(since_ns) = parked.since_ns
        {
            self.trace_call(pid, parked.call.names(), fault.as_ref(), since_ns);
        }
        match &mut self.unpublished {
            Some(pids) if !pids.contains(&pid) => pids.push(pid),
            Some(_) => {}
            None => self.publish(pid),
        }
    }

    /// Hands consumed SQ slots back and publishes staged CQEs, ringing the
    /// doorbell if there were any.
    fn publish(&mut self, pid: u32) {
        if let Some(p) = self.processes.get_mut(&pid)
            && p.publish()
        {
            ring_doorbell(&p.ring);
        }
    }

    /// Input from the terminal the system is attached to.
    pub fn terminal_input(&mut self, bytes: &[u8]) {
        self.tell_services(TerminalEvent::Bytes(bytes));
    }

    /// The terminal's input ended.
    pub fn terminal_eof(&mut self) {
        self.tell_services(TerminalEvent::End);
    }

    fn tell_services(&mut self, event: TerminalEvent<'_>) {
        for i in 0..self.services.len() {
            let service = self.services[i].clone();
            service.on_terminal(self, event);
        }
    }

    /// The process's Worker reported `exit(code)`.
    pub fn process_exited(&mut self, pid: u32, code: i32) {
        if !self.processes.contains_key(&pid) {
            return;
        }
        // Serve what it queued before exiting (its last writes, typically).
        self.service(pid, SQ_ENTRIES);
        self.reap(
            pid,
            code,
            Ending::Exited,
            format!("exited with code {code}"),
        );
    }

    /// The process panicked (capos-rt's panic hook reported `message`).
    pub fn process_panicked(&mut self, pid: u32, message: &str) {
        self.process_failed_with(
            pid,
            exit_code::PANICKED,
            Ending::Panicked,
            format!("panicked: {message}"),
        );
    }

    /// The process's module trapped.
    pub fn process_trapped(&mut self, pid: u32, message: &str) {
        self.process_failed_with(
            pid,
            exit_code::TRAPPED,
            Ending::Trapped,
            format!("trapped: {message}"),
        );
    }

    /// The process's Worker or module could not start.
    pub fn process_failed(&mut self, pid: u32, message: &str) {
        self.process_failed_with(
            pid,
            exit_code::START_FAILED,
            Ending::Failed,
            format!("failed to start: {message}"),
        );
    }

    fn process_failed_with(&mut self, pid: u32, code: i32, ending: Ending, reason: String) {
        let Some(p) = self.processes.get(&pid) else {
            return;
        };
        let data = format!("[pid {pid} {}] {reason}\n", p.name).into_bytes();
        self.service(pid, SQ_ENTRIES);
        self.host.emit(UiEvent::Console {
            pid,
            stream: Stream::Stderr,
            data,
        });
        self.reap(pid, code, ending, reason);
    }

    /// Ends a process: releases everything it held, stops its Worker, wakes
    /// any waiter still parked on its doorbell, tells every service and the
    /// UI.
    fn reap(&mut self, pid: u32, code: i32, ending: Ending, reason: String) {
        let Some(mut p) = self.processes.remove(&pid) else {
            return;
        };
        self.inspector.ended(pid, &p, ending, code, &reason);
        drop(p.caps.drain());
        self.timers.retain(
            |t| !matches!(t.0.action, TimerAction::Finish { pid: owner, .. } if owner == pid),
        );
        self.host.stop_process(pid);
        // A Worker blocked in Atomics.wait lingers after terminate() until
        // woken: flag the ring and ring its doorbell.
        p.set_flag(RING_FLAG_KILLED, true);
        ring_doorbell(&p.ring);
        // Whatever its CQ_WAITING says (it may have died mid-update).
        p.ring.notify(CQ_DOORBELL);
        self.host.emit(UiEvent::ProcessExited {
            pid,
            name: p.name.clone(),
            state: ending.name(),
            code,
            reason: reason.clone(),
        });
        self.publish_processes();
        for i in 0..self.services.len() {
            let service = self.services[i].clone();
            service.on_exit(self, pid, code, &reason);
        }
        self.settle();
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
            self.reap(
                pid,
                exit_code::KILLED,
                Ending::Killed,
                "killed: system halted".into(),
            );
        }
        for i in 0..self.services.len() {
            let service = self.services[i].clone();
            service.on_halt(self);
        }
        // The trees as the system leaves them: no tick comes after a halt.
        if self.files_watched
            && let Some(files) = self.page_files.clone()
            && let Some(event) = files.view(false)
        {
            self.host.emit(event);
        }
        // The last picture and the last calls, before the page hears the end.
        if self.inspector.graph {
            let now = self.host.now_ns();
            let event = self.inspector.snapshot(&self.processes, now);
            self.host.emit(event);
        }
        if let Some(event) = self.inspector.flush_trace() {
            self.host.emit(event);
        }
        self.host.emit(UiEvent::Halted { code, reason });
    }

    fn publish_processes(&mut self) {
        self.processes_changed = false;
        self.published_states = self.live_states();
        let processes = self
            .processes
            .iter()
            .map(|(&pid, p)| ProcessView {
                pid,
                name: p.name.clone(),
                state: inspect::live_state(p),
                blocked_on: inspect::blocked_on(p),
                caps: p.caps.len(),
            })
            .collect();
        self.host.emit(UiEvent::Processes { processes });
    }

    /// (pid, state, parked calls) of every process: what the process list
    /// shows of them.
    fn live_states(&self) -> Vec<(u32, &'static str, usize)> {
        self.processes
            .iter()
            .map(|(&pid, p)| (pid, inspect::live_state(p), p.parked.len()))
            .collect()
    }

    /// Records one finished call in the trace.
    fn trace_call(
        &mut self,
        pid: u32,
        names: (&'static str, &'static str),
        fault: Option<&Fault>,
        started_ns: u64,
    ) {
        let now = self.now_ns();
        let mut call = trace_entry(pid, names, fault, true, started_ns);
        call.dur_us = now.saturating_sub(started_ns) as f64 / 1e3;
        self.inspector.record(call);
    }
}

/// Serializes a results message into `out`, refusing (never cutting) one
/// that does not fit a ring slot.
fn serialize_results<A: capnp::message::Allocator>(
    results: &capnp::message::Builder<A>,
    out: &mut Vec<u8>,
) -> Result<(), Fault> {
    let words = capnp::serialize::compute_serialized_size_in_words(results);
    if words * 8 > SLOT_DATA_SIZE as usize {
        return Err(too_large(words * 8));
    }
    capnp::serialize::write_message(&mut *out, results).map_err(|e| {
        Fault::new(
            CapError::Internal,
            format!("results did not serialize: {e}"),
        )
    })
}

fn too_large(len: usize) -> Fault {
    Fault::new(
        CapError::TooLarge,
        format!("results of {len} bytes exceed the {SLOT_DATA_SIZE}-byte ring slot"),
    )
}

/// A failed CQE's data: the message, cut at a character boundary to fit the
/// slot (it is text for a human; the error code is what programs act on).
fn fault_text(fault: &Fault) -> &[u8] {
    let mut end = fault.message.len().min(SLOT_DATA_SIZE as usize);
    while !fault.message.is_char_boundary(end) {
        end -= 1;
    }
    &fault.message.as_bytes()[..end]
}

fn gone(pid: u32) -> Fault {
    Fault::new(CapError::PeerGone, format!("pid {pid} is gone"))
}

/// A finished call as the trace shows it: 0 us unless the caller, which
/// knows when it finished, says otherwise.
fn trace_entry(
    pid: u32,
    (interface, method): (&'static str, &'static str),
    fault: Option<&Fault>,
    parked: bool,
    started_ns: u64,
) -> TraceCall {
    TraceCall {
        pid,
        interface,
        method,
        outcome: fault.map_or("ok", |f| f.error.name()),
        parked,
        start_ms: started_ns as f64 / 1e6,
        dur_us: 0.0,
        message: fault.map(|f| f.message.clone()).unwrap_or_default(),
    }
}

/// (interface, method) of an entry, as the trace names it.
fn describe_op(op: &Result<Op, SqeFault>) -> (&'static str, &'static str) {
    match op {
        Ok(Op::Call {
            interface_id,
            method,
            ..
        }) => CallId {
            interface_id: *interface_id,
            method: *method,
        }
        .names(),
        Ok(Op::Release { .. }) => ("ring", "release"),
        Ok(Op::Nop) => ("ring", "nop"),
        Err(_) => ("ring", "malformed entry"),
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

pub(crate) fn lookup_fault(cap_id: u32, e: CapLookupError) -> Fault {
    let error = match e {
        CapLookupError::Unknown => CapError::UnknownCap,
        CapLookupError::Stale => CapError::StaleCap,
    };
    Fault::new(error, format!("capability {cap_id:#x}: {e}"))
}

/// Shared, mutable service state, as services hold it.
pub type Shared<T> = Rc<RefCell<T>>;
