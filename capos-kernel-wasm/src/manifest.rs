//! Decodes a binary `Manifest` message (schema/manifest.capnp) into the
//! validated form of `capos_config::manifest`.

use capos_config::manifest::{
    Binary, CapGrant, CapSource, FsNode, FsNodeKind, KernelService, MANIFEST_MAX_BYTES,
    MAX_TREE_DEPTH, Manifest, Mount, NamedBlob, ProcessSpec, RuntimeRef, Terminal,
};
use capos_schema::manifest_capnp;

/// Decodes and validates a manifest; every failure is a message for a human.
pub fn decode(bytes: &[u8]) -> Result<Manifest, String> {
    if bytes.len() > MANIFEST_MAX_BYTES {
        return Err(format!(
            "manifest is {} bytes (at most {MANIFEST_MAX_BYTES})",
            bytes.len()
        ));
    }
    let options = capnp::message::ReaderOptions {
        traversal_limit_in_words: Some(bytes.len() / 8 * 2 + 1024),
        // A directory level is two pointers deep (FsNode, its list of children).
        nesting_limit: 2 * MAX_TREE_DEPTH as i32 + 16,
    };
    let message = capnp::serialize::read_message_from_flat_slice(&mut &bytes[..], options)
        .map_err(|e| format!("not a Cap'n Proto manifest: {e}"))?;
    let root = message
        .get_root::<manifest_capnp::manifest::Reader>()
        .map_err(|e| format!("bad manifest: {e}"))?;
    let manifest = read(root).map_err(|e| format!("bad manifest: {e}"))?;
    manifest
        .validate()
        .map_err(|e| format!("invalid manifest: {e}"))?;
    Ok(manifest)
}

fn read(root: manifest_capnp::manifest::Reader<'_>) -> capnp::Result<Manifest> {
    let mut blobs = Vec::new();
    for blob in root.get_blobs()? {
        let name = blob.get_name()?.to_string()?;
        let runtime = blob.get_runtime()?.to_string()?;
        let binary = if runtime.is_empty() {
            Binary::Module(blob.get_data()?.to_vec())
        } else {
            if !blob.get_data()?.is_empty() {
                return Err(capnp::Error::failed(format!(
                    "blob {name:?} names runtime {runtime:?} and also carries bytes: one or the other"
                )));
            }
            let sha256 = blob.get_runtime_sha256()?.to_string()?;
            Binary::Runtime(RuntimeRef {
                name: runtime,
                sha256: (!sha256.is_empty()).then_some(sha256),
            })
        };
        blobs.push(NamedBlob { name, binary });
    }
    let mut children = Vec::new();
    for child in root.get_children()? {
        children.push(read_spec(child)?);
    }
    let mut mounts = Vec::new();
    for mount in root.get_mounts()? {
        mounts.push(Mount {
            guest: mount.get_guest()?.to_string()?,
            root: read_node(mount.get_root()?, 0)?,
            store: mount.get_store()?.to_string()?,
            quota_bytes: mount.get_quota_bytes(),
            store_path: mount.get_store_path()?.to_string()?,
        });
    }
    Ok(Manifest {
        name: root.get_name()?.to_string()?,
        blobs,
        init: read_spec(root.get_init()?)?,
        children,
        mounts,
        terminal: {
            let t = root.get_terminal()?;
            Terminal {
                input: t.get_input(),
                stdout: t.get_stdout(),
                stderr: t.get_stderr(),
            }
        },
        host_files: root.get_host_files()?.to_string()?,
    })
}

fn read_node(node: manifest_capnp::fs_node::Reader<'_>, depth: u32) -> capnp::Result<FsNode> {
    use manifest_capnp::fs_node::Which;
    if depth > MAX_TREE_DEPTH {
        return Err(capnp::Error::failed("mount nests too deeply".into()));
    }
    let kind = match node.which()? {
        Which::File(data) => FsNodeKind::File(data?.to_vec()),
        Which::Symlink(target) => FsNodeKind::Symlink(target?.to_string()?),
        Which::HostFile(file) => {
            let file = file?;
            FsNodeKind::HostFile {
                id: file.get_id(),
                size: file.get_size(),
            }
        }
        Which::Directory(children) => {
            let mut out = Vec::new();
            for child in children? {
                out.push(read_node(child, depth + 1)?);
            }
            FsNodeKind::Directory(out)
        }
    };
    Ok(FsNode {
        name: node.get_name()?.to_string()?,
        kind,
    })
}

pub fn read_spec(spec: manifest_capnp::process_spec::Reader<'_>) -> capnp::Result<ProcessSpec> {
    let mut argv = Vec::new();
    for arg in spec.get_argv()? {
        argv.push(arg?.to_string()?);
    }
    let mut caps = Vec::new();
    for grant in spec.get_caps()? {
        use manifest_capnp::cap_grant::source::Which;
        let source = match grant.get_source().which()? {
            Which::Kernel(service) => {
                use manifest_capnp::KernelService as S;
                CapSource::Kernel(match service? {
                    S::Console => KernelService::Console,
                    S::KernelPanicTrigger => KernelService::KernelPanicTrigger,
                    S::ProcessSpawner => KernelService::ProcessSpawner,
                    S::BootPackage => KernelService::BootPackage,
                    S::EndpointFactory => KernelService::EndpointFactory,
                    S::Timer => KernelService::Timer,
                    S::Echo => KernelService::Echo,
                    S::Stderr => KernelService::Stderr,
                    S::Random => KernelService::Random,
                    S::Fetch => KernelService::Fetch,
                    S::KvStore => KernelService::KvStore,
                    S::Clipboard => KernelService::Clipboard,
                    S::Display => KernelService::Display,
                })
            }
            Which::Mount(index) => CapSource::Mount(index),
            Which::Listen(port) => CapSource::Listen(port),
            Which::FromParent(parent) => {
                let parent = parent?;
                CapSource::FromParent {
                    name: parent.get_name()?.to_string()?,
                    mode: parent.get_mode()?.into(),
                }
            }
        };
        caps.push(CapGrant {
            name: grant.get_name()?.to_string()?,
            source,
        });
    }
    let mut env = Vec::new();
    for var in spec.get_env()? {
        env.push(var?.to_string()?);
    }
    Ok(ProcessSpec {
        binary: spec.get_binary()?.to_string()?,
        argv,
        caps,
        env,
        trap_unknown_imports: spec.get_trap_unknown_imports(),
        memory_limit_mib: spec.get_memory_limit_mi_b(),
    })
}
