//! `denied`: authority is exactly what a process was granted. A leaker prints
//! its Console's CapId for anyone to read; init spawns a child without a
//! Console that tries that id and a few guessed ones. The kernel refuses every
//! attempt (the ids name nothing in the child's own CapTable), the child
//! reports the refusals to init over an endpoint, and init prints them.
//! One binary, three roles chosen by argv[0].
#![cfg(target_arch = "wasm32")]

use capos_rt::{
    BootPackage, CapRef, Console, Endpoint, EndpointFactory, Env, Error, Names, ProcessSpawner,
};
use capos_schema::interfaces::console as console_iface;

capos_rt::entry!(main);

fn main(env: &Env) -> Result<(), Error> {
    capos_rt::by_role(
        env,
        &[("init", init), ("leaker", leaker), ("denied", denied)],
    )
}

fn init(env: &Env) -> Result<(), Error> {
    let console = Console::open(env, "console")?;
    let spawner = ProcessSpawner::open(env, "spawner")?;
    let boot = BootPackage::open(env, "boot")?;
    let endpoint = EndpointFactory::open(env, "endpoints")?.create()?;
    let mut names = Names::from_capset(&env.capset);
    names.insert("report-1", endpoint.mint(1)?.cap());
    names.insert("report-2", endpoint.mint(2)?.cap());
    let children = boot.children()?;
    let [leaker_spec, denied_spec] = children.as_slice() else {
        return Err(Error::Other(
            "the denied manifest must list leaker and denied".into(),
        ));
    };

    let leaker = spawner.spawn_child(leaker_spec, &names)?;
    let leak = endpoint.receive()?;
    endpoint.reply(leak.call_id, b"thanks", &[])?;
    let leaked = String::from_utf8_lossy(&leak.data).into_owned();
    console.write_line(&format!(
        "denied: leaker (pid {}) published Console id {leaked}",
        leaker.pid
    ))?;

    let child = spawner.spawn_child_with_args(denied_spec, &names, &[&leaked])?;
    console.write_line(&format!(
        "denied: spawned pid {} with no Console, only an endpoint to report on; it knows id {leaked}",
        child.pid
    ))?;
    let report = endpoint.receive()?;
    endpoint.reply(report.call_id, b"thanks", &[])?;
    let report = String::from_utf8_lossy(&report.data).into_owned();
    for line in report.lines() {
        console.write_line(&format!("denied: pid {}: {line}", child.pid))?;
    }
    let (code, reason) = child.wait()?;
    leaker.wait()?;
    if code != 0 {
        return Err(Error::Other(format!(
            "the child {reason}: an attempt was not refused"
        )));
    }
    console.write_line("denied: every attempt was refused; the kernel kept serving everyone")?;
    Ok(())
}

fn leaker(env: &Env) -> Result<(), Error> {
    let console = Console::open(env, "console")?;
    let report = Endpoint::open(env, "report")?;
    let id = format!("{:#x}", console.cap().cap_id);
    console.write_line(&format!(
        "leaker (pid {}): my Console is capability {id}; anyone may read this line",
        env.pid
    ))?;
    report.call(id.as_bytes(), &[])?;
    Ok(())
}

/// Holds one capability, `report`. Tries to print anyway.
fn denied(env: &Env) -> Result<(), Error> {
    let report = Endpoint::open(env, "report")?;
    let seen = env
        .argv
        .get(1)
        .and_then(|s| u32::from_str_radix(s.trim_start_matches("0x"), 16).ok())
        .ok_or_else(|| Error::Other("usage: denied <leaked cap id>".into()))?;
    let attempts = [
        (format!("guessed id {:#x}", 0x0001_0000), 0x0001_0000),
        (format!("guessed id {:#x}", 0x0001_0001), 0x0001_0001),
        (format!("guessed id {:#x}", u32::MAX), u32::MAX),
        (format!("the leaker's Console id {seen:#x}"), seen),
    ];
    let mut lines = Vec::new();
    let mut allowed = 0;
    for (what, cap_id) in &attempts {
        let cap = CapRef {
            cap_id: *cap_id,
            interface_id: console_iface::INTERFACE_ID,
        };
        let params = Console::write_params(b"this process holds no Console\n");
        match capos_rt::call(cap, console_iface::method::WRITE, &params) {
            Ok(_) => {
                allowed += 1;
                lines.push(format!(
                    "Console.write through {what}: ALLOWED (this is a bug)"
                ));
            }
            Err(e) => lines.push(format!("Console.write through {what}: refused ({e})")),
        }
    }
    match capos_rt::release(CapRef {
        cap_id: seen,
        interface_id: console_iface::INTERFACE_ID,
    }) {
        Ok(()) => {
            allowed += 1;
            lines.push(format!("release of {seen:#x}: ALLOWED (this is a bug)"));
        }
        Err(e) => lines.push(format!("release of {seen:#x}: refused ({e})")),
    }
    report.call(lines.join("\n").as_bytes(), &[])?;
    if allowed > 0 {
        capos_rt::exit(1);
    }
    Ok(())
}
