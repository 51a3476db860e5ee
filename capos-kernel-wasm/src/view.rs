//! View models: all the main thread ever learns from the kernel. They name
//! processes by pid, and capabilities by count, or (for the inspector) by
//! the object they designate; never by `CapId`.

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
    /// "running", or "blocked" while it sleeps in `cap_enter`.
    pub state: &'static str,
    /// Its parked calls, as `Interface.method` (what it is blocked on).
    pub blocked_on: Vec<String>,
    /// How many capabilities the process holds.
    pub caps: usize,
}

/// One process as the inspector shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InspectedProcess {
    pub pid: u32,
    pub name: String,
    /// running, blocked, exited, killed, panicked, trapped or failed.
    pub state: &'static str,
    pub blocked_on: Vec<String>,
    pub exit_code: Option<i32>,
    pub reason: String,
    pub counters: Counters,
    /// In table order; none once ended.
    pub caps: Vec<CapView>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counters {
    pub sqes: u64,
    pub cqes: u64,
    pub in_flight: u64,
    pub doorbell_waits: u64,
    pub cq_stalls: u64,
}

/// A capability as the inspector shows it: where it came from and what it
/// designates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CapView {
    /// Its CapSet name, when it was granted at spawn.
    pub name: String,
    /// "granted", "received" or "returned".
    pub origin: &'static str,
    /// The parent that granted it, or the process it was received from
    /// (0: the kernel).
    pub from_pid: u32,
    /// The call whose results carried it ("Endpoint.mint"), if returned.
    pub via: String,
    pub interface: &'static str,
    /// Decimal: a u64 does not fit a JavaScript number.
    pub badge: String,
    /// The object it designates: a number assigned by the inspector.
    pub object: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectView {
    pub object: u32,
    pub interface: &'static str,
    /// A few words telling it from others of its interface, or "".
    pub note: String,
}

/// One finished call in the trace.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TraceCall {
    pub pid: u32,
    pub interface: &'static str,
    pub method: &'static str,
    /// "ok" or the error's name ("UnknownCap").
    pub outcome: &'static str,
    /// It was parked (the caller waited) before it finished.
    pub parked: bool,
    /// On the kernel Worker's `performance.now()` clock.
    pub start_ms: f64,
    pub dur_us: f64,
    /// What a failed call's error says.
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
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
    /// The inspector's picture of every process and what it holds.
    Inspector {
        seq: u64,
        at_ms: f64,
        processes: Vec<InspectedProcess>,
        objects: Vec<ObjectView>,
    },
    /// The newest calls finished since the last trace event; `dropped`
    /// older ones were not kept.
    Trace { calls: Vec<TraceCall>, dropped: u64 },
    /// A process ended and was reaped.
    ProcessExited {
        pid: u32,
        name: String,
        /// How: exited, killed, panicked, trapped or failed.
        state: &'static str,
        code: i32,
        reason: String,
    },
    /// The manifest could not be booted.
    BootError { message: String },
    /// The mounted directory trees as the system leaves them (just before
    /// `Halted`), for `capos run --dir` to write back to the host.
    Filesystems { mounts: Vec<MountSnapshot> },
    /// The boot's file trees, for the page's file browser (only while it
    /// is shown; again whenever they change).
    Files { mounts: Vec<FilesMount> },
    /// A persistent store could not commit (storage full, or the browser
    /// refused): its changes are still in memory, and `sync` reports it.
    StoreFailed { store: String, message: String },
    /// The ports the boot's manifest granted: connections to them (the
    /// page's preview) reach the processes holding their Listeners.
    Listening { ports: Vec<u16> },
    /// init ended; the system is down (every process has been reaped).
    Halted { code: i32, reason: String },
}

/// One tree in the file browser. Sizes are numbers of bytes (f64: a u64
/// does not fit a JavaScript number; these stay far below 2^53).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FilesMount {
    /// What edits and reads name it by.
    pub index: u32,
    /// Where programs find it (`/home`), or `/name` for a store the boot
    /// holds for the page only.
    pub guest: String,
    /// The persistent store's name; empty for a tree in memory.
    pub store: String,
    /// Granted to the boot's programs (else held for the page only).
    pub granted: bool,
    pub used_bytes: f64,
    /// 0: no limit but the browser's.
    pub quota_bytes: f64,
    /// Parents before children, at most `MAX_FILE_ROWS`.
    pub entries: Vec<FileRow>,
    /// Entries left out past `MAX_FILE_ROWS` (said, never silently).
    pub omitted: u32,
}

/// The most entries a file view lists per tree.
pub const MAX_FILE_ROWS: usize = 5000;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileRow {
    /// Relative to the tree, `/`-separated.
    pub path: String,
    /// "file", "dir" or "symlink".
    pub kind: &'static str,
    pub size: f64,
    pub mtime_ms: f64,
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
    /// A persistent mount's store and the directory of it granted: the host
    /// reports what storage holds there once the last commit has landed.
    pub store: String,
    pub store_path: String,
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
    /// A file whose bytes are still the host file of this id (`capos run
    /// --dir`): `data` is empty, and nothing of it needs writing but its
    /// place, if it moved.
    pub origin: Option<u64>,
    /// A file whose new bytes were sent to the host as upload N (`capos
    /// run --dir`): `data` is empty.
    pub upload: Option<u64>,
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
                origin: None,
                upload: None,
            }),
            FsNodeKind::HostFile { id, .. } => out.push(FsEntry {
                path,
                kind: "file",
                data: String::new(),
                origin: Some(*id),
                upload: None,
            }),
            FsNodeKind::Symlink(target) => out.push(FsEntry {
                path,
                kind: "symlink",
                data: target.clone(),
                origin: None,
                upload: None,
            }),
            FsNodeKind::Directory(children) => {
                out.push(FsEntry {
                    path: path.clone(),
                    kind: "dir",
                    data: String::new(),
                    origin: None,
                    upload: None,
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
        store: String::new(),
        store_path: String::new(),
        entries,
    }
}
