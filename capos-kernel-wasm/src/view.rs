//! View models: all the main thread ever learns from the kernel. They name
//! processes by pid and capabilities only by count; never a `CapId`.

use serde::Serialize;

/// Which output stream a Console writes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Stream {
    Stdout,
    Stderr,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessView {
    pub pid: u32,
    pub name: String,
    pub state: &'static str,
    /// How many capabilities the process holds.
    pub caps: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum UiEvent {
    /// Text a process wrote to its Console.
    Console {
        pid: u32,
        stream: Stream,
        text: String,
    },
    /// The process table changed.
    Processes { processes: Vec<ProcessView> },
    /// A process ended and was reaped.
    ProcessExited {
        pid: u32,
        name: String,
        code: i32,
        reason: String,
    },
    /// The manifest could not be booted.
    BootError { message: String },
    /// init ended; the system is down (every process has been reaped).
    Halted { code: i32, reason: String },
}
