//! The `bench` manifest's program: measures capability calls through the real
//! kernel and prints one `BENCH {json}` line per figure for `make bench`.
//! Times come from the Timer capability and are taken around groups of calls
//! (the browser's clock has 5 us resolution), so each sample is a group mean.
#![cfg(target_arch = "wasm32")]

use capos_rt::{
    CapRef, Console, Endpoint, EndpointFactory, Env, Error, Grant, ProcessSpawner, Timer,
    TransferMode,
};
use capos_schema::bench_capnp::echo;
use capos_schema::interfaces::echo as echo_iface;

capos_rt::entry!(main);

const GROUP: usize = 100;
const SAMPLES: usize = 1000;
const BATCH_CALLS: usize = 262_144;
const SPAWNS: usize = 12;
const WARMUP_NS: u64 = 500_000_000;

fn main(env: &Env) -> Result<(), Error> {
    capos_rt::by_role(env, &[("init", init), ("spawnee", spawnee)])
}

fn echo_params(value: u64) -> Vec<u8> {
    let mut m = capos_rt::message::builder();
    m.init_root::<echo::echo_params::Builder>().set_value(value);
    capos_rt::message::bytes(&m)
}

/// (median, p99) of samples.
fn summary(mut samples: Vec<f64>) -> (f64, f64) {
    samples.sort_by(f64::total_cmp);
    let n = samples.len();
    (
        samples[n / 2],
        samples[(n * 99).div_ceil(100).saturating_sub(1)],
    )
}

fn latency_line(name: &str, samples: Vec<f64>) -> String {
    let (median, p99) = summary(samples);
    format!("BENCH {{\"key\":\"{name}\",\"median\":{median:.3},\"p99\":{p99:.3}}}")
}

fn init(env: &Env) -> Result<(), Error> {
    let console = Console::open(env, "console")?;
    let timer = Timer::open(env, "timer")?;
    let echo = CapRef::find(&env.capset, "echo", echo_iface::INTERFACE_ID)?;
    let params = echo_params(42);
    let call = || capos_rt::call(echo, echo_iface::method::ECHO, &params);

    // Null call round trips, timed in groups, once the page has settled:
    // half a second of calls first, so the page's own start (its terminal,
    // the inspector's first drawings) is not on the same two cores as the
    // samples.
    let warm_until = timer.now_ns()? + WARMUP_NS;
    while timer.now_ns()? < warm_until {
        for _ in 0..GROUP {
            call()?;
        }
    }
    let mut samples = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let start = timer.now_ns()?;
        for _ in 0..GROUP {
            call()?;
        }
        samples.push((timer.now_ns()? - start) as f64 / 1_000.0 / GROUP as f64);
    }
    console.write_line(&latency_line("cap_call_rtt_us", samples))?;

    // Calls per second with N SQEs per doorbell.
    let mut rates = Vec::new();
    for batch in [1usize, 16, 64, 256] {
        let calls: Vec<(CapRef, u16, &[u8])> = (0..batch)
            .map(|_| (echo, echo_iface::method::ECHO, params.as_slice()))
            .collect();
        let rounds = BATCH_CALLS / batch;
        let start = timer.now_ns()?;
        for _ in 0..rounds {
            for result in capos_rt::call_batch(&calls)? {
                result?;
            }
        }
        let seconds = (timer.now_ns()? - start) as f64 / 1e9;
        rates.push(format!(
            "\"{batch}\":{:.0}",
            (rounds * batch) as f64 / seconds
        ));
    }
    console.write_line(&format!(
        "BENCH {{\"key\":\"batched_calls_per_s\",{}}}",
        rates.join(",")
    ))?;

    // ProcessSpawner.spawn to the child's first SQE reaching the kernel: the
    // child's first call is Timer.now, answered with the kernel's clock at
    // dispatch.
    let spawner = ProcessSpawner::open(env, "spawner")?;
    let endpoint = EndpointFactory::open(env, "endpoints")?.create()?;
    let report = endpoint.mint(1)?;
    let mut samples = Vec::new();
    for _ in 0..SPAWNS {
        let grants = [
            Grant {
                name: "timer".into(),
                cap: timer.cap(),
                mode: TransferMode::Copy,
            },
            Grant {
                name: "report".into(),
                cap: report.cap(),
                mode: TransferMode::Copy,
            },
        ];
        let start = timer.now_ns()?;
        let child = spawner.spawn("bench", &["spawnee"], &grants)?;
        let msg = endpoint.receive()?;
        endpoint.reply(msg.call_id, b"", &[])?;
        let first_sqe: u64 = String::from_utf8_lossy(&msg.data)
            .parse()
            .map_err(|_| Error::Other("bad spawnee report".into()))?;
        samples.push(first_sqe.saturating_sub(start) as f64 / 1e6);
        child.wait()?;
    }
    console.write_line(&latency_line("spawn_to_first_sqe_ms", samples))?;
    Ok(())
}

fn spawnee(env: &Env) -> Result<(), Error> {
    let timer = Timer::open(env, "timer")?;
    let first_sqe = timer.now_ns()?;
    Endpoint::open(env, "report")?.call(first_sqe.to_string().as_bytes(), &[])?;
    Ok(())
}
