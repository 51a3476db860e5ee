//! The WASI programs of `make bench`, timing their own work with the
//! monotonic clock (so every runtime is timed the same way, around the same
//! work):
//! - `bench-compute [ROUNDS]`: mixes and sorts integers, no I/O in the timed
//!   part; prints `compute_ns=N checksum=C`;
//! - `bench-compute --small-writes DIR [--sync]`: 100,000 writes of 64 bytes
//!   to a new file in DIR (then `fsync`, with `--sync`), then close; prints
//!   `small_writes_ns=N`.
//! - `bench-compute --sequential DIR`: 64 MiB written to a new file in DIR in
//!   1 MiB writes and `fsync`ed, then read back in 1 MiB reads and checked;
//!   prints `seq_write_ns=N seq_read_ns=M`, and removes the file.

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

fn small_writes(dir: &str, sync: bool) {
    use std::io::Write;
    let path = format!("{dir}/small-writes.bin");
    let block = [0x5au8; 64];
    let start = Instant::now();
    let mut file = std::fs::File::create(&path).expect("create the output file");
    for _ in 0..100_000 {
        file.write_all(&block).expect("write");
    }
    if sync {
        file.sync_all().expect("fsync");
    }
    drop(file);
    let elapsed = start.elapsed();
    let size = std::fs::metadata(&path)
        .expect("stat the output file")
        .len();
    assert_eq!(size, 6_400_000, "every write landed");
    println!("small_writes_ns={}", elapsed.as_nanos());
}

const SEQ_CHUNK: usize = 1 << 20;
const SEQ_CHUNKS: usize = 64;

fn sequential(dir: &str) {
    use std::io::{Read, Write};
    let path = format!("{dir}/sequential.bin");
    let chunk = |i: usize| vec![(i as u8).wrapping_mul(37) ^ 0x5a; SEQ_CHUNK];
    let start = Instant::now();
    let mut file = std::fs::File::create(&path).expect("create the output file");
    for i in 0..SEQ_CHUNKS {
        file.write_all(&chunk(i)).expect("write");
    }
    file.sync_all().expect("fsync");
    drop(file);
    let wrote = start.elapsed();
    let start = Instant::now();
    let mut file = std::fs::File::open(&path).expect("open the file again");
    let mut buf = vec![0u8; SEQ_CHUNK];
    for i in 0..SEQ_CHUNKS {
        file.read_exact(&mut buf).expect("read");
        assert!(buf == chunk(i), "chunk {i} read back as written");
    }
    let read = start.elapsed();
    std::fs::remove_file(&path).expect("remove the file");
    println!(
        "seq_write_ns={} seq_read_ns={}",
        wrote.as_nanos(),
        read.as_nanos()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--small-writes") {
        let sync = args.get(3).map(String::as_str) == Some("--sync");
        return small_writes(args.get(2).map_or("/data", String::as_str), sync);
    }
    if args.get(1).map(String::as_str) == Some("--sequential") {
        return sequential(args.get(2).map_or("/data", String::as_str));
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
