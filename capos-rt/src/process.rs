//! The running process: its startup environment and its one ring.
//!
//! Only a wasm32 capOS process has a kernel to talk to. Built for another
//! target (host tests, clippy), every call fails with a clear error instead.

#[cfg(target_arch = "wasm32")]
use crate::arch::{self, HostPort, HostRing};
#[cfg(target_arch = "wasm32")]
use crate::ring::RingClient;
use crate::{CapRef, CapSet, Error};
#[cfg(target_arch = "wasm32")]
use std::cell::RefCell;
use std::fmt::Display;

#[cfg(target_arch = "wasm32")]
thread_local! {
    static RING: RefCell<Option<RingClient<HostRing, HostPort>>> = const { RefCell::new(None) };
}

/// The outcome of one call: its results message, or why it failed.
pub type CallOutcome = Result<Vec<u8>, Error>;

/// A program's entry for one role: busybox-style demos pick it by argv[0].
pub type Role = fn(&Env) -> Result<(), Error>;

/// Runs the role named by `argv[0]`, or fails naming the roles there are.
pub fn by_role(env: &Env, roles: &[(&str, Role)]) -> Result<(), Error> {
    let name = env.argv.first().map(String::as_str).unwrap_or("");
    match roles.iter().find(|(role, _)| *role == name) {
        Some((_, run)) => run(env),
        None => Err(Error::Other(format!(
            "unknown role {name:?} (this binary runs as: {})",
            roles.iter().map(|(r, _)| *r).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// What a process is started with.
#[derive(Debug)]
pub struct Env {
    pub pid: u32,
    /// Arguments from the process's spec; `argv[0]` is its name.
    pub argv: Vec<String>,
    /// `KEY=VALUE` strings from the process's spec.
    pub env: Vec<String>,
    /// The names of the capabilities it was granted.
    pub capset: CapSet,
}

/// Splits a block of NUL-terminated strings.
#[cfg(any(target_arch = "wasm32", test))]
fn strings(block: &[u8]) -> Vec<String> {
    let mut out: Vec<String> = block
        .split(|&b| b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    // The block ends with a NUL, so the split leaves one empty tail.
    if block.last() == Some(&0) || block.is_empty() {
        out.pop();
    }
    out
}

impl Env {
    #[cfg(target_arch = "wasm32")]
    fn load() -> Result<Self, Error> {
        let capset = CapSet::parse(&arch::startup(arch::STARTUP_CAPSET))
            .map_err(|e| Error::Other(format!("bad CapSet from the kernel: {e}")))?;
        Ok(Self {
            pid: arch::pid(),
            argv: strings(&arch::startup(arch::STARTUP_ARGV)),
            env: strings(&arch::startup(arch::STARTUP_ENV)),
            capset,
        })
    }

    /// The process's startup environment (read from the kernel once).
    #[cfg(target_arch = "wasm32")]
    pub fn current() -> Result<&'static Env, Error> {
        thread_local! {
            static ENV: std::cell::OnceCell<&'static Env> = const { std::cell::OnceCell::new() };
        }
        ENV.with(|cell| {
            if let Some(env) = cell.get() {
                return Ok(*env);
            }
            let env: &'static Env = Box::leak(Box::new(Env::load()?));
            let _ = cell.set(env);
            Ok(env)
        })
    }
}

/// Runs `f` with the process's ring.
#[cfg(target_arch = "wasm32")]
fn with_ring<T>(
    f: impl FnOnce(&mut RingClient<HostRing, HostPort>) -> Result<T, Error>,
) -> Result<T, Error> {
    RING.with(|ring| {
        let mut ring = ring.borrow_mut();
        let ring = ring.get_or_insert_with(|| RingClient::new(HostRing, HostPort));
        f(ring)
    })
}

#[cfg(not(target_arch = "wasm32"))]
fn with_ring<T>(
    _: impl FnOnce(
        &mut crate::ring::RingClient<capos_config::ring::local::LocalRing, NoKernel>,
    ) -> Result<T, Error>,
) -> Result<T, Error> {
    Err(Error::Other(
        "capability calls need the capOS kernel: build for wasm32-unknown-unknown and run as a capOS process".into(),
    ))
}

/// Stands in for the kernel port where there is no kernel (never used).
#[cfg(not(target_arch = "wasm32"))]
pub struct NoKernel;

#[cfg(not(target_arch = "wasm32"))]
impl crate::ring::KernelPort for NoKernel {
    fn wake_kernel(&self) {}
    fn wait(&self, _: usize, _: u32, _: Option<u32>) {}
}

/// Calls `method` on `cap` and blocks for its results message.
pub fn call(cap: CapRef, method: u16, params: &[u8]) -> Result<Vec<u8>, Error> {
    with_ring(|ring| ring.call(cap, method, params))
}

/// Many calls with one kernel wake-up (see `RingClient::call_batch`).
pub fn call_batch(calls: &[(CapRef, u16, &[u8])]) -> Result<Vec<CallOutcome>, Error> {
    with_ring(|ring| ring.call_batch(calls))
}

/// Entries submitted exactly as given (see `RingClient::submit_raw`): for
/// programs that test the kernel's defences.
pub fn submit_raw(
    entries: &[(crate::config::ring::Sqe, &[u8])],
) -> Result<Vec<CallOutcome>, Error> {
    with_ring(|ring| ring.submit_raw(entries))
}

/// Submits without reading the CQ until the kernel stops taking entries (see
/// `RingClient::submit_without_reaping`); returns their `user_data`.
pub fn submit_without_reaping(
    sqe: crate::config::ring::Sqe,
    params: &[u8],
    max: usize,
    patience_ms: u32,
) -> Result<Vec<u64>, Error> {
    with_ring(|ring| ring.submit_without_reaping(sqe, params, max, patience_ms))
}

/// Submitted SQEs the kernel has not taken yet.
pub fn sq_waiting() -> Result<u32, Error> {
    with_ring(|ring| Ok(ring.sq_waiting()))
}

/// Waits for each of `user_data`'s completions; returns how many arrived.
pub fn reap(user_data: &[u64]) -> Result<usize, Error> {
    with_ring(|ring| ring.reap(user_data))
}

/// Two calls with one kernel wake-up (see `RingClient::call_pair`).
pub fn call_pair(
    first: (CapRef, u16, &[u8]),
    second: (CapRef, u16, &[u8]),
) -> Result<(CallOutcome, CallOutcome), Error> {
    with_ring(|ring| ring.call_pair(first, second))
}

/// Queues a call whose results nobody waits for (stdout writes, file
/// write-behind): the ring keeps it in order with every later call, and a
/// failure (a refusal, or results `check` rejects) is reported by
/// [`take_deferred_error`] for `cap`.
pub fn call_deferred(
    cap: CapRef,
    method: u16,
    params: &[u8],
    check: crate::ring::ResultsCheck,
) -> Result<(), Error> {
    with_ring(|ring| ring.call_deferred(cap, method, params, check))
}

/// The first failure of a deferred call on `cap` since the last time this
/// was asked, among the completions seen so far ([`settle_deferred`] waits
/// for all of them).
pub fn take_deferred_error(cap: CapRef) -> Option<Error> {
    with_ring(|ring| Ok(ring.take_deferred_error(cap)))
        .ok()
        .flatten()
}

/// Blocks until every deferred call has completed.
pub fn settle_deferred() -> Result<(), Error> {
    with_ring(|ring| ring.settle_deferred())
}

/// Blocks for up to `timeout_ms` for any completion (for polling loops).
pub fn wait_any(timeout_ms: u32) -> Result<(), Error> {
    with_ring(|ring| ring.cap_enter(usize::MAX, Some(timeout_ms)).map(drop))
}

/// Drops a capability from this process's CapTable.
pub fn release(cap: CapRef) -> Result<(), Error> {
    with_ring(|ring| ring.release(cap))
}

/// A kernel round trip that does nothing (for measuring the ring).
pub fn nop() -> Result<(), Error> {
    with_ring(|ring| ring.nop())
}

/// Reports a panic to the kernel (which prints it and reaps the process
/// with exit code 101) instead of trapping silently.
#[cfg(target_arch = "wasm32")]
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| arch::panic_exit(&info.to_string())));
}

/// Ends the process with `code`; the kernel reaps it.
pub fn exit(code: i32) -> ! {
    #[cfg(target_arch = "wasm32")]
    {
        arch::exit(code)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::process::exit(code)
    }
}

/// Runs a program's `main` (see [`entry!`](crate::entry)).
#[cfg(target_arch = "wasm32")]
pub fn run<E: Display>(main: fn(&Env) -> Result<(), E>) -> ! {
    install_panic_hook();
    let env = match Env::current() {
        Ok(env) => env,
        Err(e) => arch::panic_exit(&e.to_string()),
    };
    match main(env) {
        Ok(()) => exit(0),
        Err(e) => {
            if let Ok(console) = crate::Console::open(env, "console") {
                let name = env.argv.first().map_or("process", String::as_str);
                // Best effort: the process is failing either way.
                let _ = console.write_line(&format!("{name}: error: {e}"));
            }
            exit(1)
        }
    }
}

/// Runs a program's `main` (see [`entry!`](crate::entry)): off wasm32 there
/// is no kernel to start it with, so this reports that and exits 1.
#[cfg(not(target_arch = "wasm32"))]
pub fn run<E: Display>(_main: fn(&Env) -> Result<(), E>) -> ! {
    eprintln!("capOS programs run as wasm32 capOS processes; there is no kernel here");
    std::process::exit(1)
}

#[cfg(test)]
mod tests {
    use super::strings;

    #[test]
    fn startup_strings_keep_empty_ones() {
        assert_eq!(strings(b"a\0\0b c\0"), ["a", "", "b c"]);
        assert!(strings(b"").is_empty());
    }
}
