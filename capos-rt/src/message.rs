//! Building params and reading results with the generated Cap'n Proto code.

use crate::{CapRef, Error};
use capos_schema::cap_capnp;

pub type Builder = capnp::message::Builder<capnp::message::HeapAllocator>;
pub type Reader = capnp::message::Reader<capnp::serialize::OwnedSegments>;

/// A params builder sized for ring-slot messages (capnp's default first
/// segment is 8 KiB, zeroed for every message).
pub fn builder() -> Builder {
    Builder::new(capnp::message::HeapAllocator::new().first_segment_words(32))
}

/// Serializes a built message.
pub fn bytes(message: &Builder) -> Vec<u8> {
    capnp::serialize::write_message_to_words(message)
}

/// Parses a results message (bounded by one ring slot).
pub fn read(data: &[u8]) -> Result<Reader, Error> {
    Ok(capnp::serialize::read_message(
        &mut &data[..],
        capnp::message::ReaderOptions::new(),
    )?)
}

pub fn cap_ref(r: cap_capnp::cap_ref::Reader<'_>) -> CapRef {
    CapRef {
        cap_id: r.get_cap_id(),
        interface_id: r.get_interface_id(),
    }
}

/// Whether a capability handed to another process stays with the sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transfer {
    /// The sender keeps it; both hold the same object.
    Copy,
    /// It leaves the sender (its id there becomes stale).
    Move,
}

impl Transfer {
    pub fn schema(self) -> cap_capnp::TransferMode {
        match self {
            Self::Copy => cap_capnp::TransferMode::Copy,
            Self::Move => cap_capnp::TransferMode::Move,
        }
    }

    pub fn from_schema(mode: cap_capnp::TransferMode) -> Self {
        match mode {
            cap_capnp::TransferMode::Copy => Self::Copy,
            cap_capnp::TransferMode::Move => Self::Move,
        }
    }
}

pub fn set_transfers(
    mut list: capnp::struct_list::Builder<'_, cap_capnp::cap_transfer::Owned>,
    caps: &[(CapRef, Transfer)],
) {
    for (i, (cap, mode)) in caps.iter().enumerate() {
        let mut t = list.reborrow().get(i as u32);
        t.set_cap_id(cap.cap_id);
        t.set_mode(mode.schema());
    }
}

pub fn text(field: capnp::Result<capnp::text::Reader<'_>>) -> Result<String, Error> {
    field?
        .to_string()
        .map_err(|_| Error::Other("kernel sent text that is not UTF-8".into()))
}
