//! Directory and File: the file-system capabilities (schema/fs.capnp),
//! over the kernel's in-memory tree (fs_tree.rs). A Directory reaches its
//! own subtree only; a File only its own bytes.

use super::volume::Volume;
use super::{encode, read_transfer, results_builder, serve, set_cap_ref, text};
use crate::fs_tree::{self, Data, EBADF, EINVAL, EISDIR, ENOENT, ENOTDIR, EXDEV, Errno, Ino, Tree};
use crate::host::{Host, HostClient, HostReply, HostRequest, StoreImage};
use crate::kernel::{CapEntry, GrantedCap, Kernel};
use crate::view::UiEvent;
use capos_config::manifest::{Mount, TransferMode};
use capos_lib::{CallContext, CapError, Fault, Reply, Served, Service};
use capos_schema::fs_capnp::{self, directory, file};
use capos_schema::servers::{directory as dir_server, file as file_server};
use std::cell::RefCell;
use std::rc::Rc;

/// How bulk results are cut to fit a ring slot (never silently: each says
/// what it returned): `File.read` returns at most `READ_MAX` bytes and the
/// caller reads on from the offset after them; `Directory.list` returns as
/// many entries from `start` as fit `LIST_BUDGET` bytes of results (at least
/// one, at most `max`) with the `total`, and the caller lists on from there.
const READ_MAX: u32 = capos_config::ring::SLOT_DATA_SIZE - 128;
const LIST_BUDGET: usize = capos_config::ring::SLOT_DATA_SIZE as usize - 256;

/// The file trees of one boot, which outlive every process: the in-memory
/// volume every in-memory mount shares (so a rename between two of them
/// works), and one volume per persistent store the host loaded. At halt,
/// what the mounts hold is published for `capos run --dir` to write back.
pub struct FileSystems {
    /// A store the page asks for after the boot joins both (`attach`).
    pub(super) volumes: RefCell<Vec<Rc<Volume>>>,
    pub(super) mounts: RefCell<Vec<MountPoint>>,
    /// Each volume's generation when the page last saw it.
    pub(super) shown: std::cell::RefCell<Vec<u64>>,
}

/// One tree the boot holds, and where it shows.
#[derive(Clone)]
pub struct MountPoint {
    /// The path it is granted as; a store no mount names shows as `/name`.
    pub guest: String,
    pub volume: Rc<Volume>,
    pub root: Ino,
    /// Named by the manifest (grantable), or only loaded by the host.
    pub granted: bool,
    /// The directory of its store it shows ("" for its root, or in memory).
    pub store_path: String,
}

impl FileSystems {
    /// The manifest's mounts: in memory (their host files read from
    /// `host_files`), or from the store images the host loaded (which must
    /// include every store a mount names). A loaded store no mount names is
    /// held too, for the page's file browser.
    pub fn mount<H: Host>(
        kernel: &mut Kernel<H>,
        mounts: &[Mount],
        host_files: &str,
        mut images: Vec<StoreImage>,
    ) -> Result<Self, String> {
        let now = kernel.host_mut().realtime_ns();
        let memory = Volume::in_memory(host_files);
        let mut volumes = vec![memory.clone()];
        let mut stores: Vec<(String, Rc<Volume>)> = Vec::new();
        let mut points = Vec::new();
        for m in mounts {
            if m.store.is_empty() {
                let root = memory.tree.borrow_mut().insert_tree(&m.root, None, now);
                points.push(MountPoint {
                    guest: m.guest.clone(),
                    volume: memory.clone(),
                    root,
                    granted: true,
                    store_path: String::new(),
                });
                continue;
            }
            let volume = match stores.iter().find(|(name, _)| *name == m.store) {
                Some((_, volume)) => {
                    if m.quota_bytes != 0 {
                        volume.lower_quota(m.quota_bytes);
                    }
                    volume.clone()
                }
                None => {
                    let at = images
                        .iter()
                        .position(|i| i.name == m.store)
                        .ok_or_else(|| {
                            format!(
                                "mount {:?}: the browser did not load store {:?}",
                                m.guest, m.store
                            )
                        })?;
                    let volume =
                        Volume::persistent(images.remove(at), &m.root, m.quota_bytes, now)?;
                    stores.push((m.store.clone(), volume.clone()));
                    volumes.push(volume.clone());
                    volume
                }
            };
            let root = volume
                .directory(&m.store_path, now)
                .map_err(|e| format!("mount {:?}: storePath {:?}: {e}", m.guest, m.store_path))?;
            points.push(MountPoint {
                guest: m.guest.clone(),
                root,
                volume,
                granted: true,
                store_path: m.store_path.clone(),
            });
        }
        for image in images {
            let volume = Volume::from_store(image, now)?;
            volumes.push(volume);
        }
        // A store whose root no mount shows is shown whole to the page
        // (`/name`), which a program is never granted.
        for volume in &volumes {
            let (Some(name), Some(root)) = (volume.store_name(), volume.root()) else {
                continue;
            };
            if !points
                .iter()
                .any(|p| p.root == root && Rc::ptr_eq(&p.volume, volume))
            {
                points.push(MountPoint {
                    guest: format!("/{name}"),
                    root,
                    volume: volume.clone(),
                    granted: false,
                    store_path: String::new(),
                });
            }
        }
        // A new store commits what it was seeded with.
        for volume in &volumes {
            volume.changed(kernel);
        }
        Ok(Self {
            volumes: RefCell::new(volumes),
            mounts: RefCell::new(points),
            shown: Default::default(),
        })
    }

    /// A Directory on the manifest's mount `index` (validated against it).
    pub fn root(&self, index: usize) -> Directory {
        let m = &self.mounts.borrow()[index];
        Directory {
            vol: m.volume.clone(),
            ino: m.root,
            label: m.guest.clone(),
        }
    }

    /// Every volume (a copy of the list: a volume's work may reach back here).
    pub(super) fn volumes(&self) -> Vec<Rc<Volume>> {
        self.volumes.borrow().clone()
    }

    /// A store loaded after the boot, for the page's file browser only
    /// (`/name`; no program is granted it).
    pub(super) fn attach_store(&self, image: StoreImage, now: u64) -> Result<(), String> {
        let name = image.name.clone();
        if self
            .volumes()
            .iter()
            .any(|v| v.store_name() == Some(name.as_str()))
        {
            return Ok(()); // the boot holds it already
        }
        let volume = Volume::from_store(image, now)?;
        self.mounts.borrow_mut().push(MountPoint {
            guest: format!("/{name}"),
            root: volume.root().expect("persistent"),
            volume: volume.clone(),
            granted: false,
            store_path: String::new(),
        });
        self.volumes.borrow_mut().push(volume);
        Ok(())
    }
}

impl<H: Host> Service<Kernel<H>> for FileSystems {
    fn on_exit(&self, _kernel: &mut Kernel<H>, pid: u32, _code: i32, _reason: &str) {
        for volume in self.volumes() {
            volume.forget(pid);
        }
    }

    fn settle(&self, kernel: &mut Kernel<H>) {
        for volume in self.volumes() {
            volume.settle(kernel);
        }
    }

    fn on_halt(&self, kernel: &mut Kernel<H>) {
        for volume in self.volumes() {
            volume.flush(kernel, true);
        }
        let all = self.mounts.borrow().clone();
        let granted: Vec<_> = all.iter().filter(|m| m.granted).collect();
        if granted.is_empty() {
            return;
        }
        // Mounts of host files send their changed files' bytes to the host
        // (each file once, however many names it has); the others carry them.
        let mut uploads = std::collections::HashMap::new();
        let mut sent_back = Vec::new();
        for m in granted.iter().filter(|m| sends_files_back(m)) {
            sent_back.push(upload_snapshot(kernel, m, &mut uploads));
        }
        let mut sent_back = sent_back.into_iter();
        let mounts = granted
            .iter()
            .map(|m| {
                if sends_files_back(m) {
                    return sent_back.next().expect("one per such mount");
                }
                let tree = m.volume.tree.borrow();
                let mut snapshot = crate::view::mount_snapshot(&m.guest, &tree.export(m.root, ""));
                if let Some(store) = m.volume.store_name() {
                    snapshot.store = store.to_string();
                    snapshot.store_path = m.store_path.clone();
                }
                snapshot
            })
            .collect();
        kernel.emit(UiEvent::Filesystems { mounts });
    }
}

/// Grants `pid` a File on `ino` (`writer`: made or emptied by the open).
fn grant_file<H: Host>(
    kernel: &mut Kernel<H>,
    pid: u32,
    vol: &Rc<Volume>,
    ino: Ino,
    writer: bool,
) -> Result<GrantedCap, Fault> {
    let file = File {
        vol: vol.clone(),
        ino,
        writing: Default::default(),
    };
    if writer {
        file.wrote();
    }
    kernel.insert_cap(
        pid,
        CapEntry {
            object: Rc::new(file),
            badge: 0,
        },
    )
}

/// An open of a host file waiting for its bytes (`capos run --dir` reads
/// a file from the host when a program first opens it).
struct Loading {
    vol: Rc<Volume>,
    ino: Ino,
    pid: u32,
    user_data: u64,
    writer: bool,
}

impl<H: Host> HostClient<H> for Loading {
    fn on_reply(&self, kernel: &mut Kernel<H>, _id: u32, reply: HostReply) {
        let loaded = match reply {
            HostReply::FileData(bytes) => self.vol.tree.borrow_mut().load(self.ino, bytes),
            // The host could not read it (gone, unreadable): the open fails
            // as a read of a disk that failed would.
            _ => Err(fs_tree::EIO),
        };
        let completion = match loaded {
            Ok(()) => match grant_file(kernel, self.pid, &self.vol, self.ino, self.writer) {
                Ok(granted) => {
                    let mut message = results_builder();
                    {
                        let mut results =
                            message.init_root::<directory::open_results::Builder<'_>>();
                        set_cap_ref(results.reborrow().init_cap(), granted);
                        results.set_kind(fs_capnp::FileKind::RegularFile);
                    }
                    encode(&message)
                }
                Err(fault) => fault.into(),
            },
            Err(errno) => {
                let mut message = results_builder();
                message
                    .init_root::<directory::open_results::Builder<'_>>()
                    .set_errno(errno);
                encode(&message)
            }
        };
        kernel.finish(self.pid, self.user_data, completion);
    }
}

/// Whether a mount's changed files go back to the host as uploads: an
/// in-memory mount of a run that shares host files (`capos run --dir`).
fn sends_files_back(m: &MountPoint) -> bool {
    m.volume.store_name().is_none() && !m.volume.host_files.is_empty()
}

/// What mount `m` holds, for writing back: a host file still unchanged by
/// its id, a changed or new file by the upload its bytes were sent as.
fn upload_snapshot<H: Host>(
    kernel: &mut Kernel<H>,
    m: &MountPoint,
    uploads: &mut std::collections::HashMap<Ino, u64>,
) -> crate::view::MountSnapshot {
    use crate::view::FsEntry;
    let tree = m.volume.tree.borrow();
    let mut entries = Vec::new();
    // The first path is the mount's root itself.
    for (path, ino) in tree.paths(m.root).into_iter().skip(1) {
        let Some(node) = tree.node(ino) else {
            continue;
        };
        let (kind, data, origin, mut upload) = match &node.data {
            Data::Dir { .. } => ("dir", String::new(), None, None),
            Data::Symlink(target) => ("symlink", target.clone(), None, None),
            Data::File(_) => match tree.host_file(ino) {
                Some(host) => ("file", String::new(), Some(host.id), None),
                None => ("file", String::new(), None, uploads.get(&ino).copied()),
            },
        };
        if let (Data::File(bytes), None, None) = (&node.data, origin, upload) {
            let n = uploads.len() as u64;
            uploads.insert(ino, n);
            let url = format!("{}out/{n}", m.volume.host_files);
            let request = HostRequest::HostFileWrite {
                url: &url,
                data: bytes,
            };
            kernel.host_request(Rc::new(SentBack), request);
            upload = Some(n);
        }
        entries.push(FsEntry {
            path,
            kind,
            data,
            origin,
            upload,
        });
    }
    crate::view::MountSnapshot {
        guest: m.guest.clone(),
        store: String::new(),
        store_path: String::new(),
        entries,
    }
}

/// A changed file's bytes on their way to the host. Whether they arrived is
/// the host's to check (`capos run` finds the upload, or says it is missing).
struct SentBack;

impl<H: Host> HostClient<H> for SentBack {
    fn on_reply(&self, _kernel: &mut Kernel<H>, _id: u32, _reply: HostReply) {}
}

pub struct Directory {
    vol: Rc<Volume>,
    ino: Ino,
    label: String,
}

pub struct File {
    vol: Rc<Volume>,
    ino: Ino,
    /// It has changed the file since it was opened or last synced: the
    /// volume stores the file's new bytes once it is released or synced.
    writing: std::cell::Cell<bool>,
}

impl File {
    fn wrote(&self) {
        if !self.writing.replace(true) {
            self.vol.writer_opened(self.ino);
        }
    }
}

impl Drop for File {
    fn drop(&mut self) {
        if self.writing.get() {
            self.vol.writer_closed(self.ino);
        }
    }
}

fn fs_kind(data: Option<&Data>) -> fs_capnp::FileKind {
    match data {
        Some(Data::Dir { .. }) => fs_capnp::FileKind::Directory,
        Some(Data::File(_)) => fs_capnp::FileKind::RegularFile,
        Some(Data::Symlink(_)) => fs_capnp::FileKind::Symlink,
        None => fs_capnp::FileKind::Unknown,
    }
}

fn set_stat(tree: &Tree, ino: Ino, mut stat: fs_capnp::stat::Builder<'_>) {
    if let Some(node) = tree.node(ino) {
        stat.set_ino(ino);
        stat.set_kind(fs_kind(Some(&node.data)));
        stat.set_nlink(node.nlink);
        stat.set_size(tree.file_size(ino));
        stat.set_atime_ns(node.atime);
        stat.set_mtime_ns(node.mtime);
        stat.set_ctime_ns(node.ctime);
    }
}

/// The errno of a file-system outcome (0: success).
fn errno(outcome: Result<(), Errno>) -> Errno {
    outcome.err().unwrap_or(0)
}

fn apply_times(
    tree: &mut Tree,
    ino: Ino,
    times: fs_capnp::times::Reader<'_>,
    now: u64,
) -> Result<(), Errno> {
    if (times.get_set_atime() && times.get_atime_now())
        || (times.get_set_mtime() && times.get_mtime_now())
    {
        return Err(EINVAL);
    }
    let node = tree.node_changing(ino).ok_or(ENOENT)?;
    if times.get_set_atime() {
        node.atime = times.get_atime_ns();
    } else if times.get_atime_now() {
        node.atime = now;
    }
    if times.get_set_mtime() {
        node.mtime = times.get_mtime_ns();
    } else if times.get_mtime_now() {
        node.mtime = now;
    }
    node.ctime = now;
    Ok(())
}

impl Directory {
    /// The destination of a rename or link: a Directory of the caller's on
    /// the same tree, named by a `CapTransfer` (copy: the caller keeps it).
    fn target<H: Host>(
        &self,
        kernel: &Kernel<H>,
        caller: u32,
        target: capos_schema::cap_capnp::cap_transfer::Reader<'_>,
    ) -> Result<Result<Ino, Errno>, Fault> {
        let transfer = read_transfer(target)?;
        if transfer.mode != TransferMode::Copy {
            return Err(Fault::bad_params(
                "the destination directory is passed with copy, not move",
            ));
        }
        let entry = kernel.peek_caps(caller, &[transfer])?.remove(0);
        let Some(other) = entry
            .object
            .as_any()
            .and_then(|a| a.downcast_ref::<Directory>())
        else {
            return Ok(Err(EBADF));
        };
        if !Rc::ptr_eq(&other.vol, &self.vol) {
            return Ok(Err(EXDEV));
        }
        Ok(Ok(other.ino))
    }

    fn open_path(
        &self,
        path: &str,
        flags: fs_capnp::open_flags::Reader<'_>,
        now: u64,
    ) -> Result<(Ino, bool), Errno> {
        let mut tree = self.vol.tree.borrow_mut();
        let r = tree.resolve(self.ino, path, flags.get_follow_symlinks())?;
        let ino = match r.ino {
            Some(_) if flags.get_create() && flags.get_exclusive() => return Err(fs_tree::EEXIST),
            Some(ino) => ino,
            None if flags.get_create() && !flags.get_directory() => {
                // "name/" could only be made as a directory (open(2): EISDIR).
                if r.dir_only {
                    return Err(EISDIR);
                }
                let name = r.name.ok_or(ENOENT)?;
                tree.create_file(r.parent, &name, now)?
            }
            None => return Err(ENOENT),
        };
        // A symlink left unfollowed cannot be opened (O_NOFOLLOW): ELOOP.
        if matches!(tree.kind(ino), Some(Data::Symlink(_))) {
            return Err(fs_tree::ELOOP);
        }
        let is_dir = matches!(tree.kind(ino), Some(Data::Dir { .. }));
        if flags.get_directory() && !is_dir {
            return Err(ENOTDIR);
        }
        if flags.get_truncate() {
            if is_dir {
                return Err(EISDIR);
            }
            tree.truncate(ino, 0, now)?;
        }
        Ok((ino, is_dir))
    }
}

serve!(Directory, directory, as_any, inspect);

impl super::Inspect for Directory {
    fn describe(&self) -> Option<String> {
        (!self.label.is_empty()).then(|| self.label.clone())
    }
}

impl<H: Host> dir_server::Server<Kernel<H>> for Directory {
    fn open(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext,
        params: directory::open_params::Reader<'_>,
        mut results: directory::open_results::Builder<'_>,
    ) -> Reply {
        let now = kernel.host_mut().realtime_ns();
        let path = text(params.get_path())?;
        let opened = self.open_path(&path, params.get_flags()?, now);
        self.vol.changed(kernel);
        let (ino, is_dir) = match opened {
            Ok(opened) => opened,
            Err(e) => {
                results.set_errno(e);
                return Ok(Served::Done);
            }
        };
        let flags = params.get_flags()?;
        // Made or emptied by this open: a writer from the start.
        let writer = flags.get_create() || flags.get_truncate();
        if is_dir {
            let object = Rc::new(Directory {
                vol: self.vol.clone(),
                ino,
                label: String::new(),
            });
            let granted = kernel.insert_cap(call.caller, CapEntry { object, badge: 0 })?;
            set_cap_ref(results.reborrow().init_cap(), granted);
            results.set_kind(fs_capnp::FileKind::Directory);
            return Ok(Served::Done);
        }
        let unloaded = self.vol.tree.borrow().unloaded(ino);
        if let Some(host) = unloaded {
            // Its bytes are still on the host: the open finishes once they
            // are read in (or fails, and nothing is granted).
            if host.size > fs_tree::MAX_FILE_SIZE {
                results.set_errno(fs_tree::EFBIG);
                return Ok(Served::Done);
            }
            let url = format!("{}{}", self.vol.host_files, host.id);
            let loading = Rc::new(Loading {
                vol: self.vol.clone(),
                ino,
                pid: call.caller,
                user_data: call.user_data,
                writer,
            });
            let request = HostRequest::HostFileRead {
                url: &url,
                size: host.size,
            };
            kernel.host_request(loading, request);
            return Ok(Served::Pending);
        }
        let granted = grant_file(kernel, call.caller, &self.vol, ino, writer)?;
        set_cap_ref(results.reborrow().init_cap(), granted);
        results.set_kind(fs_capnp::FileKind::RegularFile);
        Ok(Served::Done)
    }

    fn create_directory(
        &self,
        kernel: &mut Kernel<H>,
        _call: &CallContext,
        params: directory::create_directory_params::Reader<'_>,
        mut results: directory::create_directory_results::Builder<'_>,
    ) -> Reply {
        let now = kernel.host_mut().realtime_ns();
        let path = text(params.get_path())?;
        results.set_errno(errno(
            self.vol.tree.borrow_mut().mkdir(self.ino, &path, now),
        ));
        self.vol.changed(kernel);
        Ok(Served::Done)
    }

    fn remove_directory(
        &self,
        kernel: &mut Kernel<H>,
        _call: &CallContext,
        params: directory::remove_directory_params::Reader<'_>,
        mut results: directory::remove_directory_results::Builder<'_>,
    ) -> Reply {
        let now = kernel.host_mut().realtime_ns();
        let path = text(params.get_path())?;
        results.set_errno(errno(
            self.vol.tree.borrow_mut().rmdir(self.ino, &path, now),
        ));
        self.vol.changed(kernel);
        Ok(Served::Done)
    }

    fn unlink_file(
        &self,
        kernel: &mut Kernel<H>,
        _call: &CallContext,
        params: directory::unlink_file_params::Reader<'_>,
        mut results: directory::unlink_file_results::Builder<'_>,
    ) -> Reply {
        let now = kernel.host_mut().realtime_ns();
        let path = text(params.get_path())?;
        results.set_errno(errno(
            self.vol.tree.borrow_mut().unlink(self.ino, &path, now),
        ));
        self.vol.changed(kernel);
        Ok(Served::Done)
    }

    fn rename(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext,
        params: directory::rename_params::Reader<'_>,
        mut results: directory::rename_results::Builder<'_>,
    ) -> Reply {
        let now = kernel.host_mut().realtime_ns();
        let (from, to) = (text(params.get_path())?, text(params.get_new_path())?);
        let outcome = self
            .target(kernel, call.caller, params.get_target()?)?
            .and_then(|t| {
                self.vol
                    .tree
                    .borrow_mut()
                    .rename(self.ino, &from, t, &to, now)
            });
        results.set_errno(errno(outcome));
        self.vol.changed(kernel);
        Ok(Served::Done)
    }

    fn link(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext,
        params: directory::link_params::Reader<'_>,
        mut results: directory::link_results::Builder<'_>,
    ) -> Reply {
        let now = kernel.host_mut().realtime_ns();
        let (from, to) = (text(params.get_path())?, text(params.get_new_path())?);
        let follow = params.get_follow_symlinks();
        let outcome = self
            .target(kernel, call.caller, params.get_target()?)?
            .and_then(|t| {
                self.vol
                    .tree
                    .borrow_mut()
                    .link(self.ino, &from, follow, t, &to, now)
            });
        results.set_errno(errno(outcome));
        self.vol.changed(kernel);
        Ok(Served::Done)
    }

    fn symlink(
        &self,
        kernel: &mut Kernel<H>,
        _call: &CallContext,
        params: directory::symlink_params::Reader<'_>,
        mut results: directory::symlink_results::Builder<'_>,
    ) -> Reply {
        let now = kernel.host_mut().realtime_ns();
        let (target, path) = (text(params.get_target())?, text(params.get_path())?);
        let outcome = self
            .vol
            .tree
            .borrow_mut()
            .symlink(self.ino, &target, &path, now);
        results.set_errno(errno(outcome));
        self.vol.changed(kernel);
        Ok(Served::Done)
    }

    fn readlink(
        &self,
        _kernel: &mut Kernel<H>,
        _call: &CallContext,
        params: directory::readlink_params::Reader<'_>,
        mut results: directory::readlink_results::Builder<'_>,
    ) -> Reply {
        let tree = self.vol.tree.borrow();
        let found = tree
            .resolve(self.ino, &text(params.get_path())?, false)
            .and_then(|r| match r.ino.and_then(|ino| tree.kind(ino)) {
                Some(Data::Symlink(target)) => Ok(target.clone()),
                Some(_) => Err(EINVAL),
                None => Err(ENOENT),
            });
        match found {
            Ok(target) => results.set_target(&target),
            Err(e) => results.set_errno(e),
        }
        Ok(Served::Done)
    }

    fn stat(
        &self,
        _kernel: &mut Kernel<H>,
        _call: &CallContext,
        params: directory::stat_params::Reader<'_>,
        mut results: directory::stat_results::Builder<'_>,
    ) -> Reply {
        let tree = self.vol.tree.borrow();
        let found = tree
            .resolve(
                self.ino,
                &text(params.get_path())?,
                params.get_follow_symlinks(),
            )
            .and_then(|r| r.ino.ok_or(ENOENT));
        match found {
            Ok(ino) => set_stat(&tree, ino, results.init_stat()),
            Err(e) => results.set_errno(e),
        }
        Ok(Served::Done)
    }

    fn set_times(
        &self,
        kernel: &mut Kernel<H>,
        _call: &CallContext,
        params: directory::set_times_params::Reader<'_>,
        mut results: directory::set_times_results::Builder<'_>,
    ) -> Reply {
        let now = kernel.host_mut().realtime_ns();
        let path = text(params.get_path())?;
        let times = params.get_times()?;
        let mut tree = self.vol.tree.borrow_mut();
        let outcome = tree
            .resolve(self.ino, &path, params.get_follow_symlinks())
            .and_then(|r| r.ino.ok_or(ENOENT))
            .and_then(|ino| apply_times(&mut tree, ino, times, now));
        drop(tree);
        results.set_errno(errno(outcome));
        self.vol.changed(kernel);
        Ok(Served::Done)
    }

    fn list(
        &self,
        _kernel: &mut Kernel<H>,
        _call: &CallContext,
        params: directory::list_params::Reader<'_>,
        mut results: directory::list_results::Builder<'_>,
    ) -> Reply {
        let tree = self.vol.tree.borrow();
        let Some(Data::Dir { entries, parent }) = tree.kind(self.ino) else {
            return Err(Fault::new(CapError::PeerGone, "this directory was removed"));
        };
        let mut all: Vec<(&str, Ino)> = vec![(".", self.ino), ("..", *parent)];
        all.extend(entries.iter().map(|(n, &i)| (n.as_str(), i)));
        let start = (params.get_start() as usize).min(all.len());
        let max = (params.get_max() as usize).max(1);
        // An entry costs its struct (3 words), its name pointer's target
        // (the name and its NUL, in words) and list framing.
        let mut budget = LIST_BUDGET;
        let mut end = start;
        while end < all.len() && end - start < max {
            let cost = 24 + (all[end].0.len() + 1).div_ceil(8) * 8;
            if end > start && cost > budget {
                break;
            }
            budget = budget.saturating_sub(cost);
            end += 1;
        }
        results.set_total(all.len() as u32);
        let mut list = results.init_entries((end - start) as u32);
        for (i, (name, ino)) in all[start..end].iter().enumerate() {
            let mut e = list.reborrow().get(i as u32);
            e.set_name(*name);
            e.set_ino(*ino);
            e.set_kind(fs_kind(tree.kind(*ino)));
        }
        Ok(Served::Done)
    }

    fn label(
        &self,
        _kernel: &mut Kernel<H>,
        _call: &CallContext,
        _params: directory::label_params::Reader<'_>,
        mut results: directory::label_results::Builder<'_>,
    ) -> Reply {
        results.set_label(&self.label);
        Ok(Served::Done)
    }

    fn sync(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext,
        _params: directory::sync_params::Reader<'_>,
        _results: directory::sync_results::Builder<'_>,
    ) -> Reply {
        self.vol.sync(kernel, call.caller, call.user_data, true);
        Ok(Served::Pending)
    }
}

serve!(File, file);

impl<H: Host> file_server::Server<Kernel<H>> for File {
    fn read(
        &self,
        kernel: &mut Kernel<H>,
        _call: &CallContext,
        params: file::read_params::Reader<'_>,
        mut results: file::read_results::Builder<'_>,
    ) -> Reply {
        let now = kernel.host_mut().realtime_ns();
        let mut tree = self.vol.tree.borrow_mut();
        match tree.node_mut(self.ino) {
            Some(node) => {
                if let Data::File(bytes) = &node.data {
                    let start = usize::try_from(params.get_offset())
                        .unwrap_or(usize::MAX)
                        .min(bytes.len());
                    let end = start
                        .saturating_add(params.get_len().min(READ_MAX) as usize)
                        .min(bytes.len());
                    results.set_data(&bytes[start..end]);
                }
                node.atime = now;
            }
            None => results.set_errno(ENOENT),
        }
        Ok(Served::Done)
    }

    fn write(
        &self,
        kernel: &mut Kernel<H>,
        _call: &CallContext,
        params: file::write_params::Reader<'_>,
        mut results: file::write_results::Builder<'_>,
    ) -> Reply {
        let now = kernel.host_mut().realtime_ns();
        let offset = (!params.get_append()).then(|| params.get_offset());
        let written = self
            .vol
            .tree
            .borrow_mut()
            .write(self.ino, offset, params.get_data()?, now);
        if written.is_ok() {
            self.wrote();
        }
        match written {
            Ok(end) => results.set_end(end),
            Err(e) => results.set_errno(e),
        }
        self.vol.changed(kernel);
        Ok(Served::Done)
    }

    fn stat(
        &self,
        _kernel: &mut Kernel<H>,
        _call: &CallContext,
        _params: file::stat_params::Reader<'_>,
        results: file::stat_results::Builder<'_>,
    ) -> Reply {
        set_stat(&self.vol.tree.borrow(), self.ino, results.init_stat());
        Ok(Served::Done)
    }

    fn truncate(
        &self,
        kernel: &mut Kernel<H>,
        _call: &CallContext,
        params: file::truncate_params::Reader<'_>,
        mut results: file::truncate_results::Builder<'_>,
    ) -> Reply {
        let now = kernel.host_mut().realtime_ns();
        let outcome = self
            .vol
            .tree
            .borrow_mut()
            .truncate(self.ino, params.get_size(), now);
        if outcome.is_ok() {
            self.wrote();
        }
        results.set_errno(errno(outcome));
        self.vol.changed(kernel);
        Ok(Served::Done)
    }

    fn set_times(
        &self,
        kernel: &mut Kernel<H>,
        _call: &CallContext,
        params: file::set_times_params::Reader<'_>,
        mut results: file::set_times_results::Builder<'_>,
    ) -> Reply {
        let now = kernel.host_mut().realtime_ns();
        let times = params.get_times()?;
        let outcome = apply_times(&mut self.vol.tree.borrow_mut(), self.ino, times, now);
        results.set_errno(errno(outcome));
        self.vol.changed(kernel);
        Ok(Served::Done)
    }

    fn sync(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext,
        _params: file::sync_params::Reader<'_>,
        _results: file::sync_results::Builder<'_>,
    ) -> Reply {
        // Synced: what it wrote is to be stored now, as if it were closed.
        if self.writing.replace(false) {
            self.vol.writer_closed(self.ino);
        }
        self.vol.sync(kernel, call.caller, call.user_data, false);
        Ok(Served::Pending)
    }
}
