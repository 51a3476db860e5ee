//! CapSet parsing (what every process reads at start): any bytes are refused or parsed into
//! entries that encode back to the same CapSet.
#![no_main]

use capos_config::capset::CapSet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(capset) = CapSet::parse(data) {
        let again = CapSet::new(capset.entries().to_vec())
            .expect("parsed entries are valid")
            .encode();
        let reparsed = CapSet::parse(&again).expect("an encoded CapSet parses");
        assert_eq!(reparsed.entries(), capset.entries());
    }
});
