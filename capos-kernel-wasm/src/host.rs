//! What the kernel needs from its substrate. The browser implementation is
//! in `web.rs`; tests use an in-memory one.

use crate::view::UiEvent;
use capos_config::manifest::Binary;
use capos_config::ring::RingMemory;

/// What a new process is started with, each block already encoded.
#[derive(Debug)]
pub struct Startup<'a> {
    /// The encoded CapSet.
    pub capset: &'a [u8],
    /// NUL-terminated arguments.
    pub argv: &'a [u8],
    /// NUL-terminated `KEY=VALUE` strings.
    pub env: &'a [u8],
    /// Imports the host does not provide trap when called (else the
    /// program fails to start, naming the first of them).
    pub trap_unknown_imports: bool,
    /// The most linear memory the process may have, in MiB (validated).
    pub memory_limit_mib: u32,
}

pub trait Host: 'static {
    type Ring: RingMemory;

    /// A fresh, zeroed ring shared with exactly one process.
    fn create_ring(&mut self) -> Self::Ring;

    /// Starts process `pid` (a new Worker) running `binary` on `ring`, with its
    /// startup blocks (CapSet, argv, environment). Failure to start (a module
    /// that does not compile, a runtime that cannot be loaded or fails its
    /// SHA-256 check) is reported later through
    /// [`Kernel::process_failed`](crate::kernel::Kernel::process_failed).
    fn start_process(
        &mut self,
        pid: u32,
        name: &str,
        binary: &Binary,
        ring: &Self::Ring,
        startup: &Startup<'_>,
    );

    /// Stops process `pid`'s Worker for good.
    fn stop_process(&mut self, pid: u32);

    /// Publishes a view model to the (untrusted) UI.
    fn emit(&mut self, event: UiEvent);

    /// Monotonic nanoseconds since the kernel started.
    fn now_ns(&mut self) -> u64;

    /// Nanoseconds since the Unix epoch.
    fn realtime_ns(&mut self) -> u64;

    /// Fills `buf` with cryptographically secure random bytes.
    fn fill_random(&mut self, buf: &mut [u8]);
}
