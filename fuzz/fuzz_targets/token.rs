#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| invite_core_fuzz::checks::token(data));
