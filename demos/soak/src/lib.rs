//! `soak`: processes coming and going, many times. init (argv: `init CYCLES CONCURRENT`)
//! spawns a child that exits at once and waits for it, CYCLES times; then spawns CONCURRENT
//! children at once and waits for them all. Each child holds a copy of init's Console, so each
//! spawn moves a capability in and each exit must release it. init pauses before and after (the
//! `soak: ready` and `soak: done` lines), when a driver reads the kernel's counts; anything left
//! behind shows as a difference.
#![cfg(target_arch = "wasm32")]

use capos_rt::{Console, Env, Error, Grant, ProcessSpawner, Timer, TransferMode};

capos_rt::entry!(main);

/// How long init holds still before the soak, and after it, for a driver to take its readings
/// (after is longer: the page may still be catching up with the last burst of events).
const PAUSE_BEFORE_NS: u64 = 1_000_000_000;
const PAUSE_AFTER_NS: u64 = 3_000_000_000;

fn main(env: &Env) -> Result<(), Error> {
    capos_rt::by_role(env, &[("init", init), ("child", child)])
}

fn init(env: &Env) -> Result<(), Error> {
    let console = Console::open(env, "console")?;
    let spawner = ProcessSpawner::open(env, "spawner")?;
    let timer = Timer::open(env, "timer")?;
    let number = |i: usize, default: usize| {
        env.argv
            .get(i)
            .and_then(|a| a.parse().ok())
            .unwrap_or(default)
    };
    let (cycles, concurrent) = (number(1, 1000), number(2, 100));
    let grants = [Grant {
        name: "console".into(),
        cap: console.cap(),
        mode: TransferMode::Copy,
    }];
    console.write_line("soak: ready")?;
    timer.sleep_ns(PAUSE_BEFORE_NS)?;

    let started = timer.now_ns()?;
    for _ in 0..cycles {
        let child = spawner.spawn("soak", &["child"], &grants)?;
        let (code, reason) = child.wait()?;
        if code != 0 {
            return Err(Error::Other(format!("child {}: {reason}", child.pid)));
        }
        // The handle is init's own capability: done with it, init lets it go.
        capos_rt::release(child.cap())?;
    }
    let serial_ms = (timer.now_ns()? - started) / 1_000_000;
    let started = timer.now_ns()?;
    let children = (0..concurrent)
        .map(|_| spawner.spawn("soak", &["child"], &grants))
        .collect::<Result<Vec<_>, _>>()?;
    for child in &children {
        let (code, reason) = child.wait()?;
        if code != 0 {
            return Err(Error::Other(format!("child {}: {reason}", child.pid)));
        }
        capos_rt::release(child.cap())?;
    }
    let concurrent_ms = (timer.now_ns()? - started) / 1_000_000;
    console.write_line(&format!(
        "soak: done: {cycles} spawn/exit cycles in {serial_ms} ms, then {concurrent} at once in {concurrent_ms} ms"
    ))?;
    timer.sleep_ns(PAUSE_AFTER_NS)
}

fn child(env: &Env) -> Result<(), Error> {
    // Holding its Console is the point: the exit must release it.
    Console::open(env, "console").map(drop)
}
