//! Capabilities the kernel serves itself. Each is a small `CapObject` whose
//! `call` decodes its params with the generated reader, acts on kernel
//! state, and answers with a generated results message.

mod boot_package;
mod console;
mod echo;
pub mod fs;
mod ipc;
mod panic_trigger;
pub mod process;
mod random;
mod timer;

pub use boot_package::BootPackage;
pub use console::{Console, read_results, readable_results};
pub use echo::Echo;
pub use ipc::{Endpoint, EndpointFactory, EndpointState};
pub use panic_trigger::KernelPanicTrigger;
pub use process::{ProcessHandle, ProcessSpawner};
pub use random::RandomSource;
pub use timer::Timer;

use crate::kernel::GrantedCap;
use capos_config::manifest::TransferMode;
use capos_lib::{CapError, Completion};
use capos_schema::cap_capnp;

/// The generated reader of a params message, sized for one ring slot.
pub(crate) type Params = capnp::message::Reader<capnp::serialize::OwnedSegments>;

pub(crate) fn read_params(params: &[u8]) -> Result<Params, Completion> {
    let options = capnp::message::ReaderOptions {
        traversal_limit_in_words: Some(params.len() / 8 + 64),
        nesting_limit: 16,
    };
    capnp::serialize::read_message(&mut &params[..], options).map_err(|e| {
        fail(
            CapError::BadParams,
            format!("params are not a Cap'n Proto message: {e}"),
        )
    })
}

pub(crate) fn fail(error: CapError, message: impl Into<String>) -> Completion {
    Completion::Failed(error, message.into())
}

pub(crate) fn bad_params(e: impl std::fmt::Display) -> Completion {
    fail(CapError::BadParams, e.to_string())
}

pub(crate) fn unknown_method(interface: &str, method: u16) -> Completion {
    fail(
        CapError::UnknownMethod,
        format!("{interface} has no method @{method}"),
    )
}

/// An empty results message.
pub(crate) fn done() -> Completion {
    Completion::Done(Vec::new())
}

/// A finished results message.
pub(crate) fn encode(
    message: &capnp::message::Builder<capnp::message::HeapAllocator>,
) -> Completion {
    Completion::Done(capnp::serialize::write_message_to_words(message))
}

/// `?` for code that builds `Result<_, Completion>`.
pub(crate) fn outcome(result: Result<Completion, Completion>) -> Completion {
    result.unwrap_or_else(|failed| failed)
}

pub(crate) fn set_cap_ref(mut builder: cap_capnp::cap_ref::Builder<'_>, cap: GrantedCap) {
    builder.set_cap_id(cap.cap_id);
    builder.set_interface_id(cap.interface_id);
}

pub(crate) fn transfer_mode(mode: cap_capnp::TransferMode) -> TransferMode {
    match mode {
        cap_capnp::TransferMode::Copy => TransferMode::Copy,
        cap_capnp::TransferMode::Move => TransferMode::Move,
    }
}

pub(crate) fn schema_transfer_mode(mode: TransferMode) -> cap_capnp::TransferMode {
    match mode {
        TransferMode::Copy => cap_capnp::TransferMode::Copy,
        TransferMode::Move => cap_capnp::TransferMode::Move,
    }
}

/// Most capabilities one message may carry.
pub const MAX_CAPS_PER_MESSAGE: u32 = 16;

/// Reads a list of `CapTransfer`s.
pub(crate) fn read_transfers(
    list: capnp::struct_list::Reader<'_, cap_capnp::cap_transfer::Owned>,
) -> Result<Vec<(u32, TransferMode)>, Completion> {
    if list.len() > MAX_CAPS_PER_MESSAGE {
        return Err(fail(
            CapError::TooLarge,
            format!(
                "{} capabilities in one message (at most {MAX_CAPS_PER_MESSAGE})",
                list.len()
            ),
        ));
    }
    list.iter()
        .map(|t| {
            Ok((
                t.get_cap_id(),
                transfer_mode(t.get_mode().map_err(bad_params)?),
            ))
        })
        .collect()
}

/// A Text field as a String; invalid UTF-8 is BadParams.
pub(crate) fn text(field: capnp::Result<capnp::text::Reader<'_>>) -> Result<String, Completion> {
    field
        .map_err(bad_params)?
        .to_string()
        .map_err(|_| bad_params("text is not valid UTF-8"))
}

/// A results message builder sized for ring-slot messages: capnp's default
/// first segment is 8 KiB, zeroed on every call, which dominated small calls.
pub(crate) fn results_builder() -> capnp::message::Builder<capnp::message::HeapAllocator> {
    capnp::message::Builder::new(capnp::message::HeapAllocator::new().first_segment_words(32))
}
