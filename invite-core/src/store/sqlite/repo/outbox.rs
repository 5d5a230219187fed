//! The outbox of emails written with their invitations.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use rusqlite::{Row, ToSql, params};

use crate::error::{Error, Result};
use crate::ids::{BusinessId, InvitationId, MessageId};
use crate::model::OutboxMessage;
use crate::store::OutboxRepo;
use crate::store::sqlite::codec::{self, Ts};
use crate::store::sqlite::repo::replace::Replace;
use crate::store::sqlite::tx::SqliteTx;

macro_rules! cols {
    () => {
        "id, business_id, invitation_id, sealed_token, state, attempts, next_attempt_at, \
         last_error, created_at"
    };
}

/// A replace writes only the indexes whose columns change (see `replace`). Parameters:
/// `?1` the id, `?2`–`?6` the columns without an index, then the groups.
static REPLACE: Replace = Replace {
    unchanged: "SELECT state IS ?2 AND next_attempt_at IS ?3, invitation_id IS ?4 \
         FROM outbox WHERE id = ?1",
    groups_from: 6,
    head: "UPDATE outbox SET business_id = ?2, sealed_token = ?3, attempts = ?4, \
         last_error = ?5, created_at = ?6",
    groups: &[
        // The due index (partial on `state = 'queued'`).
        "state = ?7, next_attempt_at = ?8",
        // The per-invitation index: never changed by the service.
        "invitation_id = ?9",
    ],
    tail: "WHERE id = ?1",
    assembled: OnceLock::new(),
};

fn message_row(row: &Row<'_>) -> rusqlite::Result<OutboxMessage> {
    Ok(OutboxMessage {
        id: row.get(0)?,
        business_id: row.get(1)?,
        invitation_id: row.get(2)?,
        sealed_token: row.get(3)?,
        state: row.get(4)?,
        attempts: row.get(5)?,
        next_attempt_at: row.get::<_, Ts>(6)?.0,
        last_error: row.get(7)?,
        created_at: row.get::<_, Ts>(8)?.0,
    })
}

impl OutboxRepo for SqliteTx<'_> {
    fn enqueue_message(&mut self, m: &OutboxMessage) -> Result<()> {
        self.exec(
            concat!(
                "INSERT INTO outbox (",
                cols!(),
                ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
            ),
            params![
                m.id,
                m.business_id,
                m.invitation_id,
                m.sealed_token,
                m.state,
                m.attempts,
                Ts(m.next_attempt_at),
                m.last_error,
                Ts(m.created_at)
            ],
        )?;
        Ok(())
    }

    fn update_message(&mut self, m: &OutboxMessage) -> Result<()> {
        let next_attempt_at = Ts(m.next_attempt_at);
        let created_at = Ts(m.created_at);
        let params: [&dyn ToSql; 9] = [
            &m.id,
            &m.business_id,
            &m.sealed_token,
            &m.attempts,
            &m.last_error,
            &created_at,
            &m.state,
            &next_attempt_at,
            &m.invitation_id,
        ];
        if !REPLACE.run(self, &params)? {
            return Err(Error::not_found("message"));
        }
        Ok(())
    }

    fn get_message(&mut self, id: MessageId) -> Result<Option<OutboxMessage>> {
        self.one(
            concat!("SELECT ", cols!(), " FROM outbox WHERE id = ?1"),
            params![id],
            message_row,
        )
    }

    fn due_messages(&mut self, now: DateTime<Utc>, limit: usize) -> Result<Vec<OutboxMessage>> {
        // Writers hold the database lock (`BEGIN IMMEDIATE`), so no due row can be
        // locked by another transaction: there is nothing to skip.
        self.all(
            concat!(
                "SELECT ",
                cols!(),
                " FROM outbox INDEXED BY outbox_due",
                " WHERE state = 'queued' AND next_attempt_at <= ?1",
                " ORDER BY next_attempt_at, id LIMIT ?2"
            ),
            params![Ts(now), codec::limit(limit)],
            message_row,
        )
    }

    fn messages_for_invitation(
        &mut self,
        business: BusinessId,
        invitation: InvitationId,
    ) -> Result<Vec<OutboxMessage>> {
        self.all(
            concat!(
                "SELECT ",
                cols!(),
                " FROM outbox WHERE invitation_id = ?1 AND business_id = ?2 ORDER BY id"
            ),
            params![invitation, business],
            message_row,
        )
    }
}
