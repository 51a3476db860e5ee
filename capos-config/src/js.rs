//! The ABI constants as an ES module, so JavaScript never re-types them.
//! `capos export-abi` writes it to the served site at build time.

use crate::capset::{CAPSET_ENTRY_SIZE, CAPSET_HEADER_SIZE};
use crate::ring::*;
use alloc::format;
use alloc::string::String;

/// The ES module text: one `export const` per ABI constant.
pub fn layout_module() -> String {
    let mut out =
        String::from("// Generated from capos-config by `capos export-abi`. Do not edit.\n");
    let consts: &[(&str, i64)] = &[
        ("RING_MAGIC", RING_MAGIC as i64),
        ("RING_VERSION", RING_VERSION as i64),
        ("RING_SIZE", RING_SIZE as i64),
        ("SQ_ENTRIES", SQ_ENTRIES as i64),
        ("CQ_ENTRIES", CQ_ENTRIES as i64),
        ("SLOT_DATA_SIZE", SLOT_DATA_SIZE as i64),
        ("SQ_HEAD", SQ_HEAD as i64),
        ("SQ_TAIL", SQ_TAIL as i64),
        ("CQ_HEAD", CQ_HEAD as i64),
        ("CQ_TAIL", CQ_TAIL as i64),
        ("CQ_DOORBELL", CQ_DOORBELL as i64),
        ("FLAGS", FLAGS as i64),
        ("CQ_WAITING", CQ_WAITING as i64),
        ("PROCESS_STAGE", PROCESS_STAGE as i64),
        ("PROCESS_WAITS", PROCESS_WAITS as i64),
        ("MAGIC", MAGIC as i64),
        ("VERSION", VERSION as i64),
        ("HEADER_SIZE", HEADER_SIZE as i64),
        ("SQE_SIZE", SQE_SIZE as i64),
        ("CQE_SIZE", CQE_SIZE as i64),
        ("SQ_ARRAY", SQ_ARRAY as i64),
        ("CQ_ARRAY", CQ_ARRAY as i64),
        ("SQ_DATA", SQ_DATA as i64),
        ("CQ_DATA", CQ_DATA as i64),
        ("RING_FLAG_KILLED", RING_FLAG_KILLED as i64),
        ("RING_FLAG_CQ_STALLED", RING_FLAG_CQ_STALLED as i64),
        ("OP_NOP", OP_NOP as i64),
        ("OP_CALL", OP_CALL as i64),
        ("OP_RELEASE", OP_RELEASE as i64),
        ("CAPSET_HEADER_SIZE", CAPSET_HEADER_SIZE as i64),
        ("CAPSET_ENTRY_SIZE", CAPSET_ENTRY_SIZE as i64),
    ];
    for (name, value) in consts {
        out.push_str(&format!("export const {name} = {value};\n"));
    }
    out.push_str("export const CAP_ERRORS = Object.freeze({\n");
    for e in CapError::ALL {
        out.push_str(&format!("  {}: {},\n", e.name(), e.code()));
    }
    out.push_str("});\n");
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn module_exports_every_offset_once() {
        let m = super::layout_module();
        assert!(m.contains("export const SQ_TAIL = 64;\n"));
        assert!(m.contains("  UnknownCap: -1,\n"));
        assert_eq!(m.matches("export const RING_SIZE =").count(), 1);
    }
}
