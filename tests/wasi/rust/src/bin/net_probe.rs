//! Sockets as a WASI preview1 program sees them under `capos run --tcplisten` (the e2e suite,
//! tests/e2e/net-cli.test.mjs, is its TCP client; wasmtime's Python API preopens no sockets,
//! so there is no reference run). In order, with the client's part in brackets:
//! - the listening socket is an fd after the preopened directories, of filetype socket;
//! - a non-blocking accept with nothing waiting is EAGAIN; then "ready" is printed;
//! - [the client connects, sends "01234" and, a moment later, "56789"]
//! - MSG_PEEK sees bytes without taking them, MSG_WAITALL waits for all ten;
//! - the answer is sent and the writing side shut down [the client reads it, then EOF];
//! - [the client closes] a read then returns 0 (end of stream);
//! - calls that need a connection fail on the listener with ENOTCONN;
//! - [a second client connects] half an answer is sent and the program exits 3 mid-response
//!   [the client gets the half, then the connection closes].

use std::process::ExitCode;

use wasi_tests::sys::{self, Ciovec, Fd, Iovec};
use wasi_tests::{Checks, Errno, wasi};

const FILETYPE_SOCKET_STREAM: u8 = 6;
const RECV_PEEK: u32 = 1;
const RECV_WAITALL: u32 = 2;
const SHUT_WR: u32 = 2;
const EAGAIN: Errno = Errno(6);
const ENOTCONN: Errno = Errno(53);

fn recv(fd: Fd, buf: &mut [u8], flags: u32) -> Result<usize, Errno> {
    let iov = Iovec {
        buf: buf.as_mut_ptr(),
        buf_len: buf.len(),
    };
    let (mut n, mut out_flags) = (0, 0);
    // SAFETY: one iovec describing `buf`; `n` and `out_flags` are locals; all outlive the call.
    let raw = unsafe { sys::sock_recv(fd, &iov, 1, flags, &mut n, &mut out_flags) };
    Errno::check(raw, n)
}

fn send_all(fd: Fd, mut bytes: &[u8]) -> Result<(), Errno> {
    while !bytes.is_empty() {
        let iov = Ciovec {
            buf: bytes.as_ptr(),
            buf_len: bytes.len(),
        };
        let mut n = 0;
        // SAFETY: one iovec describing `bytes`; `n` is a local; both outlive the call.
        Errno::check(unsafe { sys::sock_send(fd, &iov, 1, 0, &mut n) }, ())?;
        bytes = &bytes[n..];
    }
    Ok(())
}

fn main() -> ExitCode {
    let mut c = Checks::begin("net_probe: a listening socket and two connections");
    let listener = (3..64)
        .find(|&fd| wasi::fd_fdstat_get(fd).is_ok_and(|s| s.fs_filetype == FILETYPE_SOCKET_STREAM));
    let Some(listener) = listener else {
        c.holds("a listening socket is preopened", false);
        return c.finish();
    };
    c.holds(
        "the directory comes before the socket",
        wasi::fd_fdstat_get(3).is_ok_and(|s| s.fs_filetype == 3) && listener == 4,
    );
    c.ok(
        "fd_fdstat_set_flags(listener, NONBLOCK)",
        &wasi::fd_fdstat_set_flags(listener, sys::FDFLAGS_NONBLOCK),
    );
    c.errno(
        "non-blocking sock_accept, none waiting",
        &wasi::sock_accept(listener),
        EAGAIN,
    );
    c.ok(
        "fd_fdstat_set_flags(listener, 0)",
        &wasi::fd_fdstat_set_flags(listener, 0),
    );
    println!("ready");
    let conn = c.require("sock_accept", wasi::sock_accept(listener));
    c.value(
        "the connection's filetype",
        wasi::fd_fdstat_get(conn).map_or(0, |s| s.fs_filetype),
        FILETYPE_SOCKET_STREAM,
    );
    let mut peeked = [0u8; 5];
    let n = c.require("sock_recv(PEEK)", recv(conn, &mut peeked, RECV_PEEK));
    c.bytes("the peeked bytes", &peeked[..n], &b"01234"[..n]);
    let mut all = [0u8; 10];
    let n = c.require("sock_recv(WAITALL, 10)", recv(conn, &mut all, RECV_WAITALL));
    c.bytes("WAITALL waited for all ten", &all[..n], b"0123456789");
    c.ok("sock_send(the answer)", &send_all(conn, b"pong:0123456789"));
    c.ok("sock_shutdown(WR)", &wasi::sock_shutdown(conn, SHUT_WR));
    let mut rest = [0u8; 16];
    c.value(
        "fd_read after the client closed",
        wasi::fd_read(conn, &mut rest).unwrap_or(usize::MAX),
        0,
    );
    c.ok("fd_close(connection)", &wasi::fd_close(conn));
    c.errno(
        "sock_recv(listener)",
        &wasi::sock_recv(listener, &mut rest),
        ENOTCONN,
    );
    c.errno(
        "sock_send(stdout)",
        &wasi::sock_send(1, b"x"),
        Errno::NOTSOCK,
    );
    let second = c.require("sock_accept (second)", wasi::sock_accept(listener));
    c.ok(
        "half an answer",
        &send_all(
            second,
            b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhalf",
        ),
    );
    let code = c.finish();
    if code != ExitCode::SUCCESS {
        return code;
    }
    // Ends mid-response: the kernel closes the connection for it.
    ExitCode::from(3)
}
