//! The wasm32 edge of the runtime: the host imports the process Worker's
//! glue (web/process/process-worker.js) provides, wrapped in safe functions.
//! This is the only module of capos-rt with `unsafe`.

use crate::ring::KernelPort;
use capos_config::ring::{CQ_WAITING, RingMemory, Span};

// SAFETY: these signatures are the ones web/process/capos-imports.js provides
// (integers and pointer/length pairs into this module's memory).
#[link(wasm_import_module = "capos")]
unsafe extern "C" {
    fn ring_load(offset: u32) -> u32;
    fn ring_store(offset: u32, value: u32);
    fn ring_fetch_add(offset: u32, value: u32) -> u32;
    fn ring_read(offset: u32, ptr: *mut u8, len: u32);
    fn ring_write(offset: u32, ptr: *const u8, len: u32);
    fn ring_notify(offset: u32);
    fn ring_gather(spans: *const Span, count: u32, out: *mut u8, out_len: u32);
    fn ring_scatter(spans: *const Span, count: u32, from: *const u8, from_len: u32);
    fn ring_wait(offset: u32, expected: u32, timeout_ms: i32, waiting_flag: u32) -> u32;
    fn kernel_notify();
    fn startup_len(which: u32) -> u32;
    fn startup_read(which: u32, ptr: *mut u8, len: u32);
    fn process_id() -> u32;
    fn process_exit(code: i32) -> !;
    fn process_panic(ptr: *const u8, len: u32) -> !;
}

/// Startup blocks the Worker glue hands the process (see `startup`).
pub const STARTUP_CAPSET: u32 = 0;
pub const STARTUP_ARGV: u32 = 1;
pub const STARTUP_ENV: u32 = 2;

/// The ring, reached through the glue's `Atomics` on the SharedArrayBuffer
/// (the process's own linear memory is not shared).
pub struct HostRing;

// SAFETY (for every block in this impl): the imports take plain integers, or
// a pointer and length into this module's own linear memory that the glue
// bounds-checks before copying; a bad offset makes the glue throw, which
// ends the process, never corrupts it.
impl RingMemory for HostRing {
    fn load(&self, offset: usize) -> u32 {
        // SAFETY: see the impl comment.
        unsafe { ring_load(offset as u32) }
    }
    fn store(&self, offset: usize, value: u32) {
        // SAFETY: see the impl comment.
        unsafe { ring_store(offset as u32, value) }
    }
    fn fetch_add(&self, offset: usize, value: u32) -> u32 {
        // SAFETY: see the impl comment.
        unsafe { ring_fetch_add(offset as u32, value) }
    }
    fn read(&self, offset: usize, out: &mut [u8]) {
        // SAFETY: `out` is a valid, writable region of our memory of that length.
        unsafe { ring_read(offset as u32, out.as_mut_ptr(), out.len() as u32) }
    }
    fn write(&self, offset: usize, data: &[u8]) {
        // SAFETY: `data` is a valid, readable region of our memory of that length.
        unsafe { ring_write(offset as u32, data.as_ptr(), data.len() as u32) }
    }
    fn notify(&self, offset: usize) {
        // SAFETY: see the impl comment.
        unsafe { ring_notify(offset as u32) }
    }
    fn gather(&self, spans: &[Span], out: &mut [u8]) {
        // SAFETY: `spans` is a readable array of `count` three-u32 spans and
        // `out` a writable region of that length; the glue checks every span
        // against the ring and against `out` before copying.
        unsafe {
            ring_gather(
                spans.as_ptr(),
                spans.len() as u32,
                out.as_mut_ptr(),
                out.len() as u32,
            )
        }
    }
    fn scatter(&self, spans: &[Span], from: &[u8]) {
        // SAFETY: as for `gather`, with `from` a readable region.
        unsafe {
            ring_scatter(
                spans.as_ptr(),
                spans.len() as u32,
                from.as_ptr(),
                from.len() as u32,
            )
        }
    }
    // Nothing to do: the glue's `ring_load`, `ring_store` and
    // `ring_fetch_add` are `Atomics` on the ring's SharedArrayBuffer, as are
    // the kernel's accesses to the index and flag words, and sequentially
    // consistent atomics never reorder a store with a later load of another
    // word. (Our own linear
    // memory is not shared, so a wasm `atomic.fence` here would order
    // nothing the kernel sees.)
    fn fence_seqcst(&self) {}
}

/// Waking the kernel and blocking (`Atomics.wait`) through the glue.
pub struct HostPort;

impl KernelPort for HostPort {
    fn wake_kernel(&self) {
        // SAFETY: no arguments; the glue bumps and notifies the kernel's doorbell.
        unsafe { kernel_notify() }
    }
    fn wait(&self, offset: usize, expected: u32, timeout_ms: Option<u32>) {
        let timeout = timeout_ms.map_or(-1, |t| t.min(i32::MAX as u32) as i32);
        // SAFETY: integers only; the glue raises the ring's CQ_WAITING flag
        // (so the kernel notifies), does `Atomics.wait` on the ring word, and
        // lowers the flag.
        unsafe {
            ring_wait(offset as u32, expected, timeout, CQ_WAITING as u32);
        }
    }
}

/// Copies one startup block (CapSet or argv) into our memory.
pub fn startup(which: u32) -> Vec<u8> {
    // SAFETY: integer in, integer out.
    let len = unsafe { startup_len(which) };
    let mut buf = vec![0u8; len as usize];
    // SAFETY: `buf` is a writable region of exactly `len` bytes.
    unsafe { startup_read(which, buf.as_mut_ptr(), len) };
    buf
}

pub fn pid() -> u32 {
    // SAFETY: no arguments.
    unsafe { process_id() }
}

pub fn exit(code: i32) -> ! {
    // SAFETY: the glue reports the exit to the kernel and unwinds the module;
    // control never comes back here.
    unsafe { process_exit(code) }
}

pub fn panic_exit(message: &str) -> ! {
    // SAFETY: `message` is a readable region of our memory of that length.
    unsafe { process_panic(message.as_ptr(), message.len() as u32) }
}
