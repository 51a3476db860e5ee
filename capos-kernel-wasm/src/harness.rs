//! The kernel on the host, driven by arbitrary bytes: what the fuzz targets
//! (`fuzz/`) feed it. One input is a little program of operations on the
//! rings of the processes the kernel started: raw SQEs written straight into
//! the ring (any opcode, flags, reserved bits, length), calls on any
//! capability a process holds (or an id it was never given) with arbitrary
//! params, completions drained or left to pile up, time passing, terminal
//! input, and processes exiting, trapping or panicking. The kernel must
//! answer all of it without panicking; a panic is what the fuzzer reports.

use crate::host::{Host, HostFailure, HostReply, Startup};
use crate::kernel::Kernel;
use crate::view::UiEvent;
use capos_config::capset::CapSet;
use capos_config::manifest::Binary;
use capos_config::ring::local::LocalRing;
use capos_config::ring::{
    CqConsumer, OP_CALL, RingMemory, SLOT_DATA_SIZE, SQ_TAIL, SQE_SIZE, Sqe, sq_data_offset,
    sqe_offset,
};
use capos_schema::manifest_capnp::{self, KernelService};
use std::rc::Rc;

/// Every kernel service init may hold (the panic trigger aside: a kernel
/// panic on purpose is not a finding).
const SERVICES: &[(&str, KernelService)] = &[
    ("console", KernelService::Console),
    ("spawner", KernelService::ProcessSpawner),
    ("boot", KernelService::BootPackage),
    ("endpoints", KernelService::EndpointFactory),
    ("timer", KernelService::Timer),
    ("echo", KernelService::Echo),
    ("stderr", KernelService::Stderr),
    ("random", KernelService::Random),
];

/// The port init listens on.
const LISTEN_PORT: u16 = 80;

/// Starts nothing: it records each process's ring and CapSet.
#[derive(Default)]
pub struct HarnessHost {
    started: Vec<(u32, Rc<LocalRing>, Vec<u8>)>,
    clock: u64,
}

impl Host for HarnessHost {
    type Ring = Rc<LocalRing>;
    fn create_ring(&mut self) -> Rc<LocalRing> {
        Rc::new(LocalRing::new())
    }
    fn start_process(
        &mut self,
        pid: u32,
        _name: &str,
        _binary: &Binary,
        ring: &Rc<LocalRing>,
        startup: &Startup<'_>,
    ) {
        self.started
            .push((pid, ring.clone(), startup.capset.to_vec()));
    }
    fn stop_process(&mut self, _pid: u32) {}
    fn emit(&mut self, _event: UiEvent) {}
    fn now_ns(&mut self) -> u64 {
        self.clock += 1_000;
        self.clock
    }
    fn realtime_ns(&mut self) -> u64 {
        1_700_000_000_000_000_000 + self.clock
    }
    fn fill_random(&mut self, buf: &mut [u8]) {
        buf.fill(0x5a);
    }
    // The harness grants nothing the browser serves.
    fn host_request(&mut self, _id: u32, _request: crate::host::HostRequest<'_>) {}
}

/// One process as the harness drives it.
struct Driven {
    pid: u32,
    ring: Rc<LocalRing>,
    caps: Vec<(u32, u64)>,
    tail: u32,
    cq: CqConsumer,
}

/// A booted kernel whose init holds every service and a directory.
pub struct Harness {
    kernel: Kernel<HarnessHost>,
    driven: Vec<Driven>,
    now_ns: u64,
    /// Host exchanges of the connections made so far.
    connections: Vec<u32>,
}

/// Reads the input a byte (or a few) at a time; past its end, zeros.
struct Input<'a> {
    data: &'a [u8],
    at: usize,
}

impl Input<'_> {
    fn done(&self) -> bool {
        self.at >= self.data.len()
    }
    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }
    fn bytes(&mut self, n: usize) -> &[u8] {
        let start = self.at.min(self.data.len());
        let end = start.saturating_add(n).min(self.data.len());
        self.at = start + n;
        &self.data[start..end]
    }
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

impl Harness {
    pub fn new() -> Self {
        let mut kernel = Kernel::new(HarnessHost::default(), crate::caps::init_grants);
        kernel
            .boot(&manifest())
            .expect("the harness manifest boots");
        let mut harness = Self {
            kernel,
            driven: Vec::new(),
            now_ns: 0,
            connections: Vec::new(),
        };
        harness.attach_new();
        harness
    }

    /// Starts driving the processes the kernel started since the last look.
    fn attach_new(&mut self) {
        for (pid, ring, capset) in &self.kernel.host().started[self.driven.len()..] {
            let caps = CapSet::parse(capset)
                .map(|c| {
                    c.entries()
                        .iter()
                        .map(|e| (e.cap_id, e.interface_id))
                        .collect()
                })
                .unwrap_or_default();
            let start = ring.load(SQ_TAIL);
            self.driven.push(Driven {
                pid: *pid,
                ring: ring.clone(),
                caps,
                tail: start,
                cq: CqConsumer::new(start),
            });
        }
    }

    /// Runs one input. Panics only if the kernel does.
    pub fn run(&mut self, data: &[u8]) {
        let mut input = Input { data, at: 0 };
        while !input.done() {
            let op = input.byte();
            let target = input.byte() as usize % self.driven.len();
            match op % 9 {
                0 => self.raw_entry(target, &mut input),
                1 | 2 => self.call(target, &mut input),
                3 => {
                    let p = &mut self.driven[target];
                    let mut data = Vec::new();
                    // A ring the process itself broke is the kernel's to judge, not ours.
                    while let Ok(Some(_)) = p.cq.pop(&p.ring, &mut data) {}
                }
                4 => {
                    self.now_ns += u64::from(input.u32());
                    self.kernel.tick();
                }
                5 => {
                    let n = input.byte() as usize;
                    let bytes = input.bytes(n).to_vec();
                    if bytes.is_empty() {
                        self.kernel.terminal_eof();
                    } else {
                        self.kernel.terminal_input(&bytes);
                    }
                }
                6 => {
                    let pid = self.driven[target].pid;
                    match input.byte() % 4 {
                        0 => self.kernel.process_exited(pid, input.u32() as i32),
                        1 => self.kernel.process_trapped(pid, "fuzz: trap"),
                        2 => self.kernel.process_panicked(pid, "fuzz: panic"),
                        _ => self.kernel.process_failed(pid, "fuzz: failed"),
                    }
                }
                7 => {
                    let pid = self.driven[target].pid;
                    let by = self.driven[input.byte() as usize % self.driven.len()].pid;
                    self.kernel.kill(pid, by);
                }
                _ => self.network(&mut input),
            }
            self.now_ns += 1_000;
            for _ in 0..4 {
                if !self.kernel.poll_at(self.now_ns) {
                    break;
                }
            }
            self.attach_new();
            if self.kernel.is_halted() {
                return;
            }
        }
    }

    /// The host's side of connections to init's port: a new connection (to
    /// that port or another), or any reply on one made before, in any order.
    fn network(&mut self, input: &mut Input<'_>) {
        let choice = input.byte();
        let pick = input.byte() as usize;
        let id = match self.connections.get(pick % self.connections.len().max(1)) {
            Some(&id) if !choice.is_multiple_of(6) => id,
            _ => {
                let port = if choice & 0x80 == 0 { LISTEN_PORT } else { 81 };
                if let Ok(id) = self.kernel.connect(port, "fuzz") {
                    self.connections.push(id);
                }
                return;
            }
        };
        let reply = match choice % 6 {
            1 => {
                let n = input.byte() as usize * 16;
                HostReply::NetData(input.bytes(n).to_vec())
            }
            2 => HostReply::NetEnd,
            3 => HostReply::NetSent,
            4 => HostReply::Failed {
                kind: HostFailure::Network,
                message: "fuzz: the client went away".into(),
            },
            // Not a connection's reply: the host answering out of turn.
            _ => HostReply::KvDone,
        };
        self.kernel.host_reply(id, reply);
    }

    /// An SQE of any bytes, with params of any length up to a slot.
    fn raw_entry(&mut self, target: usize, input: &mut Input<'_>) {
        let mut sqe = [0u8; SQE_SIZE];
        sqe.copy_from_slice(&{
            let mut b = input.bytes(SQE_SIZE).to_vec();
            b.resize(SQE_SIZE, 0);
            b
        });
        let len = input.u16() as usize % (SLOT_DATA_SIZE as usize + 1);
        let params = input.bytes(len).to_vec();
        let p = &mut self.driven[target];
        p.ring.write(sqe_offset(p.tail), &sqe);
        p.ring.write(sq_data_offset(p.tail), &params);
        p.tail = p.tail.wrapping_add(1);
        p.ring.store(SQ_TAIL, p.tail);
    }

    /// A call on a capability the process holds, or (high bit of the
    /// selector) on an id it made up, with arbitrary params.
    fn call(&mut self, target: usize, input: &mut Input<'_>) {
        let selector = input.byte();
        let method = u16::from(input.byte() % 16);
        let len = input.u16() as usize % (SLOT_DATA_SIZE as usize + 1);
        let forged = input.u32();
        let params = input.bytes(len).to_vec();
        let p = &mut self.driven[target];
        let (cap_id, interface_id) = match p.caps.get(selector as usize % p.caps.len().max(1)) {
            Some(cap) if selector & 0x80 == 0 => *cap,
            _ => (forged, u64::from(forged)),
        };
        let sqe = Sqe {
            user_data: u64::from(p.tail),
            interface_id,
            cap_id,
            method,
            opcode: OP_CALL,
            flags: 0,
            data_len: params.len() as u32,
        };
        p.ring.write(sqe_offset(p.tail), &sqe.encode());
        p.ring.write(sq_data_offset(p.tail), &params);
        p.tail = p.tail.wrapping_add(1);
        p.ring.store(SQ_TAIL, p.tail);
    }
}

/// init holds every service and a directory with a file in it.
fn manifest() -> Vec<u8> {
    let mut m = capnp::message::Builder::new_default();
    let mut root = m.init_root::<manifest_capnp::manifest::Builder>();
    root.set_name("fuzz");
    let mut blob = root.reborrow().init_blobs(1).get(0);
    blob.set_name("init");
    blob.set_data(b"\0asm");
    let mut mount = root.reborrow().init_mounts(1).get(0);
    mount.set_guest("/data");
    let mut dir = mount.init_root();
    dir.set_name("");
    let mut file = dir.init_directory(1).get(0);
    file.set_name("a.txt");
    file.set_file(b"hello");
    let mut init = root.init_init();
    init.set_binary("init");
    init.reborrow().init_argv(1).set(0, "init");
    let mut caps = init.init_caps(SERVICES.len() as u32 + 2);
    for (i, (name, service)) in SERVICES.iter().enumerate() {
        let mut g = caps.reborrow().get(i as u32);
        g.set_name(name);
        g.init_source().set_kernel(*service);
    }
    let mut g = caps.reborrow().get(SERVICES.len() as u32);
    g.set_name("data");
    g.init_source().set_mount(0);
    let mut g = caps.get(SERVICES.len() as u32 + 1);
    g.set_name("listen");
    g.init_source().set_listen(LISTEN_PORT);
    capnp::serialize::write_message_to_words(&m)
}

#[cfg(test)]
mod tests {
    use super::Harness;

    #[test]
    fn the_harness_boots_and_runs_inputs_without_panicking() {
        let mut h = Harness::new();
        assert_eq!(h.driven.len(), 1);
        // A few hand-picked inputs: a raw garbage entry, a call on each held
        // capability, time, input, a drain, an exit.
        h.run(&[0, 0, 0xff, 0xee, 1, 2, 3]);
        // Connections: one made, bytes, a reset, one to a port nobody holds.
        h.run(&[
            8, 0, 0, 0, 8, 0, 1, 0, 2, b'h', b'i', 8, 0, 4, 0, 8, 0, 0x80, 0,
        ]);
        assert!(!h.connections.is_empty());
        for cap in 0..9u8 {
            h.run(&[1, 0, cap, 0, 8, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
        }
        h.run(&[
            4, 0, 0, 0, 0, 1, 5, 0, 3, b'h', b'i', b'\n', 3, 0, 6, 0, 0, 0, 0, 0, 0,
        ]);
    }
}
