//! `revoke`: what killing a process takes away. init gives a server the
//! endpoint and a client a call-only copy (badge 7). The client calls; the
//! server takes the call and then spins forever without answering. init
//! kills the server through its ProcessHandle: the kernel revokes everything
//! the server held (its capabilities, the answer it owed), and the client,
//! blocked in its call, is answered `PeerGone` instead of hanging.
//! One binary, three roles chosen by argv[0].
#![cfg(target_arch = "wasm32")]

use capos_rt::config::ring::CapError;
use capos_rt::{
    BootPackage, Console, Endpoint, EndpointFactory, Env, Error, Names, ProcessSpawner, Timer,
};

capos_rt::entry!(main);

/// How long init lets each stage show (a blocked receive, then a blocked
/// call), so a person watching the inspector sees it.
const PAUSE_NS: u64 = 400_000_000;

fn main(env: &Env) -> Result<(), Error> {
    capos_rt::by_role(
        env,
        &[
            ("init", init),
            ("revoke-server", server),
            ("revoke-client", client),
        ],
    )
}

fn init(env: &Env) -> Result<(), Error> {
    let console = Console::open(env, "console")?;
    let spawner = ProcessSpawner::open(env, "spawner")?;
    let boot = BootPackage::open(env, "boot")?;
    let timer = Timer::open(env, "timer")?;
    let endpoint = EndpointFactory::open(env, "endpoints")?.create()?;
    let mut names = Names::from_capset(&env.capset);
    names.insert("endpoint", endpoint.cap());
    names.insert("client", endpoint.mint(7)?.cap());
    let children = boot.children()?;
    let [server_spec, client_spec] = children.as_slice() else {
        return Err(Error::Other(
            "the revoke manifest must list revoke-server and revoke-client".into(),
        ));
    };
    let server = spawner.spawn_child(server_spec, &names)?;
    console.write_line(&format!(
        "revoke: spawned the server as pid {}; it waits in Endpoint.receive",
        server.pid
    ))?;
    timer.sleep_ns(PAUSE_NS)?;
    let client = spawner.spawn_child(client_spec, &names)?;
    console.write_line(&format!(
        "revoke: spawned the client as pid {}; it calls the server, which never answers",
        client.pid
    ))?;
    timer.sleep_ns(PAUSE_NS)?;
    server.kill()?;
    let (_, reason) = server.wait()?;
    console.write_line(&format!(
        "revoke: the server (pid {}) was {reason}; everything it held is revoked",
        server.pid
    ))?;
    let (code, reason) = client.wait()?;
    console.write_line(&format!("revoke: the client (pid {}) {reason}", client.pid))?;
    if code != 0 {
        return Err(Error::Other(format!("the client failed: {reason}")));
    }
    Ok(())
}

fn server(env: &Env) -> Result<(), Error> {
    let console = Console::open(env, "console")?;
    let endpoint = Endpoint::open(env, "endpoint")?;
    let call = endpoint.receive()?;
    console.write_line(&format!(
        "revoke-server: took a call from badge {}; spinning without answering",
        call.badge
    ))?;
    loop {
        core::hint::spin_loop();
    }
}

fn client(env: &Env) -> Result<(), Error> {
    let console = Console::open(env, "console")?;
    let server = Endpoint::open(env, "server")?;
    console.write_line("revoke-client: calling the server")?;
    match server.call(b"are you there?", &[]) {
        Err(e) if e.cap_error() == Some(CapError::PeerGone) => {
            console.write_line(&format!("revoke-client: my call was answered: {e}"))?;
            Ok(())
        }
        Err(e) => Err(e),
        Ok(_) => Err(Error::Other("a server that was killed answered".into())),
    }
}
