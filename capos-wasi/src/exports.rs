//! The 46 `wasi_snapshot_preview1` functions, exported as `wasi_<name>` for
//! the process Worker glue to route the program's imports to. Pointers are
//! offsets in the *program's* memory (see `app`). Each returns an errno.
//!
//! Files and directories are Directory and File capabilities (preopens are
//! the Directories in the CapSet). docs/wasi.md lists every function.

use crate::state::{PathOpen, Result, Wasi};
use capos_rt::config::errno::*;
use std::cell::RefCell;

thread_local! {
    static WASI: RefCell<Option<Wasi>> = const { RefCell::new(None) };
}

fn serve(f: impl FnOnce(&mut Wasi) -> Result<()>) -> i32 {
    WASI.with(|cell| match cell.borrow_mut().as_mut() {
        Some(wasi) => match f(wasi) {
            Ok(()) => i32::from(SUCCESS),
            Err(errno) => i32::from(errno),
        },
        None => i32::from(ENOTCAPABLE),
    })
}

/// Called by the glue before the program's `_start`.
#[cfg(target_arch = "wasm32")]
#[unsafe(no_mangle)]
pub extern "C" fn capos_wasi_init() -> i32 {
    capos_rt::install_panic_hook();
    match capos_rt::Env::current() {
        Ok(env) => {
            WASI.with(|cell| *cell.borrow_mut() = Some(Wasi::new(env)));
            0
        }
        Err(_) => i32::from(EIO),
    }
}

/// The shim on the host, for the fuzz harness: `env` as the process's spec.
/// Every capability call fails there (there is no kernel).
#[cfg(not(target_arch = "wasm32"))]
pub fn init_on_host(env: &'static capos_rt::Env) {
    WASI.with(|cell| *cell.borrow_mut() = Some(Wasi::new(env)));
}

// SAFETY (every `unsafe(no_mangle)` below): each name is a distinct export
// that nothing else in the module defines; the glue calls them by name.

#[unsafe(no_mangle)]
pub extern "C" fn wasi_args_get(argv: u32, buf: u32) -> i32 {
    serve(|w| Wasi::strings_get(&w.env.argv, argv, buf))
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_args_sizes_get(count: u32, size: u32) -> i32 {
    serve(|w| Wasi::strings_sizes(&w.env.argv, count, size))
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_environ_get(environ: u32, buf: u32) -> i32 {
    serve(|w| Wasi::strings_get(&w.env.env, environ, buf))
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_environ_sizes_get(count: u32, size: u32) -> i32 {
    serve(|w| Wasi::strings_sizes(&w.env.env, count, size))
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_clock_res_get(id: u32, out: u32) -> i32 {
    serve(|w| w.clock_res_get(id, out))
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_clock_time_get(id: u32, _precision: u64, out: u32) -> i32 {
    serve(|w| crate::app::write_u64(out, w.now(id)?))
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_fd_advise(fd: u32, _offset: u64, _len: u64, advice: u32) -> i32 {
    serve(|w| w.fd_advise(fd, advice))
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_fd_allocate(fd: u32, _offset: u64, _len: u64) -> i32 {
    serve(|w| w.fd_allocate(fd))
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_fd_close(fd: u32) -> i32 {
    serve(|w| w.fd_close(fd))
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_fd_datasync(fd: u32) -> i32 {
    serve(|w| w.fd_sync(fd))
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_fd_fdstat_get(fd: u32, out: u32) -> i32 {
    serve(|w| w.fd_fdstat_get(fd, out))
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_fd_fdstat_set_flags(fd: u32, flags: u32) -> i32 {
    serve(|w| w.fd_fdstat_set_flags(fd, flags))
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_fd_fdstat_set_rights(fd: u32, base: u64, inheriting: u64) -> i32 {
    serve(|w| w.fd_fdstat_set_rights(fd, base, inheriting))
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_fd_filestat_get(fd: u32, out: u32) -> i32 {
    serve(|w| w.fd_filestat_get(fd, out))
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_fd_filestat_set_size(fd: u32, size: u64) -> i32 {
    serve(|w| w.fd_filestat_set_size(fd, size))
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_fd_filestat_set_times(fd: u32, atim: u64, mtim: u64, flags: u32) -> i32 {
    serve(|w| w.fd_filestat_set_times(fd, atim, mtim, flags as u16))
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_fd_pread(fd: u32, iovs: u32, count: u32, offset: u64, nread: u32) -> i32 {
    serve(|w| w.fd_pread(fd, iovs, count, offset, nread))
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_fd_prestat_get(fd: u32, out: u32) -> i32 {
    serve(|w| w.fd_prestat_get(fd, out))
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_fd_prestat_dir_name(fd: u32, path: u32, len: u32) -> i32 {
    serve(|w| w.fd_prestat_dir_name(fd, path, len))
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_fd_pwrite(
    fd: u32,
    iovs: u32,
    count: u32,
    offset: u64,
    nwritten: u32,
) -> i32 {
    serve(|w| w.fd_pwrite(fd, iovs, count, offset, nwritten))
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_fd_read(fd: u32, iovs: u32, count: u32, nread: u32) -> i32 {
    serve(|w| w.fd_read(fd, iovs, count, nread))
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_fd_readdir(fd: u32, buf: u32, len: u32, cookie: u64, used: u32) -> i32 {
    serve(|w| w.fd_readdir(fd, buf, len, cookie, used))
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_fd_renumber(from: u32, to: u32) -> i32 {
    serve(|w| w.fd_renumber(from, to))
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_fd_seek(fd: u32, offset: u64, whence: u32, out: u32) -> i32 {
    serve(|w| w.fd_seek(fd, offset as i64, whence, out))
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_fd_sync(fd: u32) -> i32 {
    serve(|w| w.fd_sync(fd))
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_fd_tell(fd: u32, out: u32) -> i32 {
    serve(|w| w.fd_tell(fd, out))
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_fd_write(fd: u32, iovs: u32, count: u32, nwritten: u32) -> i32 {
    serve(|w| w.fd_write(fd, iovs, count, nwritten))
}

/// Reads a path argument (EILSEQ if it is not UTF-8).
fn path(ptr: u32, len: u32) -> Result<String> {
    Wasi::path(ptr, len)
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_path_create_directory(fd: u32, p: u32, len: u32) -> i32 {
    serve(|w| crate::fsclient::create_directory(w.dir(fd)?, &path(p, len)?))
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_path_filestat_get(fd: u32, flags: u32, p: u32, len: u32, out: u32) -> i32 {
    serve(|w| w.path_filestat_get(fd, flags, path(p, len)?, out))
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_path_filestat_set_times(
    fd: u32,
    flags: u32,
    p: u32,
    len: u32,
    atim: u64,
    mtim: u64,
    fst: u32,
) -> i32 {
    serve(|w| w.path_filestat_set_times(fd, flags, path(p, len)?, atim, mtim, fst as u16))
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_path_link(
    fd: u32,
    flags: u32,
    p: u32,
    len: u32,
    new_fd: u32,
    new: u32,
    new_len: u32,
) -> i32 {
    serve(|w| {
        let target = w.destination_dir(fd, new_fd)?;
        crate::fsclient::link(
            w.dir(fd)?,
            &path(p, len)?,
            flags & 1 != 0,
            target,
            &path(new, new_len)?,
        )
    })
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_path_open(
    fd: u32,
    dirflags: u32,
    p: u32,
    len: u32,
    oflags: u32,
    base: u64,
    inheriting: u64,
    fdflags: u32,
    out: u32,
) -> i32 {
    serve(|w| {
        let req = PathOpen {
            dirfd: fd,
            dirflags,
            path: path(p, len)?,
            oflags: oflags as u16,
            base,
            inheriting,
            fdflags: fdflags as u16,
        };
        w.path_open(&req, out)
    })
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_path_readlink(
    fd: u32,
    p: u32,
    len: u32,
    buf: u32,
    buf_len: u32,
    used: u32,
) -> i32 {
    serve(|w| w.path_readlink(fd, path(p, len)?, buf, buf_len, used))
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_path_remove_directory(fd: u32, p: u32, len: u32) -> i32 {
    serve(|w| crate::fsclient::remove_directory(w.dir(fd)?, &path(p, len)?))
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_path_rename(
    fd: u32,
    p: u32,
    len: u32,
    new_fd: u32,
    new: u32,
    new_len: u32,
) -> i32 {
    serve(|w| {
        let target = w.destination_dir(fd, new_fd)?;
        crate::fsclient::rename(w.dir(fd)?, &path(p, len)?, target, &path(new, new_len)?)
    })
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_path_symlink(
    old: u32,
    old_len: u32,
    fd: u32,
    new: u32,
    new_len: u32,
) -> i32 {
    serve(|w| crate::fsclient::symlink(w.dir(fd)?, &path(old, old_len)?, &path(new, new_len)?))
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_path_unlink_file(fd: u32, p: u32, len: u32) -> i32 {
    serve(|w| crate::fsclient::unlink_file(w.dir(fd)?, &path(p, len)?))
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_poll_oneoff(input: u32, output: u32, count: u32, nevents: u32) -> i32 {
    serve(|w| w.poll_oneoff(input, output, count, nevents))
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_proc_exit(code: u32) {
    capos_rt::exit(code as i32)
}

/// Signals cannot be delivered to a Worker (no preemption).
#[unsafe(no_mangle)]
pub extern "C" fn wasi_proc_raise(_signal: u32) -> i32 {
    i32::from(ENOSYS)
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_sched_yield() -> i32 {
    i32::from(SUCCESS)
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_random_get(buf: u32, len: u32) -> i32 {
    serve(|w| w.random_get(buf, len))
}

// Sockets: the Listeners granted to the program and the connections
// accepted from them (see `sockets`).

#[unsafe(no_mangle)]
pub extern "C" fn wasi_sock_accept(fd: u32, flags: u32, out: u32) -> i32 {
    serve(|w| w.sock_accept(fd, flags, out))
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_sock_recv(
    fd: u32,
    iovs: u32,
    count: u32,
    flags: u32,
    nread: u32,
    oflags: u32,
) -> i32 {
    serve(|w| w.sock_recv(fd, iovs, count, flags, nread, oflags))
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_sock_send(fd: u32, iovs: u32, count: u32, flags: u32, nwritten: u32) -> i32 {
    serve(|w| w.sock_send(fd, iovs, count, flags, nwritten))
}

#[unsafe(no_mangle)]
pub extern "C" fn wasi_sock_shutdown(fd: u32, how: u32) -> i32 {
    serve(|w| w.sock_shutdown(fd, how))
}

// `capos_http`, the shim's own import module (see `http`): the glue routes
// the program's `capos_http.<name>` imports to `http_<name>`.

#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn http_request(
    method: u32,
    method_len: u32,
    url: u32,
    url_len: u32,
    headers: u32,
    headers_len: u32,
    body: u32,
    body_len: u32,
    timeout_ms: u32,
    handle_out: u32,
    status_out: u32,
) -> i32 {
    serve(|w| {
        w.http.request(
            (method, method_len),
            (url, url_len),
            (headers, headers_len),
            (body, body_len),
            timeout_ms,
            (handle_out, status_out),
        )
    })
}

#[unsafe(no_mangle)]
pub extern "C" fn http_headers(handle: u32, buf: u32, len: u32, size_out: u32) -> i32 {
    serve(|w| w.http.headers(handle, buf, len, size_out))
}

#[unsafe(no_mangle)]
pub extern "C" fn http_read(handle: u32, buf: u32, len: u32, n_out: u32) -> i32 {
    serve(|w| w.http.read(handle, buf, len, n_out))
}

#[unsafe(no_mangle)]
pub extern "C" fn http_close(handle: u32) -> i32 {
    serve(|w| w.http.close(handle))
}

#[unsafe(no_mangle)]
pub extern "C" fn http_last_error(buf: u32, len: u32, size_out: u32) -> i32 {
    serve(|w| w.http.last_error(buf, len, size_out))
}
