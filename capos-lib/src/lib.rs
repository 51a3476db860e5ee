//! Capability-table logic of the capOS kernel, free of any substrate.
//!
//! `no_std + alloc`: it builds for the host (where it is unit-tested) and for
//! `wasm32-unknown-unknown` (where the kernel Worker uses it).
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod cap_table;
pub mod object;

pub use cap_table::{CapId, CapLookupError, CapTable, CapTableFull};
pub use object::{
    CallContext, CapError, CapObject, Completion, Fault, Reply, Served, Service, TerminalEvent,
};
