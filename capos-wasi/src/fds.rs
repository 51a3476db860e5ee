//! The WASI descriptor table: what each fd is, backed by which capability.

use capos_rt::Console;
use std::collections::BTreeMap;

/// What a descriptor refers to.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// Terminal input (the Console granted as "stdin").
    ConsoleIn(Console),
    /// Terminal output (the Consoles granted as "stdout" and "stderr").
    ConsoleOut(Console),
}

#[derive(Clone, Copy, Debug)]
pub struct Fd {
    pub kind: Kind,
    /// fdflags as set by fd_fdstat_set_flags.
    pub flags: u16,
    pub rights_base: u64,
    pub rights_inheriting: u64,
}

pub const FILETYPE_CHARACTER_DEVICE: u8 = 2;

/// fdflags bits the specification defines; Go sets junk above them.
pub const FDFLAGS_MASK: u16 = 0x1f;

pub mod rights {
    pub const FD_READ: u64 = 1 << 1;
    pub const FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
    pub const FD_WRITE: u64 = 1 << 6;
    pub const FD_FILESTAT_GET: u64 = 1 << 21;
    pub const POLL_FD_READWRITE: u64 = 1 << 27;
}

#[derive(Debug, Default)]
pub struct Table {
    fds: BTreeMap<u32, Fd>,
}

impl Table {
    pub fn insert(&mut self, fd: u32, kind: Kind) {
        use rights::*;
        let io = match kind {
            Kind::ConsoleIn(_) => FD_READ,
            Kind::ConsoleOut(_) => FD_WRITE,
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

    pub fn get(&self, fd: u32) -> Option<&Fd> {
        self.fds.get(&fd)
    }

    pub fn get_mut(&mut self, fd: u32) -> Option<&mut Fd> {
        self.fds.get_mut(&fd)
    }

    pub fn remove(&mut self, fd: u32) -> Option<Fd> {
        self.fds.remove(&fd)
    }

    pub fn put(&mut self, fd: u32, entry: Fd) {
        self.fds.insert(fd, entry);
    }
}
