//! One call per run, for calls some runtimes answer with a trap rather than an errno (wasmtime
//! traps on every one of these; DIFFERENCES.md). Each run prints one line and exits 0 when the
//! errno is the spec's.
//!
//! Usage: isolated_call.wasm CASE, with the fixture preopened at /sandbox for the cases that
//! open a file. `isolated_call.wasm list` prints the cases, each with the line it prints when the
//! runtime follows the specification.

use std::process::ExitCode;

use wasi_tests::sys::{
    self, Ciovec, Iovec, RIGHTS_FD_ADVISE, RIGHTS_FD_FDSTAT_SET_FLAGS, RIGHTS_FD_READ,
    RIGHTS_FD_SEEK,
};
use wasi_tests::{Checks, Errno, wasi};

/// Far past the end of any memory these programs grow (they use a few MiB at most).
const OUT_OF_BOUNDS: usize = 0xFFFF_FF00;
const SANDBOX_FD: u32 = 3;

struct Case {
    name: &'static str,
    /// Whether the case opens hello.txt, so needs the fixture preopened at /sandbox.
    sandbox: bool,
    what: &'static str,
    want: Errno,
    call: fn() -> Result<(), Errno>,
}

fn hello_txt() -> Result<u32, Errno> {
    let rights = RIGHTS_FD_READ | RIGHTS_FD_SEEK | RIGHTS_FD_ADVISE | RIGHTS_FD_FDSTAT_SET_FLAGS;
    wasi::path_open(SANDBOX_FD, b"hello.txt", rights)
}

const CASES: &[Case] = &[
    Case {
        name: "clock-unknown-id",
        sandbox: false,
        what: "clock_time_get(clock id 99)",
        want: Errno::INVAL,
        call: || wasi::clock_time_get(99, 1).map(drop),
    },
    Case {
        name: "clock-res-unknown-id",
        sandbox: false,
        what: "clock_res_get(clock id 99)",
        want: Errno::INVAL,
        call: || wasi::clock_res_get(99).map(drop),
    },
    Case {
        name: "seek-unknown-whence",
        sandbox: true,
        what: "fd_seek(hello.txt, 0, whence 7)",
        want: Errno::INVAL,
        call: || wasi::fd_seek(hello_txt()?, 0, 7).map(drop),
    },
    Case {
        name: "advise-unknown-advice",
        sandbox: true,
        what: "fd_advise(hello.txt, advice 9)",
        want: Errno::INVAL,
        call: || wasi::fd_advise(hello_txt()?, 0, 1, 9),
    },
    Case {
        name: "fdflags-undefined-bit",
        sandbox: true,
        what: "fd_fdstat_set_flags(hello.txt, 0x8000), an undefined fdflags bit",
        want: Errno::INVAL,
        call: || wasi::fd_fdstat_set_flags(hello_txt()?, 0x8000),
    },
    Case {
        // fdflags is a u16 passed in an i32: bits above 16 are not part of the value. A
        // program that reads fs_flags with its padding and hands it back sends junk there.
        name: "fdflags-high-bits",
        sandbox: true,
        what: "fd_fdstat_set_flags(hello.txt, 0xABCD0004), NONBLOCK plus bits above the u16",
        want: Errno::SUCCESS,
        call: || {
            let fd = hello_txt()?;
            wasi::fd_fdstat_set_flags(fd, 0xABCD_0004)?;
            match wasi::fd_fdstat_get(fd)?.fs_flags {
                4 => Ok(()),
                _ => Err(Errno::INVAL),
            }
        },
    },
    Case {
        name: "path-invalid-utf8",
        sandbox: true,
        what: "path_open(sandbox, \"\\xff\\xfe\"), not UTF-8",
        want: Errno::ILSEQ,
        call: || wasi::path_open(SANDBOX_FD, b"\xff\xfe", RIGHTS_FD_READ).map(drop),
    },
    Case {
        name: "write-iovs-out-of-bounds",
        sandbox: false,
        what: "fd_write(stdout, iovec array outside memory)",
        want: Errno::FAULT,
        call: || {
            let mut n = 0;
            // SAFETY: the runtime must refuse the out-of-bounds iovec array, not write through it;
            // `n` is a local.
            Errno::check(
                unsafe { sys::fd_write(1, OUT_OF_BOUNDS as *const Ciovec, 1, &mut n) },
                (),
            )
        },
    },
    Case {
        name: "write-buffer-out-of-bounds",
        sandbox: false,
        what: "fd_write(stdout, iovec pointing outside memory)",
        want: Errno::FAULT,
        call: || {
            let iov = Ciovec {
                buf: OUT_OF_BOUNDS as *const u8,
                buf_len: 64,
            };
            let mut n = 0;
            // SAFETY: as above; the iovec itself is a local.
            Errno::check(unsafe { sys::fd_write(1, &iov, 1, &mut n) }, ())
        },
    },
    Case {
        name: "read-buffer-out-of-bounds",
        sandbox: true,
        what: "fd_read(hello.txt, iovec pointing outside memory)",
        want: Errno::FAULT,
        call: || {
            let fd = hello_txt()?;
            let iov = Iovec {
                buf: OUT_OF_BOUNDS as *mut u8,
                buf_len: 64,
            };
            let mut n = 0;
            // SAFETY: the runtime must refuse to write outside memory; iovec and `n` are locals.
            Errno::check(unsafe { sys::fd_read(fd, &iov, 1, &mut n) }, ())
        },
    },
    Case {
        name: "random-out-of-bounds",
        sandbox: false,
        what: "random_get(buffer outside memory)",
        want: Errno::FAULT,
        call: || {
            // SAFETY: the runtime must refuse to write outside memory.
            Errno::check(unsafe { sys::random_get(OUT_OF_BOUNDS as *mut u8, 64) }, ())
        },
    },
    Case {
        name: "clock-result-out-of-bounds",
        sandbox: false,
        what: "clock_time_get(MONOTONIC, result pointer outside memory)",
        want: Errno::FAULT,
        call: || {
            // SAFETY: the runtime must refuse to write outside memory.
            Errno::check(
                unsafe { sys::clock_time_get(1, 1, OUT_OF_BOUNDS as *mut u64) },
                (),
            )
        },
    },
    Case {
        name: "args-out-of-bounds",
        sandbox: false,
        what: "args_get(pointer table outside memory)",
        want: Errno::FAULT,
        call: || {
            let mut buf = [0u8; 4096];
            // SAFETY: the runtime must refuse to write outside memory; `buf` is a local.
            Errno::check(
                unsafe { sys::args_get(OUT_OF_BOUNDS as *mut *mut u8, buf.as_mut_ptr()) },
                (),
            )
        },
    },
    Case {
        name: "path-out-of-bounds",
        sandbox: true,
        what: "path_open(sandbox, path outside memory)",
        want: Errno::FAULT,
        call: || {
            let mut fd = 0;
            // SAFETY: the runtime must refuse to read outside memory; `fd` is a local.
            let raw = unsafe {
                sys::path_open(
                    SANDBOX_FD,
                    0,
                    OUT_OF_BOUNDS as *const u8,
                    16,
                    0,
                    RIGHTS_FD_READ,
                    0,
                    0,
                    &mut fd,
                )
            };
            Errno::check(raw, ())
        },
    },
    Case {
        name: "poll-out-of-bounds",
        sandbox: false,
        what: "poll_oneoff(subscriptions outside memory)",
        want: Errno::FAULT,
        call: || {
            let mut events = [sys::Event::default(); 1];
            let mut n = 0;
            // SAFETY: the runtime must refuse to read outside memory; events and `n` are locals.
            let raw = unsafe {
                sys::poll_oneoff(
                    OUT_OF_BOUNDS as *const sys::Subscription,
                    events.as_mut_ptr(),
                    1,
                    &mut n,
                )
            };
            Errno::check(raw, ())
        },
    },
];

fn main() -> ExitCode {
    let name = std::env::args().nth(1).unwrap_or_default();
    if name == "list" {
        // Each case, whether it needs /sandbox, and the line it prints when the runtime
        // follows the specification.
        for case in CASES {
            let dirs = if case.sandbox { "sandbox" } else { "none" };
            println!("{}\t{dirs}\tok   {} -> {}", case.name, case.what, case.want);
        }
        return ExitCode::SUCCESS;
    }
    let Some(case) = CASES.iter().find(|c| c.name == name) else {
        eprintln!("usage: isolated_call.wasm CASE|list (unknown case {name:?})");
        return ExitCode::from(2);
    };
    let mut c = Checks::begin(&format!("isolated_call {}", case.name));
    c.errno(case.what, &(case.call)(), case.want);
    c.finish()
}
