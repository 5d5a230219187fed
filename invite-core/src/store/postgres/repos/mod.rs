//! The port's repositories on a [`PgTx`](super::tx::PgTx): one statement per call
//! (a second one only on the rare unique-conflict path of an insert).

mod events;
mod idempotency;
mod invitations;
mod memberships;
mod outbox;
mod roles;
mod subscriptions;
mod tenants;
mod users;
