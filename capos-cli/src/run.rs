//! `capos run FILE.wasm [ARGS...]`: run a WASI program as a capOS process in
//! headless Chromium, like `wasmtime run`. The program is init of a manifest
//! built here, granted exactly: stdin/stdout/stderr Consoles, a Timer and a
//! RandomSource, plus its arguments and environment.

use crate::boot::{self, BOOT_PATH, Mode};
use crate::exit::{self, Failure};
use crate::site::Site;
use capos_config::manifest::validate_env;
use capos_schema::manifest_capnp::{KernelService, manifest};
use std::path::Path;

pub struct RunArgs {
    pub dirs: Vec<String>,
    pub env: Vec<String>,
    pub timeout: u64,
    pub file: String,
    pub args: Vec<String>,
}

/// The capabilities a WASI program is granted, by CapSet name.
const GRANTS: &[(&str, KernelService)] = &[
    ("stdin", KernelService::Console),
    ("stdout", KernelService::Console),
    ("stderr", KernelService::Stderr),
    ("timer", KernelService::Timer),
    ("random", KernelService::Random),
];

pub fn run(args: RunArgs) -> Result<u8, Failure> {
    if args.timeout == 0 {
        return Err(Failure::new(
            exit::USAGE,
            "--timeout must be at least 1 second",
        ));
    }
    if let Some(dir) = args.dirs.first() {
        return Err(Failure::new(
            exit::USAGE,
            format!("--dir {dir}: the file-system capability is not served yet (see docs/wasi.md)"),
        ));
    }
    validate_env(&args.env).map_err(|e| Failure::new(exit::USAGE, format!("--env: {e}")))?;
    let program = std::fs::read(&args.file)
        .map_err(|e| Failure::new(exit::USAGE, format!("cannot read {}: {e}", args.file)))?;
    if !program.starts_with(b"\0asm") {
        return Err(Failure::new(
            exit::USAGE,
            format!("{} is not a WebAssembly module", args.file),
        ));
    }
    let name = Path::new(&args.file)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("program")
        .to_string();
    let mut argv = vec![args.file.clone()];
    argv.extend(args.args.iter().cloned());
    let manifest = build_manifest(&name, &program, &argv, &args.env);
    let mut site = Site::discover()?;
    site.add_file(BOOT_PATH, manifest);
    boot::boot_site(site, BOOT_PATH, args.timeout, Mode::Run)
}

/// The binary manifest: one blob, init running it with the WASI grants.
fn build_manifest(name: &str, program: &[u8], argv: &[String], env: &[String]) -> Vec<u8> {
    let mut message = capnp::message::Builder::new_default();
    let mut root = message.init_root::<manifest::Builder>();
    root.set_name(name);
    let mut blob = root.reborrow().init_blobs(1).get(0);
    blob.set_name("program");
    blob.set_data(program);
    let mut init = root.init_init();
    init.set_binary("program");
    let mut list = init.reborrow().init_argv(argv.len() as u32);
    for (i, a) in argv.iter().enumerate() {
        list.set(i as u32, a);
    }
    let mut list = init.reborrow().init_env(env.len() as u32);
    for (i, e) in env.iter().enumerate() {
        list.set(i as u32, e);
    }
    let mut caps = init.init_caps(GRANTS.len() as u32);
    for (i, (cap_name, service)) in GRANTS.iter().enumerate() {
        let mut grant = caps.reborrow().get(i as u32);
        grant.set_name(cap_name);
        grant.init_source().set_kernel(*service);
    }
    capnp::serialize::write_message_to_words(&message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_grants_exactly_the_wasi_capabilities() {
        let bytes = build_manifest(
            "p",
            b"\0asm",
            &["p.wasm".into(), "x".into()],
            &["A=1".into()],
        );
        let reader = capnp::serialize::read_message(&mut &bytes[..], Default::default()).unwrap();
        let m = reader.get_root::<manifest::Reader>().unwrap();
        let init = m.get_init().unwrap();
        assert_eq!(init.get_binary().unwrap(), "program");
        assert_eq!(init.get_argv().unwrap().len(), 2);
        assert_eq!(init.get_env().unwrap().get(0).unwrap(), "A=1");
        let names: Vec<String> = init
            .get_caps()
            .unwrap()
            .iter()
            .map(|g| g.get_name().unwrap().to_string().unwrap())
            .collect();
        assert_eq!(names, ["stdin", "stdout", "stderr", "timer", "random"]);
    }
}
