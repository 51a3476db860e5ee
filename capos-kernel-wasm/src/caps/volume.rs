//! A volume: one directory tree, and for a persistent one the store in the
//! browser that keeps it (docs/files.md).
//!
//! A persistent volume is served from kernel memory like any other, and
//! written behind: a change schedules a commit a moment later, which sends
//! the host a new index and the bytes of every file that changed (as fresh
//! blobs); the host writes the blobs, replaces the index atomically, then
//! deletes the blobs no longer named. So the store always holds the old
//! tree or the new one, never a mix. `File.sync` waits for the commit that
//! covers it, and reports a commit that failed (ENOSPC, EIO). The quota is
//! checked when a write is made, so a full store fails the write itself.
//!
//! A file open for writing is committed as it was before it was opened
//! (or not at all, if it is new) until it is closed or synced: close-to-open,
//! as AFS does. A tab closed while a program rewrites a file leaves the old
//! file or the new one, never the half the program had written.

use super::results_builder;
use crate::fs_tree::{Data, EIO, ENOSPC, Errno, Ino, StoredKind, StoredNode, Tree};
use crate::host::{Host, HostClient, HostFailure, HostReply, HostRequest, StoreImage};
use crate::kernel::{Kernel, TimerAction};
use crate::view::UiEvent;
use capos_config::manifest::FsNode;
use capos_lib::{Completion, Service};
use capos_schema::fs_capnp::{directory, file};
use capos_schema::store_capnp::store_index;
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;

/// How long after a change its commit starts: changes made meanwhile (a
/// program writing a file in many small pieces) join the same commit.
const COMMIT_DELAY_NS: u64 = 20_000_000;

pub struct Volume {
    pub tree: RefCell<Tree>,
    /// Where its host files' bytes are read from (`Manifest::host_files`).
    pub host_files: String,
    store: Option<Store>,
    /// Files open for writing (with unsynced changes), and by how many.
    writers: RefCell<HashMap<Ino, u32>>,
    /// A writer closed since the last `settle`: a commit is due.
    closed: std::cell::Cell<bool>,
    /// Flushed (the system halted, or the page edited): what is left is
    /// committed at once, since no timer may fire any more.
    flushing: std::cell::Cell<bool>,
}

struct Store {
    name: String,
    root: Ino,
    state: RefCell<StoreState>,
}

#[derive(Default)]
struct StoreState {
    /// The blob each file has in the committed index.
    committed: HashMap<Ino, u64>,
    next_blob: u64,
    /// The tree generation the committed index holds, and its structure
    /// count (`Tree::structure`).
    stored: u64,
    stored_structure: u64,
    in_flight: Option<InFlight>,
    timer: Option<u64>,
    waiters: Vec<Waiter>,
    /// Why the last commit failed, until one succeeds.
    failure: Option<(Errno, String)>,
}

struct InFlight {
    generation: u64,
    structure: u64,
    /// The changed files this commit took (given back if it fails).
    files: BTreeSet<Ino>,
    blob_of: HashMap<Ino, u64>,
    next_blob: u64,
}

/// A `sync` call waiting for the commit of `generation`.
struct Waiter {
    pid: u32,
    user_data: u64,
    generation: u64,
    directory: bool,
}

impl Volume {
    /// A tree in kernel memory; its host files are read from `host_files`.
    pub fn in_memory(host_files: &str) -> Rc<Self> {
        Rc::new(Self {
            tree: RefCell::new(Tree::default()),
            host_files: host_files.to_string(),
            store: None,
            writers: RefCell::default(),
            closed: Default::default(),
            flushing: Default::default(),
        })
    }

    /// A persistent volume from what the host loaded of store `image.name`;
    /// `seed` is its tree when the store does not exist yet. `quota` (0:
    /// none) caps its files' bytes below what the browser still grants.
    pub fn persistent(
        mut image: StoreImage,
        seed: &FsNode,
        quota: u64,
        now: u64,
    ) -> Result<Rc<Self>, String> {
        let mut tree = Tree::default();
        let mut state = StoreState::default();
        let root = match image.index.take() {
            None => tree.insert_tree(seed, None, now),
            Some(bytes) => {
                let (nodes, next_blob) = decode_index(&bytes)
                    .map_err(|e| format!("store {:?}: its index is damaged: {e}", image.name))?;
                let (root, blob_of) = tree
                    .insert_stored(nodes, &mut image.blobs)
                    .map_err(|e| format!("store {:?}: {e}", image.name))?;
                tree.take_changed_files();
                state.committed = blob_of;
                state.next_blob = next_blob;
                state.stored = tree.generation();
                state.stored_structure = tree.structure();
                root
            }
        };
        let granted = tree.file_bytes().saturating_add(image.available_bytes);
        tree.set_quota(if quota == 0 {
            granted
        } else {
            quota.min(granted)
        });
        Ok(Rc::new(Self {
            tree: RefCell::new(tree),
            host_files: String::new(),
            store: Some(Store {
                name: image.name,
                root,
                state: RefCell::new(state),
            }),
            writers: RefCell::default(),
            closed: Default::default(),
            flushing: Default::default(),
        }))
    }

    /// A persistent volume no mount seeds or limits: a store held for the
    /// page, or read back.
    pub fn from_store(image: StoreImage, now: u64) -> Result<Rc<Self>, String> {
        let empty = FsNode {
            name: String::new(),
            kind: capos_config::manifest::FsNodeKind::Directory(Vec::new()),
        };
        Self::persistent(image, &empty, 0, now)
    }

    /// Lowers the limit on what its files hold.
    pub fn lower_quota(&self, quota: u64) {
        let mut tree = self.tree.borrow_mut();
        let current = tree.quota().unwrap_or(u64::MAX);
        tree.set_quota(current.min(quota));
    }

    /// The directory `path` names under the volume's root, made (with the
    /// ones above it) if missing.
    pub fn directory(&self, path: &str, now: u64) -> Result<Ino, String> {
        let mut tree = self.tree.borrow_mut();
        let root = self.root().ok_or("not a persistent volume")?;
        let mut dir = root;
        for part in path.split('/').filter(|p| !p.is_empty()) {
            match tree.resolve(dir, part, true) {
                Ok(r) if r.ino.is_some() => {
                    let ino = r.ino.expect("checked");
                    if !matches!(tree.kind(ino), Some(Data::Dir { .. })) {
                        return Err(format!("{part} is not a directory"));
                    }
                    dir = ino;
                }
                Ok(_) => {
                    tree.mkdir(dir, part, now)
                        .map_err(|e| format!("cannot make {part} (errno {e})"))?;
                    dir = tree
                        .resolve(dir, part, false)
                        .ok()
                        .and_then(|r| r.ino)
                        .ok_or("a directory just made is gone")?;
                }
                Err(e) => return Err(format!("{part}: errno {e}")),
            }
        }
        Ok(dir)
    }

    /// A persistent volume's root.
    pub fn root(&self) -> Option<Ino> {
        self.store.as_ref().map(|s| s.root)
    }

    /// The persistent store's name, if this volume has one.
    pub fn store_name(&self) -> Option<&str> {
        self.store.as_ref().map(|s| s.name.as_str())
    }

    /// A File capability on `ino` is about to change it (its first write,
    /// or it was opened to create or truncate it).
    pub fn writer_opened(&self, ino: Ino) {
        *self.writers.borrow_mut().entry(ino).or_default() += 1;
    }

    /// That File capability was released or synced: what it wrote may be
    /// stored now.
    pub fn writer_closed(&self, ino: Ino) {
        let mut writers = self.writers.borrow_mut();
        if let Some(n) = writers.get_mut(&ino) {
            *n -= 1;
            if *n == 0 {
                writers.remove(&ino);
                self.tree.borrow_mut().touch();
                self.closed.set(true);
            }
        }
    }

    /// After capabilities were released: commit what closed files hold.
    pub fn settle<H: Host>(self: &Rc<Self>, kernel: &mut Kernel<H>) {
        if self.closed.replace(false) {
            self.changed(kernel);
        }
    }

    /// Something in the tree changed: commit it soon (a persistent volume).
    pub fn changed<H: Host>(self: &Rc<Self>, kernel: &mut Kernel<H>) {
        let Some(store) = &self.store else { return };
        let mut state = store.state.borrow_mut();
        if state.timer.is_none()
            && state.in_flight.is_none()
            && self.tree.borrow().generation() != state.stored
        {
            let service: Rc<dyn Service<Kernel<H>>> = Rc::new(Committer(self.clone()));
            state.timer = Some(kernel.set_timer(COMMIT_DELAY_NS, TimerAction::Notify { service }));
        }
    }

    /// `File.sync` / `Directory.sync` for the caller: finished at once on a
    /// tree in memory or with nothing to commit, else when the commit
    /// covering every change so far is done.
    pub fn sync<H: Host>(
        self: &Rc<Self>,
        kernel: &mut Kernel<H>,
        pid: u32,
        user_data: u64,
        directory: bool,
    ) {
        let generation = self.tree.borrow().generation();
        let Some(store) = &self.store else {
            return kernel.finish(pid, user_data, sync_completion(directory, 0));
        };
        let mut state = store.state.borrow_mut();
        if state.stored == generation && state.in_flight.is_none() {
            drop(state);
            return kernel.finish(pid, user_data, sync_completion(directory, 0));
        }
        state.waiters.push(Waiter {
            pid,
            user_data,
            generation,
            directory,
        });
        // Nobody waits for the delay when a program asks for durability.
        if state.in_flight.is_none() {
            if let Some(timer) = state.timer.take() {
                kernel.cancel_timer(timer);
            }
            drop(state);
            self.commit(kernel);
        }
    }

    /// Starts a commit of the tree as it is now (none if one is in flight
    /// or nothing changed).
    fn commit<H: Host>(self: &Rc<Self>, kernel: &mut Kernel<H>) {
        let Some(store) = &self.store else { return };
        let mut state = store.state.borrow_mut();
        let mut tree = self.tree.borrow_mut();
        if state.in_flight.is_some() || tree.generation() == state.stored {
            return;
        }
        let mut files = tree.take_changed_files();
        // Files open for writing keep their committed bytes (a new one is
        // left out) and stay changed for the commit after they close.
        let writers = self.writers.borrow();
        let held: BTreeSet<Ino> = files
            .iter()
            .copied()
            .filter(|ino| writers.contains_key(ino))
            .collect();
        files.retain(|ino| !held.contains(ino));
        if files.is_empty() && tree.structure() == state.stored_structure {
            // Only files still open changed: the store already holds all
            // it should. Done, without asking the host.
            tree.restore_changed_files(held);
            state.in_flight = Some(InFlight {
                generation: tree.generation(),
                structure: tree.structure(),
                files,
                blob_of: state.committed.clone(),
                next_blob: state.next_blob,
            });
            drop((writers, tree, state));
            return self.committed(kernel, Ok(()));
        }
        let mut next_blob = state.next_blob;
        let mut blob_of: HashMap<Ino, u64> = HashMap::new();
        let mut new_blobs: Vec<(u64, Ino)> = Vec::new();
        let mut message = capnp::message::Builder::new_default();
        {
            let paths: Vec<(String, Ino)> = tree
                .paths(store.root)
                .into_iter()
                .filter(|(_, ino)| !writers.contains_key(ino) || state.committed.contains_key(ino))
                .collect();
            let mut index = message.init_root::<store_index::Builder<'_>>();
            let mut entries = index.reborrow().init_entries(paths.len() as u32);
            for (i, (path, ino)) in paths.iter().enumerate() {
                let Some(node) = tree.node(*ino) else {
                    continue;
                };
                let mut e = entries.reborrow().get(i as u32);
                e.set_path(path);
                e.set_atime_ns(node.atime);
                e.set_mtime_ns(node.mtime);
                match &node.data {
                    Data::Dir { .. } => e.set_directory(()),
                    Data::Symlink(target) => e.set_symlink(target),
                    Data::File(_) => {
                        let blob = *blob_of.entry(*ino).or_insert_with(|| {
                            match state.committed.get(ino) {
                                Some(&blob) if !files.contains(ino) => blob,
                                _ => {
                                    next_blob += 1;
                                    new_blobs.push((next_blob, *ino));
                                    next_blob
                                }
                            }
                        });
                        e.set_file(blob);
                    }
                }
            }
            index.set_next_blob(next_blob);
        }
        let index = capnp::serialize::write_message_to_words(&message);
        let index_bytes = index.len() as u64;
        let mut payload = index;
        let mut blobs = Vec::with_capacity(new_blobs.len());
        for (blob, ino) in &new_blobs {
            if let Some(Data::File(bytes)) = tree.kind(*ino) {
                payload.extend_from_slice(bytes);
                blobs.push((*blob, bytes.len() as u64));
            }
        }
        drop(writers);
        tree.restore_changed_files(held);
        let kept: BTreeSet<u64> = blob_of.values().copied().collect();
        let obsolete: Vec<u64> = state
            .committed
            .values()
            .copied()
            .filter(|b| !kept.contains(b))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        state.in_flight = Some(InFlight {
            generation: tree.generation(),
            structure: tree.structure(),
            files,
            blob_of,
            next_blob,
        });
        drop((tree, state));
        let client: Rc<dyn HostClient<H>> = Rc::new(Committer(self.clone()));
        kernel.host_request(
            client,
            HostRequest::StoreCommit {
                store: &store.name,
                index_bytes,
                blobs: &blobs,
                obsolete: &obsolete,
                payload: &payload,
            },
        );
    }

    fn committed<H: Host>(self: &Rc<Self>, kernel: &mut Kernel<H>, outcome: Result<(), String>) {
        let Some(store) = &self.store else { return };
        let mut state = store.state.borrow_mut();
        let Some(done) = state.in_flight.take() else {
            return;
        };
        let errno = match outcome {
            Ok(()) => {
                state.committed = done.blob_of;
                state.next_blob = done.next_blob;
                state.stored = done.generation;
                state.stored_structure = done.structure;
                state.failure = None;
                0
            }
            Err(message) => {
                self.tree.borrow_mut().restore_changed_files(done.files);
                let errno = if message.starts_with("quota") {
                    ENOSPC
                } else {
                    EIO
                };
                kernel.emit(UiEvent::StoreFailed {
                    store: store.name.clone(),
                    message: message.clone(),
                });
                state.failure = Some((errno, message));
                errno
            }
        };
        // A failure fails every waiter (their changes are not stored); a
        // success finishes those it covers.
        let (ready, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut state.waiters)
            .into_iter()
            .partition(|w| errno != 0 || w.generation <= done.generation);
        state.waiters = waiting;
        let more = errno == 0 && self.tree.borrow().generation() != state.stored;
        let waited_for = !state.waiters.is_empty();
        drop(state);
        for w in ready {
            kernel.finish(w.pid, w.user_data, sync_completion(w.directory, errno));
        }
        // What changed meanwhile: at once if a program waits for it or the
        // volume is being flushed, else after the usual delay (so a file
        // being written does not make commits back to back).
        if more && (waited_for || self.flushing.get()) {
            self.commit(kernel);
        } else if more {
            self.changed(kernel);
        }
    }

    /// Commits what is left now rather than after the delay; `for_good`
    /// (the system halted: no timer fires any more) makes every later
    /// commit immediate too.
    pub fn flush<H: Host>(self: &Rc<Self>, kernel: &mut Kernel<H>, for_good: bool) {
        let Some(store) = &self.store else { return };
        if for_good {
            self.flushing.set(true);
        }
        if let Some(timer) = store.state.borrow_mut().timer.take() {
            kernel.cancel_timer(timer);
        }
        self.commit(kernel);
    }

    /// Forgets the sync calls of a process that ended.
    pub fn forget(&self, pid: u32) {
        if let Some(store) = &self.store {
            store.state.borrow_mut().waiters.retain(|w| w.pid != pid);
        }
    }
}

/// What the kernel holds for a volume while a commit is due or in flight:
/// its timer's service and its host exchange's client.
struct Committer(Rc<Volume>);

impl<H: Host> Service<Kernel<H>> for Committer {
    fn on_timer(&self, kernel: &mut Kernel<H>, _timer: u64) {
        if let Some(store) = &self.0.store {
            store.state.borrow_mut().timer = None;
        }
        self.0.commit(kernel);
    }
}

impl<H: Host> HostClient<H> for Committer {
    fn on_reply(&self, kernel: &mut Kernel<H>, _id: u32, reply: HostReply) {
        let outcome = match reply {
            HostReply::Done => Ok(()),
            HostReply::Failed {
                kind: HostFailure::Quota,
                message,
            } => Err(format!("quota: {message}")),
            HostReply::Failed { message, .. } => Err(message),
            other => Err(format!("the browser answered a commit with {other:?}")),
        };
        self.0.committed(kernel, outcome);
    }
}

/// `sync`'s results: only the errno.
fn sync_completion(directory: bool, errno: Errno) -> Completion {
    let mut message = results_builder();
    if directory {
        message
            .init_root::<directory::sync_results::Builder<'_>>()
            .set_errno(errno);
    } else {
        message
            .init_root::<file::sync_results::Builder<'_>>()
            .set_errno(errno);
    }
    super::encode(&message)
}

/// A stored index's entries and its next blob id.
fn decode_index(bytes: &[u8]) -> Result<(Vec<StoredNode>, u64), capnp::Error> {
    let reader = capnp::serialize::read_message_from_flat_slice(
        &mut &bytes[..],
        capnp::message::ReaderOptions {
            traversal_limit_in_words: Some(bytes.len() / 8 * 4 + 1024),
            nesting_limit: 8,
        },
    )?;
    let index = reader.get_root::<store_index::Reader<'_>>()?;
    let mut nodes = Vec::new();
    for e in index.get_entries()? {
        use capos_schema::store_capnp::store_entry::Which;
        let kind = match e.which()? {
            Which::Directory(()) => StoredKind::Dir,
            Which::File(blob) => StoredKind::File { blob },
            Which::Symlink(target) => StoredKind::Symlink(target?.to_string()?),
        };
        nodes.push(StoredNode {
            path: e.get_path()?.to_string()?,
            atime: e.get_atime_ns(),
            mtime: e.get_mtime_ns(),
            kind,
        });
    }
    Ok((nodes, index.get_next_blob()))
}

/// What a store holds under `store_path`, as `capos run --dir` writes it
/// back: the tree rebuilt from storage alone (its index and blobs), not from
/// the kernel's memory.
pub fn stored_snapshot(
    image: StoreImage,
    guest: &str,
    store_path: &str,
) -> Result<crate::view::MountSnapshot, String> {
    let volume = Volume::from_store(image, 0)?;
    let dir = volume.directory(store_path, 0)?;
    let tree = volume.tree.borrow();
    let mut snapshot = crate::view::mount_snapshot(guest, &tree.export(dir, ""));
    snapshot.store = volume.store_name().unwrap_or_default().to_string();
    snapshot.store_path = store_path.to_string();
    Ok(snapshot)
}

/// The blob ids a stored index names (what the host must load with it).
pub fn index_blobs(bytes: &[u8]) -> Result<Vec<u64>, String> {
    let (nodes, _) = decode_index(bytes).map_err(|e| e.to_string())?;
    let blobs: BTreeSet<u64> = nodes
        .iter()
        .filter_map(|n| match n.kind {
            StoredKind::File { blob } => Some(blob),
            _ => None,
        })
        .collect();
    Ok(blobs.into_iter().collect())
}
