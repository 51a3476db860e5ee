//! args_* and environ_*: what the runner passed arrives exactly, in the spec's layout.
//!
//! The runner starts it as
//!   args_env.wasm alpha "two words" "ünïcödé" ""
//! with --env GREETING=hello --env EMPTY= --env WITH_EQUALS=a=b=c --env UNICODE=žluťoučký
//! and nothing else in the environment.

use std::ffi::CStr;
use std::process::ExitCode;

use wasi_tests::{Checks, wasi};

const ARGS: [&str; 4] = ["alpha", "two words", "ünïcödé", ""];
const ENV: [&str; 4] = [
    "EMPTY=",
    "GREETING=hello",
    "UNICODE=žluťoučký",
    "WITH_EQUALS=a=b=c",
];

/// Reads a pointer table and string buffer filled by args_get or environ_get, checking that
/// every pointer lands inside the buffer and every string ends with NUL inside it.
fn strings_in(c: &mut Checks, what: &str, pointers: &[*mut u8], buf: &[u8]) -> Vec<String> {
    let range = buf.as_ptr_range();
    let inside = pointers.iter().all(|&p| range.contains(&p.cast_const()));
    c.holds(
        format!("{what}: every pointer is inside the buffer"),
        inside,
    );
    if !inside {
        return Vec::new();
    }
    let strings: Vec<String> = pointers
        .iter()
        .map(|&p| {
            let start = p as usize - range.start as usize;
            CStr::from_bytes_until_nul(&buf[start..])
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
        .collect();
    // A property, not the size itself: argv[0] is the path the runner was given.
    let total: usize = strings.iter().map(|s| s.len() + 1).sum();
    c.holds(
        format!("{what}: buffer size is the strings' lengths plus their NULs"),
        buf.len() == total,
    );
    strings
}

fn main() -> ExitCode {
    let mut c = Checks::begin("args_env: args_* and environ_*");

    let (argc, argv_size) = c.require("args_sizes_get", wasi::args_sizes_get());
    c.value(
        "argc (the program name and 4 arguments)",
        argc,
        1 + ARGS.len(),
    );
    let mut pointers = vec![std::ptr::null_mut(); argc];
    let mut buf = vec![0u8; argv_size];
    c.ok("args_get", &wasi::args_get(&mut pointers, &mut buf));
    let args = strings_in(&mut c, "args", &pointers, &buf);
    if let Some((name, rest)) = args.split_first() {
        c.holds(
            "argv[0] names args_env.wasm",
            name.ends_with("args_env.wasm"),
        );
        for (i, (got, want)) in rest.iter().zip(ARGS).enumerate() {
            c.bytes(format!("argv[{}]", i + 1), got.as_bytes(), want.as_bytes());
        }
    }
    // std reads the same imports: it must agree.
    let std_args: Vec<String> = std::env::args().skip(1).collect();
    c.holds("std::env::args agrees", std_args == ARGS);

    let (count, env_size) = c.require("environ_sizes_get", wasi::environ_sizes_get());
    c.value(
        "environment variables (exactly the 4 given)",
        count,
        ENV.len(),
    );
    let mut pointers = vec![std::ptr::null_mut(); count];
    let mut buf = vec![0u8; env_size];
    c.ok("environ_get", &wasi::environ_get(&mut pointers, &mut buf));
    let mut env = strings_in(&mut c, "environ", &pointers, &buf);
    // The specification gives no order; compare sorted.
    env.sort();
    for (got, want) in env.iter().zip(ENV) {
        let name = want.split('=').next().unwrap_or_default();
        c.bytes(
            format!("environ entry {name}"),
            got.as_bytes(),
            want.as_bytes(),
        );
    }
    c.holds(
        "std::env::var(WITH_EQUALS) splits at the first '='",
        std::env::var("WITH_EQUALS").as_deref() == Ok("a=b=c"),
    );
    c.finish()
}
