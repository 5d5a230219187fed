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

/// A store that does not override `update_delivery` (the fault-injecting wrapper) gets
/// the port's default, which reads and replaces the record: the same contract.
#[test]
fn the_default_update_delivery_keeps_the_contract() {
    let inner: Arc<dyn Store> = Arc::new(InMemoryStore::new());
    let store: Arc<dyn Store> = Arc::new(invite_core::store::FaultyStore::new(inner));
    contract::store_level::delivery_updates_touch_nothing_else(store);
}
