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

/// A store that does not override `update_delivery` and `seats_for_update` (the
/// fault-injecting wrapper) gets the port's defaults, built on the other methods: the
/// same contract.
#[test]
fn the_port_defaults_keep_the_contract() {
    let faulty = || -> Arc<dyn Store> {
        let inner: Arc<dyn Store> = Arc::new(InMemoryStore::new());
        Arc::new(invite_core::store::FaultyStore::new(inner))
    };
    contract::store_level::delivery_updates_touch_nothing_else(faulty());
    contract::store_level::seats_are_read_with_their_cap(faulty());
}
