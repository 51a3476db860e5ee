//! The dispatch traits every kernel-served capability implements.
//!
//! The kernel resolves an SQE's `CapId` in the caller's [`CapTable`], checks
//! the interface id, decodes the params message in place and hands the call
//! to the object with a results builder. The object sees the decoded call and
//! a mutable view of kernel state `K` (generic, so this crate stays free of
//! any substrate). Objects are normally written against the server trait
//! `schema/build.rs` generates for their interface, not against this trait.
//!
//! [`CapTable`]: crate::CapTable

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

pub use capos_config::ring::CapError;

/// One invocation, as the kernel decoded it from an SQE.
#[derive(Clone, Copy, Debug)]
pub struct CallContext {
    /// Process id of the caller.
    pub caller: u32,
    /// The caller's `user_data`, echoed in the completion.
    pub user_data: u64,
    /// Method ordinal (the `@N` of the method in the schema).
    pub method: u16,
    /// Badge of the capability the caller invoked (0 for an unbadged one).
    pub badge: u64,
}

/// A call refused or failed, with a message for a human.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    pub error: CapError,
    pub message: String,
}

impl Fault {
    pub fn new(error: CapError, message: impl Into<String>) -> Self {
        Self {
            error,
            message: message.into(),
        }
    }

    /// The params did not decode as the method's params type.
    pub fn bad_params(e: impl fmt::Display) -> Self {
        Self::new(CapError::BadParams, e.to_string())
    }

    pub fn unknown_method(interface: &str, method: u16) -> Self {
        Self::new(
            CapError::UnknownMethod,
            alloc::format!("{interface} has no method @{method}"),
        )
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error, self.message)
    }
}

impl From<capnp::Error> for Fault {
    fn from(e: capnp::Error) -> Self {
        Self::bad_params(e)
    }
}

/// How a call that did not fail went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Served {
    /// Finished: its results are in the results builder the call was given.
    Done,
    /// Parked: the object will finish it later through the kernel's single
    /// completion path (the kernel keeps the caller's CQ room reserved).
    Pending,
}

/// What serving a call returns.
pub type Reply = Result<Served, Fault>;

/// How a parked call ended: what the kernel's completion path posts.
#[derive(Debug, PartialEq, Eq)]
pub enum Completion {
    /// The serialized Cap'n Proto results message (may be empty).
    Done(Vec<u8>),
    Failed(Fault),
}

impl From<Fault> for Completion {
    fn from(fault: Fault) -> Self {
        Self::Failed(fault)
    }
}

/// A capability served by the kernel.
pub trait CapObject<K: ?Sized> {
    /// The Cap'n Proto interface id this object serves.
    fn interface_id(&self) -> u64;
    /// The interface's name, for view models and error messages.
    fn interface_name(&self) -> &'static str;
    /// Serves one call: `params` is the root of the caller's params message,
    /// `results` the root of the results message the kernel posts if the
    /// call is [`Served::Done`].
    fn call(
        &self,
        kernel: &mut K,
        call: &CallContext,
        params: capnp::any_pointer::Reader<'_>,
        results: capnp::any_pointer::Builder<'_>,
    ) -> Reply;

    /// The object as `Any`, for the few calls that are handed another
    /// capability as an argument and must know its concrete type (a rename's
    /// destination directory, say). `None` by default.
    fn as_any(&self) -> Option<&dyn core::any::Any> {
        None
    }

    /// For the inspector: a key naming the kernel object this capability
    /// designates when several capability objects share one (an endpoint's
    /// server and its call-only copies share the endpoint), any value that
    /// is stable and unique while the object lives. `None` (the default):
    /// the capability object is itself the kernel object.
    fn designates(&self) -> Option<usize> {
        None
    }

    /// For the inspector: a few words that tell this object from others of
    /// its interface ("stdout", `prefix "[1] "`), or `None`.
    fn describe(&self) -> Option<String> {
        None
    }
}

/// State a group of capabilities shares (the terminal's input, the file
/// trees, the endpoints), owned by the service rather than by the kernel
/// core, which knows it only through these hooks.
pub trait Service<K: ?Sized> {
    /// Process `pid` ended with `code`: forget or fail what it was owed.
    fn on_exit(&self, _kernel: &mut K, _pid: u32, _code: i32, _reason: &str) {}
    /// Capabilities were dropped or processes ended: fail the parked calls
    /// that can no longer complete.
    fn settle(&self, _kernel: &mut K) {}
    /// The deadline of timer `timer`, which this service set, has passed.
    fn on_timer(&self, _kernel: &mut K, _timer: u64) {}
    /// The system halted: publish whatever must outlive it.
    fn on_halt(&self, _kernel: &mut K) {}
    /// The terminal the system is attached to sent input (typed on the
    /// page, or piped to `capos run`).
    fn on_terminal(&self, _kernel: &mut K, _input: TerminalEvent<'_>) {}
}

/// What the terminal sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TerminalEvent<'a> {
    Bytes(&'a [u8]),
    /// Input ended (Ctrl-D on the page, EOF on `capos run`'s stdin).
    End,
}
