//! The repositories of the port, implemented on [`SqliteTx`](super::tx::SqliteTx),
//! one file per group.

mod events;
mod idempotency;
mod invitations;
mod memberships;
mod outbox;
mod replace;
mod roles;
mod subscriptions;
mod tenants;
mod users;

use std::fmt::Display;

/// `after` as a bound for `id > ?`: every stored id sorts after the empty string.
fn after<T: Display>(after: Option<T>) -> String {
    after.map(|id| id.to_string()).unwrap_or_default()
}
