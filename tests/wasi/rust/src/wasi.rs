//! Safe calls over `sys`: every pointer passed is to a live local or slice of the right size,
//! so each `unsafe` block has the same justification, stated once per call.

use crate::Errno;
use crate::sys::{self, Ciovec, Event, Fd, Fdstat, Filestat, Iovec, Subscription};

pub fn args_sizes_get() -> Result<(usize, usize), Errno> {
    let (mut count, mut size) = (0, 0);
    // SAFETY: both pointers are to locals that outlive the call.
    let raw = unsafe { sys::args_sizes_get(&mut count, &mut size) };
    Errno::check(raw, (count, size))
}

/// Fills `pointers` (one per argument) and `buf` (`args_sizes_get`'s size) with the arguments.
pub fn args_get(pointers: &mut [*mut u8], buf: &mut [u8]) -> Result<(), Errno> {
    let (count, size) = args_sizes_get()?;
    assert!(
        pointers.len() >= count && buf.len() >= size,
        "buffers smaller than args_sizes_get"
    );
    // SAFETY: the slices hold at least as many pointers and bytes as the runtime reported.
    let raw = unsafe { sys::args_get(pointers.as_mut_ptr(), buf.as_mut_ptr()) };
    Errno::check(raw, ())
}

pub fn environ_sizes_get() -> Result<(usize, usize), Errno> {
    let (mut count, mut size) = (0, 0);
    // SAFETY: both pointers are to locals that outlive the call.
    let raw = unsafe { sys::environ_sizes_get(&mut count, &mut size) };
    Errno::check(raw, (count, size))
}

pub fn environ_get(pointers: &mut [*mut u8], buf: &mut [u8]) -> Result<(), Errno> {
    let (count, size) = environ_sizes_get()?;
    assert!(
        pointers.len() >= count && buf.len() >= size,
        "buffers smaller than environ_sizes_get"
    );
    // SAFETY: the slices hold at least as many pointers and bytes as the runtime reported.
    let raw = unsafe { sys::environ_get(pointers.as_mut_ptr(), buf.as_mut_ptr()) };
    Errno::check(raw, ())
}

pub fn clock_res_get(id: u32) -> Result<u64, Errno> {
    let mut resolution = 0;
    // SAFETY: the pointer is to a local that outlives the call.
    let raw = unsafe { sys::clock_res_get(id, &mut resolution) };
    Errno::check(raw, resolution)
}

pub fn clock_time_get(id: u32, precision: u64) -> Result<u64, Errno> {
    let mut time = 0;
    // SAFETY: the pointer is to a local that outlives the call.
    let raw = unsafe { sys::clock_time_get(id, precision, &mut time) };
    Errno::check(raw, time)
}

pub fn fd_advise(fd: Fd, offset: u64, len: u64, advice: u32) -> Result<(), Errno> {
    // SAFETY: no pointers.
    Errno::check(unsafe { sys::fd_advise(fd, offset, len, advice) }, ())
}

pub fn fd_allocate(fd: Fd, offset: u64, len: u64) -> Result<(), Errno> {
    // SAFETY: no pointers.
    Errno::check(unsafe { sys::fd_allocate(fd, offset, len) }, ())
}

pub fn fd_close(fd: Fd) -> Result<(), Errno> {
    // SAFETY: no pointers.
    Errno::check(unsafe { sys::fd_close(fd) }, ())
}

pub fn fd_datasync(fd: Fd) -> Result<(), Errno> {
    // SAFETY: no pointers.
    Errno::check(unsafe { sys::fd_datasync(fd) }, ())
}

pub fn fd_sync(fd: Fd) -> Result<(), Errno> {
    // SAFETY: no pointers.
    Errno::check(unsafe { sys::fd_sync(fd) }, ())
}

pub fn fd_fdstat_get(fd: Fd) -> Result<Fdstat, Errno> {
    let mut stat = Fdstat::default();
    // SAFETY: the pointer is to a local of the ABI's layout (asserted in sys).
    let raw = unsafe { sys::fd_fdstat_get(fd, &mut stat) };
    Errno::check(raw, stat)
}

pub fn fd_fdstat_set_flags(fd: Fd, flags: u32) -> Result<(), Errno> {
    // SAFETY: no pointers.
    Errno::check(unsafe { sys::fd_fdstat_set_flags(fd, flags) }, ())
}

pub fn fd_filestat_get(fd: Fd) -> Result<Filestat, Errno> {
    let mut stat = Filestat::default();
    // SAFETY: the pointer is to a local of the ABI's layout (asserted in sys).
    let raw = unsafe { sys::fd_filestat_get(fd, &mut stat) };
    Errno::check(raw, stat)
}

pub fn fd_filestat_set_size(fd: Fd, size: u64) -> Result<(), Errno> {
    // SAFETY: no pointers.
    Errno::check(unsafe { sys::fd_filestat_set_size(fd, size) }, ())
}

pub fn fd_read(fd: Fd, buf: &mut [u8]) -> Result<usize, Errno> {
    let iov = Iovec {
        buf: buf.as_mut_ptr(),
        buf_len: buf.len(),
    };
    let mut n = 0;
    // SAFETY: one iovec describing `buf`, which outlives the call; `n` is a local.
    let raw = unsafe { sys::fd_read(fd, &iov, 1, &mut n) };
    Errno::check(raw, n)
}

pub fn fd_pread(fd: Fd, buf: &mut [u8], offset: u64) -> Result<usize, Errno> {
    let iov = Iovec {
        buf: buf.as_mut_ptr(),
        buf_len: buf.len(),
    };
    let mut n = 0;
    // SAFETY: one iovec describing `buf`, which outlives the call; `n` is a local.
    let raw = unsafe { sys::fd_pread(fd, &iov, 1, offset, &mut n) };
    Errno::check(raw, n)
}

/// One fd_write of the given buffers, gathered; returns the count the runtime wrote.
pub fn fd_write(fd: Fd, bufs: &[&[u8]]) -> Result<usize, Errno> {
    let iovs: Vec<Ciovec> = bufs
        .iter()
        .map(|b| Ciovec {
            buf: b.as_ptr(),
            buf_len: b.len(),
        })
        .collect();
    let mut n = 0;
    // SAFETY: the iovecs describe `bufs`, which outlive the call; `n` is a local.
    let raw = unsafe { sys::fd_write(fd, iovs.as_ptr(), iovs.len(), &mut n) };
    Errno::check(raw, n)
}

/// Writes all of `bytes`, carrying on after short writes as POSIX programs must.
pub fn write_all(fd: Fd, mut bytes: &[u8]) -> Result<(), Errno> {
    while !bytes.is_empty() {
        let n = fd_write(fd, &[bytes])?;
        if n == 0 {
            return Err(Errno(29)); // EIO: no progress
        }
        bytes = &bytes[n..];
    }
    Ok(())
}

/// Reads until end of file.
pub fn read_to_end(fd: Fd) -> Result<Vec<u8>, Errno> {
    let mut all = Vec::new();
    let mut chunk = [0u8; 256];
    loop {
        match fd_read(fd, &mut chunk)? {
            0 => return Ok(all),
            n => all.extend_from_slice(&chunk[..n]),
        }
    }
}

pub fn fd_pwrite(fd: Fd, bytes: &[u8], offset: u64) -> Result<usize, Errno> {
    let iov = Ciovec {
        buf: bytes.as_ptr(),
        buf_len: bytes.len(),
    };
    let mut n = 0;
    // SAFETY: one iovec describing `bytes`, which outlives the call; `n` is a local.
    let raw = unsafe { sys::fd_pwrite(fd, &iov, 1, offset, &mut n) };
    Errno::check(raw, n)
}

pub fn fd_readdir(fd: Fd, buf: &mut [u8], cookie: u64) -> Result<usize, Errno> {
    let mut used = 0;
    // SAFETY: `buf` and `used` outlive the call; the length passed is `buf`'s.
    let raw = unsafe { sys::fd_readdir(fd, buf.as_mut_ptr(), buf.len(), cookie, &mut used) };
    Errno::check(raw, used)
}

pub fn fd_seek(fd: Fd, offset: i64, whence: u32) -> Result<u64, Errno> {
    let mut new_offset = 0;
    // SAFETY: the pointer is to a local that outlives the call.
    let raw = unsafe { sys::fd_seek(fd, offset, whence, &mut new_offset) };
    Errno::check(raw, new_offset)
}

pub fn fd_tell(fd: Fd) -> Result<u64, Errno> {
    let mut offset = 0;
    // SAFETY: the pointer is to a local that outlives the call.
    let raw = unsafe { sys::fd_tell(fd, &mut offset) };
    Errno::check(raw, offset)
}

pub fn path_open(dir: Fd, path: &[u8], rights: u64) -> Result<Fd, Errno> {
    let mut opened = 0;
    // SAFETY: `path` and `opened` outlive the call; the length passed is `path`'s.
    let raw = unsafe {
        sys::path_open(
            dir,
            0,
            path.as_ptr(),
            path.len(),
            0,
            rights,
            0,
            0,
            &mut opened,
        )
    };
    Errno::check(raw, opened)
}

/// poll_oneoff with one event slot per subscription; returns the events that occurred.
pub fn poll_oneoff(subscriptions: &[Subscription]) -> Result<Vec<Event>, Errno> {
    let mut events = vec![Event::default(); subscriptions.len()];
    let mut count = 0;
    // SAFETY: `events` has one slot per subscription, as the call requires; all outlive it.
    let raw = unsafe {
        sys::poll_oneoff(
            subscriptions.as_ptr(),
            events.as_mut_ptr(),
            subscriptions.len(),
            &mut count,
        )
    };
    events.truncate(count);
    Errno::check(raw, events)
}

pub fn proc_raise(signal: u32) -> Result<(), Errno> {
    // SAFETY: no pointers.
    Errno::check(unsafe { sys::proc_raise(signal) }, ())
}

pub fn sched_yield() -> Result<(), Errno> {
    // SAFETY: no pointers.
    Errno::check(unsafe { sys::sched_yield() }, ())
}

pub fn random_get(buf: &mut [u8]) -> Result<(), Errno> {
    // SAFETY: the pointer and length describe `buf`, which outlives the call.
    Errno::check(unsafe { sys::random_get(buf.as_mut_ptr(), buf.len()) }, ())
}

pub fn sock_accept(fd: Fd) -> Result<Fd, Errno> {
    let mut accepted = 0;
    // SAFETY: the pointer is to a local that outlives the call.
    let raw = unsafe { sys::sock_accept(fd, 0, &mut accepted) };
    Errno::check(raw, accepted)
}

pub fn sock_recv(fd: Fd, buf: &mut [u8]) -> Result<usize, Errno> {
    let iov = Iovec {
        buf: buf.as_mut_ptr(),
        buf_len: buf.len(),
    };
    let (mut n, mut flags) = (0, 0);
    // SAFETY: one iovec describing `buf`; `n` and `flags` are locals; all outlive the call.
    let raw = unsafe { sys::sock_recv(fd, &iov, 1, 0, &mut n, &mut flags) };
    Errno::check(raw, n)
}

pub fn sock_send(fd: Fd, bytes: &[u8]) -> Result<usize, Errno> {
    let iov = Ciovec {
        buf: bytes.as_ptr(),
        buf_len: bytes.len(),
    };
    let mut n = 0;
    // SAFETY: one iovec describing `bytes`; `n` is a local; both outlive the call.
    let raw = unsafe { sys::sock_send(fd, &iov, 1, 0, &mut n) };
    Errno::check(raw, n)
}

pub fn sock_shutdown(fd: Fd, how: u32) -> Result<(), Errno> {
    // SAFETY: no pointers.
    Errno::check(unsafe { sys::sock_shutdown(fd, how) }, ())
}

/// A relative or absolute clock subscription.
pub fn clock_subscription(userdata: u64, clock: u32, timeout: u64, flags: u16) -> Subscription {
    Subscription {
        userdata,
        tag: sys::EVENTTYPE_CLOCK,
        u: sys::SubscriptionContents {
            clock: sys::SubscriptionClock {
                id: clock,
                timeout,
                precision: 0,
                flags,
            },
        },
    }
}

/// An fd_read or fd_write readiness subscription.
pub fn fd_subscription(userdata: u64, kind: u8, fd: Fd) -> Subscription {
    Subscription {
        userdata,
        tag: kind,
        u: sys::SubscriptionContents {
            fd_readwrite: sys::SubscriptionFdReadwrite { fd },
        },
    }
}
