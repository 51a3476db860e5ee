//! proc_exit: the status reaches the runner, and output written just before is not lost.
//! Usage: exit_code.wasm CODE. CODE 0 returns from `_start` instead of calling proc_exit.

use wasi_tests::{sys, wasi};

fn main() {
    let code: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1);
    // No trailing newline: nothing may wait for one before exit.
    let _ = wasi::write_all(1, b"stdout before exit, no newline");
    let _ = wasi::write_all(2, b"stderr before exit, no newline");
    if code != 0 {
        // SAFETY: proc_exit takes no pointers and does not return.
        unsafe { sys::proc_exit(code) }
    }
}
