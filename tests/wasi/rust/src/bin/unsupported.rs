//! sock_* and proc_raise. No socket can be granted to a preview1 program here (nothing
//! preopens one), so every fd is "not a socket" and an unused one is "not an fd" (POSIX's
//! ENOTSOCK and EBADF). Raising a signal has no meaning without signal handlers in wasm:
//! ENOTSUP or ENOSYS.

use std::process::ExitCode;

use wasi_tests::sys::{SDFLAGS_RD_WR, SIGNAL_TERM};
use wasi_tests::{Checks, Errno, wasi};

fn main() -> ExitCode {
    let mut c = Checks::begin("unsupported: sock_* and proc_raise");
    let mut buf = [0u8; 8];
    c.errno("sock_accept(stdin)", &wasi::sock_accept(0), Errno::NOTSOCK);
    c.errno(
        "sock_accept(unused fd 4000)",
        &wasi::sock_accept(4000),
        Errno::BADF,
    );
    c.errno(
        "sock_recv(stdin)",
        &wasi::sock_recv(0, &mut buf),
        Errno::NOTSOCK,
    );
    c.errno(
        "sock_recv(unused fd 4000)",
        &wasi::sock_recv(4000, &mut buf),
        Errno::BADF,
    );
    c.errno(
        "sock_send(stdout)",
        &wasi::sock_send(1, b"x"),
        Errno::NOTSOCK,
    );
    c.errno(
        "sock_send(unused fd 4000)",
        &wasi::sock_send(4000, b"x"),
        Errno::BADF,
    );
    c.errno(
        "sock_shutdown(stdout, RD|WR)",
        &wasi::sock_shutdown(1, SDFLAGS_RD_WR),
        Errno::NOTSOCK,
    );
    c.errno(
        "sock_shutdown(unused fd 4000, RD|WR)",
        &wasi::sock_shutdown(4000, SDFLAGS_RD_WR),
        Errno::BADF,
    );
    c.either(
        "proc_raise(SIGTERM)",
        &wasi::proc_raise(SIGNAL_TERM),
        Errno::NOTSUP,
        Errno::NOSYS,
    );
    c.finish()
}
