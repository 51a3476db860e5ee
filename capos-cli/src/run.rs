//! `capos run FILE.wasm [ARGS...]`: run a WASI program as a capOS process in
//! headless Chromium, like `wasmtime run`. The program is init of a manifest
//! built here, granted exactly: stdin/stdout/stderr Consoles, a Timer and a
//! RandomSource, plus its arguments and environment (and, with `--fetch`, a
//! Fetch for its `capos_http` imports; with `--tcplisten`, a listening
//! socket for each address, fed from real TCP on the host).

use crate::boot::{self, BOOT_PATH, Mode};
use crate::catalogue;
use crate::daemon;
use crate::exit::{self, Failure};
use crate::mounts;
use crate::site::Site;
use crate::tcplisten;
use capos_config::manifest::{Terminal, validate_env};
use capos_schema::wasi_manifest::{self, WasiProgram};
use std::io::IsTerminal;
use std::path::Path;

pub struct RunArgs {
    pub dirs: Vec<String>,
    pub env: Vec<String>,
    pub timeout: u64,
    pub trap_unknown_imports: bool,
    pub fetch: bool,
    pub file: String,
    pub args: Vec<String>,
    /// Serve each --dir from a persistent store in this backend ("opfs",
    /// "idb") instead of kernel memory.
    pub dir_store: Option<String>,
    /// Addresses to accept TCP on, forwarded to the program's listening
    /// sockets.
    pub tcplisten: Vec<String>,
}

pub fn run(args: RunArgs) -> Result<u8, Failure> {
    if args.timeout == 0 {
        return Err(Failure::new(
            exit::USAGE,
            "--timeout must be at least 1 second",
        ));
    }
    let mappings = args
        .dirs
        .iter()
        .map(|d| mounts::parse(d))
        .collect::<Result<Vec<_>, _>>()?;
    // Files stay on the host (read when first opened), unless they seed
    // persistent stores (--dir-store), which are given their bytes.
    let mut host_files = Vec::new();
    let mut budget = mounts::Files::copied_budget();
    let mut files = if args.dir_store.is_some() {
        mounts::Files::Copied(&mut budget)
    } else {
        mounts::Files::Left(&mut host_files)
    };
    let mut trees = Vec::new();
    let mut left_out = Vec::new();
    for m in &mappings {
        let tree = mounts::read_tree(&m.host, &mut files, &mut left_out)?;
        trees.push((m.guest.clone(), tree));
    }
    if let Some(first) = left_out.first() {
        eprintln!(
            "capos: --dir: {} special file(s) (FIFOs, sockets, devices) left out, e.g. {}",
            left_out.len(),
            first.display()
        );
    }
    validate_env(&args.env).map_err(|e| Failure::new(exit::USAGE, format!("--env: {e}")))?;
    let store = match args.dir_store.as_deref() {
        None => "memory",
        Some(s @ ("opfs" | "idb")) => s,
        Some(other) => {
            return Err(Failure::new(
                exit::USAGE,
                format!("--dir-store: {other:?} is not opfs or idb"),
            ));
        }
    };
    // Host files are shared with the page for mounts in kernel memory: read
    // from the host, and the changed ones sent back.
    let share = if !mappings.is_empty() && args.dir_store.is_none() {
        Some(HostShare::make()?)
    } else {
        None
    };
    // A name of this run's own: the stores are the run's, like the mounts.
    let store_prefix = args
        .dir_store
        .as_ref()
        .map(|_| format!("run-{}", std::process::id()));
    let addrs = args
        .tcplisten
        .iter()
        .map(|a| tcplisten::parse(a))
        .collect::<Result<Vec<_>, _>>()?;
    let site = Site::discover()?;
    let program = load_program(&site, &args.file)?;
    // Bound before the boot: a port in use fails the run before it starts.
    let net = if addrs.is_empty() {
        None
    } else {
        Some(tcplisten::Hub::bind(&addrs)?)
    };
    let ports = net.as_ref().map(|n| n.ports()).unwrap_or_default();
    let name = match &program {
        Loaded::Runtime(entry) => entry.name.clone(),
        Loaded::Module(_) => Path::new(&args.file)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("program")
            .to_string(),
    };
    let mut argv = vec![args.file.clone()];
    argv.extend(args.args.iter().cloned());
    // Each stdio stream is a terminal to the program only if this
    // command's own is one (as wasmtime does): `| cat` gets no escape codes.
    let terminal = Terminal {
        input: std::io::stdin().is_terminal(),
        stdout: std::io::stdout().is_terminal(),
        stderr: std::io::stderr().is_terminal(),
    };
    let manifest = wasi_manifest::build(&WasiProgram {
        name: &name,
        program: match &program {
            Loaded::Module(bytes) => wasi_manifest::Program::Module(bytes),
            // Pinned to the hash the catalogue has now: the page refuses anything else.
            Loaded::Runtime(entry) => wasi_manifest::Program::Runtime {
                name: &entry.name,
                sha256: &entry.sha256,
            },
        },
        argv: &argv,
        env: &args.env,
        mounts: &trees,
        stores: &[],
        mount_stores: store_prefix.as_deref(),
        terminal,
        trap_unknown_imports: args.trap_unknown_imports,
        fetch: args.fetch,
        listen: &ports,
        host_files: share.as_ref().map_or("", |s| s.url.as_str()),
    });
    let timeout = std::time::Duration::from_secs(args.timeout);
    let finished = if daemon::enabled() {
        let shared = share.as_ref().map(|s| {
            (
                s.secret.as_str(),
                host_files.as_slice(),
                s.uploads.as_path(),
            )
        });
        daemon::run(
            &site.root,
            &manifest,
            shared,
            timeout,
            Mode::Run,
            store,
            net,
        )?
    } else {
        site.add_file(BOOT_PATH, manifest);
        if let Some(share) = &share {
            let files = crate::site::HostFiles {
                files: host_files.clone(),
                uploads: share.uploads.clone(),
            };
            site.add_host_files(&share.secret, files);
        }
        boot::boot_site(site, BOOT_PATH, args.timeout, Mode::Run, store, net)?
    };
    if !mappings.is_empty() {
        let written = write_back(
            &mappings,
            finished.filesystems.as_ref(),
            &host_files,
            share.as_ref().map(|s| s.uploads.as_path()),
        );
        if let (Err(_), Some(share)) = (&written, share) {
            // The changed files' bytes are still here: not deleted.
            eprintln!(
                "capos: the files the program changed are kept in {}",
                share.keep().display()
            );
        }
        written?;
    }
    Ok(finished.code)
}

/// What `capos run` was asked to run.
enum Loaded {
    Module(Vec<u8>),
    Runtime(catalogue::Entry),
}

/// A file is a module; a name that is no file is looked up in the runtime
/// catalogue (`python`, `qjs`).
fn load_program(site: &Site, file: &str) -> Result<Loaded, Failure> {
    let path = Path::new(file);
    if !path.exists() && !file.contains('/') {
        let runtimes = catalogue::read(&site.root)?;
        if let Some(entry) = runtimes.iter().find(|e| e.name == file) {
            return Ok(Loaded::Runtime(entry.clone()));
        }
        let names: Vec<String> = runtimes
            .iter()
            .map(|e| format!("{} ({})", e.name, e.version))
            .collect();
        return Err(Failure::new(
            exit::USAGE,
            format!(
                "{file} is neither a file nor a runtime; the runtimes are: {}",
                names.join(", ")
            ),
        ));
    }
    let program = std::fs::read(path)
        .map_err(|e| Failure::new(exit::USAGE, format!("cannot read {file}: {e}")))?;
    if !program.starts_with(b"\0asm") {
        return Err(Failure::new(
            exit::USAGE,
            format!("{file} is not a WebAssembly module"),
        ));
    }
    Ok(Loaded::Module(program))
}

/// Writes every mount's final contents back to its host directory.
fn write_back(
    mappings: &[mounts::DirMapping],
    snapshot: Option<&serde_json::Value>,
    host_files: &[std::path::PathBuf],
    uploads: Option<&Path>,
) -> Result<(), Failure> {
    let lost = |why: String| {
        Failure::new(
            exit::UNAVAILABLE,
            format!("--dir changes not written back: {why}"),
        )
    };
    let mounts = snapshot
        .and_then(|s| s.as_array())
        .ok_or_else(|| lost("the kernel sent no file-system snapshot".into()))?;
    for (mapping, mount) in mappings.iter().zip(mounts) {
        let entries = mount
            .get("entries")
            .and_then(|e| e.as_array())
            .ok_or_else(|| lost("malformed snapshot".into()))?;
        mounts::write_back(&mapping.host, entries, host_files, uploads).map_err(lost)?;
    }
    Ok(())
}

/// What a run shares with its page for its host files: the secret that
/// names them on the server, the `Manifest.hostFiles` path it makes, and a
/// private directory (mode 0700) where the page sends the bytes of the
/// files the run changed, removed when dropped unless kept.
struct HostShare {
    secret: String,
    url: String,
    uploads: std::path::PathBuf,
}

impl HostShare {
    fn make() -> Result<Self, Failure> {
        use std::os::unix::fs::DirBuilderExt as _;
        let secret = daemon::secret_hex()
            .map_err(|e| Failure::new(exit::UNAVAILABLE, format!("no random secret: {e}")))?;
        let uploads = std::env::temp_dir().join(format!("capos-run-{secret}"));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&uploads)
            .map_err(|e| Failure::new(exit::UNAVAILABLE, format!("{}: {e}", uploads.display())))?;
        Ok(Self {
            url: crate::site::host_files_url(&secret),
            secret,
            uploads,
        })
    }

    /// Leaves the uploads in place, for a person to recover from.
    fn keep(self) -> std::path::PathBuf {
        let dir = self.uploads.clone();
        std::mem::forget(self);
        dir
    }
}

impl Drop for HostShare {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.uploads);
    }
}
