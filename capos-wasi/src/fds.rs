//! The WASI descriptor table: what each fd is, backed by which capability.

use capos_rt::{CapRef, Console, Listener, Stream};
use std::collections::BTreeMap;

/// What a descriptor refers to.
#[derive(Clone, Debug)]
pub enum Kind {
    /// Terminal input (the Console granted as "stdin").
    ConsoleIn(Console),
    /// Terminal output (the Consoles granted as "stdout" and "stderr").
    ConsoleOut(Console),
    /// A Directory capability; `preopen` is its name if it was granted
    /// (not opened by a path).
    Dir {
        cap: CapRef,
        preopen: Option<String>,
    },
    /// A File capability and this descriptor's offset in it.
    File { cap: CapRef, offset: u64 },
    /// A listening socket: a Listener granted to the program (as
    /// wasmtime's `--tcplisten` preopens one).
    Listener(Listener),
    /// An accepted connection: its Stream, and the listener it came from
    /// with its number there (readiness is polled on the listener).
    Socket {
        stream: Stream,
        listener: Listener,
        connection: u64,
    },
}

impl Kind {
    /// The capability the descriptor holds, released when it is closed.
    pub fn cap(&self) -> Option<CapRef> {
        match self {
            Self::Dir { cap, .. } | Self::File { cap, .. } => Some(*cap),
            Self::Listener(listener) => Some(listener.cap()),
            Self::Socket { stream, .. } => Some(stream.cap()),
            Self::ConsoleIn(_) | Self::ConsoleOut(_) => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Fd {
    pub kind: Kind,
    /// fdflags as set by path_open or fd_fdstat_set_flags.
    pub flags: u16,
    pub rights_base: u64,
    pub rights_inheriting: u64,
}

/// A pipe or a file on the host behind stdio: WASI preview1 has no filetype
/// for a pipe, and wasmtime reports this one.
pub const FILETYPE_UNKNOWN: u8 = 0;
pub const FILETYPE_CHARACTER_DEVICE: u8 = 2;
pub const FILETYPE_DIRECTORY: u8 = 3;
pub const FILETYPE_REGULAR_FILE: u8 = 4;
pub const FILETYPE_SOCKET_STREAM: u8 = 6;

/// fdflags bits the specification defines; Go sets junk above them.
pub const FDFLAGS_MASK: u16 = 0x1f;
pub const FDFLAGS_APPEND: u16 = 1;
pub const FDFLAGS_NONBLOCK: u16 = 4;

pub mod rights {
    pub const FD_DATASYNC: u64 = 1 << 0;
    pub const FD_READ: u64 = 1 << 1;
    pub const FD_SEEK: u64 = 1 << 2;
    pub const FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
    pub const FD_SYNC: u64 = 1 << 4;
    pub const FD_TELL: u64 = 1 << 5;
    pub const FD_WRITE: u64 = 1 << 6;
    pub const FD_ADVISE: u64 = 1 << 7;
    pub const FD_ALLOCATE: u64 = 1 << 8;
    pub const PATH_CREATE_DIRECTORY: u64 = 1 << 9;
    pub const PATH_CREATE_FILE: u64 = 1 << 10;
    pub const PATH_LINK_SOURCE: u64 = 1 << 11;
    pub const PATH_LINK_TARGET: u64 = 1 << 12;
    pub const PATH_OPEN: u64 = 1 << 13;
    pub const FD_READDIR: u64 = 1 << 14;
    pub const PATH_READLINK: u64 = 1 << 15;
    pub const PATH_RENAME_SOURCE: u64 = 1 << 16;
    pub const PATH_RENAME_TARGET: u64 = 1 << 17;
    pub const PATH_FILESTAT_GET: u64 = 1 << 18;
    /// Also the right to `path_open` with `oflags::trunc`.
    pub const PATH_FILESTAT_SET_SIZE: u64 = 1 << 19;
    pub const PATH_FILESTAT_SET_TIMES: u64 = 1 << 20;
    pub const FD_FILESTAT_GET: u64 = 1 << 21;
    pub const FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
    pub const FD_FILESTAT_SET_TIMES: u64 = 1 << 23;
    pub const PATH_SYMLINK: u64 = 1 << 24;
    pub const PATH_REMOVE_DIRECTORY: u64 = 1 << 25;
    pub const PATH_UNLINK_FILE: u64 = 1 << 26;
    pub const POLL_FD_READWRITE: u64 = 1 << 27;
    pub const SOCK_SHUTDOWN: u64 = 1 << 28;
    pub const SOCK_ACCEPT: u64 = 1 << 29;

    /// What a listening socket's fd can be used for.
    pub const LISTENER: u64 =
        FD_FDSTAT_SET_FLAGS | FD_FILESTAT_GET | POLL_FD_READWRITE | SOCK_ACCEPT;

    /// What a connection's fd can be used for.
    pub const SOCKET: u64 = FD_READ
        | FD_WRITE
        | FD_FDSTAT_SET_FLAGS
        | FD_FILESTAT_GET
        | POLL_FD_READWRITE
        | SOCK_SHUTDOWN;

    /// What a directory's fd can be used for: every `path_*`, `fd_readdir`,
    /// its own stat and times, sync and flags. Never reading, writing,
    /// seeking or sizing it, so a directory never reports those rights, and
    /// opening `.` with the rights a directory reports never asks for
    /// `FD_WRITE` (which is `EISDIR`).
    pub const DIRECTORY: u64 = FD_DATASYNC
        | FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | PATH_CREATE_DIRECTORY
        | PATH_CREATE_FILE
        | PATH_LINK_SOURCE
        | PATH_LINK_TARGET
        | PATH_OPEN
        | FD_READDIR
        | PATH_READLINK
        | PATH_RENAME_SOURCE
        | PATH_RENAME_TARGET
        | PATH_FILESTAT_GET
        | PATH_FILESTAT_SET_SIZE
        | PATH_FILESTAT_SET_TIMES
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_TIMES
        | PATH_SYMLINK
        | PATH_REMOVE_DIRECTORY
        | PATH_UNLINK_FILE;

    /// What a regular file's fd can be used for.
    pub const FILE: u64 = FD_DATASYNC
        | FD_READ
        | FD_SEEK
        | FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_TELL
        | FD_WRITE
        | FD_ADVISE
        | FD_ALLOCATE
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_SIZE
        | FD_FILESTAT_SET_TIMES
        | POLL_FD_READWRITE;
}

#[derive(Debug, Default)]
pub struct Table {
    fds: BTreeMap<u32, Fd>,
}

impl Table {
    pub fn insert_console(&mut self, fd: u32, kind: Kind) {
        use rights::*;
        let io = match kind {
            Kind::ConsoleIn(_) => FD_READ,
            _ => FD_WRITE,
        };
        let rights_base = io | FD_FDSTAT_SET_FLAGS | FD_FILESTAT_GET | POLL_FD_READWRITE;
        self.fds.insert(
            fd,
            Fd {
                kind,
                flags: 0,
                rights_base,
                rights_inheriting: 0,
            },
        );
    }

    /// Adds an entry under the lowest free number.
    pub fn push(&mut self, entry: Fd) -> u32 {
        let fd = (0..)
            .find(|n| !self.fds.contains_key(n))
            .expect("fewer than 2^32 fds");
        self.fds.insert(fd, entry);
        fd
    }

    pub fn get(&self, fd: u32) -> Option<&Fd> {
        self.fds.get(&fd)
    }

    pub fn get_mut(&mut self, fd: u32) -> Option<&mut Fd> {
        self.fds.get_mut(&fd)
    }

    pub fn remove(&mut self, fd: u32) -> Option<Fd> {
        self.fds.remove(&fd)
    }

    pub fn put(&mut self, fd: u32, entry: Fd) -> Option<Fd> {
        self.fds.insert(fd, entry)
    }
}
