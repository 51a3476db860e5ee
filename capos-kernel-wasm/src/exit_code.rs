//! Exit codes the kernel gives a process that did not choose its own.

/// The process panicked (Rust's convention).
pub const PANICKED: i32 = 101;
/// The process's module could not be compiled, instantiated or started.
pub const START_FAILED: i32 = 127;
/// The process trapped (unreachable, out-of-bounds access, ...): 128 + SIGABRT,
/// as `wasmtime` reports a trap.
pub const TRAPPED: i32 = 134;
/// The kernel killed the process (system halt, or it broke the ring protocol).
pub const KILLED: i32 = 137;
