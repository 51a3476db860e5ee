//! Building params and reading results with the generated Cap'n Proto code,
//! for what the generated clients (`capos_schema::clients`) leave to their
//! callers: raw calls, lists of capabilities, text.

use crate::{CapRef, Error, TransferMode};
use capos_schema::cap_capnp;

pub type Builder = capnp::message::Builder<capnp::message::HeapAllocator>;
pub type Reader = capnp::message::Reader<capnp::serialize::OwnedSegments>;

/// A params builder sized for ring-slot messages (the one every generated
/// request uses).
pub fn builder() -> Builder {
    capos_schema::rpc::params_builder()
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

/// Fills a list of `CapTransfer`s: each capability of the caller's and
/// whether it is copied or moved.
pub fn set_transfers(
    mut list: capnp::struct_list::Builder<'_, cap_capnp::cap_transfer::Owned>,
    caps: &[(CapRef, TransferMode)],
) {
    for (i, (cap, mode)) in caps.iter().enumerate() {
        set_transfer(list.reborrow().get(i as u32), *cap, *mode);
    }
}

/// Fills one `CapTransfer`.
pub fn set_transfer(
    mut transfer: cap_capnp::cap_transfer::Builder<'_>,
    cap: CapRef,
    mode: TransferMode,
) {
    transfer.set_cap_id(cap.cap_id);
    transfer.set_mode(mode.into());
}

pub fn text(field: capnp::Result<capnp::text::Reader<'_>>) -> Result<String, Error> {
    field?
        .to_string()
        .map_err(|_| Error::Other("kernel sent text that is not UTF-8".into()))
}
