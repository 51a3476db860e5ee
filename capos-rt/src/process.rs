//! The running process: its startup environment and its one ring.

use crate::arch::{self, HostPort, HostRing};
use crate::ring::RingClient;
use crate::{CapRef, CapSet, Console, Error};
use std::cell::RefCell;
use std::fmt::Display;

thread_local! {
    static RING: RefCell<Option<RingClient<HostRing, HostPort>>> = const { RefCell::new(None) };
}

/// What a process is started with.
#[derive(Debug)]
pub struct Env {
    pub pid: u32,
    /// Arguments from the process's spec; `argv[0]` is its name.
    pub argv: Vec<String>,
    /// The names of the capabilities it was granted.
    pub capset: CapSet,
}

impl Env {
    fn load() -> Result<Self, Error> {
        let capset = CapSet::parse(&arch::startup(arch::STARTUP_CAPSET))
            .map_err(|e| Error::Other(format!("bad CapSet from the kernel: {e}")))?;
        let argv_bytes = arch::startup(arch::STARTUP_ARGV);
        let argv = argv_bytes
            .split(|&b| b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        Ok(Self {
            pid: arch::pid(),
            argv,
            capset,
        })
    }
}

/// Runs `f` with the process's ring.
fn with_ring<T>(f: impl FnOnce(&mut RingClient<HostRing, HostPort>) -> T) -> T {
    RING.with(|ring| {
        let mut ring = ring.borrow_mut();
        let ring = ring.get_or_insert_with(|| RingClient::new(HostRing, HostPort));
        f(ring)
    })
}

/// Calls `method` on `cap` and blocks for its results message.
pub fn call(cap: CapRef, method: u16, params: &[u8]) -> Result<Vec<u8>, Error> {
    with_ring(|ring| ring.call(cap, method, params))
}

/// Many calls with one kernel wake-up (see `RingClient::call_batch`).
pub fn call_batch(calls: &[(CapRef, u16, &[u8])]) -> Result<Vec<Result<Vec<u8>, Error>>, Error> {
    with_ring(|ring| ring.call_batch(calls))
}

/// Two calls with one kernel wake-up (see `RingClient::call_pair`).
pub fn call_pair(
    first: (CapRef, u16, &[u8]),
    second: (CapRef, u16, &[u8]),
) -> Result<(Result<Vec<u8>, Error>, Result<Vec<u8>, Error>), Error> {
    with_ring(|ring| ring.call_pair(first, second))
}

/// Drops a capability from this process's CapTable.
pub fn release(cap: CapRef) -> Result<(), Error> {
    with_ring(|ring| ring.release(cap))
}

/// A kernel round trip that does nothing (for measuring the ring).
pub fn nop() -> Result<(), Error> {
    with_ring(|ring| ring.nop())
}

/// Ends the process with `code`; the kernel reaps it.
pub fn exit(code: i32) -> ! {
    arch::exit(code)
}

/// Runs a program's `main` (see [`entry!`](crate::entry)).
pub fn run<E: Display>(main: fn(&Env) -> Result<(), E>) -> ! {
    std::panic::set_hook(Box::new(|info| arch::panic_exit(&info.to_string())));
    let env = match Env::load() {
        Ok(env) => env,
        Err(e) => arch::panic_exit(&e.to_string()),
    };
    match main(&env) {
        Ok(()) => exit(0),
        Err(e) => {
            if let Ok(console) = Console::open(&env, "console") {
                let name = env.argv.first().map_or("process", String::as_str);
                // Best effort: the process is failing either way.
                let _ = console.write_line(&format!("{name}: error: {e}"));
            }
            exit(1)
        }
    }
}
