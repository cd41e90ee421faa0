#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| peer_protocol::fuzzing::dev_disconnect_parsing(data));
