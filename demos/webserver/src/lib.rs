//! `webserver`: init holds a Listener for port 8080 and one for 8081 (its
//! manifest grants them) and moves each to a WASI server it spawns: the
//! Rust static-server serves /site on 8080, the C c-server answers on 8081.
//! Neither server could listen anywhere else: a port is a capability. The
//! page's preview pane (or `/preview/8080/` in the address bar) sends each
//! request through a ServiceWorker to the server as a connection.
#![cfg(target_arch = "wasm32")]

use capos_rt::{BootPackage, Console, Env, Error, Listener, Names, ProcessSpawner};

capos_rt::entry!(main);

fn main(env: &Env) -> Result<(), Error> {
    let console = Console::open(env, "console")?;
    let ports = [
        Listener::open(env, "http")?.port()?,
        Listener::open(env, "http-c")?.port()?,
    ];
    console.write_line(&format!(
        "webserver: init holds the listeners for ports {} and {}; it hands one to each server.",
        ports[0], ports[1]
    ))?;
    console.write_line(&format!(
        "webserver: open the preview (or /preview/{}/ and /preview/{}/) to reach them.",
        ports[0], ports[1]
    ))?;
    let spawner = ProcessSpawner::open(env, "spawner")?;
    let names = Names::from_capset(&env.capset);
    let children = BootPackage::open(env, "boot")?.children()?;
    let mut running = Vec::new();
    for spec in &children {
        running.push((spec.binary.clone(), spawner.spawn_child(spec, &names)?));
    }
    for (binary, child) in running {
        let (code, reason) = child.wait()?;
        if code != 0 {
            return Err(Error::Other(format!("{binary}: {reason}")));
        }
    }
    Ok(())
}
