//! WASI preview1 sockets over Listener and Stream (schema/net.capnp): each
//! Listener granted to the program is a preopened listening socket (as
//! wasmtime's `--tcplisten` makes one), `sock_accept` turns its connections
//! into fds, and those read and write with `sock_recv`/`sock_send` or
//! `fd_read`/`fd_write`. Blocking follows the fd's `NONBLOCK` flag, as on
//! a POSIX socket; what would block without it is `EAGAIN`.

use crate::app;
use crate::fds::{FDFLAGS_NONBLOCK, Fd, Kind, rights};
use crate::state::{Result, Wasi};
use capos_rt::config::errno::*;
use capos_rt::config::ring::CapError;
use capos_rt::net::{PART_MAX, Read};
use capos_rt::{Error, Listener, Stream};

const RECV_PEEK: u16 = 1;
const RECV_WAITALL: u16 = 2;
const SHUT_RD: u32 = 1;
const SHUT_WR: u32 = 2;
/// The most a non-blocking send can take at once (the kernel's window per
/// connection): no more than this is copied out of the program for it.
const SEND_AT_ONCE: usize = 256 * 1024;

/// A failed Listener or Stream call as the errno a socket call returns:
/// a connection that is gone is reset.
fn socket_error(e: Error) -> Errno {
    match e {
        Error::Cap {
            error: CapError::PeerGone | CapError::StaleCap,
            ..
        } => ECONNRESET,
        _ => EIO,
    }
}

/// One socket a poll watches: (listener, the connection's number or
/// `None` for the listener itself).
pub(crate) struct Watch {
    pub userdata: u64,
    pub write: bool,
    pub listener: Listener,
    pub connection: Option<u64>,
}

impl Wasi {
    /// The connection behind `fd`, and whether it is non-blocking.
    fn socket(&self, fd: u32) -> Result<(Stream, bool)> {
        let entry = self.fds.get(fd).ok_or(EBADF)?;
        match entry.kind {
            Kind::Socket { stream, .. } => Ok((stream, entry.flags & FDFLAGS_NONBLOCK != 0)),
            Kind::Listener(_) => Err(ENOTCONN),
            _ => Err(ENOTSOCK),
        }
    }

    pub fn sock_accept(&mut self, fd: u32, flags: u32, out: u32) -> Result<()> {
        let entry = self.fds.get(fd).ok_or(EBADF)?;
        let listener = match entry.kind {
            Kind::Listener(listener) => listener,
            Kind::Socket { .. } => return Err(EINVAL),
            _ => return Err(ENOTSOCK),
        };
        if flags & !u32::from(FDFLAGS_NONBLOCK) != 0 {
            return Err(EINVAL);
        }
        if entry.rights_base & rights::SOCK_ACCEPT == 0 {
            return Err(ENOTCAPABLE);
        }
        let wait = entry.flags & FDFLAGS_NONBLOCK == 0;
        let accepted = listener.accept(wait).map_err(socket_error)?.ok_or(EAGAIN)?;
        let new = self.fds.push(Fd {
            kind: Kind::Socket {
                stream: accepted.stream,
                listener,
                connection: accepted.connection,
            },
            flags: flags as u16,
            rights_base: rights::SOCKET,
            rights_inheriting: 0,
        });
        app::write_u32(out, new)
    }

    /// Reads into `capacity` bytes: blocks (unless non-blocking) for the
    /// first, then takes what is already there; `waitall` waits until the
    /// buffer is full or the stream ends.
    fn receive(&self, fd: u32, capacity: u64, peek: bool, waitall: bool) -> Result<Vec<u8>> {
        let (stream, nonblocking) = self.socket(fd)?;
        let mut data = Vec::new();
        let capacity = capacity.min(u64::from(u32::MAX)) as usize;
        while data.len() < capacity {
            let first = data.is_empty();
            let wait = !nonblocking && (first || waitall);
            let want = (capacity - data.len()).min(PART_MAX);
            match stream.read(want, wait, peek).map_err(socket_error)? {
                Read::Data(bytes) => data.extend_from_slice(&bytes),
                Read::End => break,
                Read::WouldBlock if first => return Err(EAGAIN),
                Read::WouldBlock => break,
            }
            // A peek cannot go past what one read sees.
            if peek {
                break;
            }
        }
        Ok(data)
    }

    /// Sends `data`: all of it (waiting for room) unless non-blocking, then
    /// what fits, and EAGAIN if nothing did.
    fn send(&self, fd: u32, data: &[u8]) -> Result<usize> {
        let (stream, nonblocking) = self.socket(fd)?;
        let sent_error = |e: Error| match socket_error(e) {
            ECONNRESET => EPIPE,
            other => other,
        };
        if !nonblocking {
            stream.write_all(data).map_err(sent_error)?;
            return Ok(data.len());
        }
        let mut sent = 0;
        while sent < data.len() {
            let n = stream
                .write_batch(&data[sent..], false)
                .map_err(sent_error)?;
            if n == 0 {
                break;
            }
            sent += n;
        }
        if sent == 0 && !data.is_empty() {
            return Err(EAGAIN);
        }
        Ok(sent)
    }

    pub fn sock_recv(
        &mut self,
        fd: u32,
        iovs: u32,
        count: u32,
        flags: u32,
        nread: u32,
        oflags: u32,
    ) -> Result<()> {
        let flags = flags as u16;
        if flags & !(RECV_PEEK | RECV_WAITALL) != 0 {
            return Err(EINVAL);
        }
        let iovecs = app::iovecs(iovs, count)?;
        let capacity: u64 = iovecs.iter().map(|&(_, len)| u64::from(len)).sum();
        let data = self.receive(
            fd,
            capacity,
            flags & RECV_PEEK != 0,
            flags & RECV_WAITALL != 0,
        )?;
        crate::state::scatter(&iovecs, &data)?;
        app::write_u32(nread, data.len() as u32)?;
        app::write(oflags, &0u16.to_le_bytes())
    }

    pub fn sock_send(
        &mut self,
        fd: u32,
        iovs: u32,
        count: u32,
        flags: u32,
        nwritten: u32,
    ) -> Result<()> {
        if flags != 0 {
            return Err(EINVAL);
        }
        self.socket_write(fd, iovs, count, nwritten)
    }

    pub fn sock_shutdown(&mut self, fd: u32, how: u32) -> Result<()> {
        if how == 0 || how & !(SHUT_RD | SHUT_WR) != 0 {
            return Err(EINVAL);
        }
        let (stream, _) = self.socket(fd)?;
        stream
            .shutdown(how & SHUT_RD != 0, how & SHUT_WR != 0)
            .map_err(|e| match socket_error(e) {
                ECONNRESET => ENOTCONN,
                other => other,
            })
    }

    /// fd_read on a connection.
    pub(crate) fn socket_read(&self, fd: u32, iovs: u32, count: u32, nread: u32) -> Result<()> {
        let iovecs = app::iovecs(iovs, count)?;
        let capacity: u64 = iovecs.iter().map(|&(_, len)| u64::from(len)).sum();
        let data = self.receive(fd, capacity, false, false)?;
        crate::state::scatter(&iovecs, &data)?;
        app::write_u32(nread, data.len() as u32)
    }

    /// fd_write (and sock_send) on a connection.
    pub(crate) fn socket_write(&self, fd: u32, iovs: u32, count: u32, nwritten: u32) -> Result<()> {
        let (_, nonblocking) = self.socket(fd)?;
        let limit = if nonblocking {
            SEND_AT_ONCE
        } else {
            usize::MAX
        };
        let data = gather(iovs, count, limit)?;
        let sent = self.send(fd, &data)?;
        app::write_u32(nwritten, sent as u32)
    }

    /// What poll_oneoff watches on socket `fd`, if it is one.
    pub(crate) fn watch(&self, fd: u32, userdata: u64, write: bool) -> Option<Watch> {
        match self.fds.get(fd)?.kind {
            Kind::Listener(listener) => Some(Watch {
                userdata,
                write,
                listener,
                connection: None,
            }),
            Kind::Socket {
                listener,
                connection,
                ..
            } => Some(Watch {
                userdata,
                write,
                listener,
                connection: Some(connection),
            }),
            _ => None,
        }
    }
}

/// Which of `watches` are ready, waiting at most `timeout_ns` for one to
/// be (0: not at all). Watches on several listeners are asked in turn,
/// waiting on the first for at most 10 ms a round: a program serving on
/// one port (the usual case) waits in the kernel, never in a loop here.
pub(crate) fn ready(watches: &[Watch], timeout_ns: u64, now: impl Fn() -> u64) -> Result<Vec<u64>> {
    let mut listeners: Vec<Listener> = Vec::new();
    for w in watches {
        if !listeners.iter().any(|l| l.cap() == w.listener.cap()) {
            listeners.push(w.listener);
        }
    }
    let start = now();
    loop {
        let elapsed = now().saturating_sub(start);
        let remaining = timeout_ns.saturating_sub(elapsed);
        let mut found = Vec::new();
        for (i, listener) in listeners.iter().enumerate() {
            let mine: Vec<&Watch> = watches
                .iter()
                .filter(|w| w.listener.cap() == listener.cap())
                .collect();
            let accept = mine.iter().any(|w| w.connection.is_none() && !w.write);
            let interests: Vec<(u64, bool, bool)> = mine
                .iter()
                .filter_map(|w| w.connection.map(|n| (n, !w.write, w.write)))
                .collect();
            let wait = match (i, listeners.len()) {
                (0, 1) => remaining,
                (0, _) => remaining.min(10_000_000),
                _ => 0,
            };
            let r = listener
                .poll(accept, &interests, wait)
                .map_err(socket_error)?;
            for w in mine {
                let hit = match w.connection {
                    None => r.acceptable && !w.write,
                    Some(n) => r.connections.iter().any(|&(c, readable, writable)| {
                        c == n && if w.write { writable } else { readable }
                    }),
                };
                if hit {
                    found.push(w.userdata);
                }
            }
        }
        if !found.is_empty() || remaining == 0 || listeners.len() == 1 {
            return Ok(found);
        }
    }
}

/// The bytes of an iovec array, at most `limit` of them.
fn gather(iovs: u32, count: u32, limit: usize) -> Result<Vec<u8>> {
    let mut data = Vec::new();
    for (ptr, len) in app::iovecs(iovs, count)? {
        let take = (len as usize).min(limit - data.len());
        data.extend_from_slice(&app::read(ptr, take as u32)?);
        if data.len() == limit {
            break;
        }
    }
    Ok(data)
}
