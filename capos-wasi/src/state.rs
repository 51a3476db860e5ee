//! The shim's state and the logic of each WASI call.

use crate::app;
use crate::errno::*;
use crate::fds::{FDFLAGS_MASK, FILETYPE_CHARACTER_DEVICE, Fd, Kind, Table};
use capos_rt::{Console, Env, Error, RandomSource, Timer};

pub type Result<T> = std::result::Result<T, Errno>;

/// Maps a failed capability call to an errno.
fn io_error(_: Error) -> Errno {
    IO
}

pub struct Wasi {
    pub env: &'static Env,
    pub fds: Table,
    timer: Option<Timer>,
    random: Option<RandomSource>,
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
            fds.insert(0, Kind::ConsoleIn(c));
        }
        if let Some(c) = console("stdout") {
            fds.insert(1, Kind::ConsoleOut(c));
        }
        if let Some(c) = console("stderr") {
            fds.insert(2, Kind::ConsoleOut(c));
        }
        Self {
            env,
            fds,
            timer: Timer::open(env, "timer").ok(),
            random: RandomSource::open(env, "random").ok(),
        }
    }

    fn fd(&self, fd: u32) -> Result<&Fd> {
        self.fds.get(fd).ok_or(BADF)
    }

    fn timer(&self) -> Result<Timer> {
        self.timer.ok_or(NOTCAPABLE)
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
            _ => Err(INVAL),
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
            _ => Err(INVAL),
        }
    }

    pub fn fd_write(&mut self, fd: u32, iovs: u32, count: u32, nwritten: u32) -> Result<()> {
        let Kind::ConsoleOut(console) = self.fd(fd)?.kind else {
            return Err(BADF);
        };
        let mut data = Vec::new();
        for (ptr, len) in app::iovecs(iovs, count)? {
            data.extend_from_slice(&app::read(ptr, len)?);
        }
        // An earlier deferred write failed: report it now.
        if capos_rt::take_deferred_error().is_some() {
            return Err(IO);
        }
        if !data.is_empty() {
            console.write_deferred(&data).map_err(io_error)?;
        }
        app::write_u32(nwritten, data.len() as u32)
    }

    pub fn fd_read(&mut self, fd: u32, iovs: u32, count: u32, nread: u32) -> Result<()> {
        let Kind::ConsoleIn(console) = self.fd(fd)?.kind else {
            return Err(BADF);
        };
        let iovecs = app::iovecs(iovs, count)?;
        let capacity: u64 = iovecs.iter().map(|&(_, len)| u64::from(len)).sum();
        if capacity == 0 {
            return app::write_u32(nread, 0);
        }
        let data = console
            .read(capacity.min(u64::from(u32::MAX)) as u32)
            .map_err(io_error)?;
        let mut rest = &data[..];
        for (ptr, len) in iovecs {
            if rest.is_empty() {
                break;
            }
            let n = rest.len().min(len as usize);
            app::write(ptr, &rest[..n])?;
            rest = &rest[n..];
        }
        app::write_u32(nread, data.len() as u32)
    }

    pub fn fd_fdstat_get(&self, fd: u32, out: u32) -> Result<()> {
        let entry = self.fd(fd)?;
        let mut stat = [0u8; 24];
        stat[0] = FILETYPE_CHARACTER_DEVICE;
        stat[2..4].copy_from_slice(&entry.flags.to_le_bytes());
        stat[8..16].copy_from_slice(&entry.rights_base.to_le_bytes());
        stat[16..24].copy_from_slice(&entry.rights_inheriting.to_le_bytes());
        app::write(out, &stat)
    }

    pub fn fd_fdstat_set_flags(&mut self, fd: u32, flags: u16) -> Result<()> {
        let entry = self.fds.get_mut(fd).ok_or(BADF)?;
        entry.flags = flags & FDFLAGS_MASK;
        Ok(())
    }

    pub fn fd_fdstat_set_rights(&mut self, fd: u32, base: u64, inheriting: u64) -> Result<()> {
        let entry = self.fds.get_mut(fd).ok_or(BADF)?;
        // Rights can only be dropped, never gained.
        if base & !entry.rights_base != 0 || inheriting & !entry.rights_inheriting != 0 {
            return Err(NOTCAPABLE);
        }
        entry.rights_base = base;
        entry.rights_inheriting = inheriting;
        Ok(())
    }

    pub fn fd_filestat_get(&self, fd: u32, out: u32) -> Result<()> {
        self.fd(fd)?;
        let mut stat = [0u8; 64];
        stat[16] = FILETYPE_CHARACTER_DEVICE;
        stat[24..32].copy_from_slice(&1u64.to_le_bytes()); // nlink
        app::write(out, &stat)
    }

    pub fn fd_close(&mut self, fd: u32) -> Result<()> {
        self.fds.remove(fd).map(drop).ok_or(BADF)
    }

    pub fn fd_renumber(&mut self, from: u32, to: u32) -> Result<()> {
        self.fd(to)?;
        let entry = self.fds.remove(from).ok_or(BADF)?;
        self.fds.put(to, entry);
        Ok(())
    }

    /// For calls that make no sense on a terminal: EBADF for a closed fd,
    /// else `errno`.
    pub fn on_open_fd(&self, fd: u32, errno: Errno) -> Result<()> {
        self.fd(fd)?;
        Err(errno)
    }

    pub fn random_get(&self, buf: u32, len: u32) -> Result<()> {
        let random = self.random.ok_or(NOTCAPABLE)?;
        let mut bytes = vec![0u8; len as usize];
        random.fill(&mut bytes).map_err(io_error)?;
        app::write(buf, &bytes)
    }

    fn subscriptions(ptr: u32, count: u32) -> Result<Vec<Subscription>> {
        let bytes = app::read(ptr, count.checked_mul(48).ok_or(FAULT)?)?;
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
                    _ => return Err(INVAL),
                })
            })
            .collect()
    }

    /// poll_oneoff: terminal output is always writable; terminal input and
    /// clocks are waited for in the kernel (Console.waitReadable, Timer.sleep),
    /// never by spinning here.
    pub fn poll_oneoff(&mut self, input: u32, output: u32, count: u32, nevents: u32) -> Result<()> {
        if count == 0 {
            return Err(INVAL);
        }
        let subs = Self::subscriptions(input, count)?;
        let mut events = Vec::new();
        let mut stdin_watch = Vec::new();
        for sub in &subs {
            match *sub {
                Subscription::FdWrite { userdata, fd } => {
                    events.push(match self.fds.get(fd).map(|f| f.kind) {
                        Some(Kind::ConsoleOut(_)) => Event {
                            userdata,
                            error: SUCCESS,
                            kind: EVENTTYPE_FD_WRITE,
                            nbytes: 65536,
                        },
                        Some(_) => Event {
                            userdata,
                            error: BADF,
                            kind: EVENTTYPE_FD_WRITE,
                            nbytes: 0,
                        },
                        None => Event {
                            userdata,
                            error: BADF,
                            kind: EVENTTYPE_FD_WRITE,
                            nbytes: 0,
                        },
                    })
                }
                Subscription::FdRead { userdata, fd } => match self.fds.get(fd).map(|f| f.kind) {
                    Some(Kind::ConsoleIn(console)) => stdin_watch.push((userdata, console)),
                    _ => events.push(Event {
                        userdata,
                        error: BADF,
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
                        error: INVAL,
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
        let mut out = Vec::with_capacity(events.len() * 32);
        for e in &events {
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
}
