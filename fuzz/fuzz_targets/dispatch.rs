//! The kernel's ring and dispatch: raw SQEs, calls on every held capability (and forged ids)
//! with arbitrary params, full CQs, time, input and processes ending, in any order
//! (capos_kernel_wasm::harness). The kernel must never panic.
#![no_main]

use capos_kernel_wasm::harness::Harness;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    Harness::new().run(data);
});
