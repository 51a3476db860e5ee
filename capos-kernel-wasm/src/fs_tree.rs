//! The in-memory file system behind Directory and File capabilities.
//!
//! Inodes in a table; a directory maps names to inodes. Every path is
//! resolved from a base directory and may not leave it: an absolute path,
//! `..` above the base, or a symlink leading out is ENOTCAPABLE, as WASI
//! preview1 specifies for a preopen. A trailing slash asks for a directory
//! (POSIX pathname resolution). Errors are WASI errno numbers.

use capos_config::manifest::{FsNode, FsNodeKind, is_valid_entry_name};
use std::collections::{BTreeMap, BTreeSet, HashMap};

// The errno table is shared with the WASI shim; re-exported for the
// Directory and File capabilities (caps/fs.rs).
pub use capos_config::errno::{
    EBADF, EEXIST, EFBIG, EINVAL, EIO, EISDIR, ELOOP, ENAMETOOLONG, ENOENT, ENOSPC, ENOTCAPABLE,
    ENOTDIR, ENOTEMPTY, EPERM, EXDEV, Errno,
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

/// A file whose bytes are the host's (`capos run --dir` leaves files on
/// the host until a program opens one): `loaded` once they were read in.
/// It stays a host file, written back by reference rather than by its
/// bytes, until its bytes change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostFile {
    pub id: u64,
    pub size: u64,
    pub loaded: bool,
}

#[derive(Debug)]
pub struct Tree {
    nodes: HashMap<Ino, Node>,
    next: Ino,
    /// Bytes the regular files hold, and the most they may (ENOSPC past it).
    file_bytes: u64,
    quota: u64,
    /// Bumped by every change (the file browser and a persistent store
    /// compare it with what they last saw).
    generation: u64,
    /// Bumped by every change but to a file's bytes: entries, times, links.
    structure: u64,
    /// Files whose bytes changed since a persistent store last took them.
    changed_files: BTreeSet<Ino>,
    /// Files whose bytes are still the host's. An unloaded one's node holds
    /// no bytes (and counts none in `file_bytes`) until [`Tree::load`].
    host_files: HashMap<Ino, HostFile>,
}

impl Default for Tree {
    fn default() -> Self {
        Self {
            nodes: HashMap::new(),
            next: 0,
            file_bytes: 0,
            quota: u64::MAX,
            generation: 0,
            structure: 0,
            changed_files: BTreeSet::new(),
            host_files: HashMap::new(),
        }
    }
}

/// Where a path leads: the directory holding the last component, and that
/// component (with its inode if it exists). `name` is `None` when the path
/// names the directory itself (`.`, or the base). `dir_only`: the path ended
/// in a slash, so what it names must be a directory (POSIX pathname
/// resolution); for a name that does not exist yet, only a directory may be
/// made there.
#[derive(Debug)]
pub struct Resolved {
    pub parent: Ino,
    pub name: Option<String>,
    pub ino: Option<Ino>,
    pub dir_only: bool,
}

/// One entry of a stored tree (what a persistent store's index says).
#[derive(Debug)]
pub struct StoredNode {
    pub path: String,
    pub atime: u64,
    pub mtime: u64,
    pub kind: StoredKind,
}

#[derive(Debug)]
pub enum StoredKind {
    Dir,
    File { blob: u64 },
    Symlink(String),
}

/// What resolution does with a symlink as the last component.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LastLink {
    /// Follow it (`SYMLINK_FOLLOW`).
    Follow,
    /// Keep it, unless the path ends in a slash, which follows it (POSIX).
    Keep,
    /// Keep it even with a trailing slash, which is then ENOTDIR: the entry
    /// itself is what is removed or moved (rmdir(2), rename(2) on Linux).
    Entry,
}

/// A path's components, the first one last (to be popped); empty ones
/// (`a//b`, a trailing slash) name nothing and are left out.
fn components(path: &str) -> Vec<String> {
    path.split('/')
        .rev()
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

impl Tree {
    pub fn node(&self, ino: Ino) -> Option<&Node> {
        self.nodes.get(&ino)
    }

    /// A node to read or to update its access time: a change that counts
    /// goes through [`Tree::node_changing`].
    pub fn node_mut(&mut self, ino: Ino) -> Option<&mut Node> {
        self.nodes.get_mut(&ino)
    }

    /// A node whose metadata (times) is about to change.
    pub fn node_changing(&mut self, ino: Ino) -> Option<&mut Node> {
        self.structure_changed();
        self.nodes.get_mut(&ino)
    }

    /// File `ino`'s size: what the host said, for one not read in yet.
    pub fn file_size(&self, ino: Ino) -> u64 {
        if let Some(host) = self.unloaded(ino) {
            return host.size;
        }
        match self.nodes.get(&ino).map(|n| &n.data) {
            Some(Data::File(bytes)) => bytes.len() as u64,
            Some(Data::Symlink(target)) => target.len() as u64,
            _ => 0,
        }
    }

    /// A file whose bytes are still the host's (read in or not).
    pub fn host_file(&self, ino: Ino) -> Option<HostFile> {
        self.host_files.get(&ino).copied()
    }

    /// A host file whose bytes have not been read in yet.
    pub fn unloaded(&self, ino: Ino) -> Option<HostFile> {
        self.host_files.get(&ino).copied().filter(|h| !h.loaded)
    }

    /// Gives unloaded host file `ino` its bytes, as read from the host now
    /// (they may differ from the size it was announced with). Does nothing
    /// if it was loaded meanwhile: its bytes may have changed since. EFBIG
    /// past `MAX_FILE_SIZE`, ENOSPC past the quota, ENOENT if it is gone.
    pub fn load(&mut self, ino: Ino, bytes: Vec<u8>) -> Result<(), Errno> {
        if !self.nodes.contains_key(&ino) {
            return Err(ENOENT);
        }
        let Some(host) = self.host_files.get_mut(&ino) else {
            return Ok(());
        };
        if host.loaded {
            return Ok(());
        }
        if bytes.len() as u64 > MAX_FILE_SIZE {
            return Err(EFBIG);
        }
        let size = bytes.len() as u64;
        let total = self.file_bytes.saturating_add(size);
        if total > self.quota {
            return Err(ENOSPC);
        }
        self.file_bytes = total;
        host.size = size;
        host.loaded = true;
        if let Some(node) = self.nodes.get_mut(&ino) {
            node.data = Data::File(bytes);
        }
        Ok(())
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The count of changes other than to a file's bytes.
    pub fn structure(&self) -> u64 {
        self.structure
    }

    fn structure_changed(&mut self) {
        self.generation += 1;
        self.structure += 1;
    }

    /// Counts as a change (what a persistent store holds must catch up).
    pub fn touch(&mut self) {
        self.generation += 1;
    }

    pub fn file_bytes(&self) -> u64 {
        self.file_bytes
    }

    /// The limit on what the regular files hold, if there is one.
    pub fn quota(&self) -> Option<u64> {
        (self.quota != u64::MAX).then_some(self.quota)
    }

    /// Limits what the regular files may hold in all.
    pub fn set_quota(&mut self, quota: u64) {
        self.quota = quota;
    }

    /// The files whose bytes changed since the last call.
    pub fn take_changed_files(&mut self) -> BTreeSet<Ino> {
        std::mem::take(&mut self.changed_files)
    }

    /// Gives back what [`Tree::take_changed_files`] took (a commit failed).
    pub fn restore_changed_files(&mut self, files: BTreeSet<Ino>) {
        self.changed_files.extend(files);
    }

    /// Writes `data` into file `ino` at `offset` (`None`: at its end);
    /// returns the offset after it. Growing past `MAX_FILE_SIZE` is EFBIG,
    /// past the tree's quota ENOSPC; either way nothing is written.
    pub fn write(
        &mut self,
        ino: Ino,
        offset: Option<u64>,
        data: &[u8],
        now: u64,
    ) -> Result<u64, Errno> {
        let Some(Node {
            data: Data::File(bytes),
            ..
        }) = self.nodes.get(&ino)
        else {
            return Err(if self.nodes.contains_key(&ino) {
                EISDIR
            } else {
                ENOENT
            });
        };
        if self.unloaded(ino).is_some() {
            return Err(EIO);
        }
        let start = offset.unwrap_or(bytes.len() as u64);
        let end = start.saturating_add(data.len() as u64);
        if end > MAX_FILE_SIZE {
            return Err(EFBIG);
        }
        self.reserve(bytes.len() as u64, end)?;
        let node = self.nodes.get_mut(&ino).expect("looked up above");
        let Data::File(bytes) = &mut node.data else {
            unreachable!("looked up above")
        };
        let (start, end) = (start as usize, end as usize);
        if bytes.len() < end {
            bytes.resize(end, 0);
        }
        bytes[start..end].copy_from_slice(data);
        node.mtime = now;
        node.ctime = now;
        self.file_changed(ino);
        Ok(end as u64)
    }

    /// Replaces file `ino`'s bytes with `data` (ENOSPC, and the old bytes
    /// kept, if they would not fit).
    pub fn replace(&mut self, ino: Ino, data: Vec<u8>, now: u64) -> Result<(), Errno> {
        if data.len() as u64 > MAX_FILE_SIZE {
            return Err(EFBIG);
        }
        let old = match self.nodes.get(&ino).map(|n| &n.data) {
            Some(Data::File(bytes)) => bytes.len() as u64,
            Some(_) => return Err(EISDIR),
            None => return Err(ENOENT),
        };
        self.reserve(old, data.len() as u64)?;
        let node = self.nodes.get_mut(&ino).expect("looked up above");
        node.data = Data::File(data);
        node.mtime = now;
        node.ctime = now;
        self.file_changed(ino);
        Ok(())
    }

    /// Sets file `ino`'s size, cutting or zero-filling.
    pub fn truncate(&mut self, ino: Ino, size: u64, now: u64) -> Result<(), Errno> {
        if size > MAX_FILE_SIZE {
            return Err(EFBIG);
        }
        let old = match self.nodes.get(&ino).map(|n| &n.data) {
            Some(Data::File(bytes)) => bytes.len() as u64,
            Some(_) => return Err(EISDIR),
            None => return Err(ENOENT),
        };
        // Emptying a file not read in needs none of its bytes (O_TRUNC);
        // anything else would act on bytes that are not here.
        if self.unloaded(ino).is_some() && size != 0 {
            return Err(EIO);
        }
        self.reserve(old, size)?;
        let node = self.nodes.get_mut(&ino).expect("looked up above");
        if let Data::File(bytes) = &mut node.data {
            bytes.resize(size as usize, 0);
        }
        node.mtime = now;
        node.ctime = now;
        self.file_changed(ino);
        Ok(())
    }

    /// Accounts for a file going from `old` bytes to `new`: ENOSPC (and
    /// nothing accounted) if that would pass the quota.
    fn reserve(&mut self, old: u64, new: u64) -> Result<(), Errno> {
        let total = (self.file_bytes - old).saturating_add(new);
        if new > old && total > self.quota {
            return Err(ENOSPC);
        }
        self.file_bytes = total;
        Ok(())
    }

    fn file_changed(&mut self, ino: Ino) {
        self.generation += 1;
        self.changed_files.insert(ino);
        // Its bytes are its own now, no longer the host's.
        self.host_files.remove(&ino);
    }

    fn alloc(&mut self, data: Data, now: u64) -> Ino {
        self.structure_changed();
        if let Data::File(bytes) = &data {
            self.file_bytes += bytes.len() as u64;
        }
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
            &FsNodeKind::HostFile { id, size } => {
                let ino = self.alloc(Data::File(Vec::new()), now);
                let host = HostFile {
                    id,
                    size,
                    loaded: false,
                };
                self.host_files.insert(ino, host);
                ino
            }
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
        let host = self.host_files.get(&ino);
        let kind = match self.nodes.get(&ino).map(|n| &n.data) {
            Some(Data::File(bytes)) => match host {
                Some(host) => FsNodeKind::HostFile {
                    id: host.id,
                    size: host.size,
                },
                None => FsNodeKind::File(bytes.clone()),
            },
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

    /// Rebuilds a stored tree (a persistent store's index: the root first,
    /// parents before children), taking each file's bytes out of `blobs`;
    /// entries naming one blob are hard links to one file. Returns the root
    /// and each file's blob. A malformed index is an error, never a guess.
    pub fn insert_stored(
        &mut self,
        nodes: Vec<StoredNode>,
        blobs: &mut HashMap<u64, Vec<u8>>,
    ) -> Result<(Ino, HashMap<Ino, u64>), String> {
        let mut nodes = nodes.into_iter();
        let root = match nodes.next() {
            Some(StoredNode {
                path,
                kind: StoredKind::Dir,
                atime,
                mtime,
            }) if path.is_empty() => {
                let ino = self.alloc(
                    Data::Dir {
                        entries: BTreeMap::new(),
                        parent: 0,
                    },
                    mtime,
                );
                let node = self.nodes.get_mut(&ino).expect("just allocated");
                node.data = Data::Dir {
                    entries: BTreeMap::new(),
                    parent: ino,
                };
                node.atime = atime;
                ino
            }
            _ => return Err("the index does not start with its root directory".into()),
        };
        let mut dirs: HashMap<String, Ino> = HashMap::from([(String::new(), root)]);
        let mut files: HashMap<u64, Ino> = HashMap::new();
        let mut blob_of = HashMap::new();
        for node in nodes {
            let (parent_path, name) = match node.path.rsplit_once('/') {
                Some((parent, name)) => (parent, name),
                None => ("", node.path.as_str()),
            };
            let parent = *dirs
                .get(parent_path)
                .ok_or_else(|| format!("{:?} comes before its directory", node.path))?;
            if !is_valid_entry_name(name)
                || self.entries(parent).is_ok_and(|e| e.contains_key(name))
            {
                return Err(format!("{:?} is not a valid new entry", node.path));
            }
            let ino = match node.kind {
                StoredKind::File { blob } => match files.get(&blob) {
                    Some(&linked) => {
                        if let Some(n) = self.nodes.get_mut(&linked) {
                            n.nlink += 1;
                        }
                        linked
                    }
                    None => {
                        let bytes = blobs
                            .remove(&blob)
                            .ok_or_else(|| format!("{:?}: blob {blob} is missing", node.path))?;
                        let ino = self.alloc(Data::File(bytes), node.mtime);
                        files.insert(blob, ino);
                        blob_of.insert(ino, blob);
                        ino
                    }
                },
                StoredKind::Symlink(target) => self.alloc(Data::Symlink(target), node.mtime),
                StoredKind::Dir => {
                    let ino = self.alloc(
                        Data::Dir {
                            entries: BTreeMap::new(),
                            parent,
                        },
                        node.mtime,
                    );
                    if let Some(p) = self.nodes.get_mut(&parent) {
                        p.nlink += 1;
                    }
                    dirs.insert(node.path.clone(), ino);
                    ino
                }
            };
            if let Some(Data::Dir { entries, .. }) =
                self.nodes.get_mut(&parent).map(|n| &mut n.data)
            {
                entries.insert(name.to_string(), ino);
            }
            if let Some(n) = self.nodes.get_mut(&ino) {
                n.atime = node.atime;
                n.mtime = node.mtime;
            }
        }
        Ok((root, blob_of))
    }

    /// Every entry under `root` as a path relative to it, the root first
    /// (""), parents before children, in name order.
    pub fn paths(&self, root: Ino) -> Vec<(String, Ino)> {
        let mut out = vec![(String::new(), root)];
        let mut i = 0;
        while i < out.len() {
            let (prefix, ino) = out[i].clone();
            if let Some(Data::Dir { entries, .. }) = self.kind(ino) {
                for (name, &child) in entries {
                    let path = if prefix.is_empty() {
                        name.clone()
                    } else {
                        format!("{prefix}/{name}")
                    };
                    out.push((path, child));
                }
            }
            i += 1;
        }
        out
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
    /// a symlink as the last component is followed (a trailing slash
    /// follows it too).
    pub fn resolve(&self, base: Ino, path: &str, follow: bool) -> Result<Resolved, Errno> {
        let last_link = if follow {
            LastLink::Follow
        } else {
            LastLink::Keep
        };
        self.walk(base, path, last_link)
    }

    /// Resolves the entry `path` names, for removing or moving it: a
    /// symlink as the last component is never followed, and with a trailing
    /// slash it is ENOTDIR.
    pub fn resolve_entry(&self, base: Ino, path: &str) -> Result<Resolved, Errno> {
        self.walk(base, path, LastLink::Entry)
    }

    fn walk(&self, base: Ino, path: &str, last_link: LastLink) -> Result<Resolved, Errno> {
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
        let mut pending = components(path);
        let mut dir_only = path.ends_with('/');
        let mut links = 0;
        while let Some(component) = pending.pop() {
            let last = pending.is_empty();
            let here = *stack.last().expect("never empty");
            match component.as_str() {
                "." => {
                    if last {
                        return Ok(Resolved {
                            parent: here,
                            name: None,
                            ino: Some(here),
                            dir_only,
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
                            dir_only,
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
                                dir_only,
                            });
                        }
                        return Err(ENOENT);
                    };
                    let node = self.nodes.get(&child).ok_or(ENOENT)?;
                    let follow_last = match last_link {
                        LastLink::Follow => true,
                        LastLink::Keep => dir_only,
                        LastLink::Entry => false,
                    };
                    match &node.data {
                        Data::Symlink(target) if !last || follow_last => {
                            links += 1;
                            if links > MAX_SYMLINKS {
                                return Err(ELOOP);
                            }
                            if target.starts_with('/') {
                                return Err(ENOTCAPABLE);
                            }
                            // The target's last component is now the path's.
                            if last && target.ends_with('/') {
                                dir_only = true;
                            }
                            pending.extend(components(target));
                        }
                        Data::Dir { .. } if !last => stack.push(child),
                        Data::Dir { .. } => {
                            return Ok(Resolved {
                                parent: here,
                                name: Some(name.to_string()),
                                ino: Some(child),
                                dir_only,
                            });
                        }
                        _ if last => {
                            if dir_only {
                                return Err(ENOTDIR);
                            }
                            return Ok(Resolved {
                                parent: here,
                                name: Some(name.to_string()),
                                ino: Some(child),
                                dir_only,
                            });
                        }
                        _ => return Err(ENOTDIR),
                    }
                }
            }
        }
        // Every component was walked (a symlink's empty target, say): the
        // path names the directory reached.
        let here = *stack.last().expect("never empty");
        Ok(Resolved {
            parent: here,
            name: None,
            ino: Some(here),
            dir_only,
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
        self.structure_changed();
    }

    fn remove_entry(&mut self, parent: Ino, name: &str, now: u64) -> Option<Ino> {
        self.structure_changed();
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
            if dead
                && let Some(Node {
                    data: Data::File(bytes),
                    ..
                }) = self.nodes.remove(&ino)
            {
                self.file_bytes -= bytes.len() as u64;
                self.changed_files.remove(&ino);
                self.host_files.remove(&ino);
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
        let r = self.resolve_entry(base, path)?;
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
        // "name/" can only be made as a directory (symlinkat(2): ENOENT).
        if r.dir_only {
            return Err(ENOENT);
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
        // "name/" can only be made as a directory (linkat(2): ENOENT).
        if to.dir_only {
            return Err(ENOENT);
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
        let from = self.resolve_entry(base, path)?;
        let (Some(old_name), Some(ino)) = (from.name, from.ino) else {
            return Err(if from.ino.is_some() { EINVAL } else { ENOENT });
        };
        let to = self.resolve_entry(target_base, new_path)?;
        let Some(new_name) = to.name else {
            return Err(EINVAL);
        };
        let moving_dir = matches!(self.kind(ino), Some(Data::Dir { .. }));
        // A trailing slash on either name asks for a directory (rename(2)).
        if !moving_dir && to.dir_only {
            return Err(ENOTDIR);
        }
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

    #[test]
    fn a_trailing_slash_names_a_directory() {
        let (mut t, root) = tree();
        t.mkdir(root, "d/", 1).unwrap();
        t.mkdir(root, "d/e//", 1).unwrap();
        let r = t.resolve(root, "d/", false).unwrap();
        assert_eq!((r.name.as_deref(), r.dir_only), (Some("d"), true));
        t.rmdir(root, "d/e/", 2).unwrap();
        t.rename(root, "d/", root, "moved", 3).unwrap();
        t.rename(root, "moved", root, "d/", 4).unwrap();
        t.rename(root, "d//", root, "moved/", 5).unwrap();
        assert_eq!(t.rmdir(root, "a.txt/", 6), Err(ENOTDIR));
        assert_eq!(t.rename(root, "a.txt/", root, "x", 6), Err(ENOTDIR));
        assert_eq!(t.rename(root, "a.txt", root, "x/", 6), Err(ENOTDIR));
        assert_eq!(t.rename(root, "a.txt", root, "moved/", 6), Err(ENOTDIR));
        assert_eq!(t.symlink(root, "a.txt", "new/", 6), Err(ENOENT));
        assert_eq!(t.link(root, "a.txt", false, root, "new/", 6), Err(ENOENT));
        assert_eq!(t.unlink(root, "a.txt/", 6), Err(ENOTDIR));
        assert_eq!(t.unlink(root, "moved/", 6), Err(EISDIR));
        // A symlink with a trailing slash: followed to look at, never
        // removed or moved in the place of what it leads to.
        t.symlink(root, "moved", "to-dir", 7).unwrap();
        assert!(t.resolve(root, "to-dir/", false).unwrap().ino.is_some());
        assert_eq!(t.rmdir(root, "to-dir/", 8), Err(ENOTDIR));
        assert_eq!(t.rename(root, "to-dir/", root, "x", 8), Err(ENOTDIR));
        assert_eq!(t.rename(root, "moved", root, "to-dir/", 8), Err(ENOTDIR));
        t.rmdir(root, "moved/", 9).unwrap();
        assert_eq!(t.rmdir(root, "moved/", 10), Err(ENOENT));
    }
}
