//! The WASI programs of `make bench`, timing their own work with the
//! monotonic clock (so every runtime is timed the same way, around the same
//! work):
//! - `bench-compute [ROUNDS]`: mixes and sorts integers, no I/O in the timed
//!   part; prints `compute_ns=N checksum=C`;
//! - `bench-compute --small-writes DIR`: 100,000 writes of 64 bytes to a new
//!   file in DIR, then close; prints `small_writes_ns=N`.

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

fn small_writes(dir: &str) {
    use std::io::Write;
    let path = format!("{dir}/small-writes.bin");
    let block = [0x5au8; 64];
    let start = Instant::now();
    let mut file = std::fs::File::create(&path).expect("create the output file");
    for _ in 0..100_000 {
        file.write_all(&block).expect("write");
    }
    drop(file);
    let elapsed = start.elapsed();
    let size = std::fs::metadata(&path)
        .expect("stat the output file")
        .len();
    assert_eq!(size, 6_400_000, "every write landed");
    println!("small_writes_ns={}", elapsed.as_nanos());
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--small-writes") {
        return small_writes(args.get(2).map_or("/data", String::as_str));
    }
    let rounds = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(380);
    let start = Instant::now();
    let checksum = work(rounds);
    let elapsed = start.elapsed();
    println!("compute_ns={} checksum={checksum:x}", elapsed.as_nanos());
}
