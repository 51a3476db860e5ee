//! The ring and the kernel wake word, reached through the imports that
//! web/wasm-peer.js provides (the module's own memory is not shared; the
//! glue copies with `Atomics` and typed arrays on the SharedArrayBuffers).
//! The same pattern as capos-rt's `arch.rs`. The only `unsafe` of the crate.

use capos_config::ring::RingMemory;

mod imports {
    #[link(wasm_import_module = "ring")]
    unsafe extern "C" {
        pub fn load(offset: u32) -> u32;
        pub fn store(offset: u32, value: u32);
        pub fn fetch_add(offset: u32, value: u32) -> u32;
        pub fn read(offset: u32, ptr: *mut u8, len: u32);
        pub fn write(offset: u32, ptr: *const u8, len: u32);
        pub fn notify(offset: u32);
        /// `Atomics.wait` on a ring word, no timeout.
        pub fn wait(offset: u32, expected: u32);
        pub fn kernel_wake_load() -> u32;
        /// `Atomics.wait` on the kernel wake word, no timeout.
        pub fn kernel_wake_wait(expected: u32);
    }
}

pub struct HostRing;

// SAFETY (for every block in this impl): the imports take plain integers, or
// a pointer and length into this module's own memory; the glue bounds-checks
// every ring offset and throws (a trap here) rather than touch anything else.
impl RingMemory for HostRing {
    fn load(&self, offset: usize) -> u32 {
        // SAFETY: see the impl comment.
        unsafe { imports::load(offset as u32) }
    }
    fn store(&self, offset: usize, value: u32) {
        // SAFETY: see the impl comment.
        unsafe { imports::store(offset as u32, value) }
    }
    fn fetch_add(&self, offset: usize, value: u32) -> u32 {
        // SAFETY: see the impl comment.
        unsafe { imports::fetch_add(offset as u32, value) }
    }
    fn read(&self, offset: usize, out: &mut [u8]) {
        // SAFETY: `out` is a writable region of our memory of exactly that length.
        unsafe { imports::read(offset as u32, out.as_mut_ptr(), out.len() as u32) }
    }
    fn write(&self, offset: usize, data: &[u8]) {
        // SAFETY: `data` is a readable region of our memory of exactly that length.
        unsafe { imports::write(offset as u32, data.as_ptr(), data.len() as u32) }
    }
    fn notify(&self, offset: usize) {
        // SAFETY: see the impl comment.
        unsafe { imports::notify(offset as u32) }
    }
    // Nothing to do: `load`/`store`/`fetch_add` are `Atomics` on the ring's
    // SharedArrayBuffer on both sides, and sequentially consistent atomics
    // never reorder a store with a later load of another word.
    fn fence_seqcst(&self) {}
}

impl HostRing {
    /// Sleeps while the ring word at `offset` holds `expected`.
    pub fn wait(&self, offset: usize, expected: u32) {
        // SAFETY: integers only.
        unsafe { imports::wait(offset as u32, expected) }
    }
}

/// The word a process bumps after publishing SQEs; the kernel sleeps on it.
pub struct KernelWake;

impl KernelWake {
    pub fn load(&self) -> u32 {
        // SAFETY: no arguments.
        unsafe { imports::kernel_wake_load() }
    }

    /// Sleeps while the word still holds `expected`.
    pub fn wait(&self, expected: u32) {
        // SAFETY: integers only.
        unsafe { imports::kernel_wake_wait(expected) }
    }
}
