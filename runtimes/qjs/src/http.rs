//! HTTP for the prelude's `fetch()`: capOS's `capos_http` import module
//! (capos-wasi/src/http.rs), served by the Fetch or HttpEndpoint
//! capabilities the process holds. Without one, every request throws
//! `ENOTCAPABLE` with the shim's reason.

use rquickjs::{Ctx, Exception, Object, Result, TypedArray, Value};

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
/// Bytes asked for per read.
const READ_CHUNK: usize = 64 * 1024;

/// Installs `httpRequest`, `httpRead` and `httpClose` on `target`.
pub fn install<'js>(ctx: &Ctx<'js>, target: &Object<'js>) -> Result<()> {
    use rquickjs::Function;
    let f = |name: &str, func: Function<'js>| target.set(name, func.with_name(name)?);
    f("httpRequest", Function::new(ctx.clone(), request)?)?;
    f("httpRead", Function::new(ctx.clone(), read)?)?;
    f("httpClose", Function::new(ctx.clone(), close)?)?;
    Ok(())
}

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

fn errno_name(errno: u32) -> &'static str {
    match errno {
        2 => "EACCES",
        14 => "ECONNREFUSED",
        28 => "EINVAL",
        33 => "EMFILE",
        35 => "EMSGSIZE",
        73 => "ETIMEDOUT",
        76 => "ENOTCAPABLE",
        8 => "EBADF",
        _ => "EIO",
    }
}

/// Throws `CODE: why` with the shim's own words for why.
fn throw(ctx: &Ctx<'_>, errno: u32) -> rquickjs::Error {
    // SAFETY: the pointer and length describe `buf`, which the shim writes within.
    let (_, message) = sized(|buf, len, size| unsafe { capos_http_last_error(buf, len, size) });
    let message = String::from_utf8_lossy(&message);
    Exception::throw_message(ctx, &format!("{}: {message}", errno_name(errno)))
}

/// `{ handle, status, headers }` (headers as `name: value\n` lines).
fn request<'js>(
    ctx: Ctx<'js>,
    method: String,
    url: String,
    headers: String,
    body: Value<'js>,
    timeout_ms: f64,
) -> Result<Object<'js>> {
    let body = if body.is_undefined() || body.is_null() {
        Vec::new()
    } else {
        crate::natives::bytes_of(&ctx, &body)?
    };
    let mut handle = 0u32;
    let mut status = 0u32;
    // SAFETY: every (pointer, length) pair describes a live Rust buffer, and
    // the two out-pointers are live locals; the shim bounds-checks them all.
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
            timeout_ms.clamp(0.0, f64::from(u32::MAX)) as u32,
            &mut handle,
            &mut status,
        )
    };
    if errno != 0 {
        return Err(throw(&ctx, errno));
    }
    // SAFETY: as for `last_error`: the shim writes within the buffer given.
    let (errno, head) =
        sized(|buf, len, size| unsafe { capos_http_headers(handle, buf, len, size) });
    if errno != 0 {
        return Err(throw(&ctx, errno));
    }
    let response = Object::new(ctx)?;
    response.set("handle", handle)?;
    response.set("status", status)?;
    response.set("headers", String::from_utf8_lossy(&head).into_owned())?;
    Ok(response)
}

/// The next bytes of the body; empty at its end.
fn read(ctx: Ctx<'_>, handle: u32) -> Result<TypedArray<'_, u8>> {
    let mut buf = vec![0u8; READ_CHUNK];
    let mut n = 0u32;
    // SAFETY: `buf` is live and `buf.len()` long; `n` is a live local.
    let errno = unsafe { capos_http_read(handle, buf.as_mut_ptr(), buf.len(), &mut n) };
    if errno != 0 {
        return Err(throw(&ctx, errno));
    }
    buf.truncate(n as usize);
    TypedArray::new(ctx, buf)
}

fn close(handle: u32) {
    // SAFETY: a plain call; an unknown handle is only EBADF.
    unsafe {
        capos_http_close(handle);
    }
}
