//! fd_* on stdin, stdout and stderr, which are streams (pipes under the runner).
//! The runner feeds stdin "first line\nsecond line\n" and closes it.
//!
//! Where the preview1 text is silent the POSIX call it names decides: seek and positional I/O
//! on a pipe fail with ESPIPE, fsync/fdatasync/ftruncate with EINVAL, a directory read of a
//! non-directory with ENOTDIR, I/O against the descriptor's direction with EBADF.

use std::process::ExitCode;

use wasi_tests::sys::{
    CLOCK_MONOTONIC, EVENTTYPE_FD_READ, FILETYPE_CHARACTER_DEVICE, FILETYPE_UNKNOWN,
    RIGHTS_FD_READ, RIGHTS_FD_WRITE, WHENCE_CUR, WHENCE_SET,
};
use wasi_tests::wasi::{self, clock_subscription, fd_subscription};
use wasi_tests::{Checks, Errno};

const STDIN: &[u8] = b"first line\nsecond line\n";
const TEN_SECONDS: u64 = 10_000_000_000;

fn is_stream_type(filetype: u8) -> bool {
    filetype == FILETYPE_UNKNOWN || filetype == FILETYPE_CHARACTER_DEVICE
}

fn fdstat_checks(c: &mut Checks) {
    for (fd, name, right) in [
        (0, "stdin", RIGHTS_FD_READ),
        (1, "stdout", RIGHTS_FD_WRITE),
        (2, "stderr", RIGHTS_FD_WRITE),
    ] {
        let stat = wasi::fd_fdstat_get(fd);
        c.ok(format!("fd_fdstat_get({name})"), &stat);
        let stat = stat.unwrap_or_default();
        c.holds(
            format!("{name} filetype is UNKNOWN or CHARACTER_DEVICE"),
            is_stream_type(stat.fs_filetype),
        );
        let right_name = if right == RIGHTS_FD_READ {
            "FD_READ"
        } else {
            "FD_WRITE"
        };
        c.holds(
            format!("{name} has {right_name}"),
            stat.fs_rights_base & right != 0,
        );
    }
    let stat = wasi::fd_filestat_get(1);
    c.ok("fd_filestat_get(stdout)", &stat);
    c.holds(
        "stdout filestat filetype is UNKNOWN or CHARACTER_DEVICE",
        is_stream_type(stat.unwrap_or_default().filetype),
    );
}

fn stdin_checks(c: &mut Checks) {
    // Data is waiting: the fd_read subscription fires, the timeout does not.
    let events = wasi::poll_oneoff(&[
        fd_subscription(1, EVENTTYPE_FD_READ, 0),
        clock_subscription(2, CLOCK_MONOTONIC, TEN_SECONDS, 0),
    ]);
    c.ok("poll_oneoff(fd_read stdin, +10 s)", &events);
    let events = events.unwrap_or_default();
    c.holds(
        "stdin is readable and the timeout did not fire",
        events.len() == 1 && events[0].userdata == 1,
    );
    if let Some(e) = events.first() {
        c.value("event type (fd_read is 1)", e.kind, EVENTTYPE_FD_READ);
        c.value("event error", Errno(e.error), Errno::SUCCESS);
    }

    let input = wasi::read_to_end(0);
    c.ok("fd_read(stdin) to end of file", &input);
    c.bytes("stdin", &input.unwrap_or_default(), STDIN);
    let mut buf = [0u8; 16];
    let again = wasi::fd_read(0, &mut buf);
    c.ok("fd_read(stdin) after end of file", &again);
    c.value("bytes read after end of file", again.unwrap_or(99), 0);
}

fn stdout_checks(c: &mut Checks) {
    // Gathered iovecs; a short write is legal, so carry on from where it stopped. Checks are
    // printed only once the line is complete, so they cannot land in the middle of it.
    let line = b"gathered from two iovecs\n";
    let first = wasi::fd_write(1, &[b"gathered ", b"from two iovecs\n"]);
    let n = first.unwrap_or(0).min(line.len());
    let rest = wasi::write_all(1, &line[n..]);
    c.ok("fd_write(stdout, two iovecs)", &first);
    c.holds(
        "the first fd_write wrote 1 to 25 bytes",
        (1..=line.len()).contains(&n),
    );
    c.ok("fd_write(stdout) the rest", &rest);
    c.ok(
        "fd_write(stderr)",
        &wasi::write_all(2, b"a line on stderr\n"),
    );
    c.ok("fd_write(stdout, zero bytes)", &wasi::fd_write(1, &[b""]));
}

fn refusal_checks(c: &mut Checks) {
    let mut buf = [0u8; 8];
    c.errno(
        "fd_seek(stdin, 0, CUR)",
        &wasi::fd_seek(0, 0, WHENCE_CUR),
        Errno::SPIPE,
    );
    c.errno(
        "fd_seek(stdout, 0, SET)",
        &wasi::fd_seek(1, 0, WHENCE_SET),
        Errno::SPIPE,
    );
    c.errno("fd_tell(stdout)", &wasi::fd_tell(1), Errno::SPIPE);
    c.errno(
        "fd_pread(stdin)",
        &wasi::fd_pread(0, &mut buf, 0),
        Errno::SPIPE,
    );
    c.errno(
        "fd_pwrite(stdout)",
        &wasi::fd_pwrite(1, b"x", 0),
        Errno::SPIPE,
    );
    c.errno("fd_read(stdout)", &wasi::fd_read(1, &mut buf), Errno::BADF);
    c.errno("fd_write(stdin)", &wasi::fd_write(0, &[b"x"]), Errno::BADF);
    c.errno(
        "fd_readdir(stdin)",
        &wasi::fd_readdir(0, &mut buf, 0),
        Errno::NOTDIR,
    );
    c.errno("fd_sync(stdout)", &wasi::fd_sync(1), Errno::INVAL);
    c.errno("fd_datasync(stdout)", &wasi::fd_datasync(1), Errno::INVAL);
    c.errno(
        "fd_filestat_set_size(stdout, 0)",
        &wasi::fd_filestat_set_size(1, 0),
        Errno::INVAL,
    );

    c.ok("fd_close(stdin)", &wasi::fd_close(0));
    c.errno(
        "fd_read(stdin) after fd_close",
        &wasi::fd_read(0, &mut buf),
        Errno::BADF,
    );
    c.errno("fd_close(stdin) again", &wasi::fd_close(0), Errno::BADF);
}

fn main() -> ExitCode {
    let mut c = Checks::begin("stdio: fd_* on stdin, stdout, stderr");
    fdstat_checks(&mut c);
    stdin_checks(&mut c);
    stdout_checks(&mut c);
    refusal_checks(&mut c);
    c.finish()
}
