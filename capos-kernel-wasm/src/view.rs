//! View models: all the main thread ever learns from the kernel. They name
//! processes by pid and capabilities only by count; never a `CapId`.

use serde::Serialize;

/// Which output stream a Console writes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Stream {
    Stdout,
    Stderr,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessView {
    pub pid: u32,
    pub name: String,
    pub state: &'static str,
    /// How many capabilities the process holds.
    pub caps: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum UiEvent {
    /// Bytes a process wrote to its Console, exactly as written (a
    /// `Uint8Array` in JavaScript).
    Console {
        pid: u32,
        stream: Stream,
        #[serde(serialize_with = "as_bytes")]
        data: Vec<u8>,
    },
    /// The process table changed.
    Processes { processes: Vec<ProcessView> },
    /// A process ended and was reaped.
    ProcessExited {
        pid: u32,
        name: String,
        code: i32,
        reason: String,
    },
    /// The manifest could not be booted.
    BootError { message: String },
    /// The mounted directory trees as the system leaves them (just before
    /// `Halted`), for `capos run --dir` to write back to the host.
    Filesystems { mounts: Vec<MountSnapshot> },
    /// init ended; the system is down (every process has been reaped).
    Halted { code: i32, reason: String },
}

/// Serializes as bytes (a `Uint8Array` through serde-wasm-bindgen), not as
/// a list of numbers.
fn as_bytes<S: serde::Serializer>(data: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_bytes(data)
}

/// One mount's contents, flattened: parents before children.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MountSnapshot {
    pub guest: String,
    pub entries: Vec<FsEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FsEntry {
    /// Relative to the mount, `/`-separated.
    pub path: String,
    /// "file", "dir" or "symlink".
    pub kind: &'static str,
    /// A file's bytes, base64; a symlink's target.
    pub data: String,
}

/// Flattens an exported tree into entries.
pub fn mount_snapshot(guest: &str, root: &capos_config::manifest::FsNode) -> MountSnapshot {
    use base64::Engine as _;
    use capos_config::manifest::FsNodeKind;
    fn walk(prefix: &str, node: &capos_config::manifest::FsNode, out: &mut Vec<FsEntry>) {
        let path = if prefix.is_empty() {
            node.name.clone()
        } else {
            format!("{prefix}/{}", node.name)
        };
        match &node.kind {
            FsNodeKind::File(bytes) => out.push(FsEntry {
                path,
                kind: "file",
                data: base64::engine::general_purpose::STANDARD.encode(bytes),
            }),
            FsNodeKind::Symlink(target) => out.push(FsEntry {
                path,
                kind: "symlink",
                data: target.clone(),
            }),
            FsNodeKind::Directory(children) => {
                out.push(FsEntry {
                    path: path.clone(),
                    kind: "dir",
                    data: String::new(),
                });
                for child in children {
                    walk(&path, child, out);
                }
            }
        }
    }
    let mut entries = Vec::new();
    if let FsNodeKind::Directory(children) = &root.kind {
        for child in children {
            walk("", child, &mut entries);
        }
    }
    MountSnapshot {
        guest: guest.to_string(),
        entries,
    }
}
