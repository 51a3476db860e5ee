//! Capabilities the kernel serves itself.

mod console;
mod panic_trigger;

pub use console::Console;
pub use panic_trigger::KernelPanicTrigger;

use capos_lib::{CapError, Completion};

/// Reads a params message with limits sized for one ring slot.
pub(crate) fn read_params(
    params: &[u8],
) -> Result<capnp::message::Reader<capnp::serialize::OwnedSegments>, Completion> {
    let options = capnp::message::ReaderOptions {
        traversal_limit_in_words: Some(params.len() / 8 + 64),
        nesting_limit: 16,
    };
    capnp::serialize::read_message(&mut &params[..], options).map_err(|e| {
        Completion::Failed(
            CapError::BadParams,
            format!("params are not a Cap'n Proto message: {e}"),
        )
    })
}

pub(crate) fn bad_params(e: impl std::fmt::Display) -> Completion {
    Completion::Failed(CapError::BadParams, e.to_string())
}

pub(crate) fn unknown_method(interface: &str, method: u16) -> Completion {
    Completion::Failed(
        CapError::UnknownMethod,
        format!("{interface} has no method @{method}"),
    )
}

/// An empty results message.
pub(crate) fn done() -> Completion {
    Completion::Done(Vec::new())
}
