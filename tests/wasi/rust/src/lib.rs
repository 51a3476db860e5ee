//! Shared pieces of the differential suite's Rust programs: the raw preview1 imports (`sys`),
//! safe calls over them (`wasi`) and the checks that print one comparable line each.
//!
//! The line format is the C programs' (tests/wasi/c/check.h):
//!   `ok   <what> -> <errno>`  or  `FAIL <what> -> <errno> (spec: <errno>)`
//!   `ok   <what> = <value>`   or  `FAIL <what> = <value> (spec: <value>)`
//!   `ok   <what>`             or  `FAIL <what>`
//! Values that differ from run to run (times, random bytes) are never printed, only
//! properties of them. A label never contains " -> " or " = ", so the runner can split a line
//! into label and value.

use std::fmt::{self, Display};
use std::process::ExitCode;

pub mod sys;
pub mod wasi;

/// A preview1 errno; 0 is success.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Errno(pub u16);

const ERRNO_NAMES: [&str; 77] = [
    "success",
    "E2BIG",
    "EACCES",
    "EADDRINUSE",
    "EADDRNOTAVAIL",
    "EAFNOSUPPORT",
    "EAGAIN",
    "EALREADY",
    "EBADF",
    "EBADMSG",
    "EBUSY",
    "ECANCELED",
    "ECHILD",
    "ECONNABORTED",
    "ECONNREFUSED",
    "ECONNRESET",
    "EDEADLK",
    "EDESTADDRREQ",
    "EDOM",
    "EDQUOT",
    "EEXIST",
    "EFAULT",
    "EFBIG",
    "EHOSTUNREACH",
    "EIDRM",
    "EILSEQ",
    "EINPROGRESS",
    "EINTR",
    "EINVAL",
    "EIO",
    "EISCONN",
    "EISDIR",
    "ELOOP",
    "EMFILE",
    "EMLINK",
    "EMSGSIZE",
    "EMULTIHOP",
    "ENAMETOOLONG",
    "ENETDOWN",
    "ENETRESET",
    "ENETUNREACH",
    "ENFILE",
    "ENOBUFS",
    "ENODEV",
    "ENOENT",
    "ENOEXEC",
    "ENOLCK",
    "ENOLINK",
    "ENOMEM",
    "ENOMSG",
    "ENOPROTOOPT",
    "ENOSPC",
    "ENOSYS",
    "ENOTCONN",
    "ENOTDIR",
    "ENOTEMPTY",
    "ENOTRECOVERABLE",
    "ENOTSOCK",
    "ENOTSUP",
    "ENOTTY",
    "ENXIO",
    "EOVERFLOW",
    "EOWNERDEAD",
    "EPERM",
    "EPIPE",
    "EPROTO",
    "EPROTONOSUPPORT",
    "EPROTOTYPE",
    "ERANGE",
    "EROFS",
    "ESPIPE",
    "ESRCH",
    "ESTALE",
    "ETIMEDOUT",
    "ETXTBSY",
    "EXDEV",
    "ENOTCAPABLE",
];

impl Errno {
    pub const SUCCESS: Errno = Errno(0);
    pub const BADF: Errno = Errno(8);
    pub const FAULT: Errno = Errno(21);
    pub const ILSEQ: Errno = Errno(25);
    pub const INVAL: Errno = Errno(28);
    pub const NOSYS: Errno = Errno(52);
    pub const NOTDIR: Errno = Errno(54);
    pub const NOTSOCK: Errno = Errno(57);
    pub const NOTSUP: Errno = Errno(58);
    pub const SPIPE: Errno = Errno(70);
    pub const NOTCAPABLE: Errno = Errno(76);

    /// Turns a raw import's return value into `Ok(value)` or the errno.
    pub fn check<T>(raw: i32, value: T) -> Result<T, Errno> {
        match raw {
            0 => Ok(value),
            e => Err(Errno(e as u16)),
        }
    }
}

impl Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match ERRNO_NAMES.get(usize::from(self.0)) {
            Some(name) => f.write_str(name),
            None => write!(f, "errno({})", self.0),
        }
    }
}

/// The errno of a call's result (success for `Ok`).
pub fn status<T>(result: &Result<T, Errno>) -> Errno {
    match result {
        Ok(_) => Errno::SUCCESS,
        Err(e) => *e,
    }
}

/// Bytes shown the way check.h shows them: printable ASCII as is, `\n`, else `\xNN`.
pub struct Quoted<'a>(pub &'a [u8]);

impl Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for &b in self.0 {
            match b {
                b'\n' => f.write_str("\\n")?,
                b'"' | b'\\' | 0..0x20 | 0x7f.. => write!(f, "\\x{b:02x}")?,
                _ => write!(f, "{}", b as char)?,
            }
        }
        f.write_str("\"")
    }
}

/// Counts checks and prints one line for each.
#[derive(Debug)]
pub struct Checks {
    run: u32,
    failed: u32,
}

impl Checks {
    pub fn begin(title: &str) -> Checks {
        println!("# {title}");
        Checks { run: 0, failed: 0 }
    }

    fn record(&mut self, passed: bool) -> bool {
        self.run += 1;
        self.failed += u32::from(!passed);
        passed
    }

    /// Expects the call to fail with `want` (or to succeed, for `Errno::SUCCESS`).
    pub fn errno<T>(&mut self, what: impl Display, got: &Result<T, Errno>, want: Errno) -> bool {
        let got = status(got);
        if got == want {
            println!("ok   {what} -> {got}");
        } else {
            println!("FAIL {what} -> {got} (spec: {want})");
        }
        self.record(got == want)
    }

    pub fn ok<T>(&mut self, what: impl Display, got: &Result<T, Errno>) -> bool {
        self.errno(what, got, Errno::SUCCESS)
    }

    /// Expects one of two errnos, where the specification (or the POSIX call it defers to)
    /// allows either; the line shows which was seen, so runtimes must still agree.
    pub fn either<T>(
        &mut self,
        what: impl Display,
        got: &Result<T, Errno>,
        a: Errno,
        b: Errno,
    ) -> bool {
        let got = status(got);
        let passed = got == a || got == b;
        if passed {
            println!("ok   {what} -> {got}");
        } else {
            println!("FAIL {what} -> {got} (spec: {a} or {b})");
        }
        self.record(passed)
    }

    pub fn value<T: PartialEq + Display>(&mut self, what: impl Display, got: T, want: T) -> bool {
        if got == want {
            println!("ok   {what} = {got}");
        } else {
            println!("FAIL {what} = {got} (spec: {want})");
        }
        self.record(got == want)
    }

    pub fn bytes(&mut self, what: impl Display, got: &[u8], want: &[u8]) -> bool {
        if got == want {
            println!("ok   {what} = {}", Quoted(got));
        } else {
            println!("FAIL {what} = {} (spec: {})", Quoted(got), Quoted(want));
        }
        self.record(got == want)
    }

    /// A property that holds or not; `what` states it ("MONOTONIC never goes backwards").
    pub fn holds(&mut self, what: impl Display, holds: bool) -> bool {
        println!("{} {what}", if holds { "ok  " } else { "FAIL" });
        self.record(holds)
    }

    /// A step the rest depends on: stops the program (exit 2) if it fails.
    pub fn require<T>(&mut self, what: impl Display, got: Result<T, Errno>) -> T {
        let label = what.to_string();
        match got {
            Ok(value) => {
                self.ok(&label, &Ok::<(), Errno>(()));
                value
            }
            Err(e) => {
                self.ok(&label, &Err::<(), Errno>(e));
                eprintln!("cannot go on after: {label}");
                std::process::exit(2);
            }
        }
    }

    /// Exit status 0 when every check held, 1 otherwise (the count on stderr).
    pub fn finish(self) -> ExitCode {
        if self.failed == 0 {
            ExitCode::SUCCESS
        } else {
            eprintln!("{} of {} checks failed", self.failed, self.run);
            ExitCode::FAILURE
        }
    }
}
