#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| plugin_host::fuzzing::manifest_parsing(data));
