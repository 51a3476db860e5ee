//! Test demo `dead-server`: a server receives a call (with a capability in
//! it) and exits without replying. The caller, blocked in the call, gets
//! PeerGone instead of hanging, and the kernel goes on serving: init then
//! spawns another process that runs normally.
//! One binary, three roles chosen by argv[0].
#![cfg(target_arch = "wasm32")]

use capos_rt::config::ring::CapError;
use capos_rt::{
    BootPackage, Console, Endpoint, EndpointFactory, Env, Error, Names, ProcessSpawner,
    TransferMode,
};

capos_rt::entry!(main);

fn main(env: &Env) -> Result<(), Error> {
    capos_rt::by_role(
        env,
        &[("init", init), ("quitter", quitter), ("survivor", survivor)],
    )
}

fn init(env: &Env) -> Result<(), Error> {
    let console = Console::open(env, "console")?;
    let spawner = ProcessSpawner::open(env, "spawner")?;
    let boot = BootPackage::open(env, "boot")?;
    let endpoint = EndpointFactory::open(env, "endpoints")?.create()?;
    let client = endpoint.mint(1)?;
    let mut names = Names::from_capset(&env.capset);
    names.insert("endpoint", endpoint.cap());
    let children = boot.children()?;
    let [quitter_spec, survivor_spec] = children.as_slice() else {
        return Err(Error::Other(
            "the dead-server manifest must list quitter and survivor".into(),
        ));
    };
    let quitter = spawner.spawn_child(quitter_spec, &names)?;
    console.write_line(&format!(
        "dead-server: calling pid {}, which will exit without replying",
        quitter.pid
    ))?;
    match client.call(b"please answer", &[(console.cap(), TransferMode::Copy)]) {
        Err(e) if e.cap_error() == Some(CapError::PeerGone) => {
            console.write_line(&format!(
                "dead-server: the blocked call failed as it should: {e}"
            ))?;
        }
        Err(e) => return Err(e),
        Ok(_) => return Err(Error::Other("a server that exited replied".into())),
    }
    let (code, reason) = quitter.wait()?;
    console.write_line(&format!(
        "dead-server: quitter (pid {}) {reason}",
        quitter.pid
    ))?;
    if code != 3 {
        return Err(Error::Other(format!("quitter exited {code}, expected 3")));
    }
    let survivor = spawner.spawn_child(survivor_spec, &names)?;
    let (code, reason) = survivor.wait()?;
    console.write_line(&format!(
        "dead-server: survivor (pid {}) {reason}",
        survivor.pid
    ))?;
    if code != 0 {
        return Err(Error::Other(
            "the kernel stopped serving after a server died".into(),
        ));
    }
    Ok(())
}

fn quitter(env: &Env) -> Result<(), Error> {
    let console = Console::open(env, "console")?;
    let endpoint = Endpoint::open(env, "endpoint")?;
    let call = endpoint.receive()?;
    console.write_line(&format!(
        "quitter: received a call carrying {} capability(ies); exiting without replying",
        call.caps.len()
    ))?;
    capos_rt::exit(3)
}

fn survivor(env: &Env) -> Result<(), Error> {
    Console::open(env, "console")?.write_line("survivor: the kernel still serves new processes")
}
