//! The manifest that runs one WASI program as init: what `capos run` and the
//! page's "run .wasm" both boot. One place decides what such a program may
//! hold.

use crate::manifest_capnp::{KernelService, manifest};

/// The capabilities a WASI program is granted, by CapSet name (the names
/// capos-wasi looks for).
pub const GRANTS: &[(&str, KernelService)] = &[
    ("stdin", KernelService::Console),
    ("stdout", KernelService::Console),
    ("stderr", KernelService::Stderr),
    ("timer", KernelService::Timer),
    ("random", KernelService::Random),
];

/// A directory tree to mount, as read from the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostNode {
    File(Vec<u8>),
    /// A file whose bytes stay on the host until the program opens one
    /// (read from `WasiProgram::host_files` followed by `id`).
    HostFile {
        id: u64,
        size: u64,
    },
    Directory(Vec<(String, HostNode)>),
    Symlink(String),
}

fn set_node(mut b: crate::manifest_capnp::fs_node::Builder<'_>, name: &str, node: &HostNode) {
    b.set_name(name);
    match node {
        HostNode::File(bytes) => b.set_file(bytes),
        HostNode::HostFile { id, size } => {
            let mut file = b.init_host_file();
            file.set_id(*id);
            file.set_size(*size);
        }
        HostNode::Symlink(target) => b.set_symlink(target),
        HostNode::Directory(children) => {
            let mut list = b.init_directory(children.len() as u32);
            for (i, (child_name, child)) in children.iter().enumerate() {
                set_node(list.reborrow().get(i as u32), child_name, child);
            }
        }
    }
}

/// A WASI module: its bytes, or a runtime from the site's catalogue by name, pinned to a
/// SHA-256 or (empty) to whatever the catalogue says.
#[derive(Clone, Copy, Debug)]
pub enum Program<'a> {
    Module(&'a [u8]),
    Runtime { name: &'a str, sha256: &'a str },
}

/// One WASI program to run as init, and what it runs with.
#[derive(Clone, Copy, Debug)]
pub struct WasiProgram<'a> {
    /// The manifest's (and the process's) name.
    pub name: &'a str,
    /// What it runs.
    pub program: Program<'a>,
    pub argv: &'a [String],
    pub env: &'a [String],
    /// A Directory ("dir.N") on each: guest path, tree.
    pub mounts: &'a [(String, HostNode)],
    /// Then one on each persistent store: guest path, store name, and the
    /// directory of the store it grants ("": its root).
    pub stores: &'a [(String, String, String)],
    /// Serve each of `mounts` from a persistent store named
    /// `PREFIX-N` (seeded with its tree) instead of kernel memory
    /// (`capos run --dir-store`).
    pub mount_stores: Option<&'a str>,
    /// Which stdio streams reach a terminal.
    pub terminal: capos_config::manifest::Terminal,
    /// Imports the shim does not provide trap when called, instead of
    /// refusing to start the program (`--trap-unknown-imports`).
    pub trap_unknown_imports: bool,
    /// Also grant a Fetch ("fetch"): HTTP to any URL through the browser,
    /// for the shim's `capos_http` imports (`capos run --fetch`).
    pub fetch: bool,
    /// A Listener ("listen.N") on each of these ports: preopened listening
    /// sockets (`capos run --tcplisten`).
    pub listen: &'a [u16],
    /// Where the bytes of the mounts' `HostFile`s are served ("": none).
    pub host_files: &'a str,
}

/// A binary manifest: one blob, init running it with `GRANTS`, its argv
/// and env, and a Directory on each of its mounts.
pub fn build(p: &WasiProgram<'_>) -> Vec<u8> {
    let WasiProgram {
        name,
        program,
        argv,
        env,
        mounts,
        stores,
        mount_stores,
        terminal,
        trap_unknown_imports,
        fetch,
        listen,
        host_files,
    } = *p;
    let mut message = capnp::message::Builder::new_default();
    let mut root = message.init_root::<manifest::Builder>();
    root.set_name(name);
    root.set_host_files(host_files);
    let mut blob = root.reborrow().init_blobs(1).get(0);
    blob.set_name("program");
    match program {
        Program::Module(bytes) => blob.set_data(bytes),
        Program::Runtime { name, sha256 } => {
            blob.set_runtime(name);
            blob.set_runtime_sha256(sha256);
        }
    }
    let mut list = root
        .reborrow()
        .init_mounts((mounts.len() + stores.len()) as u32);
    for (i, (guest, tree)) in mounts.iter().enumerate() {
        let mut m = list.reborrow().get(i as u32);
        m.set_guest(guest);
        if let Some(prefix) = mount_stores {
            m.set_store(format!("{prefix}-{i}"));
        }
        set_node(m.init_root(), "", tree);
    }
    for (i, (guest, store, path)) in stores.iter().enumerate() {
        let mut m = list.reborrow().get((mounts.len() + i) as u32);
        m.set_guest(guest);
        m.set_store(store);
        m.set_store_path(path);
        m.init_root().init_directory(0);
    }
    let mounts_total = mounts.len() + stores.len();
    let mut flags = root.reborrow().init_terminal();
    flags.set_input(terminal.input);
    flags.set_stdout(terminal.stdout);
    flags.set_stderr(terminal.stderr);
    let mut init = root.init_init();
    init.set_binary("program");
    init.set_trap_unknown_imports(trap_unknown_imports);
    let mut list = init.reborrow().init_argv(argv.len() as u32);
    for (i, a) in argv.iter().enumerate() {
        list.set(i as u32, a);
    }
    let mut list = init.reborrow().init_env(env.len() as u32);
    for (i, e) in env.iter().enumerate() {
        list.set(i as u32, e);
    }
    let network: &[(&str, KernelService)] = if fetch {
        &[("fetch", KernelService::Fetch)]
    } else {
        &[]
    };
    let services: Vec<_> = GRANTS.iter().chain(network).collect();
    let mut caps = init.init_caps((services.len() + mounts_total + listen.len()) as u32);
    for (i, (cap_name, service)) in services.iter().enumerate() {
        let mut grant = caps.reborrow().get(i as u32);
        grant.set_name(cap_name);
        grant.init_source().set_kernel(*service);
    }
    for i in 0..mounts_total {
        let mut grant = caps.reborrow().get((services.len() + i) as u32);
        grant.set_name(format!("dir.{i}"));
        grant.init_source().set_mount(i as u32);
    }
    for (i, port) in listen.iter().enumerate() {
        let mut grant = caps
            .reborrow()
            .get((services.len() + mounts_total + i) as u32);
        grant.set_name(format!("listen.{i}"));
        grant.init_source().set_listen(*port);
    }
    capnp::serialize::write_message_to_words(&message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_grants_exactly_the_wasi_capabilities() {
        let tree = HostNode::Directory(vec![("a.txt".into(), HostNode::File(b"hi".to_vec()))]);
        let bytes = build(&WasiProgram {
            name: "p",
            program: Program::Module(b"\0asm"),
            argv: &["p.wasm".into(), "x".into()],
            env: &["A=1".into()],
            mounts: &[("/data".into(), tree)],
            stores: &[],
            mount_stores: None,
            terminal: capos_config::manifest::Terminal {
                input: true,
                stdout: false,
                stderr: true,
            },
            trap_unknown_imports: true,
            fetch: false,
            listen: &[8080],
            host_files: "",
        });
        let reader = capnp::serialize::read_message(&mut &bytes[..], Default::default()).unwrap();
        let m = reader.get_root::<manifest::Reader>().unwrap();
        let init = m.get_init().unwrap();
        assert_eq!(init.get_binary().unwrap(), "program");
        assert!(init.get_trap_unknown_imports());
        let terminal = m.get_terminal().unwrap();
        assert!(terminal.get_input() && !terminal.get_stdout() && terminal.get_stderr());
        assert_eq!(init.get_argv().unwrap().len(), 2);
        assert_eq!(init.get_env().unwrap().get(0).unwrap(), "A=1");
        let names: Vec<String> = init
            .get_caps()
            .unwrap()
            .iter()
            .map(|g| g.get_name().unwrap().to_string().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "stdin", "stdout", "stderr", "timer", "random", "dir.0", "listen.0"
            ]
        );
        let mount = m.get_mounts().unwrap().get(0);
        assert_eq!(mount.get_guest().unwrap(), "/data");
    }
}
