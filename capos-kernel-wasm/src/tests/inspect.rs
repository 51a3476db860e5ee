//! The inspector's view models: who holds what and where it came from, true
//! process states, the call trace -- and nothing at all while it is off.

use super::transfer::{
    Actor, COPY, MOVE, boot_init, call_params, create_endpoint, kill, mint, spawn,
};
use super::{TestHost, write_params};
use crate::kernel::Kernel;
use crate::view::{CapView, InspectedProcess, ProcessView, TraceCall, UiEvent};
use capos_config::ring::{CQ_WAITING, RingMemory};
use capos_schema::interfaces::{console, endpoint};

fn last_snapshot(kernel: &Kernel<TestHost>) -> Vec<InspectedProcess> {
    kernel
        .host()
        .events
        .iter()
        .rev()
        .find_map(|e| match e {
            UiEvent::Inspector { processes, .. } => Some(processes.clone()),
            _ => None,
        })
        .expect("a snapshot was published")
}

fn process(snapshot: &[InspectedProcess], pid: u32) -> &InspectedProcess {
    snapshot.iter().find(|p| p.pid == pid).expect("shown")
}

fn traced(kernel: &Kernel<TestHost>) -> Vec<TraceCall> {
    kernel
        .host()
        .events
        .iter()
        .filter_map(|e| match e {
            UiEvent::Trace { calls, .. } => Some(calls.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

/// The `ipc` demo's start: an endpoint, two badged call-only copies, a
/// server that gets the endpoint (moved) and a client that gets badge 1
/// (moved) and the console (copied).
fn ipc_start() -> (Kernel<TestHost>, Actor, u32) {
    let (mut k, mut init) = boot_init();
    k.set_inspect(true, true);
    let console = init.cap("console");
    let ep = create_endpoint(&mut k, &mut init);
    let client_1 = mint(&mut k, &mut init, ep, 1);
    mint(&mut k, &mut init, ep, 2);
    spawn(&mut k, &mut init, "ipc-server", &[("endpoint", ep, MOVE)]).unwrap();
    spawn(
        &mut k,
        &mut init,
        "ipc-client",
        &[("console", console, COPY), ("server", client_1, MOVE)],
    )
    .unwrap();
    (k, init, ep)
}

fn by_interface<'a>(caps: &'a [CapView], interface: &str) -> Vec<&'a CapView> {
    caps.iter().filter(|c| c.interface == interface).collect()
}

#[test]
fn the_graph_shows_who_holds_what_and_where_it_came_from() {
    let (k, ..) = ipc_start();
    let snap = last_snapshot(&k);
    let init = process(&snap, 1);
    let console = &by_interface(&init.caps, "Console")[0];
    assert_eq!(
        (console.name.as_str(), console.origin, console.from_pid),
        ("console", "granted", 0),
        "init's console came from the kernel at boot"
    );
    // init moved the server side and badge 1 away; badge 2 stays, returned by mint.
    let endpoints = by_interface(&init.caps, "Endpoint");
    assert_eq!(endpoints.len(), 1, "{endpoints:?}");
    assert_eq!(
        (endpoints[0].badge.as_str(), endpoints[0].origin),
        ("2", "returned")
    );
    assert_eq!(endpoints[0].via, "Endpoint.mint");
    let server = &by_interface(&process(&snap, 2).caps, "Endpoint")[0];
    let client = process(&snap, 3);
    let to_server = &by_interface(&client.caps, "Endpoint")[0];
    assert_eq!(
        (
            to_server.name.as_str(),
            to_server.origin,
            to_server.from_pid
        ),
        ("server", "granted", 1)
    );
    assert_eq!(to_server.badge, "1");
    assert_eq!(server.badge, "0");
    // One endpoint: the server and both clients designate the same object.
    assert_eq!(server.object, to_server.object);
    assert_eq!(server.object, endpoints[0].object);
    // The copied console is the same object as init's.
    assert_eq!(
        by_interface(&client.caps, "Console")[0].object,
        console.object
    );
    assert_ne!(console.object, server.object);
}

#[test]
fn a_capability_in_a_message_is_shown_received_from_its_sender() {
    let (mut k, _init, _) = ipc_start();
    let mut client = Actor::attach(&k, 3);
    let mut server = Actor::attach(&k, 2);
    let (to_server, console) = (client.cap("server"), client.cap("console"));
    let recv = server.start_receive(server.cap("endpoint"));
    client.start(
        to_server,
        endpoint::INTERFACE_ID,
        endpoint::method::CALL,
        &call_params(b"hi", &[(console, MOVE)]),
    );
    server.poll(&mut k, recv).expect("delivered");
    let snap = last_snapshot(&k);
    let got = &by_interface(&process(&snap, 2).caps, "Console")[0];
    assert_eq!((got.origin, got.from_pid), ("received", 3));
    assert!(
        by_interface(&process(&snap, 3).caps, "Console").is_empty(),
        "moved: the sender no longer holds it"
    );
}

#[test]
fn a_blocked_receive_shows_as_blocked_on_the_endpoint() {
    let (mut k, _init, _) = ipc_start();
    let mut server = Actor::attach(&k, 2);
    server.start_receive(server.cap("endpoint"));
    while k.poll() {}
    // The process falls asleep in cap_enter.
    server.proc.ring.store(CQ_WAITING, 1);
    k.tick();
    let shown: Vec<ProcessView> = k
        .host()
        .events
        .iter()
        .rev()
        .find_map(|e| match e {
            UiEvent::Processes { processes } => Some(processes.clone()),
            _ => None,
        })
        .unwrap();
    let p2 = shown.iter().find(|p| p.pid == 2).unwrap();
    assert_eq!(p2.state, "blocked");
    assert_eq!(p2.blocked_on, ["Endpoint.receive"]);
    let snap = last_snapshot(&k);
    assert_eq!(process(&snap, 2).state, "blocked");
    assert_eq!(process(&snap, 2).counters.in_flight, 1);
    assert_eq!(process(&snap, 1).state, "running");
}

#[test]
fn the_trace_lists_refused_calls_and_calls_that_waited() {
    let (mut k, mut init, _) = ipc_start();
    let mut server = Actor::attach(&k, 2);
    let mut client = Actor::attach(&k, 3);
    // A forged id.
    let err = init
        .call(
            &mut k,
            0x0bad_0001,
            console::INTERFACE_ID,
            console::method::WRITE,
            &write_params("x"),
        )
        .unwrap_err();
    // The server waits in one round; the client's call comes in a later one.
    let recv = server.start_receive(server.cap("endpoint"));
    assert!(server.poll(&mut k, recv).is_none(), "the receive parks");
    client.start(
        client.cap("server"),
        endpoint::INTERFACE_ID,
        endpoint::method::CALL,
        &call_params(b"hi", &[]),
    );
    server.poll(&mut k, recv).expect("delivered");
    k.tick();
    let calls = traced(&k);
    let refused = calls
        .iter()
        .find(|c| c.outcome == "UnknownCap")
        .expect("the refusal is traced");
    assert_eq!(
        (refused.pid, refused.interface, refused.method),
        (1, "Console", "write")
    );
    assert_eq!(refused.message, err.1);
    let receive = calls
        .iter()
        .find(|c| c.method == "receive")
        .expect("the receive is traced once it finishes");
    assert!(receive.parked && receive.outcome == "ok" && receive.pid == 2);
    assert!(receive.dur_us > 0.0);
    // A call served at once finishes within the round that took it.
    assert!(
        calls
            .iter()
            .any(|c| c.method == "mint" && !c.parked && c.dur_us == 0.0),
        "{calls:?}"
    );
}

#[test]
fn a_killed_process_stays_shown_killed_with_nothing_held() {
    let (mut k, mut init, _) = ipc_start();
    let (_, handle) = spawn(&mut k, &mut init, "victim", &[]).unwrap();
    kill(&mut k, &mut init, handle);
    let snap = last_snapshot(&k);
    let victim = process(&snap, 4);
    assert_eq!(victim.state, "killed");
    assert!(victim.caps.is_empty());
    assert_eq!(victim.reason, "killed by pid 1");
}

#[test]
fn nothing_is_built_while_the_inspector_is_off() {
    let (mut k, mut init) = boot_init();
    let ep = create_endpoint(&mut k, &mut init);
    mint(&mut k, &mut init, ep, 1);
    k.tick();
    assert!(
        !k.host()
            .events
            .iter()
            .any(|e| matches!(e, UiEvent::Inspector { .. } | UiEvent::Trace { .. }))
    );
}

#[test]
fn the_trace_keeps_the_newest_calls_and_counts_the_rest() {
    let mut inspector = crate::inspect::Inspector::new();
    inspector.set(false, true);
    let call = |pid| TraceCall {
        pid,
        interface: "Console",
        method: "write",
        outcome: "ok",
        parked: false,
        start_ms: 0.0,
        dur_us: 1.0,
        message: String::new(),
    };
    for pid in 1..=1200 {
        inspector.record(call(pid));
    }
    let Some(UiEvent::Trace { calls, dropped }) = inspector.flush_trace() else {
        panic!("a trace event");
    };
    assert_eq!(dropped, 1200 - calls.len() as u64);
    assert_eq!(
        calls.first().map(|c| c.pid),
        Some(1200 - calls.len() as u32 + 1)
    );
    assert_eq!(calls.last().map(|c| c.pid), Some(1200));
    assert!(inspector.flush_trace().is_none(), "nothing twice");
}
