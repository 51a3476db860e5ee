//! A CPU-bound WASI program for `make bench`: mixes and sorts integers, with
//! no I/O inside the timed part. It times that part itself with the
//! monotonic clock (so every runtime is timed the same way, around the same
//! work) and prints `compute_ns=N checksum=C`.

use std::time::Instant;

fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

fn work(rounds: u64) -> u64 {
    let mut data: Vec<u64> = (0..1u64 << 16).map(mix).collect();
    let mut checksum = 0u64;
    for round in 0..rounds {
        for v in data.iter_mut() {
            *v = mix(*v ^ round);
        }
        data.sort_unstable();
        checksum = checksum.wrapping_add(data[(round as usize * 7919) % data.len()]);
    }
    checksum
}

fn main() {
    let rounds = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(380);
    let start = Instant::now();
    let checksum = work(rounds);
    let elapsed = start.elapsed();
    println!("compute_ns={} checksum={checksum:x}", elapsed.as_nanos());
}
