#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| commando::fuzzing::chunk_reassembly(data));
