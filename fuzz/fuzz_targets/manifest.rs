//! Manifest decoding and validation: any bytes are refused with a message or accepted as a
//! manifest that validates; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(manifest) = capos_kernel_wasm::manifest::decode(data) {
        assert!(
            manifest.validate().is_ok(),
            "decode returned a manifest that does not validate"
        );
    }
});
