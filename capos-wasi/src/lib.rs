//! The WASI preview1 shim.
//!
//! A `wasm32-wasip1` program runs as an ordinary capOS process: the process
//! Worker instantiates this module next to it and routes every
//! `wasi_snapshot_preview1` import to the `wasi_*` export of the same name
//! here. Each call is served by a capability from the process's CapSet,
//! through its ring, with the errno the specification gives:
//!
//! | WASI | capability (CapSet name) |
//! |---|---|
//! | fd 0 / fds 1, 2 | Console ("stdin") / Console ("stdout"), Console ("stderr") |
//! | clocks, poll_oneoff timeouts | Timer ("timer") |
//! | random_get | RandomSource ("random") |
//! | args, environ | the ProcessSpec (startup blocks) |
//! | `capos_http` (our import module) | HttpEndpoint / Fetch (any name) |
//!
//! A process holds no authority its spec did not name: without "stdout",
//! fd 1 is EBADF; without "timer", clocks are ENOTCAPABLE. See docs/wasi.md.

#[cfg(any(target_arch = "wasm32", feature = "harness"))]
pub mod app;
pub mod deferred;
#[cfg(any(target_arch = "wasm32", feature = "harness"))]
pub mod exports;
pub mod fds;
#[cfg(any(target_arch = "wasm32", feature = "harness"))]
mod fsclient;
#[cfg(any(target_arch = "wasm32", feature = "harness"))]
mod http;
#[cfg(any(target_arch = "wasm32", feature = "harness"))]
mod sockets;
#[cfg(any(target_arch = "wasm32", feature = "harness"))]
mod state;
