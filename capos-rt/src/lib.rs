//! The runtime every native capOS program links.
//!
//! A program is a `wasm32-unknown-unknown` module run in its own Worker. Its
//! only way out is its capability ring: it queues SQEs, wakes the kernel and
//! blocks in [`cap_enter`](ring::RingClient::cap_enter) (an `Atomics.wait`
//! done for it by the Worker glue) until completions arrive. Its authority is
//! exactly the capabilities listed in its [`CapSet`].
//!
//! ```text
//! capos_rt::entry!(main);
//! fn main(env: &capos_rt::Env) -> Result<(), capos_rt::Error> {
//!     let console = capos_rt::Console::open(env, "console")?;
//!     console.write_line(&format!("hello from pid {}", env.pid))
//! }
//! ```

/// Declares a typed wrapper over an interface's generated client: the
/// struct, and `from_cap`, `open` (the capability granted under a CapSet
/// name, its interface checked) and `cap`. The wrapper's own methods go in
/// an `impl` beside it.
#[macro_export]
#[doc(hidden)]
macro_rules! capability {
    ($(#[$meta:meta])* $name:ident, $iface:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug)]
        pub struct $name {
            client: capos_schema::clients::$name<$crate::RingTransport>,
        }

        impl $name {
            pub fn from_cap(cap: $crate::CapRef) -> Result<Self, $crate::Error> {
                Ok(Self {
                    client: cap.client()?,
                })
            }

            /// The capability granted under `name`.
            pub fn open(env: &$crate::Env, name: &str) -> Result<Self, $crate::Error> {
                Self::from_cap($crate::CapRef::find(
                    &env.capset,
                    name,
                    capos_schema::interfaces::$iface::INTERFACE_ID,
                )?)
            }

            pub fn cap(&self) -> $crate::CapRef {
                $crate::CapRef::of(&self.client)
            }
        }
    };
}

pub mod clipboard;
pub mod console;
pub mod display;
pub mod error;
pub mod fs;
pub mod heap;
pub mod http;
pub mod ipc;
pub mod kv;
pub mod message;
pub mod net;
pub mod random;
pub mod ring;
pub mod spawn;
pub mod timer;
pub mod transport;
pub mod vm;

#[cfg(target_arch = "wasm32")]
mod arch;

/// Every native capOS program's heap: VirtualMemory pages (see `heap`).
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
#[global_allocator]
static HEAP: heap::ProgramHeap = heap::ProgramHeap::new();

/// (pages mapped, pages free, pages the memory grew by) of this program's
/// heap: VirtualMemory's bookkeeping.
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
pub fn heap_pages() -> (usize, usize, usize) {
    HEAP.stats()
}
mod process;

pub use capos_config as config;
pub use capos_config::TransferMode;
pub use capos_config::capset::{CapSet, CapSetEntry};
pub use clipboard::Clipboard;
pub use console::Console;
pub use display::Display;
pub use error::Error;
pub use fs::{Directory, File};
pub use http::{Fetch, HttpEndpoint};
pub use ipc::{Endpoint, EndpointFactory, Incoming, Reply};
pub use kv::{KvStore, KvWriter};
pub use net::{Listener, Stream};
#[cfg(target_arch = "wasm32")]
pub use process::install_panic_hook;
pub use process::{
    CallOutcome, Env, Role, by_role, call, call_batch, call_deferred, call_pair, exit, nop, reap,
    release, run, settle_deferred, sq_waiting, submit_raw, submit_without_reaping,
    take_deferred_error, wait_any,
};
pub use random::RandomSource;
pub use spawn::{BootPackage, ChildSpec, Grant, Names, ProcessHandle, ProcessSpawner};
pub use timer::Timer;
pub use transport::{RingRequest, RingTransport};

/// A capability as the program names it: its id in the program's CapTable
/// and the interface it serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CapRef {
    pub cap_id: u32,
    pub interface_id: u64,
}

impl CapRef {
    /// Looks `name` up in `capset`, checking it serves `interface_id`.
    pub fn find(capset: &CapSet, name: &str, interface_id: u64) -> Result<Self, Error> {
        let entry = capset
            .find(name)
            .ok_or_else(|| Error::MissingCap(name.to_string()))?;
        if entry.interface_id != interface_id {
            return Err(Error::WrongCapType {
                name: name.to_string(),
                expected: interface_id,
                found: entry.interface_id,
            });
        }
        Ok(Self {
            cap_id: entry.cap_id,
            interface_id,
        })
    }
}

/// Declares the program's entry point: `fn main(&Env) -> Result<(), E>`.
/// `Ok` exits 0; `Err` is written to the "console" capability (if the
/// program holds one) and exits 1.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        // SAFETY: `_start` is the single entry point the process Worker calls;
        // nothing else in the module defines this symbol.
        #[unsafe(no_mangle)]
        pub extern "C" fn _start() {
            $crate::run($main)
        }
    };
}
