//! random_get: empty, small, and larger than one crypto.getRandomValues call (64 KiB).

use std::process::ExitCode;

use wasi_tests::{Checks, wasi};

fn nonzero(bytes: &[u8]) -> bool {
    bytes.iter().any(|&b| b != 0)
}

fn main() -> ExitCode {
    let mut c = Checks::begin("random: random_get");
    c.ok("random_get(0 bytes)", &wasi::random_get(&mut []));
    let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
    c.ok("random_get(32 bytes)", &wasi::random_get(&mut a));
    c.ok("random_get(32 bytes) again", &wasi::random_get(&mut b));
    c.holds("32 random bytes are not all zero", nonzero(&a));
    c.holds("two draws differ", a != b);

    // Every 4 KiB block of a 1 MiB draw is filled, not just the first 64 KiB.
    let mut big = vec![0u8; 1 << 20];
    c.ok("random_get(1 MiB)", &wasi::random_get(&mut big));
    c.holds(
        "every 4 KiB block of 1 MiB is filled",
        big.chunks(4096).all(nonzero),
    );
    let mut odd = vec![0u8; 65_537];
    c.ok("random_get(65537 bytes)", &wasi::random_get(&mut odd));
    c.holds(
        "the last 16 bytes of 65537 are filled",
        nonzero(&odd[odd.len() - 16..]),
    );
    c.finish()
}
