//! The page's file browser over the boot's trees (`PageFiles`): views of
//! every mount, and the edits a person makes there. Paths are relative to a
//! mount and resolved like a program's, so they cannot leave it either.

use super::fs::FileSystems;
use crate::fs_tree::{self, Data, Errno, Ino, Tree};
use crate::host::Host;
use crate::kernel::{FileCopy, FileEdit, Kernel, PageFiles};
use crate::view::{FileRow, FilesMount, MAX_FILE_ROWS, UiEvent};

/// What an errno means, for a person.
fn describe(errno: Errno, path: &str) -> String {
    let what = match errno {
        fs_tree::ENOENT => "no such file or directory",
        fs_tree::EEXIST => "already exists",
        fs_tree::ENOTDIR => "not a directory",
        fs_tree::EISDIR => "is a directory",
        fs_tree::ENOTEMPTY => "directory not empty",
        fs_tree::ENOSPC => "no space left: the directory's quota is full",
        fs_tree::EFBIG => "file too large (256 MiB at most)",
        fs_tree::EINVAL => "invalid name",
        fs_tree::ENOTCAPABLE => "outside the directory",
        fs_tree::ENAMETOOLONG => "name too long",
        fs_tree::ELOOP => "too many symbolic links",
        _ => "failed",
    };
    format!("{path}: {what} (errno {errno})")
}

fn kind_name(data: &Data) -> &'static str {
    match data {
        Data::File(_) => "file",
        Data::Dir { .. } => "dir",
        Data::Symlink(_) => "symlink",
    }
}

/// Makes every directory on the way to `path`'s parent.
fn make_parents(tree: &mut Tree, root: Ino, path: &str, now: u64) -> Result<(), Errno> {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    for i in 1..parts.len() {
        let dir = parts[..i].join("/");
        match tree.mkdir(root, &dir, now) {
            Ok(()) | Err(fs_tree::EEXIST) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

impl FileSystems {
    fn mount_at(&self, mount: u32) -> Result<super::fs::MountPoint, String> {
        self.mounts
            .borrow()
            .get(mount as usize)
            .cloned()
            .ok_or_else(|| format!("there is no mount {mount}"))
    }
}

impl<H: Host> PageFiles<H> for FileSystems {
    fn view(&self, always: bool) -> Option<UiEvent> {
        let generations: Vec<u64> = self
            .volumes()
            .iter()
            .map(|v| v.tree.borrow().generation())
            .collect();
        if !always && *self.shown.borrow() == generations {
            return None;
        }
        *self.shown.borrow_mut() = generations;
        let mounts = self
            .mounts
            .borrow()
            .iter()
            .enumerate()
            .map(|(index, m)| {
                let tree = m.volume.tree.borrow();
                let paths = tree.paths(m.root);
                let omitted = paths.len().saturating_sub(MAX_FILE_ROWS + 1) as u32;
                let entries = paths
                    .into_iter()
                    .skip(1) // the root itself
                    .take(MAX_FILE_ROWS)
                    .filter_map(|(path, ino)| {
                        let node = tree.node(ino)?;
                        let size = tree.file_size(ino);
                        Some(FileRow {
                            path,
                            kind: kind_name(&node.data),
                            size: size as f64,
                            mtime_ms: node.mtime as f64 / 1e6,
                        })
                    })
                    .collect();
                FilesMount {
                    index: index as u32,
                    guest: m.guest.clone(),
                    store: m.volume.store_name().unwrap_or_default().to_string(),
                    granted: m.granted,
                    // Every in-memory mount shares one tree: its usage is theirs together.
                    used_bytes: tree.file_bytes() as f64,
                    quota_bytes: tree.quota().map_or(0.0, |q| q as f64),
                    entries,
                    omitted,
                }
            })
            .collect();
        Some(UiEvent::Files { mounts })
    }

    fn edit(&self, kernel: &mut Kernel<H>, edit: FileEdit) -> Result<(), String> {
        let now = kernel.host_mut().realtime_ns();
        let (mount, path) = match &edit {
            FileEdit::Write { mount, path, .. }
            | FileEdit::MakeDirectory { mount, path }
            | FileEdit::Remove { mount, path }
            | FileEdit::Rename {
                mount, from: path, ..
            } => (*mount, path.clone()),
        };
        let m = self.mount_at(mount)?;
        let outcome = {
            let mut tree = m.volume.tree.borrow_mut();
            let tree = &mut *tree;
            match edit {
                FileEdit::Write { path, data, .. } => make_parents(tree, m.root, &path, now)
                    .and_then(|()| {
                        let r = tree.resolve(m.root, &path, false)?;
                        let ino = match r.ino {
                            Some(ino) => ino,
                            None => {
                                let name = r.name.ok_or(fs_tree::EEXIST)?;
                                tree.create_file(r.parent, &name, now)?
                            }
                        };
                        tree.replace(ino, data, now)
                    }),
                FileEdit::MakeDirectory { path, .. } => make_parents(tree, m.root, &path, now)
                    .and_then(|()| match tree.mkdir(m.root, &path, now) {
                        Err(fs_tree::EEXIST)
                            if matches!(
                                tree.resolve(m.root, &path, true)
                                    .map(|r| r.ino.and_then(|i| tree.kind(i).map(kind_name))),
                                Ok(Some("dir"))
                            ) =>
                        {
                            Ok(())
                        }
                        other => other,
                    }),
                FileEdit::Remove { path, .. } => remove_all(tree, m.root, &path, now),
                FileEdit::Rename { from, to, .. } => make_parents(tree, m.root, &to, now)
                    .and_then(|()| tree.rename(m.root, &from, m.root, &to, now)),
            }
        };
        m.volume.changed(kernel);
        outcome.map_err(|e| describe(e, &path))
    }

    fn attach(&self, kernel: &mut Kernel<H>, image: crate::host::StoreImage) -> Result<(), String> {
        let now = kernel.host_mut().realtime_ns();
        self.attach_store(image, now)
    }

    fn flush(&self, kernel: &mut Kernel<H>) {
        // After a halt no timer fires: every later commit must be immediate.
        let for_good = kernel.is_halted();
        for volume in self.volumes() {
            volume.flush(kernel, for_good);
        }
    }

    fn read(&self, mount: u32, path: &str) -> Result<Vec<FileCopy>, String> {
        let m = self.mount_at(mount)?;
        let tree = m.volume.tree.borrow();
        let ino = tree
            .resolve(m.root, path, false)
            .and_then(|r| r.ino.ok_or(fs_tree::ENOENT))
            .map_err(|e| describe(e, path))?;
        let mut copies = Vec::new();
        for (path, ino) in tree.paths(ino) {
            let Some(node) = tree.node(ino) else {
                continue;
            };
            // Its bytes are on the host still: a copy without them would
            // be an empty file passed off as this one.
            if tree.unloaded(ino).is_some() {
                return Err(format!(
                    "{path}: its bytes are still on the host (capos run --dir), not here"
                ));
            }
            let data = match &node.data {
                Data::File(bytes) => bytes.clone(),
                Data::Symlink(target) => target.as_bytes().to_vec(),
                Data::Dir { .. } => Vec::new(),
            };
            copies.push(FileCopy {
                path,
                kind: kind_name(&node.data),
                data,
                mtime_ns: node.mtime,
            });
        }
        Ok(copies)
    }
}

/// Removes what `path` names, and everything under it if a directory.
fn remove_all(tree: &mut Tree, root: Ino, path: &str, now: u64) -> Result<(), Errno> {
    let r = tree.resolve_entry(root, path)?;
    let ino = r.ino.ok_or(fs_tree::ENOENT)?;
    if r.name.is_none() {
        return Err(fs_tree::EPERM); // the mount itself
    }
    // Children come after their parents: remove from the end.
    let mut under = tree.paths(ino);
    under.reverse();
    for (rel, child) in under {
        let full = if rel.is_empty() {
            path.to_string()
        } else {
            format!("{}/{rel}", path.trim_end_matches('/'))
        };
        match tree.kind(child) {
            Some(Data::Dir { .. }) => tree.rmdir(root, &full, now)?,
            Some(_) => tree.unlink(root, &full, now)?,
            None => {}
        }
    }
    Ok(())
}
