//! The in-memory file system behind Directory and File capabilities.
//!
//! Inodes in a table; a directory maps names to inodes. Every path is
//! resolved from a base directory and may not leave it: an absolute path,
//! `..` above the base, or a symlink leading out is ENOTCAPABLE, as WASI
//! preview1 specifies for a preopen. Errors are WASI errno numbers.

use capos_config::manifest::{FsNode, FsNodeKind, is_valid_entry_name};
use std::collections::{BTreeMap, HashMap};

// The errno table is shared with the WASI shim; re-exported for the
// Directory and File capabilities (caps/fs.rs).
pub use capos_config::errno::{
    EBADF, EEXIST, EFBIG, EINVAL, EISDIR, ELOOP, ENAMETOOLONG, ENOENT, ENOTCAPABLE, ENOTDIR,
    ENOTEMPTY, EPERM, EXDEV, Errno,
};

pub type Ino = u64;

/// Symlinks followed while resolving one path, at most.
const MAX_SYMLINKS: usize = 32;
pub use capos_config::manifest::MAX_FILE_SIZE;

#[derive(Debug)]
pub enum Data {
    File(Vec<u8>),
    Dir {
        entries: BTreeMap<String, Ino>,
        parent: Ino,
    },
    Symlink(String),
}

#[derive(Debug)]
pub struct Node {
    pub data: Data,
    pub nlink: u64,
    pub atime: u64,
    pub mtime: u64,
    pub ctime: u64,
}

#[derive(Debug, Default)]
pub struct Tree {
    nodes: HashMap<Ino, Node>,
    next: Ino,
}

/// Where a path leads: the directory holding the last component, and that
/// component (with its inode if it exists). `name` is `None` when the path
/// names the directory itself (`.`, or the base).
#[derive(Debug)]
pub struct Resolved {
    pub parent: Ino,
    pub name: Option<String>,
    pub ino: Option<Ino>,
}

impl Tree {
    pub fn node(&self, ino: Ino) -> Option<&Node> {
        self.nodes.get(&ino)
    }

    pub fn node_mut(&mut self, ino: Ino) -> Option<&mut Node> {
        self.nodes.get_mut(&ino)
    }

    fn alloc(&mut self, data: Data, now: u64) -> Ino {
        self.next += 1;
        let nlink = if matches!(data, Data::Dir { .. }) {
            2
        } else {
            1
        };
        self.nodes.insert(
            self.next,
            Node {
                data,
                nlink,
                atime: now,
                mtime: now,
                ctime: now,
            },
        );
        self.next
    }

    /// Builds a mount's tree; returns its root.
    pub fn insert_tree(&mut self, node: &FsNode, parent: Option<Ino>, now: u64) -> Ino {
        match &node.kind {
            FsNodeKind::File(bytes) => self.alloc(Data::File(bytes.clone()), now),
            FsNodeKind::Symlink(target) => self.alloc(Data::Symlink(target.clone()), now),
            FsNodeKind::Directory(children) => {
                let ino = self.alloc(
                    Data::Dir {
                        entries: BTreeMap::new(),
                        parent: 0,
                    },
                    now,
                );
                let parent = parent.unwrap_or(ino);
                let mut entries = BTreeMap::new();
                for child in children {
                    let child_ino = self.insert_tree(child, Some(ino), now);
                    entries.insert(child.name.clone(), child_ino);
                }
                let subdirs = children
                    .iter()
                    .filter(|c| matches!(c.kind, FsNodeKind::Directory(_)))
                    .count() as u64;
                let n = self.nodes.get_mut(&ino).expect("just allocated");
                n.data = Data::Dir { entries, parent };
                n.nlink = 2 + subdirs;
                ino
            }
        }
    }

    /// The mount's tree as it is now (for writing back to the host).
    pub fn export(&self, ino: Ino, name: &str) -> FsNode {
        let kind = match self.nodes.get(&ino).map(|n| &n.data) {
            Some(Data::File(bytes)) => FsNodeKind::File(bytes.clone()),
            Some(Data::Symlink(target)) => FsNodeKind::Symlink(target.clone()),
            Some(Data::Dir { entries, .. }) => FsNodeKind::Directory(
                entries
                    .iter()
                    .map(|(n, &child)| self.export(child, n))
                    .collect(),
            ),
            None => FsNodeKind::Directory(Vec::new()),
        };
        FsNode {
            name: name.to_string(),
            kind,
        }
    }

    fn entries(&self, dir: Ino) -> Result<&BTreeMap<String, Ino>, Errno> {
        match self.nodes.get(&dir).map(|n| &n.data) {
            Some(Data::Dir { entries, .. }) => Ok(entries),
            Some(_) => Err(ENOTDIR),
            None => Err(ENOENT),
        }
    }

    pub fn parent_of(&self, dir: Ino) -> Ino {
        match self.nodes.get(&dir).map(|n| &n.data) {
            Some(Data::Dir { parent, .. }) => *parent,
            _ => dir,
        }
    }

    /// Resolves `path` from `base` without leaving it. `follow` says whether
    /// a symlink as the last component is followed.
    pub fn resolve(&self, base: Ino, path: &str, follow: bool) -> Result<Resolved, Errno> {
        if path.is_empty() {
            return Err(ENOENT);
        }
        if path.starts_with('/') {
            return Err(ENOTCAPABLE);
        }
        if path.contains('\0') {
            return Err(EINVAL);
        }
        // The directories walked so far, from the base (which must stay on it).
        let mut stack = vec![base];
        let mut pending: Vec<String> = path.split('/').rev().map(str::to_string).collect();
        let trailing_slash = path.ends_with('/');
        let mut links = 0;
        while let Some(component) = pending.pop() {
            let last = pending.is_empty();
            let here = *stack.last().expect("never empty");
            match component.as_str() {
                "" | "." => {
                    if last {
                        return Ok(Resolved {
                            parent: here,
                            name: None,
                            ino: Some(here),
                        });
                    }
                }
                ".." => {
                    if stack.len() == 1 {
                        return Err(ENOTCAPABLE);
                    }
                    stack.pop();
                    if last {
                        let dir = *stack.last().expect("never empty");
                        return Ok(Resolved {
                            parent: dir,
                            name: None,
                            ino: Some(dir),
                        });
                    }
                }
                name => {
                    if name.len() > 255 {
                        return Err(ENAMETOOLONG);
                    }
                    let entries = self.entries(here)?;
                    let child = entries.get(name).copied();
                    let Some(child) = child else {
                        if last {
                            return Ok(Resolved {
                                parent: here,
                                name: Some(name.to_string()),
                                ino: None,
                            });
                        }
                        return Err(ENOENT);
                    };
                    let node = self.nodes.get(&child).ok_or(ENOENT)?;
                    match &node.data {
                        Data::Symlink(target) if !last || follow || trailing_slash => {
                            links += 1;
                            if links > MAX_SYMLINKS {
                                return Err(ELOOP);
                            }
                            if target.starts_with('/') {
                                return Err(ENOTCAPABLE);
                            }
                            if last && trailing_slash {
                                pending.push(String::new());
                            }
                            pending.extend(target.split('/').rev().map(str::to_string));
                        }
                        Data::Dir { .. } => {
                            if last && !trailing_slash {
                                return Ok(Resolved {
                                    parent: here,
                                    name: Some(name.to_string()),
                                    ino: Some(child),
                                });
                            }
                            stack.push(child);
                            if last {
                                return Ok(Resolved {
                                    parent: here,
                                    name: Some(name.to_string()),
                                    ino: Some(child),
                                });
                            }
                        }
                        _ if last => {
                            if trailing_slash {
                                return Err(ENOTDIR);
                            }
                            return Ok(Resolved {
                                parent: here,
                                name: Some(name.to_string()),
                                ino: Some(child),
                            });
                        }
                        _ => return Err(ENOTDIR),
                    }
                }
            }
        }
        let here = *stack.last().expect("never empty");
        Ok(Resolved {
            parent: here,
            name: None,
            ino: Some(here),
        })
    }

    pub fn kind(&self, ino: Ino) -> Option<&Data> {
        self.nodes.get(&ino).map(|n| &n.data)
    }

    pub fn create_file(&mut self, parent: Ino, name: &str, now: u64) -> Result<Ino, Errno> {
        self.entries(parent)?;
        if !is_valid_entry_name(name) {
            return Err(EINVAL);
        }
        let ino = self.alloc(Data::File(Vec::new()), now);
        self.add_entry(parent, name, ino, now);
        Ok(ino)
    }

    fn add_entry(&mut self, parent: Ino, name: &str, ino: Ino, now: u64) {
        if let Some(Node {
            data: Data::Dir { entries, .. },
            mtime,
            ctime,
            ..
        }) = self.nodes.get_mut(&parent)
        {
            entries.insert(name.to_string(), ino);
            *mtime = now;
            *ctime = now;
        }
    }

    fn remove_entry(&mut self, parent: Ino, name: &str, now: u64) -> Option<Ino> {
        match self.nodes.get_mut(&parent) {
            Some(Node {
                data: Data::Dir { entries, .. },
                mtime,
                ctime,
                ..
            }) => {
                *mtime = now;
                *ctime = now;
                entries.remove(name)
            }
            _ => None,
        }
    }

    /// Drops one link to `ino`; frees it when none is left.
    fn unlink_node(&mut self, ino: Ino, now: u64) {
        if let Some(node) = self.nodes.get_mut(&ino) {
            node.nlink = node.nlink.saturating_sub(1);
            node.ctime = now;
            let dead = node.nlink == 0 || matches!(node.data, Data::Dir { .. });
            if dead {
                self.nodes.remove(&ino);
            }
        }
    }

    pub fn mkdir(&mut self, base: Ino, path: &str, now: u64) -> Result<(), Errno> {
        let r = self.resolve(base, path, false)?;
        let Some(name) = r.name else {
            return Err(EEXIST);
        };
        if r.ino.is_some() {
            return Err(EEXIST);
        }
        let ino = self.alloc(
            Data::Dir {
                entries: BTreeMap::new(),
                parent: r.parent,
            },
            now,
        );
        self.add_entry(r.parent, &name, ino, now);
        if let Some(p) = self.nodes.get_mut(&r.parent) {
            p.nlink += 1;
        }
        Ok(())
    }

    pub fn rmdir(&mut self, base: Ino, path: &str, now: u64) -> Result<(), Errno> {
        let r = self.resolve(base, path, false)?;
        let (Some(name), Some(ino)) = (r.name, r.ino) else {
            return Err(if r.ino == Some(base) { EPERM } else { ENOENT });
        };
        match self.kind(ino) {
            Some(Data::Dir { entries, .. }) if !entries.is_empty() => return Err(ENOTEMPTY),
            Some(Data::Dir { .. }) => {}
            Some(_) => return Err(ENOTDIR),
            None => return Err(ENOENT),
        }
        self.remove_entry(r.parent, &name, now);
        if let Some(p) = self.nodes.get_mut(&r.parent) {
            p.nlink = p.nlink.saturating_sub(1);
        }
        self.unlink_node(ino, now);
        Ok(())
    }

    pub fn unlink(&mut self, base: Ino, path: &str, now: u64) -> Result<(), Errno> {
        let r = self.resolve(base, path, false)?;
        let (Some(name), Some(ino)) = (r.name, r.ino) else {
            return Err(if r.ino.is_some() { EISDIR } else { ENOENT });
        };
        if matches!(self.kind(ino), Some(Data::Dir { .. })) {
            return Err(EISDIR);
        }
        self.remove_entry(r.parent, &name, now);
        self.unlink_node(ino, now);
        Ok(())
    }

    pub fn symlink(&mut self, base: Ino, target: &str, path: &str, now: u64) -> Result<(), Errno> {
        // An absolute target could only ever lead out of the tree.
        if target.starts_with('/') {
            return Err(EPERM);
        }
        let r = self.resolve(base, path, false)?;
        let Some(name) = r.name else {
            return Err(EEXIST);
        };
        if r.ino.is_some() {
            return Err(EEXIST);
        }
        let ino = self.alloc(Data::Symlink(target.to_string()), now);
        self.add_entry(r.parent, &name, ino, now);
        Ok(())
    }

    pub fn link(
        &mut self,
        base: Ino,
        path: &str,
        follow: bool,
        target_base: Ino,
        new_path: &str,
        now: u64,
    ) -> Result<(), Errno> {
        let from = self.resolve(base, path, follow)?;
        let ino = from.ino.ok_or(ENOENT)?;
        if matches!(self.kind(ino), Some(Data::Dir { .. })) {
            return Err(EPERM);
        }
        let to = self.resolve(target_base, new_path, false)?;
        let Some(name) = to.name else {
            return Err(EEXIST);
        };
        if to.ino.is_some() {
            return Err(EEXIST);
        }
        self.add_entry(to.parent, &name, ino, now);
        if let Some(n) = self.nodes.get_mut(&ino) {
            n.nlink += 1;
            n.ctime = now;
        }
        Ok(())
    }

    fn is_ancestor(&self, ancestor: Ino, mut dir: Ino) -> bool {
        loop {
            if dir == ancestor {
                return true;
            }
            let parent = self.parent_of(dir);
            if parent == dir {
                return false;
            }
            dir = parent;
        }
    }

    pub fn rename(
        &mut self,
        base: Ino,
        path: &str,
        target_base: Ino,
        new_path: &str,
        now: u64,
    ) -> Result<(), Errno> {
        let from = self.resolve(base, path, false)?;
        let (Some(old_name), Some(ino)) = (from.name, from.ino) else {
            return Err(if from.ino.is_some() { EINVAL } else { ENOENT });
        };
        let to = self.resolve(target_base, new_path, false)?;
        let Some(new_name) = to.name else {
            return Err(EINVAL);
        };
        let moving_dir = matches!(self.kind(ino), Some(Data::Dir { .. }));
        if moving_dir && self.is_ancestor(ino, to.parent) {
            return Err(EINVAL);
        }
        if let Some(existing) = to.ino {
            if existing == ino {
                return Ok(());
            }
            match (moving_dir, self.kind(existing)) {
                (true, Some(Data::Dir { entries, .. })) if !entries.is_empty() => {
                    return Err(ENOTEMPTY);
                }
                (true, Some(Data::Dir { .. })) => {
                    self.remove_entry(to.parent, &new_name, now);
                    if let Some(p) = self.nodes.get_mut(&to.parent) {
                        p.nlink = p.nlink.saturating_sub(1);
                    }
                    self.unlink_node(existing, now);
                }
                (true, Some(_)) => return Err(ENOTDIR),
                (false, Some(Data::Dir { .. })) => return Err(EISDIR),
                _ => {
                    self.remove_entry(to.parent, &new_name, now);
                    self.unlink_node(existing, now);
                }
            }
        }
        self.remove_entry(from.parent, &old_name, now);
        self.add_entry(to.parent, &new_name, ino, now);
        if moving_dir && from.parent != to.parent {
            if let Some(Node {
                data: Data::Dir { parent, .. },
                ..
            }) = self.nodes.get_mut(&ino)
            {
                *parent = to.parent;
            }
            if let Some(p) = self.nodes.get_mut(&from.parent) {
                p.nlink = p.nlink.saturating_sub(1);
            }
            if let Some(p) = self.nodes.get_mut(&to.parent) {
                p.nlink += 1;
            }
        }
        if let Some(n) = self.nodes.get_mut(&ino) {
            n.ctime = now;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// /: a.txt, sub/ (b.txt), up -> .., out -> ../.., abs -> /etc
    fn tree() -> (Tree, Ino) {
        let node = |name: &str, kind| FsNode {
            name: name.into(),
            kind,
        };
        let root = node(
            "",
            FsNodeKind::Directory(vec![
                node("a.txt", FsNodeKind::File(b"a".to_vec())),
                node(
                    "sub",
                    FsNodeKind::Directory(vec![node("b.txt", FsNodeKind::File(b"b".to_vec()))]),
                ),
                node("up", FsNodeKind::Symlink("sub/..".into())),
                node("out", FsNodeKind::Symlink("../..".into())),
                node("loop", FsNodeKind::Symlink("loop".into())),
            ]),
        );
        let mut t = Tree::default();
        let ino = t.insert_tree(&root, None, 1);
        (t, ino)
    }

    #[test]
    fn paths_resolve_inside_and_never_outside() {
        let (t, root) = tree();
        assert!(t.resolve(root, "sub/b.txt", true).unwrap().ino.is_some());
        assert!(t.resolve(root, "sub/../a.txt", true).unwrap().ino.is_some());
        assert!(t.resolve(root, "up/a.txt", true).unwrap().ino.is_some());
        assert_eq!(t.resolve(root, "..", true).unwrap_err(), ENOTCAPABLE);
        assert_eq!(
            t.resolve(root, "sub/../../x", true).unwrap_err(),
            ENOTCAPABLE
        );
        assert_eq!(t.resolve(root, "/a.txt", true).unwrap_err(), ENOTCAPABLE);
        assert_eq!(t.resolve(root, "out/x", true).unwrap_err(), ENOTCAPABLE);
        assert_eq!(t.resolve(root, "loop", true).unwrap_err(), ELOOP);
        assert_eq!(t.resolve(root, "a.txt/x", true).unwrap_err(), ENOTDIR);
        assert_eq!(t.resolve(root, "", true).unwrap_err(), ENOENT);
        let missing = t.resolve(root, "new.txt", true).unwrap();
        assert_eq!(
            (missing.name.as_deref(), missing.ino),
            (Some("new.txt"), None)
        );
    }

    #[test]
    fn directories_and_links_keep_their_counts() {
        let (mut t, root) = tree();
        t.mkdir(root, "d", 2).unwrap();
        assert_eq!(t.mkdir(root, "d", 2), Err(EEXIST));
        t.rename(root, "a.txt", root, "d/a.txt", 3).unwrap();
        assert_eq!(t.rmdir(root, "d", 4), Err(ENOTEMPTY));
        t.link(root, "d/a.txt", false, root, "hard", 5).unwrap();
        let ino = t.resolve(root, "hard", false).unwrap().ino.unwrap();
        assert_eq!(t.node(ino).unwrap().nlink, 2);
        t.unlink(root, "d/a.txt", 6).unwrap();
        assert_eq!(
            t.node(ino).unwrap().nlink,
            1,
            "still reachable through the other link"
        );
        t.rmdir(root, "d", 7).unwrap();
        assert_eq!(t.unlink(root, "sub", 8), Err(EISDIR));
        assert_eq!(
            t.rename(root, "sub", root, "sub/inside", 9),
            Err(EINVAL),
            "not into itself"
        );
        assert_eq!(t.symlink(root, "/etc/passwd", "abs", 10), Err(EPERM));
    }
}
