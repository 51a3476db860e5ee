//! Endpoints: synchronous calls between processes, carrying capabilities,
//! with badges so a server can tell its clients apart.
//!
//! An endpoint's state is shared by every capability to it. A capability from
//! `EndpointFactory.create` can receive, reply and mint; `mint(badge)` makes
//! call-only capabilities that carry `badge`. Copies of one capability share
//! one object, so an object's lifetime is that of all its copies: the counts
//! below are of live objects, kept by `new` and `Drop`.

use super::{
    bad_params, encode, fail, outcome, read_params, read_transfers, set_cap_ref, unknown_method,
};
use crate::host::Host;
use crate::kernel::{CapEntry, GrantedCap, Kernel};
use capos_lib::{CallContext, CapError, CapObject, Completion};
use capos_schema::interfaces::{endpoint as iface, endpoint_factory as factory_iface};
use capos_schema::ipc_capnp::endpoint;
use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

/// Most bytes of data one message carries (it must fit a ring slot with its
/// capabilities and framing).
pub const MAX_MESSAGE_DATA: usize = 1024;

struct QueuedCall<H: Host> {
    caller: u32,
    user_data: u64,
    badge: u64,
    data: Vec<u8>,
    caps: Vec<CapEntry<H>>,
}

/// A call a server has received and not yet answered.
struct ReceivedCall {
    caller: u32,
    user_data: u64,
    server: u32,
}

pub struct EndpointState<H: Host> {
    /// Live objects that can receive.
    receivers: u32,
    /// Live minted (call-only) objects, and whether there ever were any.
    clients: u32,
    had_clients: bool,
    queued: VecDeque<QueuedCall<H>>,
    /// (pid, user_data) of blocked `receive` calls.
    waiting: VecDeque<(u32, u64)>,
    received: BTreeMap<u64, ReceivedCall>,
    next_call_id: u64,
}

impl<H: Host> EndpointState<H> {
    fn new() -> Self {
        Self {
            receivers: 0,
            clients: 0,
            had_clients: false,
            queued: VecDeque::new(),
            waiting: VecDeque::new(),
            received: BTreeMap::new(),
            next_call_id: 1,
        }
    }

    /// The completions owed because a party is gone (see `Kernel::settle_endpoints`).
    pub fn settle(&mut self, alive: impl Fn(u32) -> bool) -> Vec<(u32, u64, Completion)> {
        let mut out = Vec::new();
        self.waiting.retain(|(pid, _)| alive(*pid));
        self.queued.retain(|c| alive(c.caller));
        self.received.retain(|_, call| {
            if !alive(call.caller) {
                return false;
            }
            if !alive(call.server) {
                let message = format!("server pid {} ended before replying", call.server);
                out.push((
                    call.caller,
                    call.user_data,
                    fail(CapError::PeerGone, message),
                ));
                return false;
            }
            true
        });
        if self.receivers == 0 {
            for call in self.queued.drain(..) {
                let message = "no process can receive on this endpoint any more";
                out.push((
                    call.caller,
                    call.user_data,
                    fail(CapError::PeerGone, message),
                ));
            }
            for (_, call) in std::mem::take(&mut self.received) {
                let message = "the endpoint's server is gone";
                out.push((
                    call.caller,
                    call.user_data,
                    fail(CapError::PeerGone, message),
                ));
            }
        }
        if self.had_clients && self.clients == 0 && self.queued.is_empty() {
            for (pid, user_data) in self.waiting.drain(..) {
                let message = "no client capability to this endpoint is left";
                out.push((pid, user_data, fail(CapError::PeerGone, message)));
            }
        }
        out
    }
}

/// A capability to an endpoint.
pub struct Endpoint<H: Host> {
    state: Rc<RefCell<EndpointState<H>>>,
    /// Receive and reply (the capability `create` returns).
    server: bool,
}

impl<H: Host> Endpoint<H> {
    fn new(state: Rc<RefCell<EndpointState<H>>>, server: bool) -> Self {
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

    fn require_server(&self, what: &str) -> Result<(), Completion> {
        if self.server {
            Ok(())
        } else {
            Err(fail(
                CapError::Denied,
                format!("this Endpoint capability can only call; {what} needs the server's"),
            ))
        }
    }

    fn call_endpoint(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext<'_>,
    ) -> Result<Completion, Completion> {
        let message = read_params(call.params)?;
        let params = message
            .get_root::<endpoint::call_params::Reader>()
            .map_err(bad_params)?;
        let data = params.get_data().map_err(bad_params)?;
        check_size(data)?;
        let transfers = read_transfers(params.get_caps().map_err(bad_params)?)?;
        if self.state.borrow().receivers == 0 {
            return Err(fail(
                CapError::PeerGone,
                "no process can receive on this endpoint",
            ));
        }
        let caps = kernel.take_caps(call.caller, &transfers)?;
        self.state.borrow_mut().queued.push_back(QueuedCall {
            caller: call.caller,
            user_data: call.user_data,
            badge: call.badge,
            data: data.to_vec(),
            caps,
        });
        pump(kernel, &self.state);
        Ok(Completion::Pending)
    }

    fn receive(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext<'_>,
    ) -> Result<Completion, Completion> {
        self.require_server("receive")?;
        self.state
            .borrow_mut()
            .waiting
            .push_back((call.caller, call.user_data));
        pump(kernel, &self.state);
        kernel.settle_endpoints();
        Ok(Completion::Pending)
    }

    fn reply(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext<'_>,
    ) -> Result<Completion, Completion> {
        self.require_server("reply")?;
        let message = read_params(call.params)?;
        let params = message
            .get_root::<endpoint::reply_params::Reader>()
            .map_err(bad_params)?;
        let data = params.get_data().map_err(bad_params)?;
        check_size(data)?;
        let transfers = read_transfers(params.get_caps().map_err(bad_params)?)?;
        let call_id = params.get_call_id();
        let pending = {
            let mut state = self.state.borrow_mut();
            match state.received.get(&call_id) {
                None => {
                    return Err(fail(
                        CapError::BadParams,
                        format!(
                            "call {call_id} is not waiting for a reply on this endpoint (answered, or its caller ended)"
                        ),
                    ));
                }
                Some(r) if r.server != call.caller => {
                    return Err(fail(
                        CapError::Denied,
                        format!("call {call_id} was received by pid {}", r.server),
                    ));
                }
                Some(_) => state.received.remove(&call_id).expect("present"),
            }
        };
        if !kernel.is_alive(pending.caller) {
            return Err(fail(
                CapError::PeerGone,
                format!("the caller (pid {}) has ended", pending.caller),
            ));
        }
        let caps = match kernel.take_caps(call.caller, &transfers) {
            Ok(caps) => caps,
            Err(e) => {
                // The caller keeps waiting for a correct reply.
                self.state.borrow_mut().received.insert(call_id, pending);
                return Err(e);
            }
        };
        let reply = kernel
            .deliver_caps(pending.caller, caps)
            .map(|granted| call_results(data, &granted));
        let (to_caller, to_server) = match reply {
            Ok(results) => (results, super::done()),
            Err(Completion::Failed(e, m)) => (
                fail(e, m.clone()),
                fail(e, format!("reply not delivered: {m}")),
            ),
            Err(other) => (other, fail(CapError::Internal, "reply not delivered")),
        };
        kernel.complete_pending(pending.caller, pending.user_data, to_caller);
        Ok(to_server)
    }

    fn mint(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext<'_>,
    ) -> Result<Completion, Completion> {
        self.require_server("mint")?;
        let message = read_params(call.params)?;
        let badge = message
            .get_root::<endpoint::mint_params::Reader>()
            .map_err(bad_params)?
            .get_badge();
        let granted = kernel.insert_cap(
            call.caller,
            CapEntry {
                object: Rc::new(Endpoint::new(self.state.clone(), false)),
                badge,
            },
        )?;
        let mut results = super::results_builder();
        let root = results.init_root::<endpoint::mint_results::Builder>();
        set_cap_ref(root.init_endpoint(), granted);
        Ok(encode(&results))
    }
}

impl<H: Host> Drop for Endpoint<H> {
    fn drop(&mut self) {
        let mut s = self.state.borrow_mut();
        if self.server {
            s.receivers -= 1;
        } else {
            s.clients -= 1;
        }
    }
}

fn check_size(data: &[u8]) -> Result<(), Completion> {
    if data.len() > MAX_MESSAGE_DATA {
        return Err(fail(
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
    let mut results = super::results_builder();
    let mut root = results.init_root::<endpoint::call_results::Builder>();
    root.set_data(data);
    let mut list = root.init_caps(caps.len() as u32);
    for (i, cap) in caps.iter().enumerate() {
        set_cap_ref(list.reborrow().get(i as u32), *cap);
    }
    encode(&results)
}

/// Hands queued calls to blocked receivers, as many as can be matched.
fn pump<H: Host>(kernel: &mut Kernel<H>, state: &Rc<RefCell<EndpointState<H>>>) {
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
            state
                .borrow_mut()
                .waiting
                .push_front((server, server_user_data));
            continue; // The call's capabilities drop with it.
        }
        let granted = match kernel.deliver_caps(server, call.caps) {
            Ok(granted) => granted,
            Err(e) => {
                state
                    .borrow_mut()
                    .waiting
                    .push_front((server, server_user_data));
                kernel.complete_pending(call.caller, call.user_data, e);
                continue;
            }
        };
        let call_id = {
            let mut s = state.borrow_mut();
            let id = s.next_call_id;
            s.next_call_id += 1;
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
        let mut results = super::results_builder();
        let mut root = results.init_root::<endpoint::receive_results::Builder>();
        root.set_call_id(call_id);
        root.set_badge(call.badge);
        root.set_data(&call.data);
        let mut list = root.init_caps(granted.len() as u32);
        for (i, cap) in granted.iter().enumerate() {
            set_cap_ref(list.reborrow().get(i as u32), *cap);
        }
        kernel.complete_pending(server, server_user_data, encode(&results));
    }
}

impl<H: Host> CapObject<Kernel<H>> for Endpoint<H> {
    fn interface_id(&self) -> u64 {
        iface::INTERFACE_ID
    }

    fn interface_name(&self) -> &'static str {
        iface::NAME
    }

    fn call(&self, kernel: &mut Kernel<H>, call: &CallContext<'_>) -> Completion {
        outcome(match call.method {
            iface::method::CALL => self.call_endpoint(kernel, call),
            iface::method::RECEIVE => self.receive(kernel, call),
            iface::method::REPLY => self.reply(kernel, call),
            iface::method::MINT => self.mint(kernel, call),
            m => Err(unknown_method(iface::NAME, m)),
        })
    }
}

/// Creates endpoints.
#[derive(Debug, Default)]
pub struct EndpointFactory;

impl<H: Host> CapObject<Kernel<H>> for EndpointFactory {
    fn interface_id(&self) -> u64 {
        factory_iface::INTERFACE_ID
    }

    fn interface_name(&self) -> &'static str {
        factory_iface::NAME
    }

    fn call(&self, kernel: &mut Kernel<H>, call: &CallContext<'_>) -> Completion {
        if call.method != factory_iface::method::CREATE {
            return unknown_method(factory_iface::NAME, call.method);
        }
        let state = Rc::new(RefCell::new(EndpointState::new()));
        kernel.register_endpoint(&state);
        let granted = kernel.insert_cap(
            call.caller,
            CapEntry {
                object: Rc::new(Endpoint::new(state, true)),
                badge: 0,
            },
        );
        outcome(granted.map(|granted| {
            let mut results = super::results_builder();
            let root = results
                .init_root::<capos_schema::ipc_capnp::endpoint_factory::create_results::Builder>();
            set_cap_ref(root.init_endpoint(), granted);
            encode(&results)
        }))
    }
}
