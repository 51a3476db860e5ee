//! The shim's state and the logic of each WASI call.

use crate::app;
use crate::fds::{
    FDFLAGS_APPEND, FDFLAGS_MASK, FILETYPE_CHARACTER_DEVICE, FILETYPE_DIRECTORY,
    FILETYPE_REGULAR_FILE, FILETYPE_SOCKET_STREAM, FILETYPE_UNKNOWN, Fd, Kind, Table, rights,
};
use crate::fsclient::{self as fs, OpenFlags, Times};
use capos_rt::config::errno::*;
use capos_rt::{CapRef, Console, Env, Error, RandomSource, Timer};
use capos_schema::interfaces::directory as dir_iface;
use std::cell::RefCell;
use std::collections::BTreeMap;

pub type Result<T> = std::result::Result<T, Errno>;

/// Maps a failed capability call to an errno.
fn io_error(_: Error) -> Errno {
    EIO
}

/// path_open's arguments.
pub struct PathOpen {
    pub dirfd: u32,
    pub dirflags: u32,
    pub path: String,
    pub oflags: u16,
    pub base: u64,
    pub inheriting: u64,
    pub fdflags: u16,
}

pub struct Wasi {
    pub env: &'static Env,
    pub fds: Table,
    /// The `capos_http` import module's responses and capabilities.
    pub http: crate::http::HttpState,
    timer: Option<Timer>,
    random: Option<RandomSource>,
    /// What each Console said `isTerminal` is, by capability id: asked once,
    /// on the first fdstat of a stdio fd.
    terminals: RefCell<BTreeMap<u32, (bool, bool)>>,
}

const CLOCK_REALTIME: u32 = 0;
const CLOCK_MONOTONIC: u32 = 1;
const CLOCK_PROCESS_CPUTIME: u32 = 2;
const CLOCK_THREAD_CPUTIME: u32 = 3;
/// performance.now() in a cross-origin-isolated Worker.
const CLOCK_RESOLUTION_NS: u64 = 5_000;

const EVENTTYPE_CLOCK: u8 = 0;
const EVENTTYPE_FD_READ: u8 = 1;
const EVENTTYPE_FD_WRITE: u8 = 2;
const SUBCLOCKFLAGS_ABSTIME: u16 = 1;

/// One poll_oneoff subscription, decoded.
enum Subscription {
    Clock {
        userdata: u64,
        id: u32,
        timeout: u64,
        abstime: bool,
    },
    FdRead {
        userdata: u64,
        fd: u32,
    },
    FdWrite {
        userdata: u64,
        fd: u32,
    },
}

/// One poll_oneoff event, to encode.
struct Event {
    userdata: u64,
    error: Errno,
    kind: u8,
    nbytes: u64,
}

impl Wasi {
    pub fn new(env: &'static Env) -> Self {
        let console = |name| Console::open(env, name).ok();
        let mut fds = Table::default();
        if let Some(c) = console("stdin") {
            fds.insert_console(0, Kind::ConsoleIn(c));
        }
        if let Some(c) = console("stdout") {
            fds.insert_console(1, Kind::ConsoleOut(c));
        }
        if let Some(c) = console("stderr") {
            fds.insert_console(2, Kind::ConsoleOut(c));
        }
        // Preopens from fd 3: every Directory in the CapSet, in its order,
        // then every Listener as a listening socket. Sockets come after
        // the directories: wasi-libc finds its preopens by asking fd 3, 4,
        // ... until one is not a directory, so a socket before them would
        // hide them (as wasmtime's --tcplisten does: its issue #3936).
        let mut next = 3;
        for entry in env.capset.entries() {
            if entry.interface_id != dir_iface::INTERFACE_ID {
                continue;
            }
            let cap = CapRef {
                cap_id: entry.cap_id,
                interface_id: entry.interface_id,
            };
            let Ok(label) = fs::label(cap) else { continue };
            fds.put(
                next,
                Fd {
                    kind: Kind::Dir {
                        cap,
                        preopen: Some(label),
                    },
                    flags: 0,
                    // A directory's rights, and every right to pass on to
                    // what is opened in it.
                    rights_base: rights::DIRECTORY,
                    rights_inheriting: rights::DIRECTORY | rights::FILE,
                },
            );
            next += 1;
        }
        for entry in env.capset.entries() {
            if entry.interface_id != capos_schema::interfaces::listener::INTERFACE_ID {
                continue;
            }
            let Ok(listener) = capos_rt::Listener::from_cap(CapRef {
                cap_id: entry.cap_id,
                interface_id: entry.interface_id,
            }) else {
                continue;
            };
            fds.put(
                next,
                Fd {
                    kind: Kind::Listener(listener),
                    flags: 0,
                    rights_base: rights::LISTENER,
                    rights_inheriting: rights::SOCKET,
                },
            );
            next += 1;
        }
        Self {
            env,
            fds,
            http: crate::http::HttpState::new(env),
            timer: Timer::open(env, "timer").ok(),
            random: RandomSource::open(env, "random").ok(),
            terminals: RefCell::default(),
        }
    }

    /// A Console fd's filetype: a character device when it is a terminal,
    /// else unknown (a pipe or a file on the host), as wasmtime reports
    /// stdio; `isatty` follows it.
    fn console_filetype(&self, kind: &Kind) -> u8 {
        let (console, input) = match kind {
            Kind::ConsoleIn(console) => (console, true),
            Kind::ConsoleOut(console) => (console, false),
            _ => return FILETYPE_UNKNOWN,
        };
        let id = console.cap().cap_id;
        let known = self.terminals.borrow().get(&id).copied();
        // A Console that cannot say is taken for a terminal, as it was
        // before it could be asked.
        let (in_terminal, out_terminal) = known.unwrap_or_else(|| {
            let answer = console.is_terminal().unwrap_or((true, true));
            self.terminals.borrow_mut().insert(id, answer);
            answer
        });
        if (input && in_terminal) || (!input && out_terminal) {
            FILETYPE_CHARACTER_DEVICE
        } else {
            FILETYPE_UNKNOWN
        }
    }

    fn fd(&self, fd: u32) -> Result<&Fd> {
        self.fds.get(fd).ok_or(EBADF)
    }

    fn timer(&self) -> Result<Timer> {
        self.timer.ok_or(ENOTCAPABLE)
    }

    /// Writes NUL-terminated strings and a pointer to each.
    pub fn strings_get(strings: &[String], ptrs: u32, buf: u32) -> Result<()> {
        let mut at = buf;
        for (i, s) in strings.iter().enumerate() {
            app::write_u32(ptrs + 4 * i as u32, at)?;
            let mut bytes = s.as_bytes().to_vec();
            bytes.push(0);
            app::write(at, &bytes)?;
            at += bytes.len() as u32;
        }
        Ok(())
    }

    pub fn strings_sizes(strings: &[String], count_ptr: u32, size_ptr: u32) -> Result<()> {
        app::write_u32(count_ptr, strings.len() as u32)?;
        app::write_u32(size_ptr, strings.iter().map(|s| s.len() as u32 + 1).sum())
    }

    pub fn clock_res_get(&self, id: u32, out: u32) -> Result<()> {
        match id {
            CLOCK_REALTIME | CLOCK_MONOTONIC | CLOCK_PROCESS_CPUTIME | CLOCK_THREAD_CPUTIME => {
                app::write_u64(out, CLOCK_RESOLUTION_NS)
            }
            _ => Err(EINVAL),
        }
    }

    pub fn now(&self, id: u32) -> Result<u64> {
        let timer = self.timer()?;
        match id {
            CLOCK_REALTIME => timer.realtime_ns().map_err(io_error),
            // A process owns its Worker's thread, so its CPU clocks are read
            // as the monotonic clock (documented in docs/wasi.md).
            CLOCK_MONOTONIC | CLOCK_PROCESS_CPUTIME | CLOCK_THREAD_CPUTIME => {
                timer.now_ns().map_err(io_error)
            }
            _ => Err(EINVAL),
        }
    }

    fn require(&self, fd: u32, right: u64) -> Result<&Fd> {
        let entry = self.fd(fd)?;
        if entry.rights_base & right == 0 {
            return Err(ENOTCAPABLE);
        }
        Ok(entry)
    }

    /// The Directory behind `fd`: ENOTDIR for anything else open.
    pub fn dir(&self, fd: u32) -> Result<CapRef> {
        match &self.fd(fd)?.kind {
            Kind::Dir { cap, .. } => Ok(*cap),
            _ => Err(ENOTDIR),
        }
    }

    pub fn fd_write(&mut self, fd: u32, iovs: u32, count: u32, nwritten: u32) -> Result<()> {
        let entry = self.fd(fd)?.clone();
        if let Kind::Socket { .. } = entry.kind {
            return self.socket_write(fd, iovs, count, nwritten);
        }
        let mut data = Vec::new();
        for (ptr, len) in app::iovecs(iovs, count)? {
            data.extend_from_slice(&app::read(ptr, len)?);
        }
        match entry.kind {
            Kind::ConsoleOut(console) => {
                // An earlier deferred write failed: report it now.
                if console.take_write_error().is_some() {
                    return Err(EIO);
                }
                if !data.is_empty() {
                    console.write_deferred(&data).map_err(io_error)?;
                }
            }
            Kind::File { cap, offset } => {
                if entry.rights_base & rights::FD_WRITE == 0 {
                    return Err(EBADF);
                }
                let append = entry.flags & FDFLAGS_APPEND != 0;
                let end = write_all(cap, offset, &data, append)?;
                if let Some(Fd {
                    kind: Kind::File { offset, .. },
                    ..
                }) = self.fds.get_mut(fd)
                {
                    *offset = end;
                }
            }
            Kind::Dir { .. } | Kind::ConsoleIn(_) | Kind::Listener(_) | Kind::Socket { .. } => {
                return Err(EBADF);
            }
        }
        app::write_u32(nwritten, data.len() as u32)
    }

    pub fn fd_pwrite(
        &mut self,
        fd: u32,
        iovs: u32,
        count: u32,
        offset: u64,
        nwritten: u32,
    ) -> Result<()> {
        let cap = match self.fd(fd)?.kind {
            Kind::File { cap, .. } => cap,
            Kind::Dir { .. } => return Err(EISDIR),
            _ => return Err(ESPIPE),
        };
        self.require(fd, rights::FD_WRITE)?;
        let mut data = Vec::new();
        for (ptr, len) in app::iovecs(iovs, count)? {
            data.extend_from_slice(&app::read(ptr, len)?);
        }
        write_all(cap, offset, &data, false)?;
        app::write_u32(nwritten, data.len() as u32)
    }

    pub fn fd_read(&mut self, fd: u32, iovs: u32, count: u32, nread: u32) -> Result<()> {
        let entry = self.fd(fd)?.clone();
        if let Kind::Socket { .. } = entry.kind {
            return self.socket_read(fd, iovs, count, nread);
        }
        let iovecs = app::iovecs(iovs, count)?;
        let capacity: u64 = iovecs.iter().map(|&(_, len)| u64::from(len)).sum();
        let data = match entry.kind {
            Kind::ConsoleIn(console) => {
                if capacity == 0 {
                    return app::write_u32(nread, 0);
                }
                console
                    .read(capacity.min(u64::from(u32::MAX)) as u32)
                    .map_err(io_error)?
            }
            Kind::File { cap, offset } => {
                self.require(fd, rights::FD_READ)?;
                let data = read_up_to(cap, offset, capacity)?;
                if let Some(Fd {
                    kind: Kind::File { offset: at, .. },
                    ..
                }) = self.fds.get_mut(fd)
                {
                    *at = offset + data.len() as u64;
                }
                data
            }
            Kind::Dir { .. } => return Err(EISDIR),
            Kind::ConsoleOut(_) | Kind::Listener(_) | Kind::Socket { .. } => return Err(EBADF),
        };
        scatter(&iovecs, &data)?;
        app::write_u32(nread, data.len() as u32)
    }

    pub fn fd_pread(
        &mut self,
        fd: u32,
        iovs: u32,
        count: u32,
        offset: u64,
        nread: u32,
    ) -> Result<()> {
        let cap = match self.fd(fd)?.kind {
            Kind::File { cap, .. } => cap,
            Kind::Dir { .. } => return Err(EISDIR),
            _ => return Err(ESPIPE),
        };
        self.require(fd, rights::FD_READ)?;
        let iovecs = app::iovecs(iovs, count)?;
        let capacity: u64 = iovecs.iter().map(|&(_, len)| u64::from(len)).sum();
        let data = read_up_to(cap, offset, capacity)?;
        scatter(&iovecs, &data)?;
        app::write_u32(nread, data.len() as u32)
    }

    pub fn fd_seek(&mut self, fd: u32, delta: i64, whence: u32, out: u32) -> Result<()> {
        let (cap, offset) = match self.fd(fd)?.kind {
            Kind::File { cap, offset } => (cap, offset),
            Kind::Dir { .. } => return Err(EBADF),
            _ => return Err(ESPIPE),
        };
        let base = match whence {
            0 => 0,
            1 => offset as i128,
            2 => fs::file_stat(cap)?.size as i128,
            _ => return Err(EINVAL),
        };
        let target = base + delta as i128;
        if target < 0 || target > i64::MAX as i128 {
            return Err(EINVAL);
        }
        if let Some(Fd {
            kind: Kind::File { offset, .. },
            ..
        }) = self.fds.get_mut(fd)
        {
            *offset = target as u64;
        }
        app::write_u64(out, target as u64)
    }

    pub fn fd_tell(&self, fd: u32, out: u32) -> Result<()> {
        match self.fd(fd)?.kind {
            Kind::File { offset, .. } => app::write_u64(out, offset),
            Kind::Dir { .. } => Err(EBADF),
            _ => Err(ESPIPE),
        }
    }

    pub fn fd_fdstat_get(&self, fd: u32, out: u32) -> Result<()> {
        let entry = self.fd(fd)?;
        let mut stat = [0u8; 24];
        stat[0] = match entry.kind {
            Kind::Dir { .. } => FILETYPE_DIRECTORY,
            Kind::File { .. } => FILETYPE_REGULAR_FILE,
            Kind::Listener(_) | Kind::Socket { .. } => FILETYPE_SOCKET_STREAM,
            ref console => self.console_filetype(console),
        };
        stat[2..4].copy_from_slice(&entry.flags.to_le_bytes());
        stat[8..16].copy_from_slice(&entry.rights_base.to_le_bytes());
        stat[16..24].copy_from_slice(&entry.rights_inheriting.to_le_bytes());
        app::write(out, &stat)
    }

    /// fdflags is a u16: bits above 16 (Go sets junk there) are not part of
    /// it; an undefined bit within it is EINVAL.
    pub fn fd_fdstat_set_flags(&mut self, fd: u32, flags: u32) -> Result<()> {
        let entry = self.fds.get_mut(fd).ok_or(EBADF)?;
        let flags = flags as u16;
        if flags & !FDFLAGS_MASK != 0 {
            return Err(EINVAL);
        }
        entry.flags = flags;
        Ok(())
    }

    pub fn fd_fdstat_set_rights(&mut self, fd: u32, base: u64, inheriting: u64) -> Result<()> {
        let entry = self.fds.get_mut(fd).ok_or(EBADF)?;
        // Rights can only be dropped, never gained.
        if base & !entry.rights_base != 0 || inheriting & !entry.rights_inheriting != 0 {
            return Err(ENOTCAPABLE);
        }
        entry.rights_base = base;
        entry.rights_inheriting = inheriting;
        Ok(())
    }

    fn stat_fd(&self, fd: u32) -> Result<fs::Stat> {
        match self.fd(fd)?.kind {
            Kind::File { cap, .. } => fs::file_stat(cap),
            Kind::Dir { cap, .. } => fs::stat(cap, ".", true),
            Kind::Listener(_) | Kind::Socket { .. } => Ok(fs::Stat {
                filetype: FILETYPE_SOCKET_STREAM,
                nlink: 1,
                ..fs::Stat::default()
            }),
            ref console => Ok(fs::Stat {
                filetype: self.console_filetype(console),
                nlink: 1,
                ..fs::Stat::default()
            }),
        }
    }

    pub fn fd_filestat_get(&self, fd: u32, out: u32) -> Result<()> {
        write_filestat(out, &self.stat_fd(fd)?)
    }

    pub fn fd_filestat_set_size(&mut self, fd: u32, size: u64) -> Result<()> {
        match self.fd(fd)?.kind {
            Kind::File { cap, .. } => {
                self.require(fd, rights::FD_WRITE)?;
                fs::truncate(cap, size)
            }
            Kind::Dir { .. } => Err(EISDIR),
            _ => Err(EINVAL),
        }
    }

    pub fn fd_filestat_set_times(
        &mut self,
        fd: u32,
        atim: u64,
        mtim: u64,
        flags: u16,
    ) -> Result<()> {
        let times = times(atim, mtim, flags)?;
        match self.fd(fd)?.kind {
            Kind::File { cap, .. } => fs::set_file_times(cap, &times),
            Kind::Dir { cap, .. } => fs::set_path_times(cap, ".", true, &times),
            _ => Err(EINVAL),
        }
    }

    /// fd_sync/fd_datasync: waits for the writes still in flight (see
    /// `write_all`) and reports their failure, then for the tree to be
    /// stored durably (a persistent directory's commit: ENOSPC or EIO if
    /// it failed); a terminal is not a file.
    pub fn fd_sync(&self, fd: u32) -> Result<()> {
        match self.fd(fd)?.kind {
            Kind::File { cap, .. } => {
                settle_writes(cap)?;
                fs::sync_file(cap)
            }
            Kind::Dir { cap, .. } => {
                settle_writes(cap)?;
                fs::sync_directory(cap)
            }
            _ => Err(EINVAL),
        }
    }

    pub fn fd_advise(&self, fd: u32, advice: u32) -> Result<()> {
        if advice > 5 {
            return Err(EINVAL);
        }
        match self.fd(fd)?.kind {
            Kind::File { .. } => Ok(()),
            Kind::Dir { .. } => Err(EBADF),
            _ => Err(ESPIPE),
        }
    }

    /// Files grow on write: preallocation has nothing to do (ENOTSUP, as
    /// posix_fallocate(3) on a file system without it). A directory is not
    /// open for writing: EBADF, as fallocate(2) and wasmtime say.
    pub fn fd_allocate(&self, fd: u32) -> Result<()> {
        match self.fd(fd)?.kind {
            Kind::Dir { .. } => Err(EBADF),
            _ => Err(ENOTSUP),
        }
    }

    pub fn fd_readdir(&self, fd: u32, buf: u32, len: u32, cookie: u64, used: u32) -> Result<()> {
        let cap = match self.fd(fd)?.kind {
            Kind::Dir { cap, .. } => cap,
            _ => return Err(ENOTDIR),
        };
        let mut out = Vec::new();
        let mut index = u32::try_from(cookie).unwrap_or(u32::MAX);
        'fill: while out.len() < len as usize {
            let (entries, total) = fs::list(cap, index, 24)?;
            if entries.is_empty() {
                break;
            }
            for (name, ino, filetype) in entries {
                index += 1;
                let mut dirent = [0u8; 24];
                dirent[0..8].copy_from_slice(&u64::from(index).to_le_bytes());
                dirent[8..16].copy_from_slice(&ino.to_le_bytes());
                dirent[16..20].copy_from_slice(&(name.len() as u32).to_le_bytes());
                dirent[20] = filetype;
                out.extend_from_slice(&dirent);
                out.extend_from_slice(name.as_bytes());
                if out.len() >= len as usize {
                    break 'fill;
                }
            }
            if index >= total {
                break;
            }
        }
        out.truncate(len as usize);
        app::write(buf, &out)?;
        app::write_u32(used, out.len() as u32)
    }

    pub fn fd_prestat_get(&self, fd: u32, out: u32) -> Result<()> {
        match &self.fd(fd)?.kind {
            Kind::Dir {
                preopen: Some(label),
                ..
            } => {
                let mut prestat = [0u8; 8];
                prestat[4..8].copy_from_slice(&(label.len() as u32).to_le_bytes());
                app::write(out, &prestat)
            }
            _ => Err(EBADF),
        }
    }

    pub fn fd_prestat_dir_name(&self, fd: u32, path: u32, len: u32) -> Result<()> {
        match &self.fd(fd)?.kind {
            Kind::Dir {
                preopen: Some(label),
                ..
            } => {
                if (len as usize) < label.len() {
                    return Err(ENAMETOOLONG);
                }
                app::write(path, label.as_bytes())
            }
            _ => Err(EBADF),
        }
    }

    pub fn fd_close(&mut self, fd: u32) -> Result<()> {
        let entry = self.fds.remove(fd).ok_or(EBADF)?;
        match entry.kind {
            Kind::File { cap, .. } => {
                // Like close(2) on NFS: a write-behind failure is reported here.
                let settled = settle_writes(cap);
                // Best effort: the process's table is emptied at exit anyway.
                let _ = capos_rt::release(cap);
                settled
            }
            // Closing a connection closes it for the peer; closing a
            // listening socket frees its port.
            other => {
                if let Some(cap) = other.cap() {
                    let _ = capos_rt::release(cap);
                }
                Ok(())
            }
        }
    }

    pub fn fd_renumber(&mut self, from: u32, to: u32) -> Result<()> {
        self.fd(to)?;
        let entry = self.fds.remove(from).ok_or(EBADF)?;
        if let Some(cap) = self.fds.put(to, entry).and_then(|old| old.kind.cap()) {
            let _ = capos_rt::release(cap);
        }
        Ok(())
    }

    pub fn path(ptr: u32, len: u32) -> Result<String> {
        String::from_utf8(app::read(ptr, len)?).map_err(|_| EILSEQ)
    }

    pub fn path_open(&mut self, req: &PathOpen, out: u32) -> Result<()> {
        let PathOpen {
            dirfd,
            dirflags,
            path,
            oflags,
            base,
            inheriting,
            fdflags,
        } = req;
        let (dirfd, dirflags, oflags, base, inheriting, fdflags) =
            (*dirfd, *dirflags, *oflags, *base, *inheriting, *fdflags);
        let dir = self.dir(dirfd)?;
        let Fd {
            rights_base: dir_rights,
            rights_inheriting: parent,
            ..
        } = *self.fd(dirfd)?;
        if fdflags & !FDFLAGS_MASK != 0 || oflags & !0xf != 0 {
            return Err(EINVAL);
        }
        let flags = OpenFlags {
            create: oflags & 1 != 0,
            directory: oflags & 2 != 0,
            exclusive: oflags & 4 != 0,
            truncate: oflags & 8 != 0,
            follow: dirflags & 1 != 0,
        };
        // PATH_FILESTAT_SET_SIZE "includes the right to invoke path_open
        // with oflags::trunc".
        if flags.truncate && dir_rights & rights::PATH_FILESTAT_SET_SIZE == 0 {
            return Err(ENOTCAPABLE);
        }
        let (cap, is_dir) = fs::open(dir, path, &flags)?;
        // A directory cannot be opened for writing (open(2): EISDIR), with
        // O_DIRECTORY or without.
        if is_dir && base & rights::FD_WRITE != 0 {
            let _ = capos_rt::release(cap);
            return Err(EISDIR);
        }
        let (kind, rights_base) = if is_dir {
            // Only what a directory can do: it never reports FD_SEEK, say,
            // whatever was asked for.
            let kind = Kind::Dir { cap, preopen: None };
            (kind, base & parent & rights::DIRECTORY)
        } else {
            (Kind::File { cap, offset: 0 }, base & parent)
        };
        let fd = self.fds.push(Fd {
            kind,
            flags: fdflags & FDFLAGS_MASK,
            rights_base,
            rights_inheriting: inheriting & parent,
        });
        app::write_u32(out, fd)
    }

    pub fn path_filestat_get(&self, dirfd: u32, flags: u32, path: String, out: u32) -> Result<()> {
        let stat = fs::stat(self.dir(dirfd)?, &path, flags & 1 != 0)?;
        write_filestat(out, &stat)
    }

    pub fn path_filestat_set_times(
        &self,
        dirfd: u32,
        flags: u32,
        path: String,
        atim: u64,
        mtim: u64,
        fst: u16,
    ) -> Result<()> {
        fs::set_path_times(
            self.dir(dirfd)?,
            &path,
            flags & 1 != 0,
            &times(atim, mtim, fst)?,
        )
    }

    /// The destination Directory of a two-directory call (rename, link):
    /// `other`'s, once `fd` is known to be a directory too. The same one
    /// for a call within one directory.
    pub fn destination_dir(&self, fd: u32, other: u32) -> Result<CapRef> {
        self.dir(fd)?;
        self.dir(other)
    }

    pub fn path_readlink(
        &self,
        dirfd: u32,
        path: String,
        buf: u32,
        len: u32,
        used: u32,
    ) -> Result<()> {
        let target = fs::readlink(self.dir(dirfd)?, &path)?;
        let n = target.len().min(len as usize);
        app::write(buf, &target.as_bytes()[..n])?;
        app::write_u32(used, n as u32)
    }

    pub fn random_get(&self, buf: u32, len: u32) -> Result<()> {
        let random = self.random.ok_or(ENOTCAPABLE)?;
        let mut bytes = vec![0u8; len as usize];
        random.fill(&mut bytes).map_err(io_error)?;
        app::write(buf, &bytes)
    }

    fn subscriptions(ptr: u32, count: u32) -> Result<Vec<Subscription>> {
        let bytes = app::read(ptr, count.checked_mul(48).ok_or(EFAULT)?)?;
        bytes
            .chunks_exact(48)
            .map(|s| {
                let u64_at =
                    |o: usize| u64::from_le_bytes(s[o..o + 8].try_into().expect("8 bytes"));
                let u32_at =
                    |o: usize| u32::from_le_bytes(s[o..o + 4].try_into().expect("4 bytes"));
                let userdata = u64_at(0);
                Ok(match s[8] {
                    EVENTTYPE_CLOCK => Subscription::Clock {
                        userdata,
                        id: u32_at(16),
                        timeout: u64_at(24),
                        abstime: u16::from_le_bytes([s[40], s[41]]) & SUBCLOCKFLAGS_ABSTIME != 0,
                    },
                    EVENTTYPE_FD_READ => Subscription::FdRead {
                        userdata,
                        fd: u32_at(16),
                    },
                    EVENTTYPE_FD_WRITE => Subscription::FdWrite {
                        userdata,
                        fd: u32_at(16),
                    },
                    _ => return Err(EINVAL),
                })
            })
            .collect()
    }

    /// poll_oneoff: terminal output is always writable; terminal input,
    /// sockets and clocks are waited for in the kernel (Console.waitReadable,
    /// Listener.poll, Timer.sleep), never by spinning here. Terminal input
    /// and sockets watched together are asked in turn, 10 ms at a time.
    pub fn poll_oneoff(&mut self, input: u32, output: u32, count: u32, nevents: u32) -> Result<()> {
        if count == 0 {
            return Err(EINVAL);
        }
        let subs = Self::subscriptions(input, count)?;
        let mut events = Vec::new();
        let mut stdin_watch = Vec::new();
        let mut socket_watch = Vec::new();
        for sub in &subs {
            let socket = match *sub {
                Subscription::FdRead { userdata, fd } => self.watch(fd, userdata, false),
                Subscription::FdWrite { userdata, fd } => self.watch(fd, userdata, true),
                Subscription::Clock { .. } => None,
            };
            if let Some(watch) = socket {
                socket_watch.push(watch);
                continue;
            }
            match *sub {
                Subscription::FdWrite { userdata, fd } => {
                    let (error, nbytes) = match self.fds.get(fd).map(|f| &f.kind) {
                        Some(Kind::ConsoleOut(_) | Kind::File { .. }) => (SUCCESS, 65536),
                        _ => (EBADF, 0),
                    };
                    events.push(Event {
                        userdata,
                        error,
                        kind: EVENTTYPE_FD_WRITE,
                        nbytes,
                    });
                }
                Subscription::FdRead { userdata, fd } => match self.fds.get(fd).map(|f| &f.kind) {
                    Some(Kind::ConsoleIn(console)) => stdin_watch.push((userdata, *console)),
                    Some(Kind::File { .. }) => events.push(Event {
                        userdata,
                        error: SUCCESS,
                        kind: EVENTTYPE_FD_READ,
                        nbytes: 1,
                    }),
                    _ => events.push(Event {
                        userdata,
                        error: EBADF,
                        kind: EVENTTYPE_FD_READ,
                        nbytes: 0,
                    }),
                },
                Subscription::Clock { .. } => {}
            }
        }
        // Earliest clock deadline, relative to now.
        let mut earliest: Option<(u64, u64)> = None; // (wait ns, userdata)
        for sub in &subs {
            if let Subscription::Clock {
                userdata,
                id,
                timeout,
                abstime,
            } = *sub
            {
                let wait = if abstime {
                    match self.now(id) {
                        Ok(now) => timeout.saturating_sub(now),
                        Err(error) => {
                            events.push(Event {
                                userdata,
                                error,
                                kind: EVENTTYPE_CLOCK,
                                nbytes: 0,
                            });
                            continue;
                        }
                    }
                } else if matches!(
                    id,
                    CLOCK_REALTIME | CLOCK_MONOTONIC | CLOCK_PROCESS_CPUTIME | CLOCK_THREAD_CPUTIME
                ) {
                    timeout
                } else {
                    events.push(Event {
                        userdata,
                        error: EINVAL,
                        kind: EVENTTYPE_CLOCK,
                        nbytes: 0,
                    });
                    continue;
                };
                if earliest.is_none_or(|(w, _)| wait < w) {
                    earliest = Some((wait, userdata));
                }
            }
        }
        if !socket_watch.is_empty() {
            self.poll_sockets(&socket_watch, &stdin_watch, earliest, &mut events)?;
        }
        if events.is_empty() {
            if let Some(&(_, console)) = stdin_watch.first() {
                let timeout = earliest.map_or(u64::MAX, |(w, _)| w);
                if console.wait_readable(timeout).map_err(io_error)? {
                    for &(userdata, _) in &stdin_watch {
                        events.push(Event {
                            userdata,
                            error: SUCCESS,
                            kind: EVENTTYPE_FD_READ,
                            nbytes: 1,
                        });
                    }
                } else if let Some((_, userdata)) = earliest {
                    events.push(Event {
                        userdata,
                        error: SUCCESS,
                        kind: EVENTTYPE_CLOCK,
                        nbytes: 0,
                    });
                }
            } else if let Some((wait, userdata)) = earliest {
                match self.timer() {
                    Ok(timer) => {
                        if wait > 0 {
                            timer.sleep_ns(wait).map_err(io_error)?;
                        }
                        events.push(Event {
                            userdata,
                            error: SUCCESS,
                            kind: EVENTTYPE_CLOCK,
                            nbytes: 0,
                        });
                    }
                    Err(error) => events.push(Event {
                        userdata,
                        error,
                        kind: EVENTTYPE_CLOCK,
                        nbytes: 0,
                    }),
                }
            }
        }
        write_events(&events, output, nevents)
    }

    /// The sockets part of a poll: events for the sockets ready now and, if
    /// nothing else is, waits for one (or the earliest clock, or terminal
    /// input).
    fn poll_sockets(
        &self,
        watches: &[crate::sockets::Watch],
        stdin_watch: &[(u64, Console)],
        earliest: Option<(u64, u64)>,
        events: &mut Vec<Event>,
    ) -> Result<()> {
        let now = || self.now(CLOCK_MONOTONIC).unwrap_or(0);
        let timeout = earliest.map_or(u64::MAX, |(w, _)| w);
        let start = now();
        loop {
            let waiting = events.is_empty();
            let wait = match (waiting, stdin_watch.is_empty()) {
                (false, _) => 0,
                (true, true) => timeout.saturating_sub(now().saturating_sub(start)),
                (true, false) => 0,
            };
            for userdata in crate::sockets::ready(watches, wait, now)? {
                let write = watches.iter().any(|w| w.userdata == userdata && w.write);
                events.push(Event {
                    userdata,
                    error: SUCCESS,
                    kind: if write {
                        EVENTTYPE_FD_WRITE
                    } else {
                        EVENTTYPE_FD_READ
                    },
                    nbytes: 1,
                });
            }
            if !waiting || !events.is_empty() {
                return Ok(());
            }
            let elapsed = now().saturating_sub(start);
            if elapsed >= timeout {
                if let Some((_, userdata)) = earliest {
                    events.push(Event {
                        userdata,
                        error: SUCCESS,
                        kind: EVENTTYPE_CLOCK,
                        nbytes: 0,
                    });
                }
                return Ok(());
            }
            let Some(&(_, console)) = stdin_watch.first() else {
                return Ok(());
            };
            let slice = (timeout - elapsed).min(10_000_000);
            if console.wait_readable(slice).map_err(io_error)? {
                for &(userdata, _) in stdin_watch {
                    events.push(Event {
                        userdata,
                        error: SUCCESS,
                        kind: EVENTTYPE_FD_READ,
                        nbytes: 1,
                    });
                }
                return Ok(());
            }
        }
    }
}

/// Writes poll_oneoff's events and their count.
fn write_events(events: &[Event], output: u32, nevents: u32) -> Result<()> {
    let mut out = Vec::with_capacity(events.len() * 32);
    for e in events {
        let mut b = [0u8; 32];
        b[0..8].copy_from_slice(&e.userdata.to_le_bytes());
        b[8..10].copy_from_slice(&e.error.to_le_bytes());
        b[10] = e.kind;
        if e.kind != EVENTTYPE_CLOCK {
            b[16..24].copy_from_slice(&e.nbytes.to_le_bytes());
        }
        out.extend_from_slice(&b);
    }
    app::write(output, &out)?;
    app::write_u32(nevents, events.len() as u32)
}

fn write_filestat(out: u32, stat: &fs::Stat) -> Result<()> {
    let mut b = [0u8; 64];
    b[8..16].copy_from_slice(&stat.ino.to_le_bytes());
    b[16] = stat.filetype;
    b[24..32].copy_from_slice(&stat.nlink.to_le_bytes());
    b[32..40].copy_from_slice(&stat.size.to_le_bytes());
    b[40..48].copy_from_slice(&stat.atim.to_le_bytes());
    b[48..56].copy_from_slice(&stat.mtim.to_le_bytes());
    b[56..64].copy_from_slice(&stat.ctim.to_le_bytes());
    app::write(out, &b)
}

/// fstflags: atim 1, atim_now 2, mtim 4, mtim_now 8.
fn times(atim: u64, mtim: u64, flags: u16) -> Result<Times> {
    if flags & !0xf != 0 || (flags & 3 == 3) || (flags & 12 == 12) {
        return Err(EINVAL);
    }
    Ok(Times {
        atim,
        mtim,
        set_atim: flags & 1 != 0,
        set_atim_now: flags & 2 != 0,
        set_mtim: flags & 4 != 0,
        set_mtim_now: flags & 8 != 0,
    })
}

/// Reads up to `capacity` bytes from `offset`, in slot-sized calls.
fn read_up_to(cap: CapRef, offset: u64, capacity: u64) -> Result<Vec<u8>> {
    let mut data = Vec::new();
    while (data.len() as u64) < capacity {
        let want = (capacity - data.len() as u64).min(fs::CHUNK as u64) as u32;
        let chunk = fs::read(cap, offset + data.len() as u64, want)?;
        let short = chunk.len() < want as usize;
        data.extend_from_slice(&chunk);
        if short {
            break;
        }
    }
    Ok(data)
}

/// Waits for every deferred write and reports the first on `cap` that failed.
fn settle_writes(cap: CapRef) -> Result<()> {
    capos_rt::settle_deferred().map_err(|_| EIO)?;
    deferred_failure(cap)
}

/// How an earlier deferred write on `cap` failed: its errno (ENOSPC when a
/// persistent directory's quota is full), or EIO if it carried none.
fn deferred_failure(cap: CapRef) -> Result<()> {
    match capos_rt::take_deferred_error(cap) {
        Some(capos_rt::Error::Errno(n)) => Err(n),
        Some(_) => Err(EIO),
        None => Ok(()),
    }
}

/// Writes all of `data` in slot-sized calls; returns the offset after it.
/// A write at a known offset does not wait for the kernel (like a page
/// cache's write-behind): its completion is collected later, and a failure
/// is reported by the next file operation. An append must learn the size,
/// so it waits.
fn write_all(cap: CapRef, offset: u64, data: &[u8], append: bool) -> Result<u64> {
    deferred_failure(cap)?;
    if append {
        let mut end = fs::file_stat(cap)?.size;
        for chunk in data.chunks(fs::CHUNK) {
            end = fs::write(cap, end, chunk, true)?;
        }
        return Ok(end);
    }
    if offset.saturating_add(data.len() as u64) > capos_rt::config::manifest::MAX_FILE_SIZE {
        return Err(EFBIG);
    }
    let mut end = offset;
    for chunk in data.chunks(fs::CHUNK) {
        fs::write_deferred(cap, end, chunk)?;
        end += chunk.len() as u64;
    }
    Ok(end)
}

/// Copies `data` into the iovecs, in order.
pub(crate) fn scatter(iovecs: &[(u32, u32)], data: &[u8]) -> Result<()> {
    let mut rest = data;
    for &(ptr, len) in iovecs {
        if rest.is_empty() {
            break;
        }
        let n = rest.len().min(len as usize);
        app::write(ptr, &rest[..n])?;
        rest = &rest[n..];
    }
    Ok(())
}
