//! The program's memory. The shim is its own wasm instance with its own
//! memory; it reaches the program's only through these imports, which the
//! process Worker glue bounds-checks (a bad pointer is EFAULT, never a trap).

use capos_rt::config::errno::{EFAULT, Errno};

#[cfg(target_arch = "wasm32")]
// SAFETY: these signatures are the ones web/process/wasi-imports.js provides.
#[link(wasm_import_module = "capos_app")]
unsafe extern "C" {
    fn app_read(app_ptr: u32, len: u32, dst: *mut u8) -> u32;
    fn app_write(app_ptr: u32, src: *const u8, len: u32) -> u32;
}

/// Copies `len` bytes of program memory at `ptr`.
#[cfg(target_arch = "wasm32")]
pub fn read(ptr: u32, len: u32) -> Result<Vec<u8>, Errno> {
    let mut buf = vec![0u8; len as usize];
    // SAFETY: `buf` is a writable region of our memory of exactly `len` bytes.
    match unsafe { app_read(ptr, len, buf.as_mut_ptr()) } {
        0 => Ok(buf),
        _ => Err(EFAULT),
    }
}

/// Copies `data` into program memory at `ptr`.
#[cfg(target_arch = "wasm32")]
pub fn write(ptr: u32, data: &[u8]) -> Result<(), Errno> {
    // SAFETY: `data` is a readable region of our memory of that length.
    match unsafe { app_write(ptr, data.as_ptr(), data.len() as u32) } {
        0 => Ok(()),
        _ => Err(EFAULT),
    }
}

// On the host (the fuzz harness), the program's memory is a buffer, checked as the glue checks it.
#[cfg(not(target_arch = "wasm32"))]
thread_local! {
    static HOST_APP: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Sets the program's memory (host only).
#[cfg(not(target_arch = "wasm32"))]
pub fn set_memory(memory: Vec<u8>) {
    HOST_APP.with(|m| *m.borrow_mut() = memory);
}

#[cfg(not(target_arch = "wasm32"))]
fn span(ptr: u32, len: usize, size: usize) -> Result<std::ops::Range<usize>, Errno> {
    let start = ptr as usize;
    match start.checked_add(len) {
        Some(end) if end <= size => Ok(start..end),
        _ => Err(EFAULT),
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub fn read(ptr: u32, len: u32) -> Result<Vec<u8>, Errno> {
    HOST_APP.with(|m| {
        let m = m.borrow();
        Ok(m[span(ptr, len as usize, m.len())?].to_vec())
    })
}

#[cfg(not(target_arch = "wasm32"))]
pub fn write(ptr: u32, data: &[u8]) -> Result<(), Errno> {
    HOST_APP.with(|m| {
        let mut m = m.borrow_mut();
        let range = span(ptr, data.len(), m.len())?;
        m[range].copy_from_slice(data);
        Ok(())
    })
}

pub fn write_u32(ptr: u32, value: u32) -> Result<(), Errno> {
    write(ptr, &value.to_le_bytes())
}

pub fn write_u64(ptr: u32, value: u64) -> Result<(), Errno> {
    write(ptr, &value.to_le_bytes())
}

/// An iovec array: (buffer pointer, length) pairs.
pub fn iovecs(ptr: u32, count: u32) -> Result<Vec<(u32, u32)>, Errno> {
    let bytes = read(ptr, count.checked_mul(8).ok_or(EFAULT)?)?;
    Ok(bytes
        .chunks_exact(8)
        .map(|c| {
            (
                u32::from_le_bytes(c[0..4].try_into().expect("4 bytes")),
                u32::from_le_bytes(c[4..8].try_into().expect("4 bytes")),
            )
        })
        .collect())
}
