//! The dispatch trait every kernel-served capability implements.
//!
//! The kernel resolves an SQE's `CapId` in the caller's [`CapTable`], checks
//! the interface id, and hands the call to the object. The object sees the
//! decoded call and a mutable view of kernel state `K` (generic, so this crate
//! stays free of any substrate), and answers with a [`Completion`].
//!
//! [`CapTable`]: crate::CapTable

use alloc::string::String;
use alloc::vec::Vec;

pub use capos_config::ring::CapError;

/// One invocation, as the kernel decoded it from an SQE.
#[derive(Debug)]
pub struct CallContext<'a> {
    /// Process id of the caller.
    pub caller: u32,
    /// The caller's `user_data`, echoed in the completion.
    pub user_data: u64,
    /// Method ordinal (the `@N` of the method in the schema).
    pub method: u16,
    /// The Cap'n Proto params message, as the caller wrote it.
    pub params: &'a [u8],
    /// Badge of the capability the caller invoked (0 for an unbadged one).
    pub badge: u64,
}

/// How a call ended, or that it will end later.
#[derive(Debug, PartialEq, Eq)]
pub enum Completion {
    /// Finished: the Cap'n Proto results message (may be empty).
    Done(Vec<u8>),
    /// Refused or failed, with a message for a human.
    Failed(CapError, String),
    /// The object will complete the call later (the kernel keeps the caller's
    /// CQ room reserved until it does).
    Pending,
}

/// A capability served by the kernel.
pub trait CapObject<K: ?Sized> {
    /// The Cap'n Proto interface id this object serves.
    fn interface_id(&self) -> u64;
    /// The interface's name, for view models and error messages.
    fn interface_name(&self) -> &'static str;
    /// Serves one call.
    fn call(&self, kernel: &mut K, call: &CallContext<'_>) -> Completion;

    /// The object as `Any`, for the few calls that take another of the
    /// caller's capabilities as an argument and must know its concrete type
    /// (a rename's destination directory, say). `None` by default.
    fn as_any(&self) -> Option<&dyn core::any::Any> {
        None
    }
}
