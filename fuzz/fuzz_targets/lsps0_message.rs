#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lsps0::fuzzing::message(data));
