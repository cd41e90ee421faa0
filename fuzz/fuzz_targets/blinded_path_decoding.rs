#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| onion_message::fuzzing::blinded_path_decoding(data));
