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

/// A binary manifest: one blob, init running it with `GRANTS`, `argv` and `env`.
pub fn build(name: &str, program: &[u8], argv: &[String], env: &[String]) -> Vec<u8> {
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
        let bytes = build(
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
