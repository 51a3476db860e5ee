//! Calls on Directory and File capabilities (schema/fs.capnp). File-system
//! failures come back as WASI errno numbers in the results; a failed call
//! itself (a refused capability) is EIO.

use crate::errno::{Errno, IO};
use capos_rt::CapRef;
use capos_rt::message::{self, cap_ref};
use capos_schema::fs_capnp::{self, directory, file};
use capos_schema::interfaces::{directory as dir_iface, file as file_iface};

pub type FsResult<T> = Result<T, Errno>;

/// A file's or directory's metadata, as WASI's filestat wants it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stat {
    pub ino: u64,
    pub filetype: u8,
    pub nlink: u64,
    pub size: u64,
    pub atim: u64,
    pub mtim: u64,
    pub ctim: u64,
}

pub struct Times {
    pub atim: u64,
    pub mtim: u64,
    pub set_atim: bool,
    pub set_atim_now: bool,
    pub set_mtim: bool,
    pub set_mtim_now: bool,
}

pub fn filetype(kind: Result<fs_capnp::FileKind, capnp::NotInSchema>) -> u8 {
    match kind {
        Ok(fs_capnp::FileKind::Directory) => 3,
        Ok(fs_capnp::FileKind::RegularFile) => 4,
        Ok(fs_capnp::FileKind::Symlink) => 7,
        _ => 0,
    }
}

fn stat_of(s: fs_capnp::stat::Reader<'_>) -> Stat {
    Stat {
        ino: s.get_ino(),
        filetype: filetype(s.get_kind()),
        nlink: s.get_nlink(),
        size: s.get_size(),
        atim: s.get_atime_ns(),
        mtim: s.get_mtime_ns(),
        ctim: s.get_ctime_ns(),
    }
}

fn call(cap: CapRef, method: u16, params: &message::Builder) -> FsResult<message::Reader> {
    let out = capos_rt::call(cap, method, &message::bytes(params)).map_err(|_| IO)?;
    message::read(&out).map_err(|_| IO)
}

fn check(errno: u16) -> FsResult<()> {
    if errno == 0 { Ok(()) } else { Err(errno) }
}

fn set_times(mut b: fs_capnp::times::Builder<'_>, t: &Times) {
    b.set_atime_ns(t.atim);
    b.set_mtime_ns(t.mtim);
    b.set_set_atime(t.set_atim);
    b.set_atime_now(t.set_atim_now);
    b.set_set_mtime(t.set_mtim);
    b.set_mtime_now(t.set_mtim_now);
}

/// Calls a Directory method whose results are only an errno.
macro_rules! errno_call {
    ($cap:expr, $method:expr, $params:ty, $results:ty, |$p:ident| $fill:block) => {{
        let mut m = message::builder();
        {
            let mut $p = m.init_root::<$params>();
            $fill
        }
        let r = call($cap, $method, &m)?;
        check(r.get_root::<$results>().map_err(|_| IO)?.get_errno())
    }};
}

pub struct OpenFlags {
    pub create: bool,
    pub exclusive: bool,
    pub truncate: bool,
    pub directory: bool,
    pub follow: bool,
}

/// (the new capability, whether it is a directory)
pub fn open(dir: CapRef, path: &str, f: &OpenFlags) -> FsResult<(CapRef, bool)> {
    let mut m = message::builder();
    let mut p = m.init_root::<directory::open_params::Builder>();
    p.set_path(path);
    let mut flags = p.init_flags();
    flags.set_create(f.create);
    flags.set_exclusive(f.exclusive);
    flags.set_truncate(f.truncate);
    flags.set_directory(f.directory);
    flags.set_follow_symlinks(f.follow);
    let r = call(dir, dir_iface::method::OPEN, &m)?;
    let res = r
        .get_root::<directory::open_results::Reader>()
        .map_err(|_| IO)?;
    check(res.get_errno())?;
    let cap = cap_ref(res.get_cap().map_err(|_| IO)?);
    Ok((cap, filetype(res.get_kind()) == 3))
}

pub fn create_directory(dir: CapRef, path: &str) -> FsResult<()> {
    errno_call!(
        dir,
        dir_iface::method::CREATE_DIRECTORY,
        directory::create_directory_params::Builder,
        directory::create_directory_results::Reader,
        |p| {
            p.set_path(path);
        }
    )
}

pub fn remove_directory(dir: CapRef, path: &str) -> FsResult<()> {
    errno_call!(
        dir,
        dir_iface::method::REMOVE_DIRECTORY,
        directory::remove_directory_params::Builder,
        directory::remove_directory_results::Reader,
        |p| {
            p.set_path(path);
        }
    )
}

pub fn unlink_file(dir: CapRef, path: &str) -> FsResult<()> {
    errno_call!(
        dir,
        dir_iface::method::UNLINK_FILE,
        directory::unlink_file_params::Builder,
        directory::unlink_file_results::Reader,
        |p| {
            p.set_path(path);
        }
    )
}

pub fn rename(dir: CapRef, path: &str, target: u32, new_path: &str) -> FsResult<()> {
    errno_call!(
        dir,
        dir_iface::method::RENAME,
        directory::rename_params::Builder,
        directory::rename_results::Reader,
        |p| {
            p.set_path(path);
            p.set_target(target);
            p.set_new_path(new_path);
        }
    )
}

pub fn link(dir: CapRef, path: &str, follow: bool, target: u32, new_path: &str) -> FsResult<()> {
    errno_call!(
        dir,
        dir_iface::method::LINK,
        directory::link_params::Builder,
        directory::link_results::Reader,
        |p| {
            p.set_path(path);
            p.set_follow_symlinks(follow);
            p.set_target(target);
            p.set_new_path(new_path);
        }
    )
}

pub fn symlink(dir: CapRef, target: &str, path: &str) -> FsResult<()> {
    errno_call!(
        dir,
        dir_iface::method::SYMLINK,
        directory::symlink_params::Builder,
        directory::symlink_results::Reader,
        |p| {
            p.set_target(target);
            p.set_path(path);
        }
    )
}

pub fn readlink(dir: CapRef, path: &str) -> FsResult<String> {
    let mut m = message::builder();
    m.init_root::<directory::readlink_params::Builder>()
        .set_path(path);
    let r = call(dir, dir_iface::method::READLINK, &m)?;
    let res = r
        .get_root::<directory::readlink_results::Reader>()
        .map_err(|_| IO)?;
    check(res.get_errno())?;
    message::text(res.get_target()).map_err(|_| IO)
}

pub fn stat(dir: CapRef, path: &str, follow: bool) -> FsResult<Stat> {
    let mut m = message::builder();
    let mut p = m.init_root::<directory::stat_params::Builder>();
    p.set_path(path);
    p.set_follow_symlinks(follow);
    let r = call(dir, dir_iface::method::STAT, &m)?;
    let res = r
        .get_root::<directory::stat_results::Reader>()
        .map_err(|_| IO)?;
    check(res.get_errno())?;
    Ok(stat_of(res.get_stat().map_err(|_| IO)?))
}

pub fn set_path_times(dir: CapRef, path: &str, follow: bool, times: &Times) -> FsResult<()> {
    errno_call!(
        dir,
        dir_iface::method::SET_TIMES,
        directory::set_times_params::Builder,
        directory::set_times_results::Reader,
        |p| {
            p.set_path(path);
            p.set_follow_symlinks(follow);
            set_times(p.init_times(), times);
        }
    )
}

/// One directory entry: name, inode, WASI filetype.
pub type Entry = (String, u64, u8);

/// Entries `start..` and the directory's total count.
pub fn list(dir: CapRef, start: u32, max: u32) -> FsResult<(Vec<Entry>, u32)> {
    let mut m = message::builder();
    let mut p = m.init_root::<directory::list_params::Builder>();
    p.set_start(start);
    p.set_max(max);
    let r = call(dir, dir_iface::method::LIST, &m)?;
    let res = r
        .get_root::<directory::list_results::Reader>()
        .map_err(|_| IO)?;
    let mut out = Vec::new();
    for e in res.get_entries().map_err(|_| IO)? {
        out.push((
            message::text(e.get_name()).map_err(|_| IO)?,
            e.get_ino(),
            filetype(e.get_kind()),
        ));
    }
    Ok((out, res.get_total()))
}

pub fn label(dir: CapRef) -> FsResult<String> {
    let mut m = message::builder();
    m.init_root::<directory::label_params::Builder>();
    let r = call(dir, dir_iface::method::LABEL, &m)?;
    message::text(
        r.get_root::<directory::label_results::Reader>()
            .map_err(|_| IO)?
            .get_label(),
    )
    .map_err(|_| IO)
}

/// Most bytes one File.read or File.write call carries.
pub const CHUNK: usize = capos_rt::config::ring::SLOT_DATA_SIZE as usize - 128;

pub fn read(f: CapRef, offset: u64, len: u32) -> FsResult<Vec<u8>> {
    let mut m = message::builder();
    let mut p = m.init_root::<file::read_params::Builder>();
    p.set_offset(offset);
    p.set_len(len);
    let r = call(f, file_iface::method::READ, &m)?;
    let res = r.get_root::<file::read_results::Reader>().map_err(|_| IO)?;
    check(res.get_errno())?;
    Ok(res.get_data().map_err(|_| IO)?.to_vec())
}

/// Returns the offset just after what was written.
pub fn write(f: CapRef, offset: u64, data: &[u8], append: bool) -> FsResult<u64> {
    let mut m = message::builder();
    let mut p = m.init_root::<file::write_params::Builder>();
    p.set_offset(offset);
    p.set_data(data);
    p.set_append(append);
    let r = call(f, file_iface::method::WRITE, &m)?;
    let res = r
        .get_root::<file::write_results::Reader>()
        .map_err(|_| IO)?;
    check(res.get_errno())?;
    Ok(res.get_end())
}

/// Queues a write without waiting for it (the ring keeps it in order with
/// every later call on the file); a failure shows up as the next call's EIO.
pub fn write_deferred(f: CapRef, offset: u64, data: &[u8]) -> FsResult<()> {
    let mut m = message::builder();
    let mut p = m.init_root::<file::write_params::Builder>();
    p.set_offset(offset);
    p.set_data(data);
    capos_rt::call_deferred(
        f,
        file_iface::method::WRITE,
        &message::bytes(&m),
        crate::deferred::write_succeeded,
    )
    .map_err(|_| IO)
}

pub fn file_stat(f: CapRef) -> FsResult<Stat> {
    let mut m = message::builder();
    m.init_root::<file::stat_params::Builder>();
    let r = call(f, file_iface::method::STAT, &m)?;
    Ok(stat_of(
        r.get_root::<file::stat_results::Reader>()
            .map_err(|_| IO)?
            .get_stat()
            .map_err(|_| IO)?,
    ))
}

pub fn truncate(f: CapRef, size: u64) -> FsResult<()> {
    errno_call!(
        f,
        file_iface::method::TRUNCATE,
        file::truncate_params::Builder,
        file::truncate_results::Reader,
        |p| {
            p.set_size(size);
        }
    )
}

pub fn set_file_times(f: CapRef, times: &Times) -> FsResult<()> {
    errno_call!(
        f,
        file_iface::method::SET_TIMES,
        file::set_times_params::Builder,
        file::set_times_results::Reader,
        |p| {
            set_times(p.reborrow().init_times(), times);
        }
    )
}
