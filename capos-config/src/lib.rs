//! The capOS kernel/process ABI, typed once.
//!
//! Everything both sides of a process's ring must agree on lives here: the
//! shared-memory ring layout and its producer/consumer protocol
//! ([`ring`]), the CapSet a process is booted with ([`capset`]), and the
//! validated form of a boot manifest ([`manifest`]). JavaScript gets the same
//! numbers from [`js::layout_module`], generated at build time, never typed
//! by hand. The WASI errno numbers in file-system results, which the kernel
//! and the WASI shim share, are in [`errno`].
//!
//! `no_std + alloc`, no `unsafe`: builds for the host and for wasm32.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod capset;
pub mod errno;
pub mod js;
pub mod manifest;
pub mod ring;

pub use manifest::TransferMode;
