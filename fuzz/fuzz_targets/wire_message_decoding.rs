#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wire::fuzzing::message_decoding(data));
