//! `capos run --dir HOST[::GUEST]`: host directories copied into the
//! kernel's memory at start, and every change the program made written back
//! at exit (new, modified and deleted files, directories and symlinks).

use crate::exit::{self, Failure};
use base64::Engine as _;
use capos_schema::wasi_manifest::HostNode;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

/// Bytes a set of mounts may hold in all (they travel inside the manifest).
const MAX_TOTAL_BYTES: u64 = 48 << 20;

#[derive(Debug)]
pub struct DirMapping {
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
    Ok(DirMapping {
        host: path,
        guest: guest.to_string(),
    })
}

/// Reads a host directory tree.
pub fn read_tree(dir: &Path, budget: &mut u64) -> Result<HostNode, Failure> {
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
            HostNode::Symlink(target.to_string_lossy().into_owned())
        } else if meta.is_dir() {
            read_tree(&path, budget)?
        } else {
            *budget = budget.checked_sub(meta.len()).ok_or_else(|| {
                Failure::new(
                    exit::USAGE,
                    format!("--dir trees hold more than {} MiB", MAX_TOTAL_BYTES >> 20),
                )
            })?;
            HostNode::File(std::fs::read(&path).map_err(io)?)
        };
        children.push((name, node));
    }
    Ok(HostNode::Directory(children))
}

pub fn budget() -> u64 {
    MAX_TOTAL_BYTES
}

/// A path from the kernel, checked to stay inside the mount.
fn relative(path: &str) -> Option<PathBuf> {
    let p = Path::new(path);
    let ok = !path.is_empty() && p.components().all(|c| matches!(c, Component::Normal(_)));
    ok.then(|| p.to_path_buf())
}

enum Want {
    Dir,
    File(Vec<u8>),
    Symlink(String),
}

/// Makes `host` hold exactly what the snapshot says its mount held.
pub fn write_back(host: &Path, entries: &[Value]) -> Result<(), String> {
    let mut want = BTreeMap::new();
    for e in entries {
        let path = e
            .get("path")
            .and_then(Value::as_str)
            .ok_or("snapshot entry without a path")?;
        let rel =
            relative(path).ok_or_else(|| format!("snapshot path {path:?} leaves the directory"))?;
        let data = e.get("data").and_then(Value::as_str).unwrap_or("");
        let w = match e.get("kind").and_then(Value::as_str) {
            Some("dir") => Want::Dir,
            Some("symlink") => Want::Symlink(data.to_string()),
            Some("file") => Want::File(
                base64::engine::general_purpose::STANDARD
                    .decode(data)
                    .map_err(|e| format!("{path}: {e}"))?,
            ),
            other => return Err(format!("{path}: unknown kind {other:?}")),
        };
        want.insert(rel, w);
    }
    remove_unwanted(host, Path::new(""), &want)?;
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
                let same = existing.is_some_and(|m| m.is_file())
                    && std::fs::read(&target).is_ok_and(|b| &b == bytes);
                if !same {
                    std::fs::write(&target, bytes).map_err(io)?;
                }
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

/// Deletes what the program deleted (or replaced with another kind).
fn remove_unwanted(host: &Path, rel: &Path, want: &BTreeMap<PathBuf, Want>) -> Result<(), String> {
    let dir = host.join(rel);
    let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| e.to_string())?;
        let child = rel.join(entry.file_name());
        let path = entry.path();
        let meta = std::fs::symlink_metadata(&path).map_err(|e| e.to_string())?;
        let is_dir = meta.is_dir() && !meta.file_type().is_symlink();
        let keep = match want.get(&child) {
            Some(Want::Dir) => is_dir,
            Some(Want::File(_)) => meta.is_file(),
            Some(Want::Symlink(_)) => meta.file_type().is_symlink(),
            None => false,
        };
        if keep && is_dir {
            remove_unwanted(host, &child, want)?;
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

    #[test]
    fn write_back_applies_new_changed_and_deleted_entries() {
        let dir = std::env::temp_dir().join(format!("capos-mounts-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("old-dir/deep")).unwrap();
        std::fs::write(dir.join("keep.txt"), "same").unwrap();
        std::fs::write(dir.join("change.txt"), "before").unwrap();
        std::fs::write(dir.join("gone.txt"), "x").unwrap();
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let snapshot = vec![
            json!({"path": "keep.txt", "kind": "file", "data": b64("same")}),
            json!({"path": "change.txt", "kind": "file", "data": b64("after")}),
            json!({"path": "new", "kind": "dir", "data": ""}),
            json!({"path": "new/file.txt", "kind": "file", "data": b64("hello")}),
            json!({"path": "link", "kind": "symlink", "data": "keep.txt"}),
        ];
        write_back(&dir, &snapshot).unwrap();
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
        let mut budget = budget();
        let HostNode::Directory(read) = read_tree(&dir, &mut budget).unwrap() else {
            panic!()
        };
        assert_eq!(read.len(), 4);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn snapshot_paths_cannot_leave_the_directory() {
        let dir = std::env::temp_dir();
        for bad in ["../x", "/etc/passwd", "a/../../b", ""] {
            let snapshot = vec![json!({"path": bad, "kind": "file", "data": ""})];
            assert!(write_back(&dir, &snapshot).is_err(), "{bad}");
        }
    }
}
