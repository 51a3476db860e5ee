//! How processes end: the exit codes the kernel gives a process that did not
//! choose its own, and the kinds of ending the page shows.

/// How a process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// It called `exit` (or returned from its entry point).
    Exited,
    /// The kernel ended it: `ProcessHandle.kill`, a ring violation, a halt.
    Killed,
    Panicked,
    Trapped,
    /// Its module could not be compiled, instantiated or started.
    Failed,
}

impl Ending {
    /// The state the page shows for a process that ended this way.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Exited => "exited",
            Self::Killed => "killed",
            Self::Panicked => "panicked",
            Self::Trapped => "trapped",
            Self::Failed => "failed",
        }
    }
}

/// The process panicked (Rust's convention).
pub const PANICKED: i32 = 101;
/// The process's module could not be compiled, instantiated or started.
pub const START_FAILED: i32 = 127;
/// The process trapped (unreachable, out-of-bounds access, ...): 128 + SIGABRT,
/// as `wasmtime` reports a trap.
pub const TRAPPED: i32 = 134;
/// The kernel killed the process (system halt, or it broke the ring protocol).
pub const KILLED: i32 = 137;
