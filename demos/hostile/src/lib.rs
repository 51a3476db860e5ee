//! `hostile`: processes that try to break the capability model, and what the kernel does to
//! each. init runs them one after the other and checks every outcome:
//!
//! - `forger` calls a Console through 1,000,000 capability ids it was never given: every
//!   generation of its first 15 table slots (other processes' ids among them) and random ids.
//!   None may be accepted.
//! - `flooder` submits malformed entries without pause (unknown opcode, flags set, unknown
//!   method, garbage params, the wrong interface); each must be answered with an error. Its
//!   neighbour, init, times its own calls before and during the flood.
//! - `stalled` stops reading its completions while it submits: the kernel must stop taking its
//!   entries once the completion queue is full (backpressure), and lose none of them.
//! - `spin-server`, `trap-server` and `panic-server` each take a call and never answer: one
//!   spins until init kills it, one traps, one panics. Their caller must get `PeerGone`, not hang.
//! - `hog` allocates without end under a 64 MiB memory limit: it must be stopped at the limit
//!   with a reason that says so, and the tab must not notice.
//!
//! One binary, every role chosen by argv[0].
#![cfg(target_arch = "wasm32")]

use capos_rt::config::ring::{CapError, OP_CALL, OP_NOP, Sqe};
use capos_rt::{
    CapRef, Console, Endpoint, EndpointFactory, Env, Error, Grant, ProcessSpawner, Timer,
    TransferMode,
};
use capos_schema::interfaces::{console as console_iface, timer as timer_iface};

capos_rt::entry!(main);

const BINARY: &str = "hostile";
const FORGED_IDS: u32 = 1_000_000;
/// Table slots whose every generation the forger tries (15 x 65,536 ids).
const SWEPT_SLOTS: u32 = 15;
const FLOOD_ENTRIES: usize = 300_000;
const TIMED_CALLS: u64 = 2_000;
const HOG_LIMIT_MIB: u32 = 64;

fn main(env: &Env) -> Result<(), Error> {
    capos_rt::by_role(
        env,
        &[
            ("init", init),
            ("forger", forger),
            ("flooder", flooder),
            ("stalled", stalled),
            ("spin-server", spin_server),
            ("trap-server", trap_server),
            ("panic-server", panic_server),
            ("caller", caller),
            ("hog", hog),
        ],
    )
}

fn init(env: &Env) -> Result<(), Error> {
    let console = Console::open(env, "console")?;
    let spawner = ProcessSpawner::open(env, "spawner")?;
    let endpoints = EndpointFactory::open(env, "endpoints")?;
    let timer = Timer::open(env, "timer")?;
    let say = |text: &str| console.write_line(&format!("hostile: {text}"));
    let copy_console = || Grant {
        name: "console".into(),
        cap: console.cap(),
        mode: TransferMode::Copy,
    };
    let mut failures = Vec::new();

    // Forged ids. init's own ids go along: they name nothing in the forger's table.
    let own = console.cap().cap_id.to_string();
    let forger = spawner.spawn(BINARY, &["forger", &own], &[copy_console()])?;
    let (code, reason) = forger.wait()?;
    if code != 0 {
        failures.push(format!("forger: {reason}"));
    }
    // The kernel kept answering everyone else meanwhile.
    timer.now_ns()?;

    // The flood, and init's own call latency before and during it.
    let quiet = mean_call_ns(&timer)?;
    let flooder = spawner.spawn(BINARY, &["flooder"], &[copy_console()])?;
    let during = mean_call_ns(&timer)?;
    let (code, reason) = flooder.wait()?;
    if code != 0 {
        failures.push(format!("flooder: {reason}"));
    }
    say(&format!(
        "a neighbour's Timer.now during the flood: {:.1} us, quiet {:.1} us (ratio {:.2})",
        during as f64 / 1000.0,
        quiet as f64 / 1000.0,
        during as f64 / quiet.max(1) as f64
    ))?;

    let stalled = spawner.spawn(BINARY, &["stalled"], &[copy_console()])?;
    let (code, reason) = stalled.wait()?;
    if code != 0 {
        failures.push(format!("stalled: {reason}"));
    }

    for (server_role, ending) in [
        ("spin-server", "killed"),
        ("trap-server", "trapped"),
        ("panic-server", "panicked"),
    ] {
        let endpoint = endpoints.create()?;
        let call_only = endpoint.mint(1)?;
        let server = spawner.spawn(
            BINARY,
            &[server_role],
            &[
                copy_console(),
                Grant {
                    name: "endpoint".into(),
                    cap: endpoint.cap(),
                    mode: TransferMode::Move,
                },
            ],
        )?;
        let caller = spawner.spawn(
            BINARY,
            &["caller", server_role],
            &[
                copy_console(),
                Grant {
                    name: "server".into(),
                    cap: call_only.cap(),
                    mode: TransferMode::Move,
                },
            ],
        )?;
        if server_role == "spin-server" {
            // Long enough for the call to be taken and the spinning to start.
            timer.sleep_ns(300_000_000)?;
            server.kill()?;
        }
        let (_, server_reason) = server.wait()?;
        let (caller_code, caller_reason) = caller.wait()?;
        say(&format!(
            "{server_role} (pid {}) {server_reason}; its caller (pid {}) {caller_reason}",
            server.pid, caller.pid
        ))?;
        if !server_reason.contains(ending) {
            failures.push(format!("{server_role} was not {ending}: {server_reason}"));
        }
        if caller_code != 0 {
            failures.push(format!("the caller of {server_role}: {caller_reason}"));
        }
    }

    let hog =
        spawner.spawn_with_memory_limit(BINARY, &["hog"], &[copy_console()], HOG_LIMIT_MIB)?;
    let (code, reason) = hog.wait()?;
    say(&format!("hog (pid {}) {reason}", hog.pid))?;
    if code != 134 || !reason.contains(&format!("at its memory limit of {HOG_LIMIT_MIB} MiB")) {
        failures.push(format!("hog was not stopped at its memory limit: {reason}"));
    }

    if failures.is_empty() {
        say("every attempt was refused; the kernel and init kept running")
    } else {
        Err(Error::Other(format!("hostile: {}", failures.join("; "))))
    }
}

/// Mean nanoseconds of one Timer.now round trip over `TIMED_CALLS` calls.
fn mean_call_ns(timer: &Timer) -> Result<u64, Error> {
    let start = timer.now_ns()?;
    for _ in 0..TIMED_CALLS {
        timer.now_ns()?;
    }
    Ok((timer.now_ns()? - start) / (TIMED_CALLS + 1))
}

/// A small xorshift: random ids without a RandomSource (which the forger is not given).
fn next_random(state: &mut u64) -> u32 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    (*state >> 16) as u32
}

fn forger(env: &Env) -> Result<(), Error> {
    let console = Console::open(env, "console")?;
    let own: Vec<u32> = env.capset.entries().iter().map(|e| e.cap_id).collect();
    let params = Console::write_params(b"forged write accepted!\n");
    let mut ids = Vec::with_capacity(FORGED_IDS as usize);
    'sweep: for slot in 0..SWEPT_SLOTS {
        for generation in 0..=u16::MAX as u32 {
            let id = generation << 16 | slot;
            if !own.contains(&id) {
                ids.push(id);
            }
            if ids.len() as u32 == FORGED_IDS {
                break 'sweep;
            }
        }
    }
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    while (ids.len() as u32) < FORGED_IDS {
        let id = next_random(&mut seed);
        if !own.contains(&id) {
            ids.push(id);
        }
    }
    let mut accepted = 0u32;
    let mut refusals = [0u32; 2]; // UnknownCap, StaleCap
    for chunk in ids.chunks(64) {
        let calls: Vec<(CapRef, u16, &[u8])> = chunk
            .iter()
            .map(|&cap_id| {
                let cap = CapRef {
                    cap_id,
                    interface_id: console_iface::INTERFACE_ID,
                };
                (cap, console_iface::method::WRITE, &params[..])
            })
            .collect();
        for outcome in capos_rt::call_batch(&calls)? {
            match outcome {
                Ok(_) => accepted += 1,
                Err(Error::Cap {
                    error: CapError::UnknownCap,
                    ..
                }) => refusals[0] += 1,
                Err(Error::Cap {
                    error: CapError::StaleCap,
                    ..
                }) => refusals[1] += 1,
                Err(e) => return Err(Error::Other(format!("an unexpected refusal: {e}"))),
            }
        }
    }
    console.write_line(&format!(
        "forger: {} forged ids tried, {accepted} accepted ({} unknown, {} stale)",
        ids.len(),
        refusals[0],
        refusals[1]
    ))?;
    if accepted > 0 {
        return Err(Error::Other(format!("{accepted} forged ids were accepted")));
    }
    Ok(())
}

fn flooder(env: &Env) -> Result<(), Error> {
    let console = Console::open(env, "console")?;
    let cap = console.cap();
    let call = |method: u16| Sqe {
        interface_id: cap.interface_id,
        cap_id: cap.cap_id,
        method,
        opcode: OP_CALL,
        ..Sqe::default()
    };
    let garbage = [0xffu8; 64];
    // Each kind, and the refusal it must get.
    let kinds: [(Sqe, &[u8], CapError); 5] = [
        (
            Sqe {
                opcode: 0xee,
                ..Sqe::default()
            },
            &[],
            CapError::BadSqe,
        ),
        (
            Sqe {
                flags: 0x80,
                ..call(console_iface::method::WRITE)
            },
            &[],
            CapError::BadSqe,
        ),
        (call(999), &[], CapError::UnknownMethod),
        (
            call(console_iface::method::WRITE),
            &garbage,
            CapError::BadParams,
        ),
        (
            Sqe {
                interface_id: timer_iface::INTERFACE_ID,
                ..call(0)
            },
            &[],
            CapError::WrongInterface,
        ),
    ];
    let mut submitted = 0;
    let mut refused = 0;
    while submitted < FLOOD_ENTRIES {
        let batch: Vec<(Sqe, &[u8])> = (0..64)
            .map(|i| {
                let (sqe, params, _) = &kinds[(submitted + i) % kinds.len()];
                (*sqe, *params)
            })
            .collect();
        for (i, outcome) in capos_rt::submit_raw(&batch)?.into_iter().enumerate() {
            let expected = kinds[(submitted + i) % kinds.len()].2;
            match outcome {
                Err(Error::Cap { error, .. }) if error == expected => refused += 1,
                other => {
                    return Err(Error::Other(format!(
                        "entry {} was not refused with {expected}: {other:?}",
                        submitted + i
                    )));
                }
            }
        }
        submitted += batch.len();
    }
    console.write_line(&format!(
        "flooder: {submitted} malformed entries submitted without pause, {refused} refused with the right error"
    ))
}

fn stalled(env: &Env) -> Result<(), Error> {
    let console = Console::open(env, "console")?;
    let nop = Sqe {
        opcode: OP_NOP,
        ..Sqe::default()
    };
    let ids = capos_rt::submit_without_reaping(nop, &[], 100_000, 100)?;
    let waiting = capos_rt::sq_waiting()?;
    if waiting == 0 {
        return Err(Error::Other(format!(
            "the kernel took all {} entries although the CQ was never read",
            ids.len()
        )));
    }
    let received = capos_rt::reap(&ids)?;
    console.write_line(&format!(
        "stalled: the kernel stopped taking entries with the CQ full ({waiting} left waiting); {} submitted, {received} completions received",
        ids.len()
    ))?;
    if received != ids.len() {
        return Err(Error::Other("completions were lost".into()));
    }
    Ok(())
}

fn take_a_call(env: &Env) -> Result<Endpoint, Error> {
    let endpoint = Endpoint::open(env, "endpoint")?;
    endpoint.receive()?;
    Ok(endpoint)
}

fn spin_server(env: &Env) -> Result<(), Error> {
    let _endpoint = take_a_call(env)?;
    let mut n = 0u64;
    loop {
        n = std::hint::black_box(n.wrapping_add(1));
    }
}

fn trap_server(env: &Env) -> Result<(), Error> {
    let _endpoint = take_a_call(env)?;
    core::arch::wasm32::unreachable()
}

fn panic_server(env: &Env) -> Result<(), Error> {
    let _endpoint = take_a_call(env)?;
    panic!("panic-server: panicking while holding an endpoint and owing an answer");
}

fn caller(env: &Env) -> Result<(), Error> {
    let server = Endpoint::open(env, "server")?;
    match server.call(b"are you there?", &[]) {
        Err(Error::Cap {
            error: CapError::PeerGone,
            ..
        }) => Ok(()),
        other => Err(Error::Other(format!("expected PeerGone, got {other:?}"))),
    }
}

fn hog(env: &Env) -> Result<(), Error> {
    let console = Console::open(env, "console")?;
    console.write_line("hog: allocating a MiB at a time, without end")?;
    let mut held: Vec<Vec<u8>> = Vec::new();
    loop {
        let mut chunk = vec![0u8; 1 << 20];
        chunk[0] = 1;
        held.push(std::hint::black_box(chunk));
    }
}
