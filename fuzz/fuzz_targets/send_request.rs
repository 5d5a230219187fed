#![no_main]

use invite_core_fuzz::checks::{SendInput, send_request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: SendInput| {
    // Known open bug (fuzz/regressions/send_request/open-expires-in-seconds-out-of-range):
    // `SendInvitationRequest::from_draft` panics in `chrono::Duration::seconds` for
    // lifetimes beyond ±i64::MAX ms. Skip those so the fuzzer keeps looking elsewhere;
    // drop this once the core is fixed.
    if input
        .expires_in_seconds
        .is_some_and(|s| chrono::Duration::try_seconds(s).is_none())
    {
        return;
    }
    send_request(&input)
});
