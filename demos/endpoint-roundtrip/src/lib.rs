//! `endpoint-roundtrip`: init makes an endpoint and spawns a pinger holding a
//! call-only capability to it; the pinger makes 10,000 calls, each a round
//! trip through the kernel to init and back, and reports its timing.
//! One binary, two roles chosen by argv[0].
#![cfg(target_arch = "wasm32")]

use capos_rt::{BootPackage, Console, EndpointFactory, Env, Error, Names, ProcessSpawner, Timer};

capos_rt::entry!(main);

const ROUND_TRIPS: u32 = 10_000;

fn main(env: &Env) -> Result<(), Error> {
    capos_rt::by_role(env, &[("init", init), ("pinger", pinger)])
}

fn init(env: &Env) -> Result<(), Error> {
    let console = Console::open(env, "console")?;
    let spawner = ProcessSpawner::open(env, "spawner")?;
    let boot = BootPackage::open(env, "boot")?;
    let endpoint = EndpointFactory::open(env, "endpoints")?.create()?;
    let mut names = Names::from_capset(&env.capset);
    names.insert("client", endpoint.mint(1)?.cap());
    console.write_line(
        "endpoint-roundtrip: init made an endpoint and minted a call-only copy (badge 1)",
    )?;
    let mut children = Vec::new();
    for spec in boot.children()? {
        let handle = spawner.spawn_child(&spec, &names)?;
        console.write_line(&format!(
            "endpoint-roundtrip: spawned {} as pid {} holding that copy",
            spec.argv.first().map_or("child", String::as_str),
            handle.pid
        ))?;
        children.push(handle);
    }

    // Echo every call until the pinger says it is done.
    let mut served = 0u32;
    let mut call = endpoint.receive()?;
    let (reported, elapsed_ns) = loop {
        if let Some(report) = call.data.strip_prefix(b"done ") {
            let report = String::from_utf8_lossy(report).into_owned();
            endpoint.reply(call.call_id, b"bye", &[])?;
            break parse_report(&report)?;
        }
        if call.badge != 1 {
            return Err(Error::Other(format!(
                "call with unexpected badge {}",
                call.badge
            )));
        }
        served += 1;
        call = endpoint.reply_and_receive(call.call_id, &call.data, &[])?;
    };
    for child in &children {
        let (code, reason) = child.wait()?;
        if code != 0 {
            return Err(Error::Other(format!("pinger (pid {}) {reason}", child.pid)));
        }
    }
    if served != ROUND_TRIPS || reported != ROUND_TRIPS {
        return Err(Error::Other(format!(
            "expected {ROUND_TRIPS} round trips, served {served}, pinger reported {reported}"
        )));
    }
    let mean_us = elapsed_ns as f64 / 1_000.0 / f64::from(reported);
    console.write_line(&format!(
        "endpoint-roundtrip: {reported} round trips, mean {mean_us:.1} us per round trip ({:.1} ms in all)",
        elapsed_ns as f64 / 1e6
    ))?;
    Ok(())
}

fn parse_report(report: &str) -> Result<(u32, u64), Error> {
    let bad = || Error::Other(format!("bad report {report:?}"));
    let mut parts = report.split(' ');
    let count = parts.next().and_then(|c| c.parse().ok()).ok_or_else(bad)?;
    let ns = parts.next().and_then(|n| n.parse().ok()).ok_or_else(bad)?;
    Ok((count, ns))
}

/// Holds only its endpoint capability and a timer: no Console.
fn pinger(env: &Env) -> Result<(), Error> {
    let server = capos_rt::Endpoint::open(env, "server")?;
    let timer = Timer::open(env, "timer")?;
    let start = timer.now_ns()?;
    for i in 0..ROUND_TRIPS {
        let payload = i.to_le_bytes();
        let reply = server.call(&payload, &[])?;
        if reply.data != payload {
            return Err(Error::Other(format!("round trip {i}: echo mismatch")));
        }
    }
    let elapsed = timer.now_ns()? - start;
    server.call(format!("done {ROUND_TRIPS} {elapsed}").as_bytes(), &[])?;
    Ok(())
}
