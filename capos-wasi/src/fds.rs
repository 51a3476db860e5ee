//! The WASI descriptor table: what each fd is, backed by which capability.

use capos_rt::{CapRef, Console};
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
}

#[derive(Clone, Debug)]
pub struct Fd {
    pub kind: Kind,
    /// fdflags as set by path_open or fd_fdstat_set_flags.
    pub flags: u16,
    pub rights_base: u64,
    pub rights_inheriting: u64,
}

pub const FILETYPE_CHARACTER_DEVICE: u8 = 2;
pub const FILETYPE_DIRECTORY: u8 = 3;
pub const FILETYPE_REGULAR_FILE: u8 = 4;

/// fdflags bits the specification defines; Go sets junk above them.
pub const FDFLAGS_MASK: u16 = 0x1f;
pub const FDFLAGS_APPEND: u16 = 1;

pub mod rights {
    pub const FD_READ: u64 = 1 << 1;
    pub const FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
    pub const FD_WRITE: u64 = 1 << 6;
    pub const FD_FILESTAT_GET: u64 = 1 << 21;
    pub const POLL_FD_READWRITE: u64 = 1 << 27;
    /// Every right preview1 defines (bits 0..=29).
    pub const ALL: u64 = (1 << 30) - 1;
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
