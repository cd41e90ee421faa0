#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| onion_message::fuzzing::onion_message_decoding(data));
