//! The raw `wasi_snapshot_preview1` imports these programs call, declared by hand so that the
//! errno each returns is exactly the runtime's (std would turn it into an `io::Error`), and so
//! that a test can pass values std never would: undefined flag bits, unknown clock ids,
//! pointers outside linear memory.
//!
//! Every function returns the raw errno (0 is success). Parameters keep their wasm ABI width:
//! enums and flags are passed as `u32` so that out-of-range values can be sent.

pub type Fd = u32;

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Iovec {
    pub buf: *mut u8,
    pub buf_len: usize,
}

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Ciovec {
    pub buf: *const u8,
    pub buf_len: usize,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Fdstat {
    pub fs_filetype: u8,
    pub fs_flags: u16,
    pub fs_rights_base: u64,
    pub fs_rights_inheriting: u64,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Filestat {
    pub dev: u64,
    pub ino: u64,
    pub filetype: u8,
    pub nlink: u64,
    pub size: u64,
    pub atim: u64,
    pub mtim: u64,
    pub ctim: u64,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct SubscriptionClock {
    pub id: u32,
    pub timeout: u64,
    pub precision: u64,
    pub flags: u16,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct SubscriptionFdReadwrite {
    pub fd: Fd,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub union SubscriptionContents {
    pub clock: SubscriptionClock,
    pub fd_readwrite: SubscriptionFdReadwrite,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct Subscription {
    pub userdata: u64,
    pub tag: u8,
    pub u: SubscriptionContents,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Event {
    pub userdata: u64,
    pub error: u16,
    pub kind: u8,
    pub nbytes: u64,
    pub flags: u16,
}

// The preview1 ABI's sizes (wasi/api.h asserts the same).
const _: () = assert!(size_of::<Fdstat>() == 24);
const _: () = assert!(size_of::<Filestat>() == 64);
const _: () = assert!(size_of::<Subscription>() == 48);
const _: () = assert!(size_of::<Event>() == 32);

pub const CLOCK_REALTIME: u32 = 0;
pub const CLOCK_MONOTONIC: u32 = 1;
pub const CLOCK_PROCESS_CPUTIME: u32 = 2;
pub const CLOCK_THREAD_CPUTIME: u32 = 3;

pub const FILETYPE_UNKNOWN: u8 = 0;
pub const FILETYPE_CHARACTER_DEVICE: u8 = 2;
pub const FILETYPE_REGULAR_FILE: u8 = 4;

pub const WHENCE_SET: u32 = 0;
pub const WHENCE_CUR: u32 = 1;

pub const FDFLAGS_APPEND: u32 = 1;
pub const FDFLAGS_NONBLOCK: u32 = 4;

pub const RIGHTS_FD_READ: u64 = 1 << 1;
pub const RIGHTS_FD_SEEK: u64 = 1 << 2;
pub const RIGHTS_FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
pub const RIGHTS_FD_WRITE: u64 = 1 << 6;
pub const RIGHTS_FD_ADVISE: u64 = 1 << 7;
pub const RIGHTS_FD_FILESTAT_GET: u64 = 1 << 21;

pub const EVENTTYPE_CLOCK: u8 = 0;
pub const EVENTTYPE_FD_READ: u8 = 1;
pub const EVENTTYPE_FD_WRITE: u8 = 2;

pub const SUBCLOCKFLAGS_ABSTIME: u16 = 1;

pub const SDFLAGS_RD_WR: u32 = 3;
pub const SIGNAL_TERM: u32 = 15;

#[link(wasm_import_module = "wasi_snapshot_preview1")]
unsafe extern "C" {
    pub fn args_get(argv: *mut *mut u8, argv_buf: *mut u8) -> i32;
    pub fn args_sizes_get(argc: *mut usize, argv_buf_size: *mut usize) -> i32;
    pub fn environ_get(environ: *mut *mut u8, environ_buf: *mut u8) -> i32;
    pub fn environ_sizes_get(count: *mut usize, buf_size: *mut usize) -> i32;
    pub fn clock_res_get(id: u32, resolution: *mut u64) -> i32;
    pub fn clock_time_get(id: u32, precision: u64, time: *mut u64) -> i32;
    pub fn fd_advise(fd: Fd, offset: u64, len: u64, advice: u32) -> i32;
    pub fn fd_allocate(fd: Fd, offset: u64, len: u64) -> i32;
    pub fn fd_close(fd: Fd) -> i32;
    pub fn fd_datasync(fd: Fd) -> i32;
    pub fn fd_fdstat_get(fd: Fd, stat: *mut Fdstat) -> i32;
    pub fn fd_fdstat_set_flags(fd: Fd, flags: u32) -> i32;
    pub fn fd_filestat_get(fd: Fd, stat: *mut Filestat) -> i32;
    pub fn fd_filestat_set_size(fd: Fd, size: u64) -> i32;
    pub fn fd_pread(fd: Fd, iovs: *const Iovec, iovs_len: usize, offset: u64, n: *mut usize)
    -> i32;
    pub fn fd_pwrite(
        fd: Fd,
        iovs: *const Ciovec,
        iovs_len: usize,
        offset: u64,
        n: *mut usize,
    ) -> i32;
    pub fn fd_read(fd: Fd, iovs: *const Iovec, iovs_len: usize, n: *mut usize) -> i32;
    pub fn fd_readdir(fd: Fd, buf: *mut u8, buf_len: usize, cookie: u64, used: *mut usize) -> i32;
    pub fn fd_seek(fd: Fd, offset: i64, whence: u32, new_offset: *mut u64) -> i32;
    pub fn fd_sync(fd: Fd) -> i32;
    pub fn fd_tell(fd: Fd, offset: *mut u64) -> i32;
    pub fn fd_write(fd: Fd, iovs: *const Ciovec, iovs_len: usize, n: *mut usize) -> i32;
    pub fn path_open(
        fd: Fd,
        dirflags: u32,
        path: *const u8,
        path_len: usize,
        oflags: u32,
        rights_base: u64,
        rights_inheriting: u64,
        fdflags: u32,
        opened: *mut Fd,
    ) -> i32;
    pub fn poll_oneoff(
        subscriptions: *const Subscription,
        events: *mut Event,
        nsubscriptions: usize,
        nevents: *mut usize,
    ) -> i32;
    pub fn proc_exit(code: u32) -> !;
    pub fn proc_raise(signal: u32) -> i32;
    pub fn sched_yield() -> i32;
    pub fn random_get(buf: *mut u8, buf_len: usize) -> i32;
    pub fn sock_accept(fd: Fd, flags: u32, accepted: *mut Fd) -> i32;
    pub fn sock_recv(
        fd: Fd,
        ri_data: *const Iovec,
        ri_data_len: usize,
        ri_flags: u32,
        ro_datalen: *mut usize,
        ro_flags: *mut u16,
    ) -> i32;
    pub fn sock_send(
        fd: Fd,
        si_data: *const Ciovec,
        si_data_len: usize,
        si_flags: u32,
        so_datalen: *mut usize,
    ) -> i32;
    pub fn sock_shutdown(fd: Fd, how: u32) -> i32;
}
