//! `ipc`: an ipc-server and two ipc-clients. Each client holds a copy of the
//! server's endpoint with its own badge, and sends the server a Console of
//! its own, attenuated to prefix its lines; the server tells the clients
//! apart by badge and answers each through the Console it was sent.
//! One binary, three roles chosen by argv[0].
#![cfg(target_arch = "wasm32")]

use capos_rt::config::ring::CapError;
use capos_rt::{
    BootPackage, CapRef, Console, Endpoint, EndpointFactory, Env, Error, Names, ProcessSpawner,
    TransferMode,
};

capos_rt::entry!(main);

fn main(env: &Env) -> Result<(), Error> {
    capos_rt::by_role(
        env,
        &[
            ("init", init),
            ("ipc-server", server),
            ("ipc-client", client),
        ],
    )
}

fn init(env: &Env) -> Result<(), Error> {
    let console = Console::open(env, "console")?;
    let spawner = ProcessSpawner::open(env, "spawner")?;
    let boot = BootPackage::open(env, "boot")?;
    let endpoint = EndpointFactory::open(env, "endpoints")?.create()?;
    let mut names = Names::from_capset(&env.capset);
    names.insert("endpoint", endpoint.cap());
    names.insert("client-1", endpoint.mint(1)?.cap());
    names.insert("client-2", endpoint.mint(2)?.cap());
    console
        .write_line("ipc: init made an endpoint and two call-only copies, badge 1 and badge 2")?;
    let mut children = Vec::new();
    for spec in boot.children()? {
        let handle = spawner.spawn_child(&spec, &names)?;
        let name = spec.argv.join(" ");
        console.write_line(&format!("ipc: spawned {name} as pid {}", handle.pid))?;
        children.push((name, handle));
    }
    let mut failed = 0;
    for (name, handle) in &children {
        let (code, reason) = handle.wait()?;
        console.write_line(&format!("ipc: {name} (pid {}) {reason}", handle.pid))?;
        failed += usize::from(code != 0);
    }
    if failed > 0 {
        return Err(Error::Other(format!("{failed} process(es) failed")));
    }
    console.write_line("ipc: all processes exited cleanly")?;
    Ok(())
}

fn server(env: &Env) -> Result<(), Error> {
    let console = Console::open(env, "console")?;
    let endpoint = Endpoint::open(env, "endpoint")?;
    console.write_line("ipc-server: waiting for calls")?;
    let mut calls = 0;
    let mut next = endpoint.receive();
    loop {
        let call = match next {
            Ok(call) => call,
            Err(e) if e.cap_error() == Some(CapError::PeerGone) => break,
            Err(e) => return Err(e),
        };
        calls += 1;
        let text = String::from_utf8_lossy(&call.data).into_owned();
        console.write_line(&format!(
            "ipc-server: call from badge {}: {text:?}",
            call.badge
        ))?;
        if let Some(&theirs) = call.caps.first() {
            let theirs = Console::from_cap(theirs)?;
            theirs.write_line(&format!(
                "ipc-server wrote this through the console you sent (your badge is {})",
                call.badge
            ))?;
            capos_rt::release(theirs.cap())?;
        }
        let answer = format!("hello, badge {}", call.badge);
        next = endpoint.reply_and_receive(call.call_id, answer.as_bytes(), &[]);
    }
    console.write_line(&format!(
        "ipc-server: no client left after {calls} calls; exiting"
    ))?;
    Ok(())
}

fn client(env: &Env) -> Result<(), Error> {
    let console = Console::open(env, "console")?;
    let server = Endpoint::open(env, "server")?;
    let n = env.argv.get(1).map_or("?", String::as_str);
    let mine: CapRef = console.with_prefix(&format!("[client {n}] "))?.cap();
    console.write_line(&format!(
        "ipc-client {n}: calling the server, sending it a console that prefixes my lines"
    ))?;
    let reply = server.call(
        format!("hi from client {n}").as_bytes(),
        &[(mine, TransferMode::Move)],
    )?;
    console.write_line(&format!(
        "ipc-client {n}: server replied {:?}",
        String::from_utf8_lossy(&reply.data)
    ))?;
    Ok(())
}
