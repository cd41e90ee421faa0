#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| runes::fuzzing::rune_parsing_and_checking(data));
