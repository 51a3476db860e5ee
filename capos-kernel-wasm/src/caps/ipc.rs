//! Endpoints: synchronous calls between processes, carrying capabilities,
//! with badges so a server can tell its clients apart.
//!
//! An endpoint's state is shared by every capability to it. A capability from
//! `EndpointFactory.create` can receive, reply and mint; `mint(badge)` makes
//! call-only capabilities that carry `badge`. Copies of one capability share
//! one object, so an object's lifetime is that of all its copies: the counts
//! below are of live objects, kept by `new` and `Drop`.
//!
//! Capabilities a call carries are checked when the call is made and move
//! when it is delivered, in one all-or-nothing transfer: a call that fails
//! before it reaches a server (no server left, the server's table full)
//! leaves them with the caller. A reply's move the same way.

use super::{encode, read_transfers, results_builder, serve, set_cap_ref, set_cap_refs};
use crate::host::Host;
use crate::kernel::{CapEntry, GrantedCap, Kernel, Transfer};
use capos_lib::{CallContext, CapError, Completion, Fault, Reply, Served, Service};
use capos_schema::ipc_capnp::{endpoint, endpoint_factory};
use capos_schema::servers::{endpoint as endpoint_server, endpoint_factory as factory_server};
use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::rc::{Rc, Weak};

/// Most bytes of data one message carries (it must fit a ring slot with its
/// capabilities and framing).
pub const MAX_MESSAGE_DATA: usize = 1024;

struct QueuedCall {
    caller: u32,
    user_data: u64,
    badge: u64,
    data: Vec<u8>,
    /// Checked when the call was made; moved at delivery.
    caps: Vec<Transfer>,
}

/// A call a server has received and not yet answered.
struct ReceivedCall {
    caller: u32,
    user_data: u64,
    server: u32,
}

#[derive(Default)]
pub struct EndpointState {
    /// Live objects that can receive.
    receivers: u32,
    /// Live minted (call-only) objects, and whether there ever were any.
    clients: u32,
    had_clients: bool,
    queued: VecDeque<QueuedCall>,
    /// (pid, user_data) of blocked `receive` calls.
    waiting: VecDeque<(u32, u64)>,
    received: BTreeMap<u64, ReceivedCall>,
    next_call_id: u64,
}

fn peer_gone(message: &str) -> Completion {
    Fault::new(CapError::PeerGone, message).into()
}

impl EndpointState {
    /// The completions owed because a party is gone.
    fn settle(&mut self, alive: impl Fn(u32) -> bool) -> Vec<(u32, u64, Completion)> {
        let mut out = Vec::new();
        self.waiting.retain(|(pid, _)| alive(*pid));
        self.queued.retain(|c| alive(c.caller));
        self.received.retain(|_, call| {
            if !alive(call.caller) {
                return false;
            }
            if !alive(call.server) {
                let message = format!("server pid {} ended before replying", call.server);
                out.push((call.caller, call.user_data, peer_gone(&message)));
                return false;
            }
            true
        });
        if self.receivers == 0 {
            for call in self.queued.drain(..) {
                let message = "no process can receive on this endpoint any more";
                out.push((call.caller, call.user_data, peer_gone(message)));
            }
            for (_, call) in std::mem::take(&mut self.received) {
                let message = "the endpoint's server is gone";
                out.push((call.caller, call.user_data, peer_gone(message)));
            }
        }
        if self.had_clients && self.clients == 0 && self.queued.is_empty() {
            for (pid, user_data) in self.waiting.drain(..) {
                let message = "no client capability to this endpoint is left";
                out.push((pid, user_data, peer_gone(message)));
            }
        }
        out
    }
}

/// Every endpoint of one boot, so the kernel can fail calls nobody can
/// answer once processes end or capabilities are dropped.
#[derive(Default)]
pub struct Endpoints {
    all: RefCell<Vec<Weak<RefCell<EndpointState>>>>,
}

impl<H: Host> Service<Kernel<H>> for Endpoints {
    fn settle(&self, kernel: &mut Kernel<H>) {
        let mut failures = Vec::new();
        self.all.borrow_mut().retain(|weak| {
            let Some(endpoint) = weak.upgrade() else {
                return false;
            };
            failures.extend(endpoint.borrow_mut().settle(|pid| kernel.is_alive(pid)));
            true
        });
        for (pid, user_data, completion) in failures {
            kernel.finish(pid, user_data, completion);
        }
    }
}

/// A capability to an endpoint.
pub struct Endpoint {
    state: Rc<RefCell<EndpointState>>,
    /// Receive and reply (the capability `create` returns).
    server: bool,
}

impl Endpoint {
    fn new(state: Rc<RefCell<EndpointState>>, server: bool) -> Self {
        {
            let mut s = state.borrow_mut();
            if server {
                s.receivers += 1;
            } else {
                s.clients += 1;
                s.had_clients = true;
            }
        }
        Self { state, server }
    }

    fn require_server(&self, what: &str) -> Result<(), Fault> {
        if self.server {
            Ok(())
        } else {
            Err(Fault::new(
                CapError::Denied,
                format!("this Endpoint capability can only call; {what} needs the server's"),
            ))
        }
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        let mut s = self.state.borrow_mut();
        if self.server {
            s.receivers -= 1;
        } else {
            s.clients -= 1;
        }
    }
}

fn check_size(data: &[u8]) -> Result<(), Fault> {
    if data.len() > MAX_MESSAGE_DATA {
        return Err(Fault::new(
            CapError::TooLarge,
            format!(
                "message of {} bytes (at most {MAX_MESSAGE_DATA})",
                data.len()
            ),
        ));
    }
    Ok(())
}

fn call_results(data: &[u8], caps: &[GrantedCap]) -> Completion {
    let mut results = results_builder();
    let mut root = results.init_root::<endpoint::call_results::Builder>();
    root.set_data(data);
    set_cap_refs(root.init_caps(caps.len() as u32), caps);
    encode(&results)
}

/// Hands queued calls to blocked receivers, as many as can be matched.
fn pump<H: Host>(kernel: &mut Kernel<H>, state: &Rc<RefCell<EndpointState>>) {
    loop {
        let (call, (server, server_user_data)) = {
            let mut s = state.borrow_mut();
            if s.queued.is_empty() || s.waiting.is_empty() {
                return;
            }
            let call = s.queued.pop_front().expect("non-empty");
            let waiter = s.waiting.pop_front().expect("non-empty");
            (call, waiter)
        };
        if !kernel.is_alive(server) {
            state.borrow_mut().queued.push_front(call);
            continue;
        }
        if !kernel.is_alive(call.caller) {
            let mut s = state.borrow_mut();
            s.waiting.push_front((server, server_user_data));
            continue;
        }
        let granted = match kernel.transfer_caps(call.caller, server, &call.caps) {
            Ok(granted) => granted,
            Err(fault) => {
                // Nothing moved: the caller keeps its capabilities and
                // learns why; the server keeps waiting.
                state
                    .borrow_mut()
                    .waiting
                    .push_front((server, server_user_data));
                kernel.finish(call.caller, call.user_data, fault.into());
                continue;
            }
        };
        let call_id = {
            let mut s = state.borrow_mut();
            s.next_call_id += 1;
            let id = s.next_call_id;
            s.received.insert(
                id,
                ReceivedCall {
                    caller: call.caller,
                    user_data: call.user_data,
                    server,
                },
            );
            id
        };
        let mut results = results_builder();
        let mut root = results.init_root::<endpoint::receive_results::Builder>();
        root.set_call_id(call_id);
        root.set_badge(call.badge);
        root.set_data(&call.data);
        set_cap_refs(root.init_caps(granted.len() as u32), &granted);
        kernel.finish(server, server_user_data, encode(&results));
    }
}

serve!(Endpoint, endpoint, inspect);

impl super::Inspect for Endpoint {
    /// Every capability to one endpoint, the server's and the call-only
    /// copies, designates that endpoint (and badges tell the copies apart).
    fn designates(&self) -> Option<usize> {
        Some(Rc::as_ptr(&self.state) as usize)
    }
}

impl<H: Host> endpoint_server::Server<Kernel<H>> for Endpoint {
    fn call(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext,
        params: endpoint::call_params::Reader<'_>,
        _results: endpoint::call_results::Builder<'_>,
    ) -> Reply {
        let data = params.get_data()?;
        check_size(data)?;
        let caps = read_transfers(params.get_caps()?)?;
        if self.state.borrow().receivers == 0 {
            return Err(Fault::new(
                CapError::PeerGone,
                "no process can receive on this endpoint",
            ));
        }
        // Checked now, so a bad id fails the call at once; moved at delivery.
        kernel.peek_caps(call.caller, &caps)?;
        self.state.borrow_mut().queued.push_back(QueuedCall {
            caller: call.caller,
            user_data: call.user_data,
            badge: call.badge,
            data: data.to_vec(),
            caps,
        });
        pump(kernel, &self.state);
        Ok(Served::Pending)
    }

    fn receive(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext,
        _params: endpoint::receive_params::Reader<'_>,
        _results: endpoint::receive_results::Builder<'_>,
    ) -> Reply {
        self.require_server("receive")?;
        self.state
            .borrow_mut()
            .waiting
            .push_back((call.caller, call.user_data));
        pump(kernel, &self.state);
        kernel.settle();
        Ok(Served::Pending)
    }

    fn reply(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext,
        params: endpoint::reply_params::Reader<'_>,
        _results: endpoint::reply_results::Builder<'_>,
    ) -> Reply {
        self.require_server("reply")?;
        let data = params.get_data()?;
        check_size(data)?;
        let caps = read_transfers(params.get_caps()?)?;
        let call_id = params.get_call_id();
        let pending = {
            let mut state = self.state.borrow_mut();
            match state.received.get(&call_id) {
                None => {
                    return Err(Fault::new(
                        CapError::BadParams,
                        format!(
                            "call {call_id} is not waiting for a reply on this endpoint (answered, or its caller ended)"
                        ),
                    ));
                }
                Some(r) if r.server != call.caller => {
                    return Err(Fault::new(
                        CapError::Denied,
                        format!("call {call_id} was received by pid {}", r.server),
                    ));
                }
                Some(_) => state.received.remove(&call_id).expect("present"),
            }
        };
        if !kernel.is_alive(pending.caller) {
            return Err(Fault::new(
                CapError::PeerGone,
                format!("the caller (pid {}) has ended", pending.caller),
            ));
        }
        match kernel.transfer_caps(call.caller, pending.caller, &caps) {
            Ok(granted) => {
                kernel.finish(
                    pending.caller,
                    pending.user_data,
                    call_results(data, &granted),
                );
                Ok(Served::Done)
            }
            Err(fault) => {
                // Nothing moved; the caller keeps waiting for a reply that
                // can be delivered.
                self.state.borrow_mut().received.insert(call_id, pending);
                Err(Fault::new(
                    fault.error,
                    format!("reply not delivered: {}", fault.message),
                ))
            }
        }
    }

    fn mint(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext,
        params: endpoint::mint_params::Reader<'_>,
        results: endpoint::mint_results::Builder<'_>,
    ) -> Reply {
        self.require_server("mint")?;
        let granted = kernel.insert_cap(
            call.caller,
            CapEntry {
                object: Rc::new(Endpoint::new(self.state.clone(), false)),
                badge: params.get_badge(),
            },
        )?;
        set_cap_ref(results.init_endpoint(), granted);
        Ok(Served::Done)
    }
}

/// Creates endpoints.
pub struct EndpointFactory {
    endpoints: Rc<Endpoints>,
}

impl EndpointFactory {
    pub fn new(endpoints: Rc<Endpoints>) -> Self {
        Self { endpoints }
    }
}

serve!(EndpointFactory, endpoint_factory);

impl<H: Host> factory_server::Server<Kernel<H>> for EndpointFactory {
    fn create(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext,
        _params: endpoint_factory::create_params::Reader<'_>,
        results: endpoint_factory::create_results::Builder<'_>,
    ) -> Reply {
        let state = Rc::new(RefCell::new(EndpointState::default()));
        self.endpoints.all.borrow_mut().push(Rc::downgrade(&state));
        let granted = kernel.insert_cap(
            call.caller,
            CapEntry {
                object: Rc::new(Endpoint::new(state, true)),
                badge: 0,
            },
        )?;
        set_cap_ref(results.init_endpoint(), granted);
        Ok(Served::Done)
    }
}
