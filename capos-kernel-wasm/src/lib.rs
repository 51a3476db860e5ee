//! The capOS kernel for the browser.
//!
//! It runs in a dedicated Web Worker and is the only holder of capabilities:
//! every process's [`CapTable`](capos_lib::CapTable) lives here. Processes
//! reach it only through their ring; the main thread gets view models
//! ([`view::UiEvent`]) and never a `CapId`.
//!
//! The kernel proper ([`kernel::Kernel`]) is substrate-free and unit-tested
//! on the host against in-memory rings; [`web`] (wasm32 only) binds it to
//! SharedArrayBuffers and to the JavaScript that creates Workers.

pub mod caps;
pub mod exit_code;
pub mod fs_tree;
#[cfg(any(test, feature = "harness"))]
pub mod harness;
pub mod host;
mod inspect;
pub mod kernel;
pub mod manifest;
mod process;
pub mod view;

#[cfg(target_arch = "wasm32")]
mod web;

#[cfg(test)]
mod tests;
