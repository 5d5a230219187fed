//! The properties checked by the fuzz targets in `fuzz_targets/`.
//!
//! `checks.rs` is also compiled into `invite-core/tests/fuzz_regressions.rs` (by
//! `#[path]`), which replays every file under `fuzz/regressions/<target>/` through the
//! same functions, so `cargo test` covers past crashes without cargo-fuzz.

pub mod checks;
