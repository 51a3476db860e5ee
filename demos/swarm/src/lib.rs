//! `swarm`: 25 servers and 25 clients, each client calling its own server
//! (badged with its number) for a few seconds, then init reports any that
//! failed. 51 processes at once: the inspector's graph, states
//! and trace at scale, and `make bench`'s page frame-rate figure.
//! One binary, three roles chosen by argv[0].
#![cfg(target_arch = "wasm32")]

use capos_rt::config::ring::CapError;
use capos_rt::{
    BootPackage, Console, Endpoint, EndpointFactory, Env, Error, Names, ProcessSpawner, Timer,
};

capos_rt::entry!(main);

/// Server/client pairs (the manifest lists one child of each per pair).
const PAIRS: u64 = 25;
/// How long each client keeps calling.
const CALLING_NS: u64 = 6_000_000_000;

fn main(env: &Env) -> Result<(), Error> {
    capos_rt::by_role(
        env,
        &[
            ("init", init),
            ("swarm-server", server),
            ("swarm-client", client),
        ],
    )
}

fn init(env: &Env) -> Result<(), Error> {
    let console = Console::open(env, "console")?;
    let spawner = ProcessSpawner::open(env, "spawner")?;
    let boot = BootPackage::open(env, "boot")?;
    let factory = EndpointFactory::open(env, "endpoints")?;
    let mut names = Names::from_capset(&env.capset);
    for i in 1..=PAIRS {
        let endpoint = factory.create()?;
        names.insert(&format!("client-{i}"), endpoint.mint(i)?.cap());
        names.insert(&format!("endpoint-{i}"), endpoint.cap());
    }
    let mut children = Vec::new();
    for spec in boot.children()? {
        children.push((spec.argv.join(" "), spawner.spawn_child(&spec, &names)?));
    }
    console.write_line(&format!(
        "swarm: {} processes calling in pairs for {} s",
        children.len(),
        CALLING_NS / 1_000_000_000
    ))?;
    let mut failed = 0;
    for (name, handle) in &children {
        let (code, reason) = handle.wait()?;
        if code != 0 {
            console.write_line(&format!("swarm: {name} (pid {}) {reason}", handle.pid))?;
            failed += 1;
        }
    }
    if failed > 0 {
        return Err(Error::Other(format!("{failed} process(es) failed")));
    }
    console.write_line("swarm: every pair finished")?;
    Ok(())
}

fn server(env: &Env) -> Result<(), Error> {
    let endpoint = Endpoint::open(env, "endpoint")?;
    let mut next = endpoint.receive();
    loop {
        let call = match next {
            Ok(call) => call,
            Err(e) if e.cap_error() == Some(CapError::PeerGone) => return Ok(()),
            Err(e) => return Err(e),
        };
        next = endpoint.reply_and_receive(call.call_id, &call.data, &[]);
    }
}

fn client(env: &Env) -> Result<(), Error> {
    let server = Endpoint::open(env, "server")?;
    let timer = Timer::open(env, "timer")?;
    let start = timer.now_ns()?;
    while timer.now_ns()? - start < CALLING_NS {
        server.call(b"ping", &[])?;
    }
    Ok(())
}
