//! `_capos_http`: capOS's `capos_http` import module (capos-wasi/src/http.rs)
//! as Python functions, for the `capos` module (`capos.py`) to build
//! `capos.fetch` on. Served by the Fetch or HttpEndpoint capabilities the
//! process holds; without one, every request raises `PermissionError`
//! (ENOTCAPABLE) with the shim's reason.

#[link(wasm_import_module = "capos_http")]
unsafe extern "C" {
    #[link_name = "request"]
    fn capos_http_request(
        method: *const u8,
        method_len: usize,
        url: *const u8,
        url_len: usize,
        headers: *const u8,
        headers_len: usize,
        body: *const u8,
        body_len: usize,
        timeout_ms: u32,
        handle: *mut u32,
        status: *mut u32,
    ) -> u32;
    #[link_name = "headers"]
    fn capos_http_headers(handle: u32, buf: *mut u8, len: usize, size: *mut u32) -> u32;
    #[link_name = "read"]
    fn capos_http_read(handle: u32, buf: *mut u8, len: usize, n: *mut u32) -> u32;
    #[link_name = "close"]
    fn capos_http_close(handle: u32) -> u32;
    #[link_name = "last_error"]
    fn capos_http_last_error(buf: *mut u8, len: usize, size: *mut u32) -> u32;
}

/// WASI's ENOBUFS: the buffer was too small; the size needed was written.
const ENOBUFS: u32 = 42;

/// A buffer filled by `call(ptr, len, size_out)`, grown once if ENOBUFS says so.
fn sized(call: impl Fn(*mut u8, usize, *mut u32) -> u32) -> (u32, Vec<u8>) {
    let mut buf = vec![0u8; 4096];
    let mut size = 0u32;
    let mut errno = call(buf.as_mut_ptr(), buf.len(), &mut size);
    if errno == ENOBUFS {
        buf = vec![0u8; size as usize];
        errno = call(buf.as_mut_ptr(), buf.len(), &mut size);
    }
    buf.truncate((size as usize).min(buf.len()));
    (errno, buf)
}

/// Why the last call failed, in the shim's words.
fn last_error() -> String {
    // SAFETY: the pointer and length describe the buffer `sized` owns.
    let (_, message) = sized(|buf, len, size| unsafe { capos_http_last_error(buf, len, size) });
    String::from_utf8_lossy(&message).into_owned()
}

#[rustpython_vm::pymodule]
pub mod _capos_http {
    use rustpython_vm::builtins::PyBytesRef;
    use rustpython_vm::{PyResult, VirtualMachine};

    /// An OSError subclass for `errno` (PermissionError for EACCES and
    /// ENOTCAPABLE, ConnectionRefusedError, TimeoutError...), with the
    /// shim's message.
    fn error(vm: &VirtualMachine, errno: u32) -> rustpython_vm::builtins::PyBaseExceptionRef {
        let message = super::last_error();
        let kind = match errno {
            2 | 76 => vm.ctx.exceptions.permission_error,
            14 => vm.ctx.exceptions.connection_refused_error,
            73 => vm.ctx.exceptions.timeout_error,
            28 | 35 => vm.ctx.exceptions.value_error,
            _ => vm.ctx.exceptions.os_error,
        };
        vm.new_exception_msg(kind.to_owned(), message.into())
    }

    /// `(handle, status, headers)`; headers as `name: value\n` lines.
    #[pyfunction]
    fn request(
        method: String,
        url: String,
        headers: String,
        body: PyBytesRef,
        timeout_ms: u32,
        vm: &VirtualMachine,
    ) -> PyResult<(u32, u32, String)> {
        let body = body.as_bytes();
        let mut handle = 0u32;
        let mut status = 0u32;
        // SAFETY: every (pointer, length) pair describes a live buffer and the
        // out-pointers are live locals; the shim bounds-checks them all.
        let errno = unsafe {
            super::capos_http_request(
                method.as_ptr(),
                method.len(),
                url.as_ptr(),
                url.len(),
                headers.as_ptr(),
                headers.len(),
                body.as_ptr(),
                body.len(),
                timeout_ms,
                &mut handle,
                &mut status,
            )
        };
        if errno != 0 {
            return Err(error(vm, errno));
        }
        // SAFETY: as above, the shim writes within the buffer given.
        let (errno, head) = super::sized(|buf, len, size| unsafe {
            super::capos_http_headers(handle, buf, len, size)
        });
        if errno != 0 {
            return Err(error(vm, errno));
        }
        Ok((handle, status, String::from_utf8_lossy(&head).into_owned()))
    }

    /// Up to `size` bytes of the body; empty at its end.
    #[pyfunction]
    fn read(handle: u32, size: u32, vm: &VirtualMachine) -> PyResult<Vec<u8>> {
        let mut buf = vec![0u8; size.clamp(1, 1 << 20) as usize];
        let mut n = 0u32;
        // SAFETY: `buf` is live and `buf.len()` long; `n` is a live local.
        let errno = unsafe { super::capos_http_read(handle, buf.as_mut_ptr(), buf.len(), &mut n) };
        if errno != 0 {
            return Err(error(vm, errno));
        }
        buf.truncate(n as usize);
        Ok(buf)
    }

    #[pyfunction]
    fn close(handle: u32) {
        // SAFETY: a plain call; an unknown handle is only EBADF.
        unsafe {
            super::capos_http_close(handle);
        }
    }
}
