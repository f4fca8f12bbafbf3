#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| samizdat_fuzz::bundle_reader(data));
