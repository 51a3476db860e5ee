//! What std does not wrap: waiting on a set of fds (WASI's `poll_oneoff`),
//! and finding the listening socket (WASI: the first socket fd the runtime
//! opened, found with `fd_fdstat_get`). Natively (the `make bench`
//! reference), `poll(2)` and a socket bound to `STATIC_SERVER_LISTEN`.

use std::net::TcpListener;
use std::time::Duration;

pub use imp::{listener, wait};

/// One fd and what to wait for on it.
pub struct Interest {
    fd: i32,
    write: bool,
}

impl Interest {
    pub fn read(fd: i32) -> Self {
        Self { fd, write: false }
    }
    pub fn write(fd: i32) -> Self {
        Self { fd, write: true }
    }
}

#[cfg(target_os = "wasi")]
mod imp {
    use super::{Duration, Interest, TcpListener};
    use std::os::fd::FromRawFd;

    #[link(wasm_import_module = "wasi_snapshot_preview1")]
    unsafe extern "C" {
        fn poll_oneoff(
            subscriptions: *const u8,
            events: *mut u8,
            count: u32,
            nevents: *mut u32,
        ) -> u16;
        fn fd_fdstat_get(fd: u32, stat: *mut u8) -> u16;
    }

    const FILETYPE_SOCKET_STREAM: u8 = 6;
    const SUBSCRIPTION_SIZE: usize = 48;
    const EVENT_SIZE: usize = 32;
    const EVENTTYPE_CLOCK: u8 = 0;
    const EVENTTYPE_FD_READ: u8 = 1;
    const EVENTTYPE_FD_WRITE: u8 = 2;
    const CLOCK_MONOTONIC: u32 = 1;
    /// The clock subscription's userdata: no fd has it.
    const TIMEOUT: u64 = u64::MAX;

    /// The first socket among the fds the runtime opened (from 3 up to the
    /// first that is not open): runtimes put listening sockets after the
    /// preopened directories (capOS), or at 3 (wasmtime's --tcplisten).
    pub fn listener() -> Result<TcpListener, String> {
        for fd in 3..1024u32 {
            let mut stat = [0u8; 24];
            // SAFETY: `stat` has room for the 24-byte fdstat WASI writes.
            if unsafe { fd_fdstat_get(fd, stat.as_mut_ptr()) } != 0 {
                break;
            }
            if stat[0] == FILETYPE_SOCKET_STREAM {
                // SAFETY: `fd` is the listening socket the runtime preopened
                // for this program; nothing else owns it.
                return Ok(unsafe { TcpListener::from_raw_fd(fd as i32) });
            }
        }
        Err("no listening socket was preopened (run it with --tcplisten)".into())
    }

    /// Waits until one of `interests` is ready or `timeout` passes; returns
    /// the ready fds (an fd whose poll failed counts as ready: its next call
    /// says why).
    pub fn wait(interests: &[Interest], timeout: Duration) -> Result<Vec<i32>, String> {
        let count = interests.len() + 1;
        let mut subscriptions = vec![0u8; count * SUBSCRIPTION_SIZE];
        for (s, interest) in subscriptions
            .chunks_exact_mut(SUBSCRIPTION_SIZE)
            .zip(interests)
        {
            s[0..8].copy_from_slice(&(interest.fd as u64).to_le_bytes());
            s[8] = if interest.write {
                EVENTTYPE_FD_WRITE
            } else {
                EVENTTYPE_FD_READ
            };
            s[16..20].copy_from_slice(&(interest.fd as u32).to_le_bytes());
        }
        let clock = &mut subscriptions[interests.len() * SUBSCRIPTION_SIZE..];
        clock[0..8].copy_from_slice(&TIMEOUT.to_le_bytes());
        clock[8] = EVENTTYPE_CLOCK;
        clock[16..20].copy_from_slice(&CLOCK_MONOTONIC.to_le_bytes());
        clock[24..32].copy_from_slice(&(timeout.as_nanos() as u64).to_le_bytes());
        let mut events = vec![0u8; count * EVENT_SIZE];
        let mut nevents = 0u32;
        // SAFETY: both buffers hold `count` entries of the sizes WASI
        // preview1 defines, and `nevents` is a valid u32 to write.
        let errno = unsafe {
            poll_oneoff(
                subscriptions.as_ptr(),
                events.as_mut_ptr(),
                count as u32,
                &mut nevents,
            )
        };
        if errno != 0 {
            return Err(format!("poll_oneoff: errno {errno}"));
        }
        Ok(events
            .chunks_exact(EVENT_SIZE)
            .take(nevents as usize)
            .map(|e| u64::from_le_bytes(e[0..8].try_into().expect("8 bytes")))
            .filter(|&userdata| userdata != TIMEOUT)
            .map(|userdata| userdata as i32)
            .collect())
    }
}

#[cfg(not(target_os = "wasi"))]
mod imp {
    use super::{Duration, Interest, TcpListener};

    /// A socket bound to `STATIC_SERVER_LISTEN` (ADDRESS:PORT).
    pub fn listener() -> Result<TcpListener, String> {
        let addr = std::env::var("STATIC_SERVER_LISTEN")
            .map_err(|_| "set STATIC_SERVER_LISTEN=ADDRESS:PORT".to_string())?;
        TcpListener::bind(&addr).map_err(|e| format!("cannot listen on {addr}: {e}"))
    }

    pub fn wait(interests: &[Interest], timeout: Duration) -> Result<Vec<i32>, String> {
        let mut fds: Vec<libc::pollfd> = interests
            .iter()
            .map(|i| libc::pollfd {
                fd: i.fd,
                events: if i.write { libc::POLLOUT } else { libc::POLLIN },
                revents: 0,
            })
            .collect();
        let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: `fds` is a live array of `fds.len()` pollfd structures.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
        if n < 0 {
            return Err(format!("poll: {}", std::io::Error::last_os_error()));
        }
        Ok(fds
            .iter()
            .filter(|p| p.revents != 0)
            .map(|p| p.fd)
            .collect())
    }
}
