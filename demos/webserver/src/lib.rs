//! `webserver`: init holds a Listener for each of ports 8080-8083 (its
//! manifest grants them) and moves each to a server it spawns: the Rust
//! static-server serves /site on 8080, the C c-server answers on 8081, a
//! JavaScript handler (QuickJS) on 8082 and a Python one (RustPython) on
//! 8083. No server could listen anywhere else: a port is a capability. The
//! page's preview pane (or `/preview/8080/` in the address bar) sends each
//! request through a ServiceWorker to the server as a connection.
#![cfg(target_arch = "wasm32")]

use capos_rt::{BootPackage, Console, Env, Error, Listener, Names, ProcessSpawner};

capos_rt::entry!(main);

fn main(env: &Env) -> Result<(), Error> {
    let console = Console::open(env, "console")?;
    let mut ports = Vec::new();
    for name in ["http", "http-c", "http-js", "http-py"] {
        ports.push(Listener::open(env, name)?.port()?.to_string());
    }
    console.write_line(&format!(
        "webserver: init holds the listeners for ports {}; it hands one to each server \
         (Rust, C, JavaScript, Python).",
        ports.join(", ")
    ))?;
    console.write_line(&format!(
        "webserver: the preview shows /preview/{}/; try /preview/PORT/ for the others.",
        ports[0]
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
