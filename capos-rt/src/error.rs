use capos_config::ring::{CapError, PushError, RingViolation};
use std::fmt;

/// Everything a capability call can fail with, as a program sees it.
#[derive(Debug)]
pub enum Error {
    /// The kernel refused or failed the call (the message is the kernel's).
    Cap { error: CapError, message: String },
    /// The CapSet has no capability under this name.
    MissingCap(String),
    /// The CapSet's capability under this name serves another interface.
    WrongCapType {
        name: String,
        expected: u64,
        found: u64,
    },
    /// The params could not be queued.
    Push(PushError),
    /// The kernel broke the ring protocol.
    Ring(RingViolation),
    /// A Cap'n Proto message could not be built or read.
    Capnp(capnp::Error),
    /// A file-system call's results carried this WASI errno (a deferred
    /// write's, reported by the next call on the file).
    Errno(u16),
    /// Anything else a program wants to report.
    Other(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cap { error, message } => write!(f, "{error}: {message}"),
            Self::MissingCap(name) => {
                write!(f, "no capability named {name:?} in this process's CapSet")
            }
            Self::WrongCapType {
                name,
                expected,
                found,
            } => write!(
                f,
                "capability {name:?} serves interface {found:#x}, not the expected {expected:#x}"
            ),
            Self::Push(e) => write!(f, "cannot queue call: {e}"),
            Self::Ring(e) => write!(f, "ring protocol violation: {e}"),
            Self::Capnp(e) => write!(f, "Cap'n Proto: {e}"),
            Self::Errno(n) => write!(f, "the call failed with errno {n}"),
            Self::Other(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

impl From<capnp::Error> for Error {
    fn from(e: capnp::Error) -> Self {
        Self::Capnp(e)
    }
}

impl From<RingViolation> for Error {
    fn from(e: RingViolation) -> Self {
        Self::Ring(e)
    }
}

impl From<PushError> for Error {
    fn from(e: PushError) -> Self {
        Self::Push(e)
    }
}

impl From<capnp::NotInSchema> for Error {
    fn from(e: capnp::NotInSchema) -> Self {
        Self::Capnp(e.into())
    }
}

impl From<core::str::Utf8Error> for Error {
    fn from(e: core::str::Utf8Error) -> Self {
        Self::Other(format!("text that is not UTF-8: {e}"))
    }
}
