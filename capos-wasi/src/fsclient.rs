//! Calls on Directory and File capabilities (schema/fs.capnp), through the
//! generated clients. File-system failures come back as WASI errno numbers
//! in the results; a failed call itself (a refused capability) is EIO.

use capos_rt::config::errno::{EIO, Errno};
use capos_rt::message::{cap_ref, set_transfer, text};
use capos_rt::{CapRef, RingRequest, RingTransport, TransferMode};
use capos_schema::clients;
use capos_schema::fs_capnp;

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

/// A refused call, or results that cannot be read, is EIO to the program.
trait OrEio<T> {
    fn or_eio(self) -> FsResult<T>;
}

impl<T, E> OrEio<T> for Result<T, E> {
    fn or_eio(self) -> FsResult<T> {
        self.map_err(|_| EIO)
    }
}

fn directory(cap: CapRef) -> FsResult<clients::Directory<RingTransport>> {
    cap.client().or_eio()
}

fn file(cap: CapRef) -> FsResult<clients::File<RingTransport>> {
    cap.client().or_eio()
}

fn check(errno: Errno) -> FsResult<()> {
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

pub struct OpenFlags {
    pub create: bool,
    pub exclusive: bool,
    pub truncate: bool,
    pub directory: bool,
    pub follow: bool,
}

/// (the new capability, whether it is a directory)
pub fn open(dir: CapRef, path: &str, f: &OpenFlags) -> FsResult<(CapRef, bool)> {
    let mut request = directory(dir)?.open_request();
    let mut params = request.get();
    params.set_path(path);
    let mut flags = params.init_flags();
    flags.set_create(f.create);
    flags.set_exclusive(f.exclusive);
    flags.set_truncate(f.truncate);
    flags.set_directory(f.directory);
    flags.set_follow_symlinks(f.follow);
    let response = request.send().or_eio()?;
    let results = response.get().or_eio()?;
    check(results.get_errno())?;
    let cap = cap_ref(results.get_cap().or_eio()?);
    Ok((cap, filetype(results.get_kind()) == 3))
}

pub fn create_directory(dir: CapRef, path: &str) -> FsResult<()> {
    let mut request = directory(dir)?.create_directory_request();
    request.get().set_path(path);
    check(request.send().or_eio()?.get().or_eio()?.get_errno())
}

pub fn remove_directory(dir: CapRef, path: &str) -> FsResult<()> {
    let mut request = directory(dir)?.remove_directory_request();
    request.get().set_path(path);
    check(request.send().or_eio()?.get().or_eio()?.get_errno())
}

pub fn unlink_file(dir: CapRef, path: &str) -> FsResult<()> {
    let mut request = directory(dir)?.unlink_file_request();
    request.get().set_path(path);
    check(request.send().or_eio()?.get().or_eio()?.get_errno())
}

/// Renames `path` in `dir` to `new_path` in `target` (which may be `dir`):
/// the destination travels as a copy of the caller's capability.
pub fn rename(dir: CapRef, path: &str, target: CapRef, new_path: &str) -> FsResult<()> {
    let mut request = directory(dir)?.rename_request();
    let mut params = request.get();
    params.set_path(path);
    set_transfer(params.reborrow().init_target(), target, TransferMode::Copy);
    params.set_new_path(new_path);
    check(request.send().or_eio()?.get().or_eio()?.get_errno())
}

/// Links `path` in `dir` as `new_path` in `target`, as for [`rename`].
pub fn link(dir: CapRef, path: &str, follow: bool, target: CapRef, new_path: &str) -> FsResult<()> {
    let mut request = directory(dir)?.link_request();
    let mut params = request.get();
    params.set_path(path);
    params.set_follow_symlinks(follow);
    set_transfer(params.reborrow().init_target(), target, TransferMode::Copy);
    params.set_new_path(new_path);
    check(request.send().or_eio()?.get().or_eio()?.get_errno())
}

pub fn symlink(dir: CapRef, target: &str, path: &str) -> FsResult<()> {
    let mut request = directory(dir)?.symlink_request();
    let mut params = request.get();
    params.set_target(target);
    params.set_path(path);
    check(request.send().or_eio()?.get().or_eio()?.get_errno())
}

pub fn readlink(dir: CapRef, path: &str) -> FsResult<String> {
    let mut request = directory(dir)?.readlink_request();
    request.get().set_path(path);
    let response = request.send().or_eio()?;
    let results = response.get().or_eio()?;
    check(results.get_errno())?;
    text(results.get_target()).or_eio()
}

pub fn stat(dir: CapRef, path: &str, follow: bool) -> FsResult<Stat> {
    let mut request = directory(dir)?.stat_request();
    let mut params = request.get();
    params.set_path(path);
    params.set_follow_symlinks(follow);
    let response = request.send().or_eio()?;
    let results = response.get().or_eio()?;
    check(results.get_errno())?;
    Ok(stat_of(results.get_stat().or_eio()?))
}

pub fn set_path_times(dir: CapRef, path: &str, follow: bool, times: &Times) -> FsResult<()> {
    let mut request = directory(dir)?.set_times_request();
    let mut params = request.get();
    params.set_path(path);
    params.set_follow_symlinks(follow);
    set_times(params.init_times(), times);
    check(request.send().or_eio()?.get().or_eio()?.get_errno())
}

/// One directory entry: name, inode, WASI filetype.
pub type Entry = (String, u64, u8);

/// Entries `start..` and the directory's total count.
pub fn list(dir: CapRef, start: u32, max: u32) -> FsResult<(Vec<Entry>, u32)> {
    let mut request = directory(dir)?.list_request();
    let mut params = request.get();
    params.set_start(start);
    params.set_max(max);
    let response = request.send().or_eio()?;
    let results = response.get().or_eio()?;
    let mut out = Vec::new();
    for e in results.get_entries().or_eio()? {
        out.push((
            text(e.get_name()).or_eio()?,
            e.get_ino(),
            filetype(e.get_kind()),
        ));
    }
    Ok((out, results.get_total()))
}

pub fn label(dir: CapRef) -> FsResult<String> {
    let response = directory(dir)?.label_request().send().or_eio()?;
    text(response.get().or_eio()?.get_label()).or_eio()
}

/// Most bytes one File.read or File.write call carries.
pub const CHUNK: usize = capos_rt::config::ring::SLOT_DATA_SIZE as usize - 128;

pub fn read(f: CapRef, offset: u64, len: u32) -> FsResult<Vec<u8>> {
    let mut request = file(f)?.read_request();
    let mut params = request.get();
    params.set_offset(offset);
    params.set_len(len);
    let response = request.send().or_eio()?;
    let results = response.get().or_eio()?;
    check(results.get_errno())?;
    Ok(results.get_data().or_eio()?.to_vec())
}

/// Returns the offset just after what was written.
pub fn write(f: CapRef, offset: u64, data: &[u8], append: bool) -> FsResult<u64> {
    let mut request = file(f)?.write_request();
    let mut params = request.get();
    params.set_offset(offset);
    params.set_data(data);
    params.set_append(append);
    let response = request.send().or_eio()?;
    let results = response.get().or_eio()?;
    check(results.get_errno())?;
    Ok(results.get_end())
}

/// Queues a write without waiting for it (the ring keeps it in order with
/// every later call on the file); a failure shows up as the next call's EIO.
pub fn write_deferred(f: CapRef, offset: u64, data: &[u8]) -> FsResult<()> {
    let mut request = file(f)?.write_request();
    let mut params = request.get();
    params.set_offset(offset);
    params.set_data(data);
    request
        .send_deferred(crate::deferred::write_succeeded)
        .or_eio()
}

pub fn file_stat(f: CapRef) -> FsResult<Stat> {
    let response = file(f)?.stat_request().send().or_eio()?;
    Ok(stat_of(response.get().or_eio()?.get_stat().or_eio()?))
}

pub fn truncate(f: CapRef, size: u64) -> FsResult<()> {
    let mut request = file(f)?.truncate_request();
    request.get().set_size(size);
    check(request.send().or_eio()?.get().or_eio()?.get_errno())
}

/// Waits until the file's tree has stored every change made so far.
pub fn sync_file(f: CapRef) -> FsResult<()> {
    let response = file(f)?.sync_request().send().or_eio()?;
    check(response.get().or_eio()?.get_errno())
}

/// As [`sync_file`], for a directory's tree.
pub fn sync_directory(dir: CapRef) -> FsResult<()> {
    let response = directory(dir)?.sync_request().send().or_eio()?;
    check(response.get().or_eio()?.get_errno())
}

pub fn set_file_times(f: CapRef, times: &Times) -> FsResult<()> {
    let mut request = file(f)?.set_times_request();
    set_times(request.get().init_times(), times);
    check(request.send().or_eio()?.get().or_eio()?.get_errno())
}
