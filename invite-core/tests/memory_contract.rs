//! The store contract suite on the in-memory store.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod common;
#[macro_use]
mod contract;

use std::sync::Arc;

use invite_core::{InMemoryStore, Store};

contract_tests!(|| Some(Arc::new(InMemoryStore::new()) as Arc<dyn Store>));
