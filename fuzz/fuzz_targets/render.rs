#![no_main]

use invite_core_fuzz::checks::{RenderInput, render};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: RenderInput| render(&input));
