//! The validated form of a boot manifest.
//!
//! Manifests are authored in Cap'n Proto text (`schema/manifest.capnp`) and
//! compiled to binary at build time; the kernel decodes the binary into these
//! types and calls [`Manifest::validate`] before it spawns anything, so a bad
//! manifest is refused with a message instead of half-booting.

use crate::capset::is_valid_cap_name;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// Largest file the kernel's in-memory file system holds (bounds kernel
/// memory; the WASI shim checks it before a write it does not wait for).
pub const MAX_FILE_SIZE: u64 = 256 << 20;

/// Largest manifest the kernel accepts (binaries are embedded in it).
pub const MANIFEST_MAX_BYTES: usize = 64 << 20;
pub const ARGV_MAX_ITEMS: usize = 256;
pub const ARGV_MAX_BYTES: usize = 64 << 10;

/// A capability the kernel itself serves and can grant to init.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KernelService {
    /// Text output to the terminal.
    Console,
    /// Test-only: invoking it panics the kernel (proves panic handling).
    KernelPanicTrigger,
    /// Starts processes from the boot package's binaries.
    ProcessSpawner,
    /// The manifest's binaries and the children init is asked to spawn.
    BootPackage,
    /// Creates IPC endpoints.
    EndpointFactory,
    /// Reads the monotonic clock.
    Timer,
    /// Answers with what it is sent (for benchmarks).
    Echo,
    /// A Console writing to the error stream.
    Stderr,
    /// Random bytes.
    Random,
    /// HTTP to any URL (the root of every HttpEndpoint).
    Fetch,
    /// The manifest's own persistent key-value namespace.
    KvStore,
    /// The page's clipboard.
    Clipboard,
    /// The boot's framebuffer on the page.
    Display,
}

impl KernelService {
    pub const fn name(self) -> &'static str {
        match self {
            Self::Console => "console",
            Self::KernelPanicTrigger => "kernelPanicTrigger",
            Self::ProcessSpawner => "processSpawner",
            Self::BootPackage => "bootPackage",
            Self::EndpointFactory => "endpointFactory",
            Self::Timer => "timer",
            Self::Echo => "echo",
            Self::Stderr => "stderr",
            Self::Random => "random",
            Self::Fetch => "fetch",
            Self::KvStore => "kvStore",
            Self::Clipboard => "clipboard",
            Self::Display => "display",
        }
    }
}

/// Whether a transferred capability leaves the sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferMode {
    Copy,
    Move,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CapSource {
    /// Served by the kernel; only init may be granted these.
    Kernel(KernelService),
    /// One of the spawning process's capabilities, by its name there.
    FromParent { name: String, mode: TransferMode },
    /// A Directory on the manifest's mount of this index (init only).
    Mount(u32),
    /// A Listener on this port (init only; each port once).
    Listen(u16),
}

/// A directory tree the kernel holds: in memory (`capos run --dir`), or
/// persistent in the browser's storage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    /// The path it is granted as.
    pub guest: String,
    /// The tree; for a persistent mount, what a new store starts with.
    pub root: FsNode,
    /// Empty: in memory. Otherwise the persistent store's name.
    pub store: String,
    /// A persistent mount's limit on its files' bytes; 0: the browser's.
    pub quota_bytes: u64,
    /// The directory of the store it grants, relative ("": the root).
    pub store_path: String,
}

/// Whether `name` can name a persistent store: `[a-z0-9][a-z0-9-]*`, at
/// most 64 characters (it becomes a directory name in the browser's
/// storage, so it is kept plain).
pub fn is_valid_store_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 64
        && bytes[0] != b'-'
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FsNode {
    pub name: String,
    pub kind: FsNodeKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FsNodeKind {
    File(Vec<u8>),
    Directory(Vec<FsNode>),
    Symlink(String),
    /// A file whose bytes stay on the host until a program opens it
    /// (`capos run --dir`): `size` is what it held when the manifest was made.
    HostFile {
        id: u64,
        size: u64,
    },
}

/// Whether `name` can be one directory entry's name.
pub fn is_valid_entry_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\0'])
        && name.len() <= 255
}

impl FsNode {
    /// Whether a host file is anywhere in this tree.
    pub fn has_host_files(&self) -> bool {
        match &self.kind {
            FsNodeKind::HostFile { .. } => true,
            FsNodeKind::Directory(children) => children.iter().any(FsNode::has_host_files),
            _ => false,
        }
    }

    fn validate(&self, is_root: bool) -> Result<(), String> {
        if !is_root && !is_valid_entry_name(&self.name) {
            return Err(format!("bad file name {:?}", self.name));
        }
        if let FsNodeKind::Directory(children) = &self.kind {
            for (i, child) in children.iter().enumerate() {
                child.validate(false)?;
                if children[..i].iter().any(|c| c.name == child.name) {
                    return Err(format!("{:?} appears twice in {:?}", child.name, self.name));
                }
            }
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapGrant {
    /// The name the process finds the capability under in its CapSet.
    pub name: String,
    pub source: CapSource,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessSpec {
    /// Name of a blob in the manifest.
    pub binary: String,
    pub argv: Vec<String>,
    pub caps: Vec<CapGrant>,
    /// `KEY=VALUE` strings.
    pub env: Vec<String>,
    /// Imports the process's host does not provide trap when called,
    /// instead of keeping the program from starting.
    pub trap_unknown_imports: bool,
    /// The most linear memory the process may have, in MiB; 0: the default.
    pub memory_limit_mib: u32,
}

/// A process's memory limit when its spec names none, in MiB.
pub const DEFAULT_MEMORY_LIMIT_MIB: u32 = 1024;
/// The largest a spec may name: wasm32's whole address space.
pub const MAX_MEMORY_LIMIT_MIB: u32 = 4096;

/// The memory limit that applies for `requested_mib` (0: the default), or why it is refused.
pub fn memory_limit_mib(requested_mib: u32) -> Result<u32, String> {
    match requested_mib {
        0 => Ok(DEFAULT_MEMORY_LIMIT_MIB),
        n if n > MAX_MEMORY_LIMIT_MIB => Err(format!(
            "a memory limit of {n} MiB is over the most a process can have ({MAX_MEMORY_LIMIT_MIB} MiB)"
        )),
        n => Ok(n),
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedBlob {
    pub name: String,
    pub binary: Binary,
}

/// What a process runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Binary {
    /// A wasm module's bytes, carried by the manifest.
    Module(Vec<u8>),
    /// A language runtime from the site's catalogue, which the kernel's host loads (and checks
    /// against its SHA-256) when a process is started from it.
    Runtime(RuntimeRef),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimeRef {
    /// Its catalogue name, e.g. `python`.
    pub name: String,
    /// The SHA-256 (lowercase hex) it must have; `None`: the catalogue's.
    pub sha256: Option<String>,
}

impl RuntimeRef {
    pub fn validate(&self) -> Result<(), String> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 32
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !name_ok {
            return Err(format!(
                "runtime name {:?} is not 1-32 of a-z, 0-9 and -",
                self.name
            ));
        }
        if let Some(hash) = &self.sha256
            && !(hash.len() == 64
                && hash
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        {
            return Err(format!(
                "runtime {}: SHA-256 {hash:?} is not 64 lowercase hex digits",
                self.name
            ));
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    pub name: String,
    pub blobs: Vec<NamedBlob>,
    pub init: ProcessSpec,
    /// What init is asked to spawn.
    pub children: Vec<ProcessSpec>,
    /// Directory trees held in memory.
    pub mounts: Vec<Mount>,
    /// Which standard streams reach a terminal.
    pub terminal: Terminal,
    /// Where the bytes of [`FsNodeKind::HostFile`] nodes are read from (a
    /// path on the page's origin under [`HOST_FILES_PREFIX`]); empty if none.
    pub host_files: String,
}

/// How deep a mount's directories may nest (a mount's root is depth 0).
pub const MAX_TREE_DEPTH: u32 = 128;

/// Host files are served under this path of the page's own origin, and
/// nowhere else: a manifest from a URL cannot make the kernel read others.
pub const HOST_FILES_PREFIX: &str = "/hostfs/";

/// Which of the system's standard streams are attached to a terminal (not
/// a pipe or a file): on the page all are; `capos run` says what its own are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Terminal {
    pub input: bool,
    pub stdout: bool,
    pub stderr: bool,
}

impl Default for Terminal {
    fn default() -> Self {
        Self {
            input: true,
            stdout: true,
            stderr: true,
        }
    }
}

impl Manifest {
    pub fn blob(&self, name: &str) -> Option<&NamedBlob> {
        self.blobs.iter().find(|b| b.name == name)
    }

    /// Checks everything the kernel relies on before booting.
    pub fn validate(&self) -> Result<(), String> {
        for (i, blob) in self.blobs.iter().enumerate() {
            if !is_valid_cap_name(&blob.name) {
                return Err(format!("blob name {:?} is not a valid name", blob.name));
            }
            if self.blobs[..i].iter().any(|b| b.name == blob.name) {
                return Err(format!("blob {:?} appears twice", blob.name));
            }
            if let Binary::Runtime(runtime) = &blob.binary {
                runtime
                    .validate()
                    .map_err(|e| format!("blob {:?}: {e}", blob.name))?;
            }
        }
        self.init.validate(self)?;
        for mount in &self.mounts {
            if !matches!(mount.root.kind, FsNodeKind::Directory(_)) {
                return Err(format!("mount {:?} is not a directory", mount.guest));
            }
            mount.root.validate(true)?;
            if mount.root.has_host_files() {
                if !mount.store.is_empty() {
                    return Err(format!(
                        "mount {:?}: a persistent mount cannot hold host files",
                        mount.guest
                    ));
                }
                let plain = self
                    .host_files
                    .strip_prefix(HOST_FILES_PREFIX)
                    .is_some_and(|rest| {
                        rest.bytes().all(|b| {
                            b.is_ascii_alphanumeric() || b == b'/' || b == b'-' || b == b'_'
                        })
                    });
                if !plain {
                    return Err(format!(
                        "mount {:?} holds host files, but hostFiles {:?} is not a path under {HOST_FILES_PREFIX}",
                        mount.guest, self.host_files
                    ));
                }
            }
            if !mount.store.is_empty() {
                if !is_valid_store_name(&mount.store) {
                    return Err(format!(
                        "mount {:?}: store name {:?} is not [a-z0-9][a-z0-9-]*, at most 64 characters",
                        mount.guest, mount.store
                    ));
                }
                let parts = mount.store_path.split('/').filter(|p| !p.is_empty());
                if mount.store_path.starts_with('/')
                    || parts.clone().any(|p| !is_valid_entry_name(p))
                {
                    return Err(format!(
                        "mount {:?}: storePath {:?} is not a relative path of plain names",
                        mount.guest, mount.store_path
                    ));
                }
            } else if mount.quota_bytes != 0 || !mount.store_path.is_empty() {
                return Err(format!(
                    "mount {:?}: quotaBytes and storePath are for persistent mounts (name a store)",
                    mount.guest
                ));
            }
        }
        for grant in &self.init.caps {
            if let CapSource::Mount(index) = grant.source
                && index as usize >= self.mounts.len()
            {
                return Err(format!(
                    "capability {:?} names mount {index}, but there are {}",
                    grant.name,
                    self.mounts.len()
                ));
            }
        }
        let mut ports = alloc::collections::BTreeSet::new();
        for grant in &self.init.caps {
            if let CapSource::Listen(port) = grant.source {
                if port == 0 {
                    return Err(format!(
                        "capability {:?} listens on port 0, which is not a port",
                        grant.name
                    ));
                }
                if !ports.insert(port) {
                    return Err(format!(
                        "capability {:?} listens on port {port}, which is already granted (a port is bound once)",
                        grant.name
                    ));
                }
            }
        }
        if let Some(grant) = self
            .init
            .caps
            .iter()
            .find(|g| matches!(g.source, CapSource::FromParent { .. }))
        {
            return Err(format!(
                "init's capability {:?} is fromParent, but init has no parent",
                grant.name
            ));
        }
        for (i, child) in self.children.iter().enumerate() {
            child
                .validate(self)
                .map_err(|e| format!("child {i} ({}): {e}", child.binary))?;
            if let Some(grant) = child.caps.iter().find(|g| {
                matches!(
                    g.source,
                    CapSource::Kernel(_) | CapSource::Mount(_) | CapSource::Listen(_)
                )
            }) {
                return Err(format!(
                    "child {i} ({}): capability {:?} comes from the kernel; only init may hold kernel services (pass init's with fromParent)",
                    child.binary, grant.name
                ));
            }
        }
        Ok(())
    }
}

impl ProcessSpec {
    pub fn validate(&self, manifest: &Manifest) -> Result<(), String> {
        memory_limit_mib(self.memory_limit_mib)?;
        if manifest.blob(&self.binary).is_none() {
            return Err(format!(
                "binary {:?} is not among the manifest's blobs ({})",
                self.binary,
                manifest
                    .blobs
                    .iter()
                    .map(|b| b.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if self.argv.len() > ARGV_MAX_ITEMS {
            return Err(format!(
                "{} arguments (at most {ARGV_MAX_ITEMS})",
                self.argv.len()
            ));
        }
        let argv_bytes: usize = self.argv.iter().map(|a| a.len() + 1).sum();
        if argv_bytes > ARGV_MAX_BYTES {
            return Err(format!(
                "arguments take {argv_bytes} bytes (at most {ARGV_MAX_BYTES})"
            ));
        }
        if self.argv.iter().any(|a| a.contains('\0')) {
            return Err("an argument contains a NUL byte".into());
        }
        validate_env(&self.env)?;
        for (i, grant) in self.caps.iter().enumerate() {
            if !is_valid_cap_name(&grant.name) {
                return Err(format!(
                    "capability name {:?} is not a valid name",
                    grant.name
                ));
            }
            if self.caps[..i].iter().any(|g| g.name == grant.name) {
                return Err(format!("capability {:?} is granted twice", grant.name));
            }
            if let CapSource::FromParent { name, .. } = &grant.source
                && !is_valid_cap_name(name)
            {
                return Err(format!(
                    "parent capability name {name:?} is not a valid name"
                ));
            }
        }
        Ok(())
    }
}

/// Checks environment strings: `KEY=VALUE`, no NUL, within the size limits.
pub fn validate_env(env: &[String]) -> Result<(), String> {
    if env.len() > ARGV_MAX_ITEMS {
        return Err(format!(
            "{} environment variables (at most {ARGV_MAX_ITEMS})",
            env.len()
        ));
    }
    let bytes: usize = env.iter().map(|e| e.len() + 1).sum();
    if bytes > ARGV_MAX_BYTES {
        return Err(format!(
            "environment takes {bytes} bytes (at most {ARGV_MAX_BYTES})"
        ));
    }
    if let Some(bad) = env
        .iter()
        .find(|e| e.contains('\0') || !e.contains('=') || e.starts_with('='))
    {
        return Err(format!("environment entry {bad:?} is not KEY=VALUE"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    fn manifest() -> Manifest {
        Manifest {
            name: "hello".to_string(),
            blobs: vec![NamedBlob {
                name: "hello".to_string(),
                binary: Binary::Module(vec![0, 97, 115, 109]),
            }],
            init: ProcessSpec {
                binary: "hello".to_string(),
                argv: vec!["hello".to_string()],
                caps: vec![CapGrant {
                    name: "console".to_string(),
                    source: CapSource::Kernel(KernelService::Console),
                }],
                env: vec!["HOME=/".to_string()],
                trap_unknown_imports: false,
                memory_limit_mib: 0,
            },
            children: vec![ProcessSpec {
                binary: "hello".to_string(),
                argv: vec!["child".to_string()],
                caps: vec![CapGrant {
                    name: "out".to_string(),
                    source: CapSource::FromParent {
                        name: "console".to_string(),
                        mode: TransferMode::Copy,
                    },
                }],
                env: Vec::new(),
                trap_unknown_imports: false,
                memory_limit_mib: 0,
            }],
            mounts: Vec::new(),
            terminal: Terminal::default(),
            host_files: String::new(),
        }
    }

    #[test]
    fn a_good_manifest_validates() {
        assert_eq!(manifest().validate(), Ok(()));
    }

    #[test]
    fn missing_binary_is_named_in_the_error() {
        let mut m = manifest();
        m.init.binary = "nope".to_string();
        let err = m.validate().unwrap_err();
        assert!(err.contains("\"nope\"") && err.contains("hello"), "{err}");
    }

    #[test]
    fn duplicate_and_bad_names_are_refused() {
        let mut m = manifest();
        m.blobs.push(m.blobs[0].clone());
        assert!(m.validate().unwrap_err().contains("twice"));
        let mut m = manifest();
        m.init.caps.push(m.init.caps[0].clone());
        assert!(m.validate().unwrap_err().contains("twice"));
        let mut m = manifest();
        m.init.caps[0].name = "no spaces".to_string();
        assert!(m.validate().is_err());
    }

    #[test]
    fn memory_limits_default_and_are_bounded() {
        assert_eq!(memory_limit_mib(0), Ok(DEFAULT_MEMORY_LIMIT_MIB));
        assert_eq!(memory_limit_mib(64), Ok(64));
        assert!(
            memory_limit_mib(MAX_MEMORY_LIMIT_MIB + 1)
                .unwrap_err()
                .contains("over the most")
        );
        let mut m = manifest();
        m.init.memory_limit_mib = 5000;
        assert!(m.validate().unwrap_err().contains("memory limit"));
    }

    #[test]
    fn runtime_blobs_need_a_catalogue_name_and_a_well_formed_hash() {
        let runtime = |name: &str, sha256: Option<&str>| {
            let mut m = manifest();
            m.blobs[0].binary = Binary::Runtime(RuntimeRef {
                name: name.to_string(),
                sha256: sha256.map(str::to_string),
            });
            m.validate()
        };
        assert!(runtime("python", None).is_ok());
        assert!(runtime("qjs", Some(&"ab".repeat(32))).is_ok());
        assert!(runtime("", None).unwrap_err().contains("runtime name"));
        assert!(runtime("../x", None).unwrap_err().contains("runtime name"));
        let upper = "AB".repeat(32);
        assert!(
            runtime("qjs", Some(&upper))
                .unwrap_err()
                .contains("SHA-256")
        );
        assert!(runtime("qjs", Some("abc")).unwrap_err().contains("SHA-256"));
    }

    #[test]
    fn kernel_services_go_to_init_only_and_parents_only_to_children() {
        let mut m = manifest();
        m.children[0].caps[0].source = CapSource::Kernel(KernelService::Console);
        assert!(m.validate().unwrap_err().contains("only init"));
        let mut m = manifest();
        m.init.caps[0].source = CapSource::FromParent {
            name: "x".to_string(),
            mode: TransferMode::Move,
        };
        assert!(m.validate().unwrap_err().contains("no parent"));
        let mut m = manifest();
        m.children[0].binary = "ghost".to_string();
        assert!(m.validate().unwrap_err().starts_with("child 0 (ghost)"));
    }

    #[test]
    fn environment_entries_must_be_key_value() {
        let mut m = manifest();
        m.init.env = vec!["NOEQUALS".to_string()];
        assert!(m.validate().unwrap_err().contains("KEY=VALUE"));
        m.init.env = vec!["=x".to_string()];
        assert!(m.validate().is_err());
        m.init.env = vec!["A=b=c".to_string(), "EMPTY=".to_string()];
        assert_eq!(m.validate(), Ok(()));
    }

    #[test]
    fn oversized_argv_is_refused() {
        let mut m = manifest();
        m.init.argv = vec!["x".repeat(1000); 100];
        assert!(m.validate().unwrap_err().contains("bytes"));
    }

    #[test]
    fn host_files_need_a_host_files_path_and_an_in_memory_mount() {
        let mut m = manifest();
        m.mounts.push(Mount {
            guest: "/data".to_string(),
            root: FsNode {
                name: String::new(),
                kind: FsNodeKind::Directory(vec![FsNode {
                    name: "big".to_string(),
                    kind: FsNodeKind::HostFile {
                        id: 0,
                        size: 1 << 30,
                    },
                }]),
            },
            store: String::new(),
            quota_bytes: 0,
            store_path: String::new(),
        });
        assert!(
            m.validate()
                .unwrap_err()
                .contains("not a path under /hostfs/")
        );
        for elsewhere in ["https://example.com/hostfs/", "/hostfs/../etc/", "/other/"] {
            m.host_files = elsewhere.to_string();
            assert!(m.validate().is_err(), "{elsewhere}");
        }
        m.host_files = "/hostfs/0123abcd/".to_string();
        assert_eq!(m.validate(), Ok(()));
        m.mounts[0].store = "disk".to_string();
        assert!(m.validate().unwrap_err().contains("cannot hold host files"));
    }
}
