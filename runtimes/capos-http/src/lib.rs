//! capOS's `capos_http` import module (capos-wasi/src/http.rs serves it;
//! docs/host-capabilities.md documents it), as safe functions: the one place
//! the runtimes' `fetch()` (QuickJS) and `capos.fetch` (Python) reach it.
//! Without a Fetch or HttpEndpoint capability every request fails with
//! `ENOTCAPABLE` and the shim's reason. `serve` is the other direction: HTTP
//! served on a listening socket, for the runtimes' `serve(handler)`.

pub mod serve;

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

use capos_config::errno::ENOBUFS;
pub use capos_config::errno::{
    EACCES, EBADF, ECONNREFUSED, EINVAL, EMFILE, EMSGSIZE, ENOTCAPABLE, ETIMEDOUT, Errno,
};

/// A failed call: its errno and the shim's words for why.
#[derive(Debug)]
pub struct Failure {
    pub errno: Errno,
    pub message: String,
}

impl Failure {
    /// The errno's POSIX name ("ENOTCAPABLE").
    pub fn code(&self) -> &'static str {
        match self.errno {
            EACCES => "EACCES",
            EBADF => "EBADF",
            ECONNREFUSED => "ECONNREFUSED",
            EINVAL => "EINVAL",
            EMFILE => "EMFILE",
            EMSGSIZE => "EMSGSIZE",
            ETIMEDOUT => "ETIMEDOUT",
            ENOTCAPABLE => "ENOTCAPABLE",
            _ => "EIO",
        }
    }

    fn last(errno: u32) -> Self {
        let errno = Errno::try_from(errno).unwrap_or(capos_config::errno::EIO);
        // SAFETY: `sized` passes a live buffer and its length.
        let (_, message) = sized(|buf, len, size| unsafe { capos_http_last_error(buf, len, size) });
        Self {
            errno,
            message: String::from_utf8_lossy(&message).into_owned(),
        }
    }
}

/// A response whose head has arrived.
#[derive(Debug)]
pub struct Head {
    pub handle: u32,
    pub status: u32,
    /// `name: value\n` lines.
    pub headers: String,
}

/// A buffer filled by `call(ptr, len, size_out)`, grown once if ENOBUFS says so.
fn sized(call: impl Fn(*mut u8, usize, *mut u32) -> u32) -> (u32, Vec<u8>) {
    let mut buf = vec![0u8; 4096];
    let mut size = 0u32;
    let mut errno = call(buf.as_mut_ptr(), buf.len(), &mut size);
    if errno == u32::from(ENOBUFS) {
        buf = vec![0u8; size as usize];
        errno = call(buf.as_mut_ptr(), buf.len(), &mut size);
    }
    buf.truncate((size as usize).min(buf.len()));
    (errno, buf)
}

/// Sends a request (`headers` as `name: value` lines; `timeout_ms` 0 for the
/// default) and returns once its head has arrived.
pub fn request(
    method: &str,
    url: &str,
    headers: &str,
    body: &[u8],
    timeout_ms: u32,
) -> Result<Head, Failure> {
    let mut handle = 0u32;
    let mut status = 0u32;
    // SAFETY: every (pointer, length) pair describes a live buffer and the
    // out-pointers are live locals; the shim bounds-checks them all.
    let errno = unsafe {
        capos_http_request(
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
        return Err(Failure::last(errno));
    }
    // SAFETY: `sized` passes a live buffer and its length.
    let (errno, head) =
        sized(|buf, len, size| unsafe { capos_http_headers(handle, buf, len, size) });
    if errno != 0 {
        close(handle);
        return Err(Failure::last(errno));
    }
    Ok(Head {
        handle,
        status,
        headers: String::from_utf8_lossy(&head).into_owned(),
    })
}

/// Up to `max` more bytes of the body; empty at its end.
pub fn read(handle: u32, max: usize) -> Result<Vec<u8>, Failure> {
    let mut buf = vec![0u8; max.max(1)];
    let mut n = 0u32;
    // SAFETY: `buf` is live and `buf.len()` long; `n` is a live local.
    let errno = unsafe { capos_http_read(handle, buf.as_mut_ptr(), buf.len(), &mut n) };
    if errno != 0 {
        return Err(Failure::last(errno));
    }
    buf.truncate(n as usize);
    Ok(buf)
}

/// Forgets a response, cancelling what is left of its body.
pub fn close(handle: u32) {
    // SAFETY: a plain call; an unknown handle is only EBADF.
    unsafe {
        capos_http_close(handle);
    }
}
