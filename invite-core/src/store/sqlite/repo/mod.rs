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

use rusqlite::ToSql;
use rusqlite::types::{ToSqlOutput, ValueRef};

/// A page's lower bound, for `id > ?`: the id after which the page starts, or the
/// empty BLOB, which every stored id sorts after.
struct After<T>(Option<T>);

impl<T: ToSql> ToSql for After<T> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        match &self.0 {
            Some(id) => id.to_sql(),
            None => Ok(ToSqlOutput::Borrowed(ValueRef::Blob(&[]))),
        }
    }
}

/// `after` as a bound for `id > ?` (see [`After`]).
fn after<T: ToSql>(after: Option<T>) -> After<T> {
    After(after)
}
