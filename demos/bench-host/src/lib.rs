//! The `bench-host` manifest's program: a 10 MB response body read through an
//! HttpEndpoint from the loopback origin A beside the site, and KvStore
//! put+get round trips. Prints one `BENCH {json}` line per figure for
//! `make bench`, which measures the page's own fetch of the same body in the
//! same run.
#![cfg(target_arch = "wasm32")]

use capos_rt::http::Request;
use capos_rt::{Console, Display, Env, Error, Fetch, KvStore, Timer};

capos_rt::entry!(main);

const BODY_BYTES: usize = 10_000_000;
const FETCHES: usize = 7;
const KV_ROUND_TRIPS: usize = 200;
const FRAMES: u64 = 120;

/// (median, p99) of samples.
fn summary(mut samples: Vec<f64>) -> (f64, f64) {
    samples.sort_by(f64::total_cmp);
    let n = samples.len();
    (
        samples[n / 2],
        samples[(n * 99).div_ceil(100).saturating_sub(1)],
    )
}

fn line(name: &str, samples: Vec<f64>) -> String {
    let (median, p99) = summary(samples);
    format!("BENCH {{\"key\":\"{name}\",\"median\":{median:.3},\"p99\":{p99:.3}}}")
}

/// Origin A, from the site's list of demo origins.
fn origin_a(fetch: &Fetch) -> Result<String, Error> {
    let mut response = fetch.fetch(&Request::get("/demo-http/origins.json"))?;
    let text = String::from_utf8_lossy(&response.body.read_to_end(4096)?).into_owned();
    let start = text
        .find("\"a\":\"")
        .ok_or_else(|| Error::Other(format!("no origin A in {text}")))?
        + 5;
    let end = start + text[start..].find('"').unwrap_or(0);
    Ok(text[start..end].to_string())
}

fn main(env: &Env) -> Result<(), Error> {
    let console = Console::open(env, "console")?;
    let timer = Timer::open(env, "timer")?;
    let fetch = Fetch::open(env, "fetch")?;
    let endpoint = fetch.endpoint(&origin_a(&fetch)?)?;
    let url = format!("/bytes?n={BODY_BYTES}");
    let mut samples = Vec::new();
    // The first fetch warms the connection and is not counted.
    for i in 0..=FETCHES {
        let start = timer.now_ns()?;
        let mut response = endpoint.fetch(&Request::get(&url))?;
        let mut received = 0;
        response.body.for_each_part(|part| {
            received += part.len();
            Ok(())
        })?;
        if received != BODY_BYTES {
            return Err(Error::Other(format!(
                "received {received} of {BODY_BYTES} bytes"
            )));
        }
        if i > 0 {
            samples.push((timer.now_ns()? - start) as f64 / 1e6);
        }
    }
    console.write_line(&line("http_endpoint_fetch_10mb_ms", samples))?;

    let store = KvStore::open(env, "store")?;
    let value = [7u8; 64];
    let mut samples = Vec::new();
    for i in 0..KV_ROUND_TRIPS {
        let key = format!("bench/{}", i % 8);
        let start = timer.now_ns()?;
        store.put(&key, &value)?;
        let got = store.get(&key)?;
        samples.push((timer.now_ns()? - start) as f64 / 1e6);
        if got.as_deref() != Some(&value[..]) {
            return Err(Error::Other(format!("{key} did not read back")));
        }
    }
    console.write_line(&line("kv_put_get_ms", samples))?;

    // Frames of 640x480 drawn and presented (each present waits for the
    // page to draw the frame), after a few to open the display.
    let display = Display::open(env, "display")?;
    display.resize(640, 480)?;
    let mut frame = vec![0u8; 640 * 480 * 4];
    let mut start = 0;
    for i in 0..FRAMES + 5 {
        if i == 5 {
            start = timer.now_ns()?;
        }
        frame.fill((i % 256) as u8);
        display.draw(640, 480, &frame)?;
        display.present()?;
    }
    let seconds = (timer.now_ns()? - start) as f64 / 1e9;
    console.write_line(&format!(
        "BENCH {{\"key\":\"display_fps_640x480\",\"value\":{:.1}}}",
        FRAMES as f64 / seconds
    ))?;
    Ok(())
}
