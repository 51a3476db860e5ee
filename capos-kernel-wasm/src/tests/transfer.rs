//! Capability transfer across processes: spawn grants, endpoint messages,
//! badges, and what happens when a party ends.

use super::{Proc, TestHost, console_text, write_params};
use crate::exit_code;
use crate::kernel::Kernel;
use capos_config::ring::{CapError, Cqe};
use capos_schema::interfaces::{
    console, endpoint, endpoint_factory, process_handle, process_spawner,
};
use capos_schema::{cap_capnp, ipc_capnp, manifest_capnp, process_capnp};
use std::collections::HashMap;

type Message = capnp::message::Builder<capnp::message::HeapAllocator>;

fn bytes(m: &Message) -> Vec<u8> {
    capnp::serialize::write_message_to_words(m)
}

fn reader(data: &[u8]) -> capnp::message::Reader<capnp::serialize::OwnedSegments> {
    capnp::serialize::read_message(&mut &data[..], capnp::message::ReaderOptions::new()).unwrap()
}

/// A process plus the completions it has seen but not yet claimed.
pub(super) struct Actor {
    pub(super) proc: Proc,
    done: HashMap<u64, (Cqe, Vec<u8>)>,
}

impl Actor {
    pub(super) fn attach(kernel: &Kernel<TestHost>, pid: u32) -> Self {
        Self {
            proc: Proc::attach(kernel, pid),
            done: HashMap::new(),
        }
    }

    pub(super) fn cap(&self, name: &str) -> u32 {
        self.proc.cap(name).0
    }

    /// Submits an OP_RELEASE of `cap` without waiting.
    pub(super) fn release(&mut self, cap: u32) {
        let sqe = capos_config::ring::Sqe {
            cap_id: cap,
            opcode: capos_config::ring::OP_RELEASE,
            ..Default::default()
        };
        self.proc.submit(sqe, &[]);
    }

    /// Submits an `Endpoint.receive` on `endpoint` without waiting.
    pub(super) fn start_receive(&mut self, endpoint: u32) -> u64 {
        self.start(
            endpoint,
            endpoint::INTERFACE_ID,
            endpoint::method::RECEIVE,
            &empty(),
        )
    }

    /// Submits a call without waiting.
    pub(super) fn start(&mut self, cap: u32, interface: u64, method: u16, params: &[u8]) -> u64 {
        self.proc.call(cap, interface, method, params)
    }

    /// Lets the kernel run, then returns the completion of `ud` if it came.
    pub(super) fn poll(
        &mut self,
        kernel: &mut Kernel<TestHost>,
        ud: u64,
    ) -> Option<(Cqe, Vec<u8>)> {
        while kernel.poll() {}
        for (c, data) in self.proc.raw_completions() {
            self.done.insert(c.user_data, (c, data));
        }
        self.done.remove(&ud)
    }

    pub(super) fn call(
        &mut self,
        kernel: &mut Kernel<TestHost>,
        cap: u32,
        interface: u64,
        method: u16,
        params: &[u8],
    ) -> Result<Vec<u8>, (CapError, String)> {
        let ud = self.start(cap, interface, method, params);
        let (cqe, data) = self
            .poll(kernel, ud)
            .expect("the call completes without blocking");
        match cqe.error() {
            None => Ok(data),
            Some(e) => Err((e, String::from_utf8_lossy(&data).into_owned())),
        }
    }
}

/// Params of a method whose params struct is empty: the kernel does not
/// read them, so none are sent.
pub(super) fn empty() -> Vec<u8> {
    Vec::new()
}

pub(super) fn create_endpoint(kernel: &mut Kernel<TestHost>, a: &mut Actor) -> u32 {
    let factory = a.cap("endpoints");
    let out = a
        .call(
            kernel,
            factory,
            endpoint_factory::INTERFACE_ID,
            endpoint_factory::method::CREATE,
            &empty(),
        )
        .unwrap();
    let r = reader(&out);
    r.get_root::<ipc_capnp::endpoint_factory::create_results::Reader>()
        .unwrap()
        .get_endpoint()
        .unwrap()
        .get_cap_id()
}

pub(super) fn mint(kernel: &mut Kernel<TestHost>, a: &mut Actor, ep: u32, badge: u64) -> u32 {
    let mut m = Message::new_default();
    m.init_root::<ipc_capnp::endpoint::mint_params::Builder>()
        .set_badge(badge);
    let out = a
        .call(
            kernel,
            ep,
            endpoint::INTERFACE_ID,
            endpoint::method::MINT,
            &bytes(&m),
        )
        .unwrap();
    let r = reader(&out);
    r.get_root::<ipc_capnp::endpoint::mint_results::Reader>()
        .unwrap()
        .get_endpoint()
        .unwrap()
        .get_cap_id()
}

pub(super) fn spawn(
    kernel: &mut Kernel<TestHost>,
    a: &mut Actor,
    name: &str,
    grants: &[(&str, u32, cap_capnp::TransferMode)],
) -> Result<(u32, u32), (CapError, String)> {
    let mut m = Message::new_default();
    let mut p = m.init_root::<process_capnp::process_spawner::spawn_params::Builder>();
    p.set_binary("init");
    p.reborrow().init_argv(1).set(0, name);
    let mut list = p.init_grants(grants.len() as u32);
    for (i, (gname, id, mode)) in grants.iter().enumerate() {
        let mut g = list.reborrow().get(i as u32);
        g.set_name(gname);
        let mut cap = g.init_cap();
        cap.set_cap_id(*id);
        cap.set_mode(*mode);
    }
    let spawner = a.cap("spawner");
    let out = a.call(
        kernel,
        spawner,
        process_spawner::INTERFACE_ID,
        process_spawner::method::SPAWN,
        &bytes(&m),
    )?;
    let r = reader(&out);
    let res = r
        .get_root::<process_capnp::process_spawner::spawn_results::Reader>()
        .unwrap();
    Ok((res.get_pid(), res.get_handle().unwrap().get_cap_id()))
}

/// `ProcessHandle.kill` through `handle`, which must succeed.
pub(super) fn kill(kernel: &mut Kernel<TestHost>, a: &mut Actor, handle: u32) {
    a.call(
        kernel,
        handle,
        process_handle::INTERFACE_ID,
        process_handle::method::KILL,
        &empty(),
    )
    .unwrap();
}

pub(super) fn call_params(data: &[u8], caps: &[(u32, cap_capnp::TransferMode)]) -> Vec<u8> {
    let mut m = Message::new_default();
    let mut p = m.init_root::<ipc_capnp::endpoint::call_params::Builder>();
    p.set_data(data);
    let mut list = p.init_caps(caps.len() as u32);
    for (i, (id, mode)) in caps.iter().enumerate() {
        let mut t = list.reborrow().get(i as u32);
        t.set_cap_id(*id);
        t.set_mode(*mode);
    }
    bytes(&m)
}

/// (callId, badge, data, caps) of a completed receive.
fn received(data: &[u8]) -> (u64, u64, Vec<u8>, Vec<u32>) {
    let r = reader(data);
    let res = r
        .get_root::<ipc_capnp::endpoint::receive_results::Reader>()
        .unwrap();
    (
        res.get_call_id(),
        res.get_badge(),
        res.get_data().unwrap().to_vec(),
        res.get_caps()
            .unwrap()
            .iter()
            .map(|c| c.get_cap_id())
            .collect(),
    )
}

fn reply_params(call_id: u64, data: &[u8], caps: &[(u32, cap_capnp::TransferMode)]) -> Vec<u8> {
    let mut m = Message::new_default();
    let mut p = m.init_root::<ipc_capnp::endpoint::reply_params::Builder>();
    p.set_call_id(call_id);
    p.set_data(data);
    let mut list = p.init_caps(caps.len() as u32);
    for (i, (id, mode)) in caps.iter().enumerate() {
        let mut t = list.reborrow().get(i as u32);
        t.set_cap_id(*id);
        t.set_mode(*mode);
    }
    bytes(&m)
}

pub(super) fn boot_init() -> (Kernel<TestHost>, Actor) {
    use manifest_capnp::KernelService as S;
    let mut kernel = Kernel::new(TestHost::default(), crate::caps::init_grants);
    kernel
        .boot(&super::manifest(&[
            ("console", S::Console),
            ("spawner", S::ProcessSpawner),
            ("endpoints", S::EndpointFactory),
            ("boot", S::BootPackage),
        ]))
        .unwrap();
    let init = Actor::attach(&kernel, 1);
    (kernel, init)
}

pub(super) const COPY: cap_capnp::TransferMode = cap_capnp::TransferMode::Copy;
pub(super) const MOVE: cap_capnp::TransferMode = cap_capnp::TransferMode::Move;

#[test]
fn spawn_grants_move_and_copy() {
    let (mut k, mut init) = boot_init();
    let console = init.cap("console");
    let ep = create_endpoint(&mut k, &mut init);
    let client = mint(&mut k, &mut init, ep, 7);
    let (pid, _handle) = spawn(
        &mut k,
        &mut init,
        "child",
        &[("out", console, COPY), ("server", client, MOVE)],
    )
    .unwrap();
    assert_eq!(pid, 2);
    let child = Actor::attach(&k, pid);
    let names: Vec<&str> = child
        .proc
        .capset
        .entries()
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(
        names,
        ["out", "server"],
        "exactly the grants, under their new names"
    );
    // Copied: init's console still works. Moved: init's id is stale.
    assert!(
        init.call(
            &mut k,
            console,
            console::INTERFACE_ID,
            0,
            &write_params("still mine\n")
        )
        .is_ok()
    );
    let err = init
        .call(
            &mut k,
            client,
            endpoint::INTERFACE_ID,
            endpoint::method::CALL,
            &call_params(b"x", &[]),
        )
        .unwrap_err();
    assert_eq!(err.0, CapError::StaleCap, "{}", err.1);
}

#[test]
fn badges_survive_transfer_and_reach_the_server() {
    let (mut k, mut init) = boot_init();
    let ep = create_endpoint(&mut k, &mut init);
    let client = mint(&mut k, &mut init, ep, 42);
    let (pid, _) = spawn(&mut k, &mut init, "client", &[("server", client, COPY)]).unwrap();
    let mut child = Actor::attach(&k, pid);
    let server_cap = child.cap("server");
    // init serves; the child calls through its copy of the badged capability.
    let recv = init.start(
        ep,
        endpoint::INTERFACE_ID,
        endpoint::method::RECEIVE,
        &empty(),
    );
    let call = child.start(
        server_cap,
        endpoint::INTERFACE_ID,
        endpoint::method::CALL,
        &call_params(b"ping", &[]),
    );
    let (cqe, data) = init.poll(&mut k, recv).expect("receive completes");
    assert_eq!(cqe.result, 0);
    let (call_id, badge, payload, _) = received(&data);
    assert_eq!((badge, payload.as_slice()), (42, &b"ping"[..]));
    assert!(
        child.poll(&mut k, call).is_none(),
        "the caller blocks until the reply"
    );
    init.call(
        &mut k,
        ep,
        endpoint::INTERFACE_ID,
        endpoint::method::REPLY,
        &reply_params(call_id, b"pong", &[]),
    )
    .unwrap();
    let (cqe, data) = child.poll(&mut k, call).expect("reply arrives");
    assert_eq!(cqe.result, 0);
    let r = reader(&data);
    let res = r
        .get_root::<ipc_capnp::endpoint::call_results::Reader>()
        .unwrap();
    assert_eq!(res.get_data().unwrap(), b"pong");
}

#[test]
fn capabilities_travel_in_messages_under_fresh_ids() {
    let (mut k, mut init) = boot_init();
    let ep = create_endpoint(&mut k, &mut init);
    let client = mint(&mut k, &mut init, ep, 1);
    let console = init.cap("console");
    let (pid, _) = spawn(
        &mut k,
        &mut init,
        "client",
        &[("server", client, MOVE), ("out", console, COPY)],
    )
    .unwrap();
    let mut child = Actor::attach(&k, pid);
    let (server_cap, out) = (child.cap("server"), child.cap("out"));
    let recv = init.start(
        ep,
        endpoint::INTERFACE_ID,
        endpoint::method::RECEIVE,
        &empty(),
    );
    // The child sends its console to init, moving it.
    child.start(
        server_cap,
        endpoint::INTERFACE_ID,
        endpoint::method::CALL,
        &call_params(b"take this", &[(out, MOVE)]),
    );
    let (_, data) = init.poll(&mut k, recv).unwrap();
    let (_, _, _, caps) = received(&data);
    assert_eq!(caps.len(), 1);
    let given = caps[0];
    assert!(
        init.call(
            &mut k,
            given,
            console::INTERFACE_ID,
            0,
            &write_params("via the child's console\n")
        )
        .is_ok()
    );
    assert!(console_text(&k).contains("via the child's console"));
    let err = child
        .call(&mut k, out, console::INTERFACE_ID, 0, &write_params("gone"))
        .unwrap_err();
    assert_eq!(err.0, CapError::StaleCap, "moved away from the child");
}

#[test]
fn forged_stale_and_foreign_ids_are_refused_and_nothing_moves() {
    let (mut k, mut init) = boot_init();
    let console = init.cap("console");
    // Forged.
    let err = spawn(&mut k, &mut init, "x", &[("a", 0x1234_5678, COPY)]).unwrap_err();
    assert_eq!(err.0, CapError::UnknownCap);
    // Valid first grant, bad second: the first must not have moved.
    let err = spawn(
        &mut k,
        &mut init,
        "x",
        &[("a", console, MOVE), ("b", 0xdead_0001, COPY)],
    )
    .unwrap_err();
    assert_eq!(err.0, CapError::UnknownCap);
    assert!(
        init.call(
            &mut k,
            console,
            console::INTERFACE_ID,
            0,
            &write_params("ok\n")
        )
        .is_ok()
    );
    assert_eq!(k.live_pids(), [1], "nothing was spawned");
    // Foreign: the child's console id means nothing in init's table.
    let (pid, _) = spawn(&mut k, &mut init, "child", &[("out", console, COPY)]).unwrap();
    let child = Actor::attach(&k, pid);
    let foreign = child.cap("out");
    assert_ne!(foreign, console, "tables are salted per process");
    let err = init
        .call(
            &mut k,
            foreign,
            console::INTERFACE_ID,
            0,
            &write_params("x"),
        )
        .unwrap_err();
    assert_eq!(err.0, CapError::UnknownCap);
}

#[test]
fn exit_releases_caps_and_a_dead_server_fails_its_callers() {
    let (mut k, mut init) = boot_init();
    let ep = create_endpoint(&mut k, &mut init);
    let client = mint(&mut k, &mut init, ep, 3);
    // The server gets the receive-capable endpoint (moved); init keeps a client.
    let (server_pid, handle) = spawn(&mut k, &mut init, "server", &[("ep", ep, MOVE)]).unwrap();
    let mut server = Actor::attach(&k, server_pid);
    let server_ep = server.cap("ep");
    let recv = server.start(
        server_ep,
        endpoint::INTERFACE_ID,
        endpoint::method::RECEIVE,
        &empty(),
    );
    let call = init.start(
        client,
        endpoint::INTERFACE_ID,
        endpoint::method::CALL,
        &call_params(b"hi", &[]),
    );
    assert!(
        server.poll(&mut k, recv).is_some(),
        "the server received the call"
    );
    assert!(
        init.poll(&mut k, call).is_none(),
        "init is blocked in the call"
    );
    let wait = init.start(
        handle,
        process_handle::INTERFACE_ID,
        process_handle::method::WAIT,
        &empty(),
    );
    // The server exits without replying, holding the endpoint.
    k.process_exited(server_pid, 9);
    let (cqe, msg) = init
        .poll(&mut k, call)
        .expect("the blocked caller is released");
    assert_eq!(cqe.error(), Some(CapError::PeerGone));
    assert!(String::from_utf8_lossy(&msg).contains("ended before replying"));
    let (cqe, data) = init.poll(&mut k, wait).expect("wait completes");
    assert_eq!(cqe.result, 0);
    let r = reader(&data);
    let w = r
        .get_root::<process_capnp::process_handle::wait_results::Reader>()
        .unwrap();
    assert_eq!(w.get_code(), 9);
    // No receiver is left: a new call fails at once instead of hanging.
    let err = init
        .call(
            &mut k,
            client,
            endpoint::INTERFACE_ID,
            endpoint::method::CALL,
            &call_params(b"again", &[]),
        )
        .unwrap_err();
    assert_eq!(err.0, CapError::PeerGone);
    // And the kernel keeps serving everyone else.
    let console_cap = init.cap("console");
    assert!(
        init.call(
            &mut k,
            console_cap,
            console::INTERFACE_ID,
            0,
            &write_params("alive\n")
        )
        .is_ok()
    );
}

#[test]
fn a_server_blocked_in_receive_is_released_when_its_last_client_ends() {
    let (mut k, mut init) = boot_init();
    let ep = create_endpoint(&mut k, &mut init);
    let client = mint(&mut k, &mut init, ep, 1);
    let (client_pid, _) = spawn(&mut k, &mut init, "client", &[("server", client, MOVE)]).unwrap();
    let recv = init.start(
        ep,
        endpoint::INTERFACE_ID,
        endpoint::method::RECEIVE,
        &empty(),
    );
    assert!(init.poll(&mut k, recv).is_none());
    k.process_exited(client_pid, 0);
    let (cqe, _) = init
        .poll(&mut k, recv)
        .expect("receive fails instead of hanging");
    assert_eq!(cqe.error(), Some(CapError::PeerGone));
}

#[test]
fn call_only_capabilities_cannot_receive_or_mint() {
    let (mut k, mut init) = boot_init();
    let ep = create_endpoint(&mut k, &mut init);
    let client = mint(&mut k, &mut init, ep, 5);
    let err = init
        .call(
            &mut k,
            client,
            endpoint::INTERFACE_ID,
            endpoint::method::RECEIVE,
            &empty(),
        )
        .unwrap_err();
    assert_eq!(err.0, CapError::Denied);
    let mut m = Message::new_default();
    m.init_root::<ipc_capnp::endpoint::mint_params::Builder>()
        .set_badge(6);
    let err = init
        .call(
            &mut k,
            client,
            endpoint::INTERFACE_ID,
            endpoint::method::MINT,
            &bytes(&m),
        )
        .unwrap_err();
    assert_eq!(err.0, CapError::Denied);
}

#[test]
fn kill_ends_a_process_with_137_and_wait_reports_it() {
    let (mut k, mut init) = boot_init();
    let (pid, handle) = spawn(&mut k, &mut init, "victim", &[]).unwrap();
    kill(&mut k, &mut init, handle);
    assert!(!k.is_alive(pid));
    assert!(k.host().stopped.contains(&pid));
    let out = init
        .call(
            &mut k,
            handle,
            process_handle::INTERFACE_ID,
            process_handle::method::WAIT,
            &empty(),
        )
        .unwrap();
    let r = reader(&out);
    let w = r
        .get_root::<process_capnp::process_handle::wait_results::Reader>()
        .unwrap();
    assert_eq!(w.get_code(), exit_code::KILLED);
    assert!(
        w.get_reason()
            .unwrap()
            .to_str()
            .unwrap()
            .contains("killed by pid 1")
    );
}

#[test]
fn spawning_an_unknown_binary_names_the_ones_there_are() {
    let (mut k, mut init) = boot_init();
    let mut m = Message::new_default();
    m.init_root::<process_capnp::process_spawner::spawn_params::Builder>()
        .set_binary("ghost");
    let spawner = init.cap("spawner");
    let err = init
        .call(
            &mut k,
            spawner,
            process_spawner::INTERFACE_ID,
            process_spawner::method::SPAWN,
            &bytes(&m),
        )
        .unwrap_err();
    assert_eq!(err.0, CapError::BadParams);
    assert!(
        err.1.contains("\"ghost\"") && err.1.contains("init"),
        "{}",
        err.1
    );
}

#[test]
fn attenuated_console_prefixes_every_line() {
    let (mut k, mut init) = boot_init();
    let mut m = Message::new_default();
    m.init_root::<capos_schema::console_capnp::console::with_prefix_params::Builder>()
        .set_prefix("[c1] ");
    let console_cap = init.cap("console");
    let out = init
        .call(
            &mut k,
            console_cap,
            console::INTERFACE_ID,
            console::method::WITH_PREFIX,
            &bytes(&m),
        )
        .unwrap();
    let r = reader(&out);
    let prefixed = r
        .get_root::<capos_schema::console_capnp::console::with_prefix_results::Reader>()
        .unwrap()
        .get_console()
        .unwrap()
        .get_cap_id();
    init.call(
        &mut k,
        prefixed,
        console::INTERFACE_ID,
        0,
        &write_params("a\nb"),
    )
    .unwrap();
    init.call(
        &mut k,
        prefixed,
        console::INTERFACE_ID,
        0,
        &write_params("c\n"),
    )
    .unwrap();
    assert_eq!(console_text(&k), "[c1] a\n[c1] bc\n");
}

fn spawn_with_env(
    kernel: &mut Kernel<TestHost>,
    a: &mut Actor,
    grants: &[(&str, u32, cap_capnp::TransferMode)],
    env: &[&str],
) -> Result<Vec<u8>, (CapError, String)> {
    let mut m = Message::new_default();
    let mut p = m.init_root::<process_capnp::process_spawner::spawn_params::Builder>();
    p.set_binary("init");
    let mut list = p.reborrow().init_grants(grants.len() as u32);
    for (i, (gname, id, mode)) in grants.iter().enumerate() {
        let mut g = list.reborrow().get(i as u32);
        g.set_name(gname);
        let mut cap = g.init_cap();
        cap.set_cap_id(*id);
        cap.set_mode(*mode);
    }
    let mut vars = p.init_env(env.len() as u32);
    for (i, var) in env.iter().enumerate() {
        vars.set(i as u32, var);
    }
    let spawner = a.cap("spawner");
    a.call(
        kernel,
        spawner,
        process_spawner::INTERFACE_ID,
        process_spawner::method::SPAWN,
        &bytes(&m),
    )
}

#[test]
fn a_spawn_refused_for_its_environment_moves_nothing() {
    // The environment used to be checked after the grants had moved out of
    // the caller's table, so a refused spawn lost them.
    let (mut k, mut init) = boot_init();
    let console = init.cap("console");
    let held = k.cap_count(1).unwrap();
    let err =
        spawn_with_env(&mut k, &mut init, &[("out", console, MOVE)], &["NO_EQUALS"]).unwrap_err();
    assert_eq!(err.0, CapError::BadParams, "{}", err.1);
    assert_eq!(
        k.cap_count(1),
        Some(held),
        "the moved grant is still init's"
    );
    init.call(
        &mut k,
        console,
        console::INTERFACE_ID,
        0,
        &write_params("kept\n"),
    )
    .expect("the console id still works");
    assert_eq!(k.live_pids(), [1], "nothing was spawned");
    // The same spawn with a good environment moves it.
    spawn_with_env(&mut k, &mut init, &[("out", console, MOVE)], &["A=1"]).unwrap();
    assert_eq!(k.cap_count(1), Some(held), "-1 moved, +1 ProcessHandle");
    let err = init
        .call(
            &mut k,
            console,
            console::INTERFACE_ID,
            0,
            &write_params("x"),
        )
        .unwrap_err();
    assert_eq!(err.0, CapError::StaleCap);
}

#[test]
fn a_call_no_server_ever_receives_leaves_its_moved_caps_with_the_caller() {
    let (mut k, mut init) = boot_init();
    let console = init.cap("console");
    let ep = create_endpoint(&mut k, &mut init);
    let client = mint(&mut k, &mut init, ep, 1);
    let (pid, _) = spawn(
        &mut k,
        &mut init,
        "child",
        &[("out", console, COPY), ("server", client, COPY)],
    )
    .unwrap();
    let mut child = Actor::attach(&k, pid);
    let (out, server) = (child.cap("out"), child.cap("server"));
    // The child's call carries its console, moved; nobody receives it.
    let ud = child.start(
        server,
        endpoint::INTERFACE_ID,
        endpoint::method::CALL,
        &call_params(b"take this", &[(out, MOVE)]),
    );
    assert!(
        child.poll(&mut k, ud).is_none(),
        "the call waits for a server"
    );
    // init drops the only receive-capable capability: the call fails...
    init.release(ep);
    let (cqe, _) = child.poll(&mut k, ud).expect("the call fails");
    assert_eq!(cqe.error(), Some(CapError::PeerGone));
    // ...and the console never left the child.
    child
        .call(
            &mut k,
            out,
            console::INTERFACE_ID,
            0,
            &write_params("still here\n"),
        )
        .expect("the moved capability is the caller's again");
    assert!(console_text(&k).contains("still here"));
}

#[test]
fn a_reply_that_cannot_be_delivered_leaves_its_caps_with_the_server() {
    let (mut k, mut init) = boot_init();
    let console = init.cap("console");
    let ep = create_endpoint(&mut k, &mut init);
    let client = mint(&mut k, &mut init, ep, 1);
    let (pid, _) = spawn(
        &mut k,
        &mut init,
        "child",
        &[("out", console, COPY), ("server", client, COPY)],
    )
    .unwrap();
    let mut child = Actor::attach(&k, pid);
    let (out, server) = (child.cap("out"), child.cap("server"));
    // Fill the child's table: every attenuated console takes a slot.
    let mut prefix = capnp::message::Builder::new_default();
    prefix
        .init_root::<capos_schema::console_capnp::console::with_prefix_params::Builder>()
        .set_prefix("> ");
    let prefix = bytes(&prefix);
    let mut extra = Vec::new();
    loop {
        match child.call(&mut k, out, console::INTERFACE_ID, 1, &prefix) {
            Ok(data) => extra.push(
                reader(&data)
                    .get_root::<capos_schema::console_capnp::console::with_prefix_results::Reader>()
                    .unwrap()
                    .get_console()
                    .unwrap()
                    .get_cap_id(),
            ),
            Err((e, _)) => {
                assert_eq!(e, CapError::Exhausted);
                break;
            }
        }
    }
    let call = child.start(
        server,
        endpoint::INTERFACE_ID,
        endpoint::method::CALL,
        &call_params(b"q", &[]),
    );
    let receive = init.start(
        ep,
        endpoint::INTERFACE_ID,
        endpoint::method::RECEIVE,
        &empty(),
    );
    let (_, data) = init.poll(&mut k, receive).expect("received");
    let (call_id, ..) = received(&data);
    // init's reply moves a capability to a process with no room for it.
    let gift = mint(&mut k, &mut init, ep, 9);
    let held = k.cap_count(1).unwrap();
    let err = init
        .call(
            &mut k,
            ep,
            endpoint::INTERFACE_ID,
            endpoint::method::REPLY,
            &reply_params(call_id, b"a", &[(gift, MOVE)]),
        )
        .unwrap_err();
    assert_eq!(err.0, CapError::Exhausted, "{}", err.1);
    assert_eq!(k.cap_count(1), Some(held), "the gift is still init's");
    assert!(child.poll(&mut k, call).is_none(), "the caller still waits");
    // Once the child has room, the same reply goes through.
    child.release(extra[0]);
    while k.poll() {}
    init.call(
        &mut k,
        ep,
        endpoint::INTERFACE_ID,
        endpoint::method::REPLY,
        &reply_params(call_id, b"a", &[(gift, MOVE)]),
    )
    .expect("delivered");
    let (cqe, data) = child.poll(&mut k, call).expect("answered");
    assert_eq!(cqe.error(), None);
    let r = reader(&data);
    let results = r
        .get_root::<ipc_capnp::endpoint::call_results::Reader>()
        .unwrap();
    assert_eq!(results.get_caps().unwrap().len(), 1);
    assert_eq!(k.cap_count(1), Some(held - 1), "moved out of init");
}
