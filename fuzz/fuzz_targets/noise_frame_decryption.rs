#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| noise_transport::fuzzing::frame_decryption(data));
