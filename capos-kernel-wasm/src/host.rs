//! What the kernel needs from its substrate. The browser implementation is
//! in `web.rs`; tests use an in-memory one.

use crate::view::UiEvent;
use capos_config::ring::RingMemory;

pub trait Host: 'static {
    type Ring: RingMemory;

    /// A fresh, zeroed ring shared with exactly one process.
    fn create_ring(&mut self) -> Self::Ring;

    /// Starts process `pid` (a new Worker) running `binary` on `ring`, with its
    /// encoded CapSet and NUL-separated argv. Failure to start is reported
    /// later through [`Kernel::process_failed`](crate::kernel::Kernel::process_failed).
    fn start_process(
        &mut self,
        pid: u32,
        name: &str,
        binary: &[u8],
        ring: &Self::Ring,
        capset: &[u8],
        argv: &[u8],
    );

    /// Stops process `pid`'s Worker for good.
    fn stop_process(&mut self, pid: u32);

    /// Publishes a view model to the (untrusted) UI.
    fn emit(&mut self, event: UiEvent);

    /// Monotonic nanoseconds since the kernel started.
    fn now_ns(&mut self) -> u64;
}
