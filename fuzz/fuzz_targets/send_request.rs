#![no_main]

use invite_core_fuzz::checks::{SendInput, send_request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: SendInput| send_request(&input));
