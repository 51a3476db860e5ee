//! `capos run --dir HOST[::GUEST]`: host directories granted to the
//! program. Only the tree's shape (names, kinds, sizes, symlink targets)
//! travels in the manifest: each file stays on the host, served to the
//! kernel when a program first opens it (`Site::add_host_files`), so a tree
//! of any size starts as fast as an empty one. At exit the program's changes
//! are written back: new and changed files (atomically, each), moves and
//! copies of files it never changed, deletions, directories and symlinks.
//! With `--dir-store` the bytes are copied into the manifest instead (they
//! seed a persistent store), within `MAX_COPIED_BYTES`.

use crate::exit::{self, Failure};
use base64::Engine as _;
use capos_schema::wasi_manifest::HostNode;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

/// Bytes a set of copied mounts may hold in all (they travel inside the
/// manifest).
const MAX_COPIED_BYTES: u64 = 48 << 20;

#[derive(Debug)]
pub struct DirMapping {
    /// Absolute: the warm daemon serves its files from another directory.
    pub host: PathBuf,
    pub guest: String,
}

/// `HOST[::GUEST]`; without GUEST the guest path is HOST as written.
pub fn parse(spec: &str) -> Result<DirMapping, Failure> {
    let (host, guest) = match spec.split_once("::") {
        Some((host, guest)) => (host, guest),
        None => (spec, spec),
    };
    let host = if host.is_empty() { "." } else { host };
    if guest.is_empty() {
        return Err(Failure::new(
            exit::USAGE,
            format!("--dir {spec}: empty guest path"),
        ));
    }
    let path = PathBuf::from(host);
    if !path.is_dir() {
        return Err(Failure::new(
            exit::USAGE,
            format!("--dir {spec}: {host} is not a directory"),
        ));
    }
    let path = path
        .canonicalize()
        .map_err(|e| Failure::new(exit::USAGE, format!("--dir {spec}: {e}")))?;
    Ok(DirMapping {
        host: path,
        guest: guest.to_string(),
    })
}

/// How a tree's files reach the kernel.
pub enum Files<'a> {
    /// Left on the host: each file becomes a `HostFile` whose id is its
    /// index in this table of absolute paths.
    Left(&'a mut Vec<PathBuf>),
    /// Copied into the manifest, within what is left of this budget.
    Copied(&'a mut u64),
}

impl Files<'_> {
    pub fn copied_budget() -> u64 {
        MAX_COPIED_BYTES
    }
}

/// Reads a host directory tree. Files that are neither regular files,
/// directories nor symlinks (FIFOs, sockets, devices) are left out: a
/// program could block forever reading one. Their paths are added to
/// `left_out`.
pub fn read_tree(
    dir: &Path,
    files: &mut Files<'_>,
    left_out: &mut Vec<PathBuf>,
) -> Result<HostNode, Failure> {
    read_tree_at(dir, 0, files, left_out)
}

fn read_tree_at(
    dir: &Path,
    depth: u32,
    files: &mut Files<'_>,
    left_out: &mut Vec<PathBuf>,
) -> Result<HostNode, Failure> {
    if depth > capos_config::manifest::MAX_TREE_DEPTH {
        return Err(Failure::new(
            exit::USAGE,
            format!(
                "--dir: {} is more than {} directories deep",
                dir.display(),
                capos_config::manifest::MAX_TREE_DEPTH
            ),
        ));
    }
    let io = |e: std::io::Error| {
        Failure::new(exit::USAGE, format!("cannot read {}: {e}", dir.display()))
    };
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .map_err(io)?
        .collect::<Result<_, _>>()
        .map_err(io)?;
    names.sort_by_key(|e| e.file_name());
    let mut children = Vec::new();
    for entry in names {
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            return Err(Failure::new(
                exit::USAGE,
                format!("{}: a file name is not UTF-8", dir.display()),
            ));
        };
        let path = entry.path();
        let meta = std::fs::symlink_metadata(&path).map_err(io)?;
        let node = if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&path).map_err(io)?;
            let Some(target) = target.to_str() else {
                return Err(Failure::new(
                    exit::USAGE,
                    format!("{}: its target is not UTF-8", path.display()),
                ));
            };
            HostNode::Symlink(target.to_string())
        } else if meta.is_dir() {
            read_tree_at(&path, depth + 1, files, left_out)?
        } else if !meta.is_file() {
            left_out.push(path);
            continue;
        } else {
            match files {
                Files::Left(table) => {
                    table.push(path);
                    HostNode::HostFile {
                        id: table.len() as u64 - 1,
                        size: meta.len(),
                    }
                }
                Files::Copied(budget) => {
                    **budget = budget.checked_sub(meta.len()).ok_or_else(|| {
                        Failure::new(
                            exit::USAGE,
                            format!(
                                "--dir-store trees hold more than {} MiB (without --dir-store, --dir trees may be of any size)",
                                MAX_COPIED_BYTES >> 20
                            ),
                        )
                    })?;
                    HostNode::File(std::fs::read(&path).map_err(io)?)
                }
            }
        };
        children.push((name, node));
    }
    Ok(HostNode::Directory(children))
}

/// A path from the kernel, checked to stay inside the mount.
fn relative(path: &str) -> Option<PathBuf> {
    let p = Path::new(path);
    let ok = !path.is_empty() && p.components().all(|c| matches!(c, Component::Normal(_)));
    ok.then(|| p.to_path_buf())
}

enum Want {
    Dir,
    /// New or changed bytes.
    File(Vec<u8>),
    Symlink(String),
    /// A host file the program never changed, still where it was.
    Unchanged,
    /// A host file the program never changed, now here: a link to (or a
    /// copy of) its bytes, staged before anything moved.
    Staged(PathBuf),
    /// New or changed bytes the page sent into the uploads directory.
    Uploaded(PathBuf),
}

/// Makes `host` hold exactly what the snapshot says its mount held. A
/// snapshot entry with an `origin` is host file `origins[origin]`, unchanged;
/// one with an `upload` has its bytes in `uploads/N`. Nothing is changed
/// unless every entry is valid, every upload has arrived and every moved
/// file could be staged; each file is replaced atomically (written beside
/// its place, then renamed over it).
pub fn write_back(
    host: &Path,
    entries: &[Value],
    origins: &[PathBuf],
    uploads: Option<&Path>,
) -> Result<(), String> {
    let staging = host.join(format!(".capos-write-back-{}", std::process::id()));
    let result = stage_and_apply(host, &staging, entries, origins, uploads);
    if staging.exists() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result
}

fn stage_and_apply(
    host: &Path,
    staging: &Path,
    entries: &[Value],
    origins: &[PathBuf],
    uploads: Option<&Path>,
) -> Result<(), String> {
    let mut want = BTreeMap::new();
    let mut moved = Vec::new();
    for e in entries {
        let path = e
            .get("path")
            .and_then(Value::as_str)
            .ok_or("snapshot entry without a path")?;
        let rel =
            relative(path).ok_or_else(|| format!("snapshot path {path:?} leaves the directory"))?;
        let data = e.get("data").and_then(Value::as_str).unwrap_or("");
        let origin = e.get("origin").and_then(Value::as_u64);
        let upload = e.get("upload").and_then(Value::as_u64);
        let w = match (e.get("kind").and_then(Value::as_str), origin) {
            (Some("file"), None) if upload.is_some() => {
                let n = upload.unwrap_or_default();
                let file = uploads
                    .map(|dir| dir.join(n.to_string()))
                    .filter(|f| f.is_file())
                    .ok_or_else(|| format!("{path}: its new bytes never arrived"))?;
                Want::Uploaded(file)
            }
            (Some("file"), Some(id)) => {
                let from = usize::try_from(id)
                    .ok()
                    .and_then(|id| origins.get(id))
                    .ok_or_else(|| format!("{path}: no host file {id}"))?;
                // Where it was: nothing to do. Elsewhere: staged below.
                if *from != host.join(&rel) {
                    moved.push((rel.clone(), from.clone()));
                }
                Want::Unchanged
            }
            (Some("dir"), None) => Want::Dir,
            (Some("symlink"), None) => Want::Symlink(data.to_string()),
            (Some("file"), None) => Want::File(
                base64::engine::general_purpose::STANDARD
                    .decode(data)
                    .map_err(|e| format!("{path}: {e}"))?,
            ),
            (other, _) => return Err(format!("{path}: unknown kind {other:?}")),
        };
        want.insert(rel, w);
    }
    // A file that moved is linked (or copied) aside first: its old place
    // may be deleted or overwritten below.
    if !moved.is_empty() {
        std::fs::create_dir(staging).map_err(|e| format!("{}: {e}", staging.display()))?;
    }
    for (n, (rel, from)) in moved.into_iter().enumerate() {
        let aside = staging.join(n.to_string());
        std::fs::hard_link(&from, &aside)
            .or_else(|_| std::fs::copy(&from, &aside).map(drop))
            .map_err(|e| format!("{} (now {}): {e}", from.display(), rel.display()))?;
        want.insert(rel, Want::Staged(aside));
    }
    let skip = staging.file_name().map(Path::new);
    remove_unwanted(host, Path::new(""), &want, skip)?;
    // Parents sort before their children, so directories exist in time.
    for (rel, w) in &want {
        let target = host.join(rel);
        let io = |e: std::io::Error| format!("{}: {e}", target.display());
        let existing = std::fs::symlink_metadata(&target).ok();
        match w {
            Want::Dir => {
                if !existing.is_some_and(|m| m.is_dir() && !m.file_type().is_symlink()) {
                    std::fs::create_dir(&target).map_err(io)?;
                }
            }
            Want::File(bytes) => {
                let same = existing.as_ref().is_some_and(|m| m.is_file())
                    && std::fs::read(&target).is_ok_and(|b| &b == bytes);
                if !same {
                    replace_file(&target, existing.as_ref(), |temp| {
                        std::fs::write(temp, bytes)
                    })
                    .map_err(io)?;
                }
            }
            Want::Unchanged => {}
            Want::Staged(aside) => std::fs::rename(aside, &target).map_err(io)?,
            Want::Uploaded(file) => {
                replace_file(&target, existing.as_ref(), |temp| {
                    std::fs::copy(file, temp).map(drop)
                })
                .map_err(io)?;
            }
            Want::Symlink(to) => {
                let same = std::fs::read_link(&target).is_ok_and(|t| t == Path::new(to));
                if !same {
                    if existing.is_some() {
                        std::fs::remove_file(&target).map_err(io)?;
                    }
                    std::os::unix::fs::symlink(to, &target).map_err(io)?;
                }
            }
        }
    }
    Ok(())
}

/// Fills a file beside `target` (`fill`), then renames it into place: a
/// reader sees the old file or the new one, never part of either. A file
/// replaced keeps its permissions.
fn replace_file(
    target: &Path,
    existing: Option<&std::fs::Metadata>,
    fill: impl FnOnce(&Path) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    let temp = target.with_file_name(format!(".{name}.capos-{}.tmp", std::process::id()));
    let written = fill(&temp).and_then(|()| {
        if let Some(meta) = existing.filter(|m| m.is_file()) {
            std::fs::set_permissions(&temp, meta.permissions())?;
        }
        std::fs::rename(&temp, target)
    });
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

/// Deletes what the program deleted (or replaced with another kind).
fn remove_unwanted(
    host: &Path,
    rel: &Path,
    want: &BTreeMap<PathBuf, Want>,
    skip: Option<&Path>,
) -> Result<(), String> {
    let dir = host.join(rel);
    let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| e.to_string())?;
        let child = rel.join(entry.file_name());
        if Some(child.as_path()) == skip {
            continue;
        }
        let path = entry.path();
        let meta = std::fs::symlink_metadata(&path).map_err(|e| e.to_string())?;
        let is_dir = meta.is_dir() && !meta.file_type().is_symlink();
        let special = !is_dir && !meta.is_file() && !meta.file_type().is_symlink();
        let keep = match want.get(&child) {
            // Left out of the tree (a FIFO, a socket): not the program's to delete.
            None if special => true,
            Some(Want::Dir) => is_dir,
            Some(Want::File(_) | Want::Unchanged | Want::Staged(_) | Want::Uploaded(_)) => {
                meta.is_file()
            }
            Some(Want::Symlink(_)) => meta.file_type().is_symlink(),
            None => false,
        };
        if keep && is_dir {
            remove_unwanted(host, &child, want, None)?;
        } else if !keep {
            let result = if is_dir {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            result.map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::os::unix::fs::MetadataExt as _;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("capos-mounts-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn write_back_applies_new_changed_and_deleted_entries() {
        let dir = scratch("changes");
        std::fs::create_dir_all(dir.join("old-dir/deep")).unwrap();
        std::fs::write(dir.join("keep.txt"), "same").unwrap();
        std::fs::write(dir.join("change.txt"), "before").unwrap();
        std::fs::write(dir.join("gone.txt"), "x").unwrap();
        let snapshot = vec![
            json!({"path": "keep.txt", "kind": "file", "data": b64("same")}),
            json!({"path": "change.txt", "kind": "file", "data": b64("after")}),
            json!({"path": "new", "kind": "dir", "data": ""}),
            json!({"path": "new/file.txt", "kind": "file", "data": b64("hello")}),
            json!({"path": "link", "kind": "symlink", "data": "keep.txt"}),
        ];
        write_back(&dir, &snapshot, &[], None).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join("change.txt")).unwrap(),
            "after"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("new/file.txt")).unwrap(),
            "hello"
        );
        assert_eq!(
            std::fs::read_link(dir.join("link")).unwrap(),
            Path::new("keep.txt")
        );
        assert!(!dir.join("gone.txt").exists() && !dir.join("old-dir").exists());
        let mut budget = Files::copied_budget();
        let HostNode::Directory(read) =
            read_tree(&dir, &mut Files::Copied(&mut budget), &mut Vec::new()).unwrap()
        else {
            panic!()
        };
        assert_eq!(read.len(), 4);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn files_left_on_the_host_are_written_back_by_reference() {
        let dir = scratch("origins");
        std::fs::create_dir(dir.join("sub")).unwrap();
        std::fs::write(dir.join("stay.bin"), "stay").unwrap();
        std::fs::write(dir.join("move.bin"), "move").unwrap();
        std::fs::write(dir.join("sub/copy.bin"), "copy").unwrap();
        std::fs::write(dir.join("edit.txt"), "old").unwrap();
        std::fs::set_permissions(
            dir.join("edit.txt"),
            std::os::unix::fs::PermissionsExt::from_mode(0o640),
        )
        .unwrap();
        let fifo = std::ffi::CString::new(dir.join("pipe").to_str().unwrap()).unwrap();
        // SAFETY: `fifo` is a NUL-terminated path that outlives the call.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        let mut table = Vec::new();
        let mut left_out = Vec::new();
        let tree = read_tree(&dir, &mut Files::Left(&mut table), &mut left_out).unwrap();
        assert_eq!(left_out, [dir.join("pipe")], "a FIFO is left out");
        let HostNode::Directory(top) = &tree else {
            panic!()
        };
        let id = |name: &str| table.iter().position(|p| p == &dir.join(name)).unwrap();
        assert!(top.contains(&(
            "stay.bin".into(),
            HostNode::HostFile {
                id: id("stay.bin") as u64,
                size: 4
            }
        )));
        let stay_inode = std::fs::metadata(dir.join("stay.bin")).unwrap().ino();
        // The program kept stay.bin, moved move.bin into sub/, copied
        // sub/copy.bin to the top and kept it too, and rewrote edit.txt.
        let snapshot = vec![
            json!({"path": "stay.bin", "kind": "file", "data": "", "origin": id("stay.bin")}),
            json!({"path": "copy.bin", "kind": "file", "data": "", "origin": id("sub/copy.bin")}),
            json!({"path": "edit.txt", "kind": "file", "data": b64("new")}),
            json!({"path": "sub", "kind": "dir", "data": ""}),
            json!({"path": "sub/copy.bin", "kind": "file", "data": "", "origin": id("sub/copy.bin")}),
            json!({"path": "sub/moved.bin", "kind": "file", "data": "", "origin": id("move.bin")}),
        ];
        write_back(&dir, &snapshot, &table, None).unwrap();
        let read = |p: &str| std::fs::read_to_string(dir.join(p)).unwrap();
        assert_eq!(read("sub/moved.bin"), "move");
        assert!(!dir.join("move.bin").exists());
        assert_eq!(
            (read("copy.bin"), read("sub/copy.bin")),
            ("copy".into(), "copy".into())
        );
        assert_eq!(read("edit.txt"), "new");
        let mode = std::fs::metadata(dir.join("edit.txt")).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o640, "a replaced file keeps its permissions");
        assert_eq!(
            std::fs::metadata(dir.join("stay.bin")).unwrap().ino(),
            stay_inode,
            "an unchanged file is not touched"
        );
        assert!(dir.join("pipe").exists(), "what was left out stays");
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["copy.bin", "edit.txt", "pipe", "stay.bin", "sub"],
            "no staging or temp files left"
        );
        // An origin the run never had changes nothing at all.
        let bad = vec![
            json!({"path": "edit.txt", "kind": "file", "data": b64("lost?")}),
            json!({"path": "x", "kind": "file", "data": "", "origin": 999}),
        ];
        assert!(
            write_back(&dir, &bad, &table, None)
                .unwrap_err()
                .contains("no host file 999")
        );
        assert_eq!(read("edit.txt"), "new");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn changed_files_come_from_the_uploads_and_a_missing_one_changes_nothing() {
        let dir = scratch("uploads");
        let uploads = scratch("uploads-in");
        std::fs::write(dir.join("old.txt"), "old").unwrap();
        std::fs::write(uploads.join("0"), b"new\0bytes").unwrap();
        let missing = vec![
            json!({"path": "a.bin", "kind": "file", "data": "", "upload": 0}),
            json!({"path": "b.bin", "kind": "file", "data": "", "upload": 1}),
        ];
        let err = write_back(&dir, &missing, &[], Some(&uploads)).unwrap_err();
        assert!(err.contains("b.bin: its new bytes never arrived"), "{err}");
        assert_eq!(std::fs::read_to_string(dir.join("old.txt")).unwrap(), "old");
        // One upload, two names (hard links in the run): both get the bytes.
        let snapshot = vec![
            json!({"path": "a.bin", "kind": "file", "data": "", "upload": 0}),
            json!({"path": "old.txt", "kind": "file", "data": "", "upload": 0}),
        ];
        write_back(&dir, &snapshot, &[], Some(&uploads)).unwrap();
        assert_eq!(std::fs::read(dir.join("a.bin")).unwrap(), b"new\0bytes");
        assert_eq!(std::fs::read(dir.join("old.txt")).unwrap(), b"new\0bytes");
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::remove_dir_all(&uploads).unwrap();
    }

    #[test]
    fn a_deep_tree_is_read_and_one_past_the_limit_refused() {
        let dir = scratch("deep");
        let mut leaf = dir.clone();
        for _ in 0..100 {
            leaf.push("d");
        }
        std::fs::create_dir_all(&leaf).unwrap();
        std::fs::write(leaf.join("f"), "deep").unwrap();
        let mut table = Vec::new();
        assert!(read_tree(&dir, &mut Files::Left(&mut table), &mut Vec::new()).is_ok());
        assert_eq!(table.len(), 1);
        for _ in 0..40 {
            leaf.push("d");
        }
        std::fs::create_dir_all(&leaf).unwrap();
        let err = read_tree(&dir, &mut Files::Left(&mut Vec::new()), &mut Vec::new()).unwrap_err();
        assert!(
            err.message.contains("more than 128 directories deep"),
            "{}",
            err.message
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn snapshot_paths_cannot_leave_the_directory() {
        let dir = std::env::temp_dir();
        for bad in ["../x", "/etc/passwd", "a/../../b", ""] {
            let snapshot = vec![json!({"path": bad, "kind": "file", "data": ""})];
            assert!(write_back(&dir, &snapshot, &[], None).is_err(), "{bad}");
        }
    }
}
