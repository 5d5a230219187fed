//! The outbox: emails written with their invitations, claimed by dispatchers.

use chrono::{DateTime, Utc};
use postgres::types::ToSql;

use crate::error::{Error, Result};
use crate::ids::{BusinessId, InvitationId, MessageId};
use crate::model::OutboxMessage;
use crate::store::OutboxRepo;
use crate::store::postgres::error::{already_exists, conflict};
use crate::store::postgres::rows::{self, message_cols};
use crate::store::postgres::tx::{PgTx, get, limit};

const INSERT: &str = "
INSERT INTO outbox (id, business_id, invitation_id, sealed_token, state, attempts,
                    next_attempt_at, last_error, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT DO NOTHING";

/// `$10`: the version this transaction read, if it did (optimistic concurrency).
const UPDATE: &str = "
UPDATE outbox
SET business_id = $2, invitation_id = $3, sealed_token = $4, state = $5, attempts = $6,
    next_attempt_at = $7, last_error = $8, created_at = $9, version = version + 1
WHERE id = $1 AND ($10::bigint IS NULL OR version = $10)
RETURNING version";

const GET: &str = concat!("SELECT ", message_cols!(), " FROM outbox WHERE id = $1");
/// Dispatchers in several processes never claim the same message: rows locked by
/// another claim are skipped.
const DUE_FOR_UPDATE: &str = concat!(
    "SELECT ",
    message_cols!(),
    " FROM outbox WHERE state = 'queued' AND next_attempt_at <= $1 \
      ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED"
);
const DUE: &str = concat!(
    "SELECT ",
    message_cols!(),
    " FROM outbox WHERE state = 'queued' AND next_attempt_at <= $1 \
      ORDER BY next_attempt_at, id LIMIT $2"
);
const OF_INVITATION: &str = concat!(
    "SELECT ",
    message_cols!(),
    " FROM outbox WHERE business_id = $1 AND invitation_id = $2 ORDER BY id"
);

impl PgTx {
    /// Reads messages, remembering the version of each.
    fn messages(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<OutboxMessage>> {
        let found = self.rows(sql, params)?;
        let mut out = Vec::with_capacity(found.len());
        for row in &found {
            let message = rows::message(row)?;
            self.saw_message(*message.id.as_uuid(), get(row, "version")?);
            out.push(message);
        }
        Ok(out)
    }
}

/// A message's values in `INSERT`/`UPDATE` parameter order.
fn with_params<T>(
    m: &OutboxMessage,
    extra: Option<&(dyn ToSql + Sync)>,
    run: impl FnOnce(&[&(dyn ToSql + Sync)]) -> T,
) -> T {
    let attempts = i64::from(m.attempts);
    let state = m.state.as_str();
    let mut params: Vec<&(dyn ToSql + Sync)> = vec![
        m.id.as_uuid(),
        m.business_id.as_uuid(),
        m.invitation_id.as_uuid(),
        &m.sealed_token,
        &state,
        &attempts,
        &m.next_attempt_at,
        &m.last_error,
        &m.created_at,
    ];
    params.extend(extra);
    run(&params)
}

impl OutboxRepo for PgTx {
    fn enqueue_message(&mut self, message: &OutboxMessage) -> Result<()> {
        match with_params(message, None, |p| self.exec(INSERT, p))? {
            0 => Err(already_exists("message")),
            _ => {
                self.wrote_message(*message.id.as_uuid(), 1);
                Ok(())
            }
        }
    }

    fn update_message(&mut self, message: &OutboxMessage) -> Result<()> {
        let id = *message.id.as_uuid();
        let expected = self.message_version(id);
        match with_params(message, Some(&expected), |p| self.opt(UPDATE, p))? {
            Some(row) => {
                let version = get(&row, "version")?;
                self.wrote_message(id, version);
                self.locked_messages();
                Ok(())
            }
            None if expected.is_some() => Err(conflict(
                "the message was changed by a concurrent transaction",
            )),
            None => Err(Error::not_found("message")),
        }
    }

    fn get_message(&mut self, id: MessageId) -> Result<Option<OutboxMessage>> {
        Ok(self.messages(GET, &[id.as_uuid()])?.into_iter().next())
    }

    fn due_messages(&mut self, now: DateTime<Utc>, n: usize) -> Result<Vec<OutboxMessage>> {
        if self.read_only {
            return self.messages(DUE, &[&now, &limit(n)]);
        }
        let due = self.messages(DUE_FOR_UPDATE, &[&now, &limit(n)])?;
        if !due.is_empty() {
            self.locked_messages();
        }
        Ok(due)
    }

    fn messages_for_invitation(
        &mut self,
        business: BusinessId,
        invitation: InvitationId,
    ) -> Result<Vec<OutboxMessage>> {
        self.messages(OF_INVITATION, &[business.as_uuid(), invitation.as_uuid()])
    }
}
