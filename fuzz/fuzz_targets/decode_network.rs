//! Fuzzes the network file decoder: any input must give Ok or Err, never a panic, hang or
//! huge allocation. Run: `cargo +nightly fuzz run decode_network` (see docs/FILE_FORMATS.md).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = basalt_core::persist::decode(data, None, "fuzz");
    let _ = basalt_core::persist::decode(data, Some(b"key"), "fuzz");
});
