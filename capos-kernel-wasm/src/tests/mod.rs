//! The kernel against in-memory rings: each test plays a process by driving
//! its ring with the same producer/consumer code capos-rt uses.

use crate::exit_code;
use crate::host::{Host, HostRequest, Startup};
use crate::kernel::Kernel;
use crate::view::UiEvent;
use capos_config::capset::CapSet;
use capos_config::manifest::{Binary, RuntimeRef};
use capos_config::ring::local::LocalRing;
use capos_config::ring::{
    CQ_DOORBELL, CQ_ENTRIES, CapError, CqConsumer, Cqe, FLAGS, OP_CALL, OP_NOP, OP_RELEASE,
    RING_FLAG_CQ_STALLED, RING_FLAG_KILLED, RingMemory, SQ_ARRAY, SQ_TAIL, SqProducer, Sqe,
};
use capos_schema::console_capnp::console;
use capos_schema::interfaces;
use capos_schema::manifest_capnp;
use std::rc::Rc;

mod core;
mod host_caps;
mod host_files;
mod inspect;
mod io;
mod net;
mod store;
mod transfer;

/// (pid, name, ring, capset, argv) of a started process.
type Started = (u32, String, Rc<LocalRing>, Vec<u8>, Vec<u8>);

#[derive(Default)]
pub(crate) struct TestHost {
    events: Vec<UiEvent>,
    started: Vec<Started>,
    stopped: Vec<u32>,
    /// What each started process runs, in start order.
    binaries: Vec<Binary>,
    clock: u64,
    /// (id, request as Debug text, payload) of each host request, in order.
    host_requests: Vec<(u32, String, Vec<u8>)>,
}

impl Host for TestHost {
    type Ring = Rc<LocalRing>;
    fn create_ring(&mut self) -> Rc<LocalRing> {
        Rc::new(LocalRing::new())
    }
    fn start_process(
        &mut self,
        pid: u32,
        name: &str,
        binary: &Binary,
        ring: &Rc<LocalRing>,
        startup: &Startup<'_>,
    ) {
        self.binaries.push(binary.clone());
        self.started.push((
            pid,
            name.to_string(),
            ring.clone(),
            startup.capset.to_vec(),
            startup.argv.to_vec(),
        ));
    }
    fn stop_process(&mut self, pid: u32) {
        self.stopped.push(pid);
    }
    fn emit(&mut self, event: UiEvent) {
        self.events.push(event);
    }
    fn now_ns(&mut self) -> u64 {
        // A clock that advances 1 us per reading.
        self.clock += 1_000;
        self.clock
    }
    fn realtime_ns(&mut self) -> u64 {
        1_700_000_000_000_000_000 + self.now_ns()
    }
    fn fill_random(&mut self, buf: &mut [u8]) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = i as u8 ^ 0x5a;
        }
    }
    fn host_request(&mut self, id: u32, request: HostRequest<'_>) {
        self.host_requests
            .push((id, format!("{request:?}"), request.payload().to_vec()));
    }
}

/// A message being built, as the tests build params.
pub(crate) type Message = capnp::message::Builder<capnp::message::HeapAllocator>;

pub(crate) fn words(m: &Message) -> Vec<u8> {
    capnp::serialize::write_message_to_words(m)
}

pub(crate) fn reader(data: &[u8]) -> capnp::message::Reader<capnp::serialize::OwnedSegments> {
    capnp::serialize::read_message(&mut &data[..], capnp::message::ReaderOptions::new()).unwrap()
}

/// Runs the kernel until it is idle and returns what `p` got back.
pub(crate) fn done(k: &mut Kernel<TestHost>, p: &mut Proc) -> Vec<(Cqe, Vec<u8>)> {
    while k.poll() {}
    p.raw_completions()
}

/// What `File.read` of up to 64 KiB from offset 0 returns.
pub(crate) fn read_file(k: &mut Kernel<TestHost>, p: &mut Proc, f: u32) -> Vec<u8> {
    let mut m = Message::new_default();
    m.init_root::<capos_schema::fs_capnp::file::read_params::Builder>()
        .set_len(1 << 16);
    p.call(
        f,
        interfaces::file::INTERFACE_ID,
        interfaces::file::method::READ,
        &words(&m),
    );
    let c = done(k, p).remove(0);
    let r = reader(&c.1);
    r.get_root::<capos_schema::fs_capnp::file::read_results::Reader>()
        .unwrap()
        .get_data()
        .unwrap()
        .to_vec()
}

/// A failed completion's message.
pub(crate) fn error_text(c: &(Cqe, Vec<u8>)) -> String {
    String::from_utf8_lossy(&c.1).into_owned()
}

/// A process's side of its ring.
pub(crate) struct Proc {
    pid: u32,
    ring: Rc<LocalRing>,
    capset: CapSet,
    sq: SqProducer,
    cq: CqConsumer,
    next: u64,
}

impl Proc {
    fn attach(kernel: &Kernel<TestHost>, pid: u32) -> Self {
        let (_, _, ring, capset, _) = kernel
            .host()
            .started
            .iter()
            .find(|s| s.0 == pid)
            .expect("process was started")
            .clone();
        let start = ring.load(SQ_TAIL);
        Self {
            pid,
            ring,
            capset: CapSet::parse(&capset).unwrap(),
            sq: SqProducer::new(start),
            cq: CqConsumer::new(start),
            next: 1,
        }
    }

    fn cap(&self, name: &str) -> (u32, u64) {
        let e = self.capset.find(name).expect("granted");
        (e.cap_id, e.interface_id)
    }

    fn submit(&mut self, mut sqe: Sqe, data: &[u8]) -> u64 {
        sqe.user_data = self.next;
        self.next += 1;
        self.sq.push(&self.ring, &sqe, data).unwrap();
        self.sq.submit(&self.ring);
        sqe.user_data
    }

    fn call(&mut self, cap_id: u32, interface_id: u64, method: u16, data: &[u8]) -> u64 {
        self.submit(
            Sqe {
                cap_id,
                interface_id,
                method,
                opcode: OP_CALL,
                ..Sqe::default()
            },
            data,
        )
    }

    fn write(&mut self, text: &str) -> u64 {
        let (id, iface) = self.cap("console");
        self.call(
            id,
            iface,
            interfaces::console::method::WRITE,
            &write_params(text),
        )
    }

    fn completions(&mut self) -> Vec<(Cqe, String)> {
        self.raw_completions()
            .into_iter()
            .map(|(c, data)| (c, String::from_utf8_lossy(&data).into_owned()))
            .collect()
    }

    fn raw_completions(&mut self) -> Vec<(Cqe, Vec<u8>)> {
        let mut out = Vec::new();
        let mut data = Vec::new();
        while let Some(c) = self.cq.pop(&self.ring, &mut data).unwrap() {
            out.push((c, std::mem::take(&mut data)));
        }
        out
    }
}

pub(crate) fn write_params(text: &str) -> Vec<u8> {
    write_bytes_params(text.as_bytes())
}

pub(crate) fn write_bytes_params(data: &[u8]) -> Vec<u8> {
    let mut m = capnp::message::Builder::new_default();
    m.init_root::<console::write_params::Builder>()
        .set_data(data);
    capnp::serialize::write_message_to_words(&m)
}

pub(crate) fn manifest(grants: &[(&str, manifest_capnp::KernelService)]) -> Vec<u8> {
    manifest_listening(grants, &[])
}

/// As `manifest`, and a Listener ("listen.N") on each of `ports`.
pub(crate) fn manifest_listening(
    grants: &[(&str, manifest_capnp::KernelService)],
    ports: &[u16],
) -> Vec<u8> {
    let mut m = capnp::message::Builder::new_default();
    let mut root = m.init_root::<manifest_capnp::manifest::Builder>();
    root.set_name("test");
    let mut blob = root.reborrow().init_blobs(1).get(0);
    blob.set_name("init");
    blob.set_data(b"\0asm");
    let mut init = root.init_init();
    init.set_binary("init");
    init.reborrow().init_argv(1).set(0, "init");
    let mut caps = init.init_caps((grants.len() + ports.len()) as u32);
    for (i, (name, service)) in grants.iter().enumerate() {
        let mut g = caps.reborrow().get(i as u32);
        g.set_name(name);
        g.init_source().set_kernel(*service);
    }
    for (i, port) in ports.iter().enumerate() {
        let mut g = caps.reborrow().get((grants.len() + i) as u32);
        g.set_name(format!("listen.{i}"));
        g.init_source().set_listen(*port);
    }
    capnp::serialize::write_message_to_words(&m)
}

fn booted() -> (Kernel<TestHost>, Proc) {
    let mut kernel = Kernel::new(TestHost::default(), crate::caps::init_grants);
    let pid = kernel
        .boot(&manifest(&[(
            "console",
            manifest_capnp::KernelService::Console,
        )]))
        .unwrap();
    let proc = Proc::attach(&kernel, pid);
    (kernel, proc)
}

/// Every byte written to a Console, in order.
pub(crate) fn console_bytes(kernel: &Kernel<TestHost>) -> Vec<u8> {
    kernel
        .host()
        .events
        .iter()
        .filter_map(|e| match e {
            UiEvent::Console { data, .. } => Some(data.as_slice()),
            _ => None,
        })
        .flatten()
        .copied()
        .collect()
}

pub(crate) fn console_text(kernel: &Kernel<TestHost>) -> String {
    String::from_utf8(console_bytes(kernel)).expect("the tests write UTF-8")
}

#[test]
fn boot_spawns_init_with_exactly_its_granted_caps() {
    let (kernel, init) = booted();
    assert_eq!(init.pid, 1);
    assert_eq!(init.capset.entries().len(), 1);
    assert_eq!(init.cap("console").1, interfaces::console::INTERFACE_ID);
    let (_, name, _, _, argv) = &kernel.host().started[0];
    assert_eq!(name, "init");
    assert_eq!(argv, b"init\0");
    assert_eq!(kernel.cap_count(1).unwrap(), 1);
}

/// A manifest whose init runs the catalogue runtime `runtime`, pinned to `sha256` (may be
/// empty), its blob also carrying `data`.
fn runtime_manifest(runtime: &str, sha256: &str, data: &[u8]) -> Vec<u8> {
    let mut m = capnp::message::Builder::new_default();
    let mut root = m.init_root::<manifest_capnp::manifest::Builder>();
    root.set_name("runtime");
    let mut blob = root.reborrow().init_blobs(1).get(0);
    blob.set_name("program");
    blob.set_data(data);
    blob.set_runtime(runtime);
    blob.set_runtime_sha256(sha256);
    let mut init = root.init_init();
    init.set_binary("program");
    init.reborrow().init_argv(1).set(0, "python");
    capnp::serialize::write_message_to_words(&m)
}

#[test]
fn a_runtime_blob_reaches_the_host_as_its_name_and_hash_never_as_bytes() {
    let mut kernel = Kernel::new(TestHost::default(), crate::caps::init_grants);
    let sha = "0123456789abcdef".repeat(4);
    kernel.boot(&runtime_manifest("python", &sha, b"")).unwrap();
    assert_eq!(
        kernel.host().binaries,
        [Binary::Runtime(RuntimeRef {
            name: "python".into(),
            sha256: Some(sha),
        })]
    );
    let mut kernel = Kernel::new(TestHost::default(), crate::caps::init_grants);
    kernel.boot(&runtime_manifest("qjs", "", b"")).unwrap();
    assert_eq!(
        kernel.host().binaries,
        [Binary::Runtime(RuntimeRef {
            name: "qjs".into(),
            sha256: None,
        })]
    );
}

#[test]
fn a_runtime_blob_with_bytes_or_a_malformed_hash_is_refused_before_anything_starts() {
    for (runtime, sha, data, why) in [
        ("python", "", &b"\0asm"[..], "one or the other"),
        ("python", "not-a-hash", &b""[..], "SHA-256"),
        ("Python!", "", &b""[..], "runtime name"),
    ] {
        let mut kernel = Kernel::new(TestHost::default(), crate::caps::init_grants);
        let err = kernel
            .boot(&runtime_manifest(runtime, sha, data))
            .unwrap_err();
        assert!(err.contains(why), "{err}");
        assert!(kernel.host().started.is_empty());
    }
}

#[test]
fn console_write_reaches_the_ui_and_completes() {
    let (mut kernel, mut init) = booted();
    let doorbell = init.ring.load(CQ_DOORBELL);
    let ud = init.write("hello from pid 1\n");
    assert!(kernel.poll());
    assert_eq!(console_text(&kernel), "hello from pid 1\n");
    let done = init.completions();
    assert_eq!(done.len(), 1);
    assert_eq!((done[0].0.user_data, done[0].0.result), (ud, 0));
    assert_ne!(init.ring.load(CQ_DOORBELL), doorbell, "doorbell rang");
    assert!(!kernel.poll(), "idle once drained");
}

#[test]
fn refusals_are_errors_with_messages_never_panics() {
    let (mut kernel, mut init) = booted();
    let (console_id, console_iface) = init.cap("console");
    init.call(0, console_iface, 0, &write_params("x")); // never-issued id
    init.call(
        console_id ^ 0x0003_0000,
        console_iface,
        0,
        &write_params("x"),
    ); // guessed generation
    init.call(console_id, 0xdead, 0, &write_params("x")); // wrong interface
    init.call(console_id, console_iface, 9, &write_params("x")); // no such method
    init.call(console_id, console_iface, 0, b"not capnp"); // bad params
    init.submit(
        Sqe {
            opcode: 77,
            ..Sqe::default()
        },
        &[],
    ); // bad opcode
    kernel.poll();
    let results: Vec<i32> = init.completions().iter().map(|(c, _)| c.result).collect();
    assert_eq!(
        results,
        [
            CapError::UnknownCap.code(),
            CapError::UnknownCap.code(),
            CapError::WrongInterface.code(),
            CapError::UnknownMethod.code(),
            CapError::BadParams.code(),
            CapError::BadSqe.code(),
        ]
    );
    assert_eq!(console_text(&kernel), "");
    assert_eq!(kernel.live_pids(), [1], "the process is still served");
}

#[test]
fn released_cap_is_stale() {
    let (mut kernel, mut init) = booted();
    let (id, iface) = init.cap("console");
    init.submit(
        Sqe {
            cap_id: id,
            opcode: OP_RELEASE,
            ..Sqe::default()
        },
        &[],
    );
    init.call(id, iface, 0, &write_params("after release"));
    kernel.poll();
    let done = init.completions();
    assert_eq!(done[0].0.result, 0);
    assert_eq!(done[1].0.result, CapError::StaleCap.code());
    assert!(done[1].1.contains("stale"), "{}", done[1].1);
    assert_eq!(kernel.cap_count(1).unwrap(), 0);
}

#[test]
fn malformed_sqe_is_refused() {
    let (mut kernel, mut init) = booted();
    let mut raw = Sqe {
        opcode: OP_NOP,
        user_data: 5,
        ..Sqe::default()
    }
    .encode();
    raw[31] = 0xff;
    init.ring.write(SQ_ARRAY, &raw);
    init.ring.store(SQ_TAIL, 1);
    kernel.poll();
    let done = init.completions();
    assert_eq!(done[0].0.result, CapError::BadSqe.code());
}

#[test]
fn exit_serves_queued_writes_then_reaps_and_halts() {
    let (mut kernel, mut init) = booted();
    init.write("last words\n");
    kernel.process_exited(1, 0);
    assert_eq!(console_text(&kernel), "last words\n");
    assert_eq!(kernel.host().stopped, [1]);
    assert!(kernel.live_pids().is_empty());
    assert_ne!(
        init.ring.load(FLAGS) & RING_FLAG_KILLED,
        0,
        "waiter is told"
    );
    assert!(init.ring.notify_count() >= 1, "lingering waiter is woken");
    assert!(kernel.host().events.contains(&UiEvent::Halted {
        code: 0,
        reason: "init exited with code 0".into()
    }));
    assert!(kernel.is_halted());
    assert!(!kernel.poll());
    // A late duplicate report is ignored.
    kernel.process_exited(1, 3);
    assert_eq!(kernel.host().stopped, [1]);
}

#[test]
fn panics_and_traps_are_reported_with_their_exit_codes() {
    let (mut kernel, _) = booted();
    kernel.process_panicked(1, "oh no");
    assert!(console_text(&kernel).contains("[pid 1 init] panicked: oh no"));
    assert!(kernel.host().events.iter().any(|e| matches!(
        e,
        UiEvent::ProcessExited { code, .. } if *code == exit_code::PANICKED
    )));
    let (mut kernel, _) = booted();
    kernel.process_trapped(1, "unreachable");
    assert!(kernel.host().events.iter().any(|e| matches!(
        e,
        UiEvent::Halted { code, .. } if *code == exit_code::TRAPPED
    )));
}

#[test]
fn ring_violation_kills_only_the_offender() {
    let (mut kernel, init) = booted();
    init.ring.store(SQ_TAIL, 100_000);
    assert!(kernel.poll());
    assert!(kernel.live_pids().is_empty());
    assert!(kernel.host().events.iter().any(|e| matches!(
        e,
        UiEvent::ProcessExited { code, reason, .. }
            if *code == exit_code::KILLED && reason.contains("violation")
    )));
}

#[test]
fn a_full_cq_stops_consumption_and_loses_nothing() {
    let (mut kernel, mut init) = booted();
    // Fill the CQ without reaping: CQ_ENTRIES nops, then more.
    let total = CQ_ENTRIES as u64 + 40;
    let mut submitted = 0u64;
    let mut done = Vec::new();
    while submitted < total {
        if init.sq.free(&init.ring) == 0 {
            kernel.poll();
            if init.sq.free(&init.ring) == 0 {
                // The kernel is waiting for CQ room, and has flagged it so
                // the process wakes it after reaping.
                assert_eq!(init.cq.pending(&init.ring).unwrap(), CQ_ENTRIES);
                assert_ne!(init.ring.load(FLAGS) & RING_FLAG_CQ_STALLED, 0);
                done.extend(init.completions());
            }
            continue;
        }
        init.submit(
            Sqe {
                opcode: OP_NOP,
                ..Sqe::default()
            },
            &[],
        );
        submitted += 1;
    }
    while kernel.poll() {}
    done.extend(init.completions());
    kernel.poll();
    done.extend(init.completions());
    let ids: Vec<u64> = done.iter().map(|(c, _)| c.user_data).collect();
    assert_eq!(
        ids,
        (1..=total).collect::<Vec<_>>(),
        "every completion, once, in order"
    );
}

#[test]
fn counters_starting_near_u32_max_wrap_cleanly() {
    let mut kernel = Kernel::new(TestHost::default(), crate::caps::init_grants);
    kernel.set_ring_counter_start(u32::MAX - 3);
    kernel
        .boot(&manifest(&[(
            "console",
            manifest_capnp::KernelService::Console,
        )]))
        .unwrap();
    let mut init = Proc::attach(&kernel, 1);
    for i in 0..600 {
        init.write(&format!("{i},"));
        kernel.poll();
        assert_eq!(init.completions().len(), 1);
    }
    assert!(console_text(&kernel).ends_with("598,599,"));
}

#[test]
fn bad_manifests_are_refused_with_a_message() {
    let mut kernel = Kernel::new(TestHost::default(), crate::caps::init_grants);
    let err = kernel.boot(b"definitely not capnp").unwrap_err();
    assert!(err.contains("manifest"), "{err}");
    assert!(kernel.host().started.is_empty());
    assert!(matches!(kernel.host().events[0], UiEvent::BootError { .. }));

    let mut m = capnp::message::Builder::new_default();
    let mut root = m.init_root::<manifest_capnp::manifest::Builder>();
    root.reborrow().init_init().set_binary("missing");
    let mut kernel = Kernel::new(TestHost::default(), crate::caps::init_grants);
    let err = kernel
        .boot(&capnp::serialize::write_message_to_words(&m))
        .unwrap_err();
    assert!(err.contains("\"missing\""), "{err}");
}

#[test]
#[should_panic(expected = "KernelPanicTrigger invoked by pid 1")]
fn panic_trigger_panics_the_kernel() {
    let mut kernel = Kernel::new(TestHost::default(), crate::caps::init_grants);
    kernel
        .boot(&manifest(&[(
            "panic",
            manifest_capnp::KernelService::KernelPanicTrigger,
        )]))
        .unwrap();
    let mut init = Proc::attach(&kernel, 1);
    let (id, iface) = init.cap("panic");
    let mut m = capnp::message::Builder::new_default();
    m.init_root::<capos_schema::debug_capnp::kernel_panic_trigger::trigger_params::Builder>()
        .set_reason("test");
    init.call(id, iface, 0, &capnp::serialize::write_message_to_words(&m));
    kernel.poll();
}
