//! The store contract suite on PostgreSQL: every contract on a fresh schema.
//! Without `INVITE_TEST_POSTGRES_URL` each test prints SKIPPED and passes.
#![cfg(feature = "postgres")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod common;
#[macro_use]
mod contract;
mod postgres_support;

use postgres_support::ScopedStore;

contract_tests!(ScopedStore::arc);
