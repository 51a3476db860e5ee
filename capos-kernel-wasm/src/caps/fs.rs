//! Directory and File: the file-system capabilities (schema/fs.capnp),
//! over the kernel's in-memory tree (fs_tree.rs). A Directory reaches its
//! own subtree only; a File only its own bytes.

use super::{
    bad_params, encode, fail, outcome, read_params, results_builder, set_cap_ref, text,
    unknown_method,
};
use crate::fs_tree::{
    self, Data, EBADF, EFBIG, EINVAL, EISDIR, ENOENT, ENOTDIR, EXDEV, Errno, Ino, Tree,
};
use crate::host::Host;
use crate::kernel::{CapEntry, Kernel};
use capos_lib::{CallContext, CapError, CapId, CapObject, Completion};
use capos_schema::fs_capnp::{self, directory, file};
use capos_schema::interfaces::{directory as dir_iface, file as file_iface};
use std::cell::RefCell;
use std::rc::Rc;

pub type SharedTree = Rc<RefCell<Tree>>;

/// Most entries one `list` returns (they must fit a ring slot).
const LIST_MAX: u32 = 24;
/// Most bytes one `read` returns.
const READ_MAX: u32 = capos_config::ring::SLOT_DATA_SIZE - 128;

pub struct Directory {
    pub tree: SharedTree,
    pub ino: Ino,
    pub label: String,
}

pub struct File {
    tree: SharedTree,
    ino: Ino,
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
        stat.set_size(match &node.data {
            Data::File(bytes) => bytes.len() as u64,
            Data::Symlink(target) => target.len() as u64,
            Data::Dir { .. } => 0,
        });
        stat.set_atime_ns(node.atime);
        stat.set_mtime_ns(node.mtime);
        stat.set_ctime_ns(node.ctime);
    }
}

/// Results with just an errno, for the many methods that return only that.
macro_rules! errno_results {
    ($results:ty, $outcome:expr) => {{
        let outcome: Result<(), Errno> = $outcome;
        let mut message = results_builder();
        message
            .init_root::<$results>()
            .set_errno(outcome.err().unwrap_or(0));
        encode(&message)
    }};
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
    let node = tree.node_mut(ino).ok_or(ENOENT)?;
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
    /// The destination of a rename or link: this directory, or another
    /// Directory of the caller's on the same tree.
    fn target<H: Host>(&self, kernel: &Kernel<H>, caller: u32, id: u32) -> Result<Ino, Errno> {
        if id == 0 {
            return Ok(self.ino);
        }
        let entry = kernel
            .process(caller)
            .and_then(|p| p.caps.get(CapId::from_raw(id)).ok())
            .ok_or(EBADF)?;
        let other = entry
            .object
            .as_any()
            .and_then(|a| a.downcast_ref::<Directory>())
            .ok_or(EBADF)?;
        if !Rc::ptr_eq(&other.tree, &self.tree) {
            return Err(EXDEV);
        }
        Ok(other.ino)
    }

    fn serve<H: Host>(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext<'_>,
    ) -> Result<Completion, Completion> {
        let now = kernel.host_mut().realtime_ns();
        let message = if call.params.is_empty() {
            None
        } else {
            Some(read_params(call.params)?)
        };
        let params = || message.as_ref().ok_or_else(|| bad_params("missing params"));
        Ok(match call.method {
            dir_iface::method::OPEN => {
                let p = params()?
                    .get_root::<directory::open_params::Reader>()
                    .map_err(bad_params)?;
                let path = text(p.get_path())?;
                let flags = p.get_flags().map_err(bad_params)?;
                let opened = self.open(&path, flags, now);
                let mut results = results_builder();
                let mut root = results.init_root::<directory::open_results::Builder>();
                match opened {
                    Err(errno) => root.set_errno(errno),
                    Ok((ino, is_dir)) => {
                        let object: Rc<dyn CapObject<Kernel<H>>> = if is_dir {
                            Rc::new(Directory {
                                tree: self.tree.clone(),
                                ino,
                                label: String::new(),
                            })
                        } else {
                            Rc::new(File {
                                tree: self.tree.clone(),
                                ino,
                            })
                        };
                        let granted =
                            kernel.insert_cap(call.caller, CapEntry { object, badge: 0 })?;
                        set_cap_ref(root.reborrow().init_cap(), granted);
                        root.set_kind(if is_dir {
                            fs_capnp::FileKind::Directory
                        } else {
                            fs_capnp::FileKind::RegularFile
                        });
                    }
                }
                encode(&results)
            }
            dir_iface::method::CREATE_DIRECTORY => {
                let p = params()?
                    .get_root::<directory::create_directory_params::Reader>()
                    .map_err(bad_params)?;
                let r = self
                    .tree
                    .borrow_mut()
                    .mkdir(self.ino, &text(p.get_path())?, now);
                errno_results!(directory::create_directory_results::Builder, r)
            }
            dir_iface::method::REMOVE_DIRECTORY => {
                let p = params()?
                    .get_root::<directory::remove_directory_params::Reader>()
                    .map_err(bad_params)?;
                let r = self
                    .tree
                    .borrow_mut()
                    .rmdir(self.ino, &text(p.get_path())?, now);
                errno_results!(directory::remove_directory_results::Builder, r)
            }
            dir_iface::method::UNLINK_FILE => {
                let p = params()?
                    .get_root::<directory::unlink_file_params::Reader>()
                    .map_err(bad_params)?;
                let r = self
                    .tree
                    .borrow_mut()
                    .unlink(self.ino, &text(p.get_path())?, now);
                errno_results!(directory::unlink_file_results::Builder, r)
            }
            dir_iface::method::RENAME => {
                let p = params()?
                    .get_root::<directory::rename_params::Reader>()
                    .map_err(bad_params)?;
                let (from, to) = (text(p.get_path())?, text(p.get_new_path())?);
                let r = self
                    .target(kernel, call.caller, p.get_target())
                    .and_then(|t| self.tree.borrow_mut().rename(self.ino, &from, t, &to, now));
                errno_results!(directory::rename_results::Builder, r)
            }
            dir_iface::method::LINK => {
                let p = params()?
                    .get_root::<directory::link_params::Reader>()
                    .map_err(bad_params)?;
                let (from, to) = (text(p.get_path())?, text(p.get_new_path())?);
                let follow = p.get_follow_symlinks();
                let r = self
                    .target(kernel, call.caller, p.get_target())
                    .and_then(|t| {
                        self.tree
                            .borrow_mut()
                            .link(self.ino, &from, follow, t, &to, now)
                    });
                errno_results!(directory::link_results::Builder, r)
            }
            dir_iface::method::SYMLINK => {
                let p = params()?
                    .get_root::<directory::symlink_params::Reader>()
                    .map_err(bad_params)?;
                let r = self.tree.borrow_mut().symlink(
                    self.ino,
                    &text(p.get_target())?,
                    &text(p.get_path())?,
                    now,
                );
                errno_results!(directory::symlink_results::Builder, r)
            }
            dir_iface::method::READLINK => {
                let p = params()?
                    .get_root::<directory::readlink_params::Reader>()
                    .map_err(bad_params)?;
                let tree = self.tree.borrow();
                let found = tree
                    .resolve(self.ino, &text(p.get_path())?, false)
                    .and_then(|r| match r.ino.and_then(|ino| tree.kind(ino)) {
                        Some(Data::Symlink(target)) => Ok(target.clone()),
                        Some(_) => Err(EINVAL),
                        None => Err(ENOENT),
                    });
                let mut results = results_builder();
                let mut root = results.init_root::<directory::readlink_results::Builder>();
                match found {
                    Ok(target) => root.set_target(&target),
                    Err(e) => root.set_errno(e),
                }
                encode(&results)
            }
            dir_iface::method::STAT => {
                let p = params()?
                    .get_root::<directory::stat_params::Reader>()
                    .map_err(bad_params)?;
                let tree = self.tree.borrow();
                let found = tree
                    .resolve(self.ino, &text(p.get_path())?, p.get_follow_symlinks())
                    .and_then(|r| r.ino.ok_or(ENOENT));
                let mut results = results_builder();
                let mut root = results.init_root::<directory::stat_results::Builder>();
                match found {
                    Ok(ino) => set_stat(&tree, ino, root.init_stat()),
                    Err(e) => root.set_errno(e),
                }
                encode(&results)
            }
            dir_iface::method::SET_TIMES => {
                let p = params()?
                    .get_root::<directory::set_times_params::Reader>()
                    .map_err(bad_params)?;
                let mut tree = self.tree.borrow_mut();
                let r = tree
                    .resolve(self.ino, &text(p.get_path())?, p.get_follow_symlinks())
                    .and_then(|r| r.ino.ok_or(ENOENT))
                    .and_then(|ino| {
                        apply_times(&mut tree, ino, p.get_times().map_err(|_| EINVAL)?, now)
                    });
                errno_results!(directory::set_times_results::Builder, r)
            }
            dir_iface::method::LIST => {
                let p = params()?
                    .get_root::<directory::list_params::Reader>()
                    .map_err(bad_params)?;
                let tree = self.tree.borrow();
                let Some(Data::Dir { entries, parent }) = tree.kind(self.ino) else {
                    return Err(fail(CapError::PeerGone, "this directory was removed"));
                };
                let mut all: Vec<(&str, Ino)> = vec![(".", self.ino), ("..", *parent)];
                all.extend(entries.iter().map(|(n, &i)| (n.as_str(), i)));
                let start = (p.get_start() as usize).min(all.len());
                let end = (start + p.get_max().min(LIST_MAX) as usize).min(all.len());
                let mut results = results_builder();
                let mut root = results.init_root::<directory::list_results::Builder>();
                root.set_total(all.len() as u32);
                let mut list = root.init_entries((end - start) as u32);
                for (i, (name, ino)) in all[start..end].iter().enumerate() {
                    let mut e = list.reborrow().get(i as u32);
                    e.set_name(*name);
                    e.set_ino(*ino);
                    e.set_kind(fs_kind(tree.kind(*ino)));
                }
                encode(&results)
            }
            dir_iface::method::LABEL => {
                let mut results = results_builder();
                results
                    .init_root::<directory::label_results::Builder>()
                    .set_label(&self.label);
                encode(&results)
            }
            m => return Err(unknown_method(dir_iface::NAME, m)),
        })
    }

    fn open(
        &self,
        path: &str,
        flags: fs_capnp::open_flags::Reader<'_>,
        now: u64,
    ) -> Result<(Ino, bool), Errno> {
        let mut tree = self.tree.borrow_mut();
        let r = tree.resolve(self.ino, path, flags.get_follow_symlinks())?;
        let ino = match r.ino {
            Some(_) if flags.get_create() && flags.get_exclusive() => return Err(fs_tree::EEXIST),
            Some(ino) => ino,
            None if flags.get_create() && !flags.get_directory() => {
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
            if let Some(node) = tree.node_mut(ino)
                && let Data::File(bytes) = &mut node.data
            {
                bytes.clear();
                node.mtime = now;
                node.ctime = now;
            }
        }
        Ok((ino, is_dir))
    }
}

impl File {
    fn serve<H: Host>(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext<'_>,
    ) -> Result<Completion, Completion> {
        let now = kernel.host_mut().realtime_ns();
        let message = if call.params.is_empty() {
            None
        } else {
            Some(read_params(call.params)?)
        };
        let params = || message.as_ref().ok_or_else(|| bad_params("missing params"));
        let mut tree = self.tree.borrow_mut();
        Ok(match call.method {
            file_iface::method::READ => {
                let p = params()?
                    .get_root::<file::read_params::Reader>()
                    .map_err(bad_params)?;
                let mut results = results_builder();
                let mut root = results.init_root::<file::read_results::Builder>();
                match tree.node_mut(self.ino) {
                    Some(node) => {
                        if let Data::File(bytes) = &node.data {
                            let start = usize::try_from(p.get_offset())
                                .unwrap_or(usize::MAX)
                                .min(bytes.len());
                            let end = start
                                .saturating_add(p.get_len().min(READ_MAX) as usize)
                                .min(bytes.len());
                            root.set_data(&bytes[start..end]);
                        }
                        node.atime = now;
                    }
                    None => root.set_errno(ENOENT),
                }
                encode(&results)
            }
            file_iface::method::WRITE => {
                let p = params()?
                    .get_root::<file::write_params::Reader>()
                    .map_err(bad_params)?;
                let data = p.get_data().map_err(bad_params)?;
                let mut results = results_builder();
                let mut root = results.init_root::<file::write_results::Builder>();
                match tree.node_mut(self.ino) {
                    Some(node) => {
                        if let Data::File(bytes) = &mut node.data {
                            let start = if p.get_append() {
                                bytes.len() as u64
                            } else {
                                p.get_offset()
                            };
                            let end = start.saturating_add(data.len() as u64);
                            if end > fs_tree::MAX_FILE_SIZE {
                                root.set_errno(EFBIG);
                            } else {
                                let (start, end) = (start as usize, end as usize);
                                if bytes.len() < end {
                                    bytes.resize(end, 0);
                                }
                                bytes[start..end].copy_from_slice(data);
                                node.mtime = now;
                                node.ctime = now;
                                root.set_end(end as u64);
                            }
                        }
                    }
                    None => root.set_errno(ENOENT),
                }
                encode(&results)
            }
            file_iface::method::STAT => {
                let mut results = results_builder();
                let root = results.init_root::<file::stat_results::Builder>();
                set_stat(&tree, self.ino, root.init_stat());
                encode(&results)
            }
            file_iface::method::TRUNCATE => {
                let p = params()?
                    .get_root::<file::truncate_params::Reader>()
                    .map_err(bad_params)?;
                let size = p.get_size();
                let r = if size > fs_tree::MAX_FILE_SIZE {
                    Err(EFBIG)
                } else {
                    match tree.node_mut(self.ino) {
                        Some(node) => {
                            if let Data::File(bytes) = &mut node.data {
                                bytes.resize(size as usize, 0);
                            }
                            node.mtime = now;
                            node.ctime = now;
                            Ok(())
                        }
                        None => Err(ENOENT),
                    }
                };
                errno_results!(file::truncate_results::Builder, r)
            }
            file_iface::method::SET_TIMES => {
                let p = params()?
                    .get_root::<file::set_times_params::Reader>()
                    .map_err(bad_params)?;
                let r = apply_times(&mut tree, self.ino, p.get_times().map_err(bad_params)?, now);
                errno_results!(file::set_times_results::Builder, r)
            }
            m => return Err(unknown_method(file_iface::NAME, m)),
        })
    }
}

impl<H: Host> CapObject<Kernel<H>> for Directory {
    fn interface_id(&self) -> u64 {
        dir_iface::INTERFACE_ID
    }
    fn interface_name(&self) -> &'static str {
        dir_iface::NAME
    }
    fn call(&self, kernel: &mut Kernel<H>, call: &CallContext<'_>) -> Completion {
        outcome(self.serve(kernel, call))
    }
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

impl<H: Host> CapObject<Kernel<H>> for File {
    fn interface_id(&self) -> u64 {
        file_iface::INTERFACE_ID
    }
    fn interface_name(&self) -> &'static str {
        file_iface::NAME
    }
    fn call(&self, kernel: &mut Kernel<H>, call: &CallContext<'_>) -> Completion {
        outcome(self.serve(kernel, call))
    }
}
