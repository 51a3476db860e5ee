//! Listener and Stream (schema/net.capnp): connections made to the system's
//! ports, served to the process that holds the port's Listener.
//!
//! A connection arrives from the host (the page's preview ServiceWorker, or
//! `capos run --tcplisten`) through [`Kernel::connect`], which opens a host
//! exchange for it; this service owns every connection's state from then
//! on. Bytes move under flow control both ways, so nothing is buffered
//! without bound however fast either side is:
//! - inbound, the kernel asks for the next chunk (`NetPull`) only once the
//!   one it holds has been read: a connection holds at most one chunk;
//! - outbound, each `NetSend` is acknowledged (`NetSent`) once the peer has
//!   taken it, and at most [`WRITE_WINDOW`] bytes are unacknowledged: a
//!   client that stops reading stops the writer.
//!
//! A port is bound when its Listener is granted (from the manifest) and
//! freed when the last capability to that Listener is dropped (closed, or
//! its holder exited): the connections nobody accepted are then closed.

use super::{Inspect, encode, results_builder, serve, set_cap_ref};
use crate::host::{Host, HostClient, HostReply, HostRequest};
use crate::kernel::{CapEntry, Kernel, Network, TimerAction};
use capos_config::ring::SLOT_DATA_SIZE;
use capos_lib::{CallContext, CapError, Completion, Fault, Reply, Served, Service};
use capos_schema::net_capnp::{listener, stream};
use capos_schema::servers::{listener as listener_server, stream as stream_server};
use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::rc::{Rc, Weak};

/// Most bytes one `Stream.read` returns: what fits a ring slot with the
/// message's framing.
pub const MAX_READ: u32 = SLOT_DATA_SIZE - 128;
/// Most bytes sent to a peer and not yet taken by it, per connection.
pub const WRITE_WINDOW: usize = 256 * 1024;
/// Most connections waiting to be accepted on one port; more are refused.
pub const BACKLOG: usize = 128;
/// Most connections open at once, for the whole system.
pub const MAX_CONNECTIONS: usize = 1024;
/// Most interests one `Listener.poll` names.
pub const MAX_POLL: u32 = 64;

/// Every port and connection of one boot.
#[derive(Default)]
pub struct Net {
    ports: RefCell<BTreeMap<u16, Rc<RefCell<Port>>>>,
    /// Open connections, by their host exchange id.
    conns: RefCell<BTreeMap<u32, Rc<RefCell<Conn>>>>,
    /// Connections whose Stream was dropped, closed at the next settle.
    dropped: RefCell<Vec<u32>>,
    /// Ports whose last Listener was dropped, freed at the next settle.
    released: RefCell<Vec<u16>>,
    /// This service, for the Listeners and Streams it makes and its timers.
    me: RefCell<Weak<Net>>,
}

/// What a `Listener.poll` waits for: a connection to accept, and
/// (connection, read, write) interests.
struct Wanted {
    accept: bool,
    interests: Vec<(u64, bool, bool)>,
}

/// A parked `Listener.poll`.
struct Poll {
    pid: u32,
    user_data: u64,
    wanted: Wanted,
    timer: Option<u64>,
}

struct Port {
    port: u16,
    /// Connections not yet accepted, oldest first (exchange ids).
    queue: VecDeque<u32>,
    /// Parked `accept`s, oldest first.
    accepts: VecDeque<(u32, u64)>,
    polls: Vec<Poll>,
    /// Accepted connections by their number (what `poll` names).
    accepted: BTreeMap<u64, u32>,
    next_number: u64,
}

/// One connection's state.
struct Conn {
    id: u32,
    port: u16,
    number: u64,
    peer: String,
    /// The chunk being read, and how far.
    inbound: Vec<u8>,
    pos: usize,
    /// A chunk has been asked for and not yet delivered.
    pulling: bool,
    /// The peer finished sending.
    peer_ended: bool,
    /// The connection failed (reset, the peer vanished): every later call
    /// fails so.
    failed: Option<Fault>,
    read_shut: bool,
    write_shut: bool,
    /// Parked reads: (pid, user_data, max, peek).
    reads: VecDeque<(u32, u64, u32, bool)>,
    /// Parked writes waiting for room: (pid, user_data, data).
    writes: VecDeque<(u32, u64, Vec<u8>)>,
    /// Sizes of the sends not yet acknowledged, oldest first.
    unacked: VecDeque<usize>,
    in_flight: usize,
}

impl Conn {
    fn buffered(&self) -> &[u8] {
        &self.inbound[self.pos..]
    }

    fn readable(&self) -> bool {
        !self.buffered().is_empty() || self.peer_ended || self.read_shut || self.failed.is_some()
    }

    fn writable(&self) -> bool {
        self.failed.is_some() || self.write_shut || self.in_flight < WRITE_WINDOW
    }

    fn room(&self) -> usize {
        WRITE_WINDOW.saturating_sub(self.in_flight)
    }

    /// Whether to ask the host for the next chunk now.
    fn wants_pull(&self) -> bool {
        self.buffered().is_empty()
            && !self.pulling
            && !self.peer_ended
            && !self.read_shut
            && self.failed.is_none()
    }
}

fn gone(why: &str) -> Fault {
    Fault::new(CapError::PeerGone, why)
}

impl Net {
    pub fn new() -> Rc<Self> {
        let net = Rc::new(Self::default());
        *net.me.borrow_mut() = Rc::downgrade(&net);
        net
    }

    fn me(&self) -> Rc<Net> {
        self.me
            .borrow()
            .upgrade()
            .expect("the service outlives its objects")
    }

    /// Binds `port` for the manifest's grant: the Listener to hand out.
    pub fn bind(&self, port: u16) -> Result<Listener, String> {
        let mut ports = self.ports.borrow_mut();
        if port == 0 || ports.contains_key(&port) {
            return Err(format!("port {port} cannot be bound (0, or bound already)"));
        }
        let state = Rc::new(RefCell::new(Port {
            port,
            queue: VecDeque::new(),
            accepts: VecDeque::new(),
            polls: Vec::new(),
            accepted: BTreeMap::new(),
            next_number: 1,
        }));
        ports.insert(port, state.clone());
        Ok(Listener {
            net: self.me(),
            port: state,
        })
    }

    /// The ports bound, in order.
    pub fn ports(&self) -> Vec<u16> {
        self.ports.borrow().keys().copied().collect()
    }

    fn conn(&self, id: u32) -> Option<Rc<RefCell<Conn>>> {
        self.conns.borrow().get(&id).cloned()
    }

    fn port(&self, port: u16) -> Option<Rc<RefCell<Port>>> {
        self.ports.borrow().get(&port).cloned()
    }

    /// Answers what can be answered on connection `id` now (reads, writes
    /// that found room, polls), and asks the host for more input if none is
    /// held.
    fn progress<H: Host>(&self, kernel: &mut Kernel<H>, id: u32) {
        let Some(conn) = self.conn(id) else { return };
        let mut done: Vec<(u32, u64, Completion)> = Vec::new();
        let mut sends: Vec<Vec<u8>> = Vec::new();
        let (pull, port) = {
            let mut c = conn.borrow_mut();
            // Reads, in order.
            while let Some(&(pid, user_data, max, peek)) = c.reads.front() {
                let completion = if !c.buffered().is_empty() {
                    let n = c.buffered().len().min(max as usize);
                    let completion = read_completion(&c.buffered()[..n], false, false);
                    if !peek {
                        c.pos += n;
                    }
                    completion
                } else if let Some(fault) = &c.failed {
                    Completion::Failed(fault.clone())
                } else if c.peer_ended || c.read_shut {
                    read_completion(&[], true, false)
                } else {
                    break;
                };
                c.reads.pop_front();
                done.push((pid, user_data, completion));
            }
            if c.pos == c.inbound.len() {
                c.inbound = Vec::new(); // read up: free it
                c.pos = 0;
            }
            // Writes waiting for room, in order.
            while let Some((_, _, data)) = c.writes.front() {
                if let Some(fault) = c.failed.clone().or_else(|| {
                    c.write_shut
                        .then(|| gone("the stream was shut down for writing"))
                }) {
                    let (pid, user_data, _) = c.writes.pop_front().expect("front");
                    done.push((pid, user_data, fault.into()));
                    continue;
                }
                if data.len() > c.room() {
                    break;
                }
                let (pid, user_data, data) = c.writes.pop_front().expect("front");
                c.in_flight += data.len();
                c.unacked.push_back(data.len());
                done.push((pid, user_data, write_completion(data.len() as u32, false)));
                sends.push(data);
            }
            let pull = c.wants_pull();
            if pull {
                c.pulling = true;
            }
            (pull, c.port)
        };
        for data in sends {
            kernel.host_continue(id, HostRequest::NetSend { data: &data });
        }
        if pull {
            kernel.host_continue(id, HostRequest::NetPull);
        }
        for (pid, user_data, completion) in done {
            kernel.finish(pid, user_data, completion);
        }
        self.wake_polls(kernel, port);
    }

    /// Finishes the parked polls on `port` that something is ready for.
    fn wake_polls<H: Host>(&self, kernel: &mut Kernel<H>, port: u16) {
        let Some(state) = self.port(port) else { return };
        let ready: Vec<Poll> = {
            let mut p = state.borrow_mut();
            let polls = std::mem::take(&mut p.polls);
            let (ready, waiting): (Vec<Poll>, Vec<Poll>) = polls
                .into_iter()
                .partition(|poll| self.poll_result(&p, &poll.wanted).is_some());
            p.polls = waiting;
            ready
        };
        for poll in ready {
            if let Some(timer) = poll.timer {
                kernel.cancel_timer(timer);
            }
            let completion = {
                let p = state.borrow();
                let (acceptable, list) = self.readiness(&p, &poll.wanted);
                poll_completion(acceptable, &list)
            };
            kernel.finish(poll.pid, poll.user_data, completion);
        }
    }

    /// Whether a connection waits on `port`, and which of the wanted
    /// connections are ready for what is wanted of them: (number,
    /// readable, writable).
    fn readiness(&self, port: &Port, wanted: &Wanted) -> (bool, Vec<(u64, bool, bool)>) {
        let acceptable = !port.queue.is_empty();
        let mut list = Vec::new();
        for &(number, read, write) in &wanted.interests {
            let conn = port.accepted.get(&number).and_then(|id| self.conn(*id));
            let (r, w) = match conn {
                Some(conn) => {
                    let c = conn.borrow();
                    (c.readable(), c.writable())
                }
                // Closed or unknown: its next call fails at once.
                None => (true, true),
            };
            let (r, w) = (r && read, w && write);
            if r || w {
                list.push((number, r, w));
            }
        }
        (acceptable, list)
    }

    /// `Some` if a poll for `wanted` would return now.
    fn poll_result(&self, port: &Port, wanted: &Wanted) -> Option<()> {
        let (acceptable, list) = self.readiness(port, wanted);
        ((acceptable && wanted.accept) || !list.is_empty()).then_some(())
    }

    /// Hands the oldest queued connections on `port` to the parked accepts.
    fn serve_accepts<H: Host>(&self, kernel: &mut Kernel<H>, port: u16) {
        let Some(state) = self.port(port) else { return };
        loop {
            let (pid, user_data, id) = {
                let mut p = state.borrow_mut();
                let (Some(&(pid, user_data)), Some(&id)) = (p.accepts.front(), p.queue.front())
                else {
                    break;
                };
                p.accepts.pop_front();
                p.queue.pop_front();
                (pid, user_data, id)
            };
            let completion = match self.accept_into(kernel, &state, pid, id) {
                Ok(completion) => completion,
                Err(fault) => {
                    // The connection waits for the next accept.
                    state.borrow_mut().queue.push_front(id);
                    fault.into()
                }
            };
            kernel.finish(pid, user_data, completion);
        }
    }

    /// Grants `pid` a Stream on connection `id`: the accept's results.
    fn accept_into<H: Host>(
        &self,
        kernel: &mut Kernel<H>,
        port: &Rc<RefCell<Port>>,
        pid: u32,
        id: u32,
    ) -> Result<Completion, Fault> {
        let conn = self
            .conn(id)
            .ok_or_else(|| Fault::new(CapError::Internal, "a queued connection vanished"))?;
        let stream = Stream { net: self.me(), id };
        let granted = kernel.insert_cap(
            pid,
            CapEntry {
                object: Rc::new(stream),
                badge: 0,
            },
        )?;
        let (number, peer) = {
            let mut p = port.borrow_mut();
            let number = p.next_number;
            p.next_number += 1;
            p.accepted.insert(number, id);
            let mut c = conn.borrow_mut();
            c.number = number;
            (number, c.peer.clone())
        };
        let mut message = results_builder();
        {
            let mut root = message.init_root::<listener::accept_results::Builder<'_>>();
            set_cap_ref(root.reborrow().init_stream(), granted);
            root.set_connection(number);
            root.set_peer(peer.as_str());
        }
        Ok(encode(&message))
    }

    /// Closes connection `id` for good: the host is told, parked calls fail.
    fn close<H: Host>(&self, kernel: &mut Kernel<H>, id: u32, why: &str, tell_host: bool) {
        let Some(conn) = self.conns.borrow_mut().remove(&id) else {
            return;
        };
        let (port, number, failures) = {
            let mut c = conn.borrow_mut();
            let fault = c.failed.clone().unwrap_or_else(|| gone(why));
            let mut failures: Vec<(u32, u64)> =
                c.reads.drain(..).map(|(pid, ud, _, _)| (pid, ud)).collect();
            failures.extend(c.writes.drain(..).map(|(pid, ud, _)| (pid, ud)));
            (
                c.port,
                c.number,
                failures
                    .into_iter()
                    .map(|(pid, ud)| (pid, ud, fault.clone()))
                    .collect::<Vec<_>>(),
            )
        };
        if let Some(state) = self.port(port) {
            let mut p = state.borrow_mut();
            p.queue.retain(|queued| *queued != id);
            p.accepted.remove(&number);
        }
        if tell_host {
            kernel.host_continue(id, HostRequest::NetClose);
        }
        for (pid, user_data, fault) in failures {
            kernel.finish(pid, user_data, fault.into());
        }
        self.wake_polls(kernel, port);
    }

    /// Frees `port`: the connections nobody accepted are closed.
    fn release<H: Host>(&self, kernel: &mut Kernel<H>, port: u16) {
        let Some(state) = self.ports.borrow_mut().remove(&port) else {
            return;
        };
        let (queued, accepts, polls) = {
            let mut p = state.borrow_mut();
            (
                std::mem::take(&mut p.queue),
                std::mem::take(&mut p.accepts),
                std::mem::take(&mut p.polls),
            )
        };
        for id in queued {
            self.close(kernel, id, "nothing listens on the port any more", true);
        }
        let fault = gone("the listener was closed");
        for (pid, user_data) in accepts {
            kernel.finish(pid, user_data, fault.clone().into());
        }
        for poll in polls {
            if let Some(timer) = poll.timer {
                kernel.cancel_timer(timer);
            }
            kernel.finish(poll.pid, poll.user_data, fault.clone().into());
        }
    }
}

impl<H: Host> Network<H> for Net {
    fn connect(
        &self,
        kernel: &mut Kernel<H>,
        id: u32,
        port: u16,
        peer: &str,
    ) -> Result<(), String> {
        let state = self
            .port(port)
            .ok_or_else(|| format!("nothing listens on port {port}"))?;
        if self.conns.borrow().len() >= MAX_CONNECTIONS {
            return Err(format!(
                "{MAX_CONNECTIONS} connections are open, the most the system holds"
            ));
        }
        if state.borrow().queue.len() >= BACKLOG {
            return Err(format!(
                "{BACKLOG} connections to port {port} wait to be accepted; the server is not keeping up"
            ));
        }
        let peer: String = peer.chars().take(64).collect();
        let conn = Conn {
            id,
            port,
            number: 0,
            peer,
            inbound: Vec::new(),
            pos: 0,
            pulling: false,
            peer_ended: false,
            failed: None,
            read_shut: false,
            write_shut: false,
            reads: VecDeque::new(),
            writes: VecDeque::new(),
            unacked: VecDeque::new(),
            in_flight: 0,
        };
        debug_assert_eq!(conn.id, id);
        self.conns
            .borrow_mut()
            .insert(id, Rc::new(RefCell::new(conn)));
        state.borrow_mut().queue.push_back(id);
        // The first chunk is asked for at once: the server usually reads
        // the request as soon as it accepts.
        self.progress(kernel, id);
        self.serve_accepts(kernel, port);
        self.wake_polls(kernel, port);
        Ok(())
    }
}

impl<H: Host> HostClient<H> for Net {
    fn on_reply(&self, kernel: &mut Kernel<H>, id: u32, reply: HostReply) {
        let Some(conn) = self.conn(id) else { return };
        match reply {
            HostReply::NetData(bytes) => {
                {
                    let mut c = conn.borrow_mut();
                    c.pulling = false;
                    if !c.read_shut {
                        let pos = c.pos;
                        c.inbound.drain(..pos);
                        c.inbound.extend_from_slice(&bytes);
                        c.pos = 0;
                    }
                }
                self.progress(kernel, id);
            }
            HostReply::NetEnd => {
                {
                    let mut c = conn.borrow_mut();
                    c.pulling = false;
                    c.peer_ended = true;
                }
                self.progress(kernel, id);
            }
            HostReply::NetSent => {
                {
                    let mut c = conn.borrow_mut();
                    if let Some(n) = c.unacked.pop_front() {
                        c.in_flight -= n;
                    }
                }
                self.progress(kernel, id);
            }
            HostReply::Failed { message, .. } => {
                conn.borrow_mut().failed = Some(gone(&message));
                // The exchange is over on the host's side: nothing to tell it.
                let accepted = conn.borrow().number != 0;
                if accepted {
                    self.progress(kernel, id);
                } else {
                    self.close(kernel, id, &message, false);
                }
            }
            other => {
                let fault = Fault::new(
                    CapError::Internal,
                    format!("the host answered a connection with {other:?}"),
                );
                conn.borrow_mut().failed = Some(fault);
                self.close(kernel, id, "the host broke the protocol", true);
            }
        }
    }
}

impl<H: Host> Service<Kernel<H>> for Net {
    fn on_exit(&self, _kernel: &mut Kernel<H>, pid: u32, _code: i32, _reason: &str) {
        // Its parked calls are gone with it; its capabilities are dropped
        // by the kernel, which closes its streams and frees its ports.
        for state in self.ports.borrow().values() {
            let mut p = state.borrow_mut();
            p.accepts.retain(|(owner, _)| *owner != pid);
            p.polls.retain(|poll| poll.pid != pid);
        }
        for conn in self.conns.borrow().values() {
            let mut c = conn.borrow_mut();
            c.reads.retain(|(owner, ..)| *owner != pid);
            c.writes.retain(|(owner, ..)| *owner != pid);
        }
    }

    fn settle(&self, kernel: &mut Kernel<H>) {
        let dropped = std::mem::take(&mut *self.dropped.borrow_mut());
        for id in dropped {
            self.close(kernel, id, "the stream was closed", true);
        }
        let released = std::mem::take(&mut *self.released.borrow_mut());
        for port in released {
            self.release(kernel, port);
        }
    }

    fn on_timer(&self, kernel: &mut Kernel<H>, timer: u64) {
        let found = self.ports.borrow().values().find_map(|state| {
            let mut p = state.borrow_mut();
            let at = p.polls.iter().position(|poll| poll.timer == Some(timer))?;
            let poll = p.polls.remove(at);
            let (acceptable, list) = self.readiness(&p, &poll.wanted);
            Some((poll, poll_completion(acceptable, &list)))
        });
        if let Some((poll, completion)) = found {
            kernel.finish(poll.pid, poll.user_data, completion);
        }
    }
}

fn read_completion(data: &[u8], eof: bool, would_block: bool) -> Completion {
    let mut message = results_builder();
    {
        let mut root = message.init_root::<stream::read_results::Builder<'_>>();
        root.set_data(data);
        root.set_eof(eof);
        root.set_would_block(would_block);
    }
    encode(&message)
}

fn write_completion(written: u32, would_block: bool) -> Completion {
    let mut message = results_builder();
    {
        let mut root = message.init_root::<stream::write_results::Builder<'_>>();
        root.set_written(written);
        root.set_would_block(would_block);
    }
    encode(&message)
}

fn poll_completion(acceptable: bool, ready: &[(u64, bool, bool)]) -> Completion {
    let mut message = results_builder();
    {
        let mut root = message.init_root::<listener::poll_results::Builder<'_>>();
        root.set_acceptable(acceptable);
        let mut list = root.init_ready(ready.len() as u32);
        for (i, &(number, readable, writable)) in ready.iter().enumerate() {
            let mut r = list.reborrow().get(i as u32);
            r.set_connection(number);
            r.set_readable(readable);
            r.set_writable(writable);
        }
    }
    encode(&message)
}

/// Completes `call` now with `completion` (a parked call finished before
/// it returns is posted when it parks).
fn answer<H: Host>(kernel: &mut Kernel<H>, call: &CallContext, completion: Completion) -> Reply {
    kernel.finish(call.caller, call.user_data, completion);
    Ok(Served::Pending)
}

/// The right to be handed the connections made to one port.
pub struct Listener {
    net: Rc<Net>,
    port: Rc<RefCell<Port>>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        // Freed at the next settle, which has the kernel at hand.
        let port = self.port.borrow().port;
        self.net.released.borrow_mut().push(port);
    }
}

impl Inspect for Listener {
    fn describe(&self) -> Option<String> {
        Some(format!("port {}", self.port.borrow().port))
    }
}
serve!(Listener, listener, inspect);

impl<H: Host> listener_server::Server<Kernel<H>> for Listener {
    fn accept(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext,
        params: listener::accept_params::Reader<'_>,
        _results: listener::accept_results::Builder<'_>,
    ) -> Reply {
        let port = self.port.borrow().port;
        let queued = !self.port.borrow().queue.is_empty();
        if !queued && !params.get_wait() {
            let mut message = results_builder();
            message
                .init_root::<listener::accept_results::Builder<'_>>()
                .set_would_block(true);
            return answer(kernel, call, encode(&message));
        }
        self.port
            .borrow_mut()
            .accepts
            .push_back((call.caller, call.user_data));
        self.net.serve_accepts(kernel, port);
        Ok(Served::Pending)
    }

    fn poll(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext,
        params: listener::poll_params::Reader<'_>,
        _results: listener::poll_results::Builder<'_>,
    ) -> Reply {
        let list = params.get_interests()?;
        if list.len() > MAX_POLL {
            return Err(Fault::new(
                CapError::TooLarge,
                format!("{} interests in one poll (at most {MAX_POLL})", list.len()),
            ));
        }
        let wanted = Wanted {
            accept: params.get_accept(),
            interests: list
                .iter()
                .map(|i| (i.get_connection(), i.get_read(), i.get_write()))
                .collect(),
        };
        let timeout = params.get_timeout_ns();
        let now = {
            let p = self.port.borrow();
            self.net
                .poll_result(&p, &wanted)
                .map(|()| self.net.readiness(&p, &wanted))
        };
        if let Some((acceptable, list)) = now {
            return answer(kernel, call, poll_completion(acceptable, &list));
        }
        if timeout == 0 {
            return answer(kernel, call, poll_completion(false, &[]));
        }
        let timer = (timeout != u64::MAX).then(|| {
            kernel.set_timer(
                timeout,
                TimerAction::Notify {
                    service: self.net.clone(),
                },
            )
        });
        self.port.borrow_mut().polls.push(Poll {
            pid: call.caller,
            user_data: call.user_data,
            wanted,
            timer,
        });
        Ok(Served::Pending)
    }

    fn port(
        &self,
        _kernel: &mut Kernel<H>,
        _call: &CallContext,
        _params: listener::port_params::Reader<'_>,
        mut results: listener::port_results::Builder<'_>,
    ) -> Reply {
        results.set_port(self.port.borrow().port);
        Ok(Served::Done)
    }
}

/// One accepted connection.
pub struct Stream {
    net: Rc<Net>,
    id: u32,
}

impl Drop for Stream {
    fn drop(&mut self) {
        // Closed at the next settle, which has the kernel at hand.
        self.net.dropped.borrow_mut().push(self.id);
    }
}

impl Stream {
    fn conn(&self) -> Result<Rc<RefCell<Conn>>, Fault> {
        self.net
            .conn(self.id)
            .ok_or_else(|| gone("the connection is closed"))
    }
}

impl Inspect for Stream {
    fn describe(&self) -> Option<String> {
        let conn = self.net.conn(self.id)?;
        let c = conn.borrow();
        Some(format!("port {} from {}", c.port, c.peer))
    }
}
serve!(Stream, stream, inspect);

impl<H: Host> stream_server::Server<Kernel<H>> for Stream {
    fn read(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext,
        params: stream::read_params::Reader<'_>,
        _results: stream::read_results::Builder<'_>,
    ) -> Reply {
        let conn = self.conn()?;
        let max = params.get_max().clamp(1, MAX_READ);
        {
            let mut c = conn.borrow_mut();
            if !params.get_wait() && !c.readable() && c.reads.is_empty() {
                drop(c);
                return answer(kernel, call, read_completion(&[], false, true));
            }
            c.reads
                .push_back((call.caller, call.user_data, max, params.get_peek()));
        }
        self.net.progress(kernel, self.id);
        Ok(Served::Pending)
    }

    fn write(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext,
        params: stream::write_params::Reader<'_>,
        _results: stream::write_results::Builder<'_>,
    ) -> Reply {
        let conn = self.conn()?;
        let data = params.get_data()?;
        let wait = params.get_wait();
        let sent = {
            let mut c = conn.borrow_mut();
            if let Some(fault) = &c.failed {
                return Err(fault.clone());
            }
            if c.write_shut {
                return Err(gone("the stream was shut down for writing"));
            }
            if wait || !c.writes.is_empty() {
                if !wait {
                    drop(c);
                    return answer(kernel, call, write_completion(0, true));
                }
                c.writes
                    .push_back((call.caller, call.user_data, data.to_vec()));
                None
            } else {
                // No waiting: what fits now.
                let n = data.len().min(c.room());
                if n > 0 {
                    c.in_flight += n;
                    c.unacked.push_back(n);
                }
                Some(n)
            }
        };
        match sent {
            None => {
                self.net.progress(kernel, self.id);
                Ok(Served::Pending)
            }
            Some(n) => {
                if n > 0 {
                    kernel.host_continue(self.id, HostRequest::NetSend { data: &data[..n] });
                }
                answer(
                    kernel,
                    call,
                    write_completion(n as u32, n == 0 && !data.is_empty()),
                )
            }
        }
    }

    fn shutdown(
        &self,
        kernel: &mut Kernel<H>,
        _call: &CallContext,
        params: stream::shutdown_params::Reader<'_>,
        _results: stream::shutdown_results::Builder<'_>,
    ) -> Reply {
        let conn = self.conn()?;
        let (read, write) = (params.get_read(), params.get_write());
        if read && write {
            self.net
                .close(kernel, self.id, "the stream was shut down", true);
            return Ok(Served::Done);
        }
        let tell = {
            let mut c = conn.borrow_mut();
            if read {
                c.read_shut = true;
                c.inbound = Vec::new();
                c.pos = 0;
            }
            let tell = write && !c.write_shut;
            if write {
                c.write_shut = true;
            }
            tell
        };
        if tell {
            kernel.host_continue(self.id, HostRequest::NetShutdown);
        }
        self.net.progress(kernel, self.id);
        Ok(Served::Done)
    }

    fn info(
        &self,
        _kernel: &mut Kernel<H>,
        _call: &CallContext,
        _params: stream::info_params::Reader<'_>,
        mut results: stream::info_results::Builder<'_>,
    ) -> Reply {
        let conn = self.conn()?;
        let c = conn.borrow();
        results.set_connection(c.number);
        results.set_peer(c.peer.as_str());
        results.set_port(c.port);
        Ok(Served::Done)
    }
}
