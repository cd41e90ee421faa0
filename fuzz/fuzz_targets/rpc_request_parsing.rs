#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rpc::fuzzing::request_parsing(data));
