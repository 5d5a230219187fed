//! Idempotency keys: the first result of a send (or bulk send) is stored, tokens sealed,
//! and returned again for the same key and parameters.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::bulk::RowError;
use super::request::SentInvitation;
use super::{InviteService, Unit, found};
use crate::clock::later;
use crate::error::{Error, ErrorCode, FieldError, FieldErrors, Result};
use crate::ids::{BusinessId, InvitationId};
use crate::input::bounded_text;
use crate::model::IdempotencyRecord;

/// One stored row: a sent invitation (token sealed) or a row's error.
#[derive(Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
enum StoredRow {
    Sent {
        invitation_id: InvitationId,
        sealed_token: String,
    },
    Failed {
        code: ErrorCode,
        message: String,
        field_errors: Vec<FieldError>,
        /// The error's help (absent in rows stored before it was kept).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        help: Option<String>,
        /// When retrying may succeed, as an instant: a replay says how long is left.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_at: Option<DateTime<Utc>>,
    },
}

/// Longest idempotency key, in characters.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 200;

/// Reads an idempotency key (trimmed, at most 200 characters, no control characters);
/// a blank one is no key, as a blank optional field is absent. A bad key is one more
/// field error among the request's others.
pub(crate) fn idempotency_key(raw: Option<&str>, errors: &mut FieldErrors) -> Option<String> {
    let raw = raw.filter(|k| !k.trim().is_empty())?;
    errors.take(bounded_text(
        raw,
        "idempotency_key",
        MAX_IDEMPOTENCY_KEY_LEN,
    ))
}

impl InviteService {
    /// The stored outcomes for an idempotency key; `IDEMPOTENCY_CONFLICT` if the key was
    /// used with other parameters; `None` if unused or expired.
    pub(crate) fn replay(
        &self,
        u: &mut Unit<'_>,
        business: BusinessId,
        key: &str,
        fingerprint: &str,
    ) -> Result<Option<Vec<Result<SentInvitation, RowError>>>> {
        let Some(record) = u.tx.get_idempotency(business, key)? else {
            return Ok(None);
        };
        if record.expires_at <= u.now {
            return Ok(None);
        }
        if record.fingerprint != fingerprint {
            return Err(Error::new(
                ErrorCode::IdempotencyConflict,
                "this idempotency key was used with different parameters",
            ));
        }
        let stored: Vec<StoredRow> = serde_json::from_str(&record.result)
            .map_err(|e| Error::internal(format!("stored idempotent result is unreadable: {e}")))?;
        let mut out = Vec::with_capacity(stored.len());
        for row in stored {
            out.push(match row {
                StoredRow::Sent {
                    invitation_id,
                    sealed_token,
                } => {
                    let record =
                        found(u.tx.get_invitation(business, invitation_id)?, "invitation")?;
                    let token = self.sealer.open(&sealed_token).ok_or_else(|| {
                        Error::new(
                            ErrorCode::InvalidConfig,
                            "the first result's link was sealed with another outbox key",
                        )
                        .with_help(
                            "configure one fixed outbox key, the same on every process that \
                             shares the store",
                        )
                    })?;
                    let accept_link = self.accept_link(&token);
                    Ok(SentInvitation {
                        invitation: record.invitation.as_of(u.now),
                        token,
                        accept_link,
                        replayed: true,
                    })
                }
                StoredRow::Failed {
                    code,
                    message,
                    field_errors,
                    help,
                    retry_at,
                } => Err(RowError {
                    code,
                    message,
                    field_errors,
                    help,
                    // Past its instant there is nothing left to wait for (a retry under
                    // this key replays this row; a new attempt needs a new key).
                    retry_after: retry_at.and_then(|at| (at - u.now).to_std().ok()),
                }),
            });
        }
        Ok(Some(out))
    }

    /// Stores the first outcomes under an idempotency key, in the same transaction.
    pub(crate) fn remember(
        &self,
        u: &mut Unit<'_>,
        business: BusinessId,
        key: &str,
        fingerprint: String,
        rows: &[Result<SentInvitation, RowError>],
    ) -> Result<()> {
        let mut stored = Vec::with_capacity(rows.len());
        for row in rows {
            stored.push(match row {
                Ok(sent) => StoredRow::Sent {
                    invitation_id: sent.invitation.id,
                    sealed_token: u.seal(&sent.token)?,
                },
                Err(e) => StoredRow::Failed {
                    code: e.code,
                    message: e.message.clone(),
                    field_errors: e.field_errors.clone(),
                    help: e.help.clone(),
                    retry_at: e
                        .retry_after
                        .and_then(|d| chrono::Duration::from_std(d).ok())
                        .and_then(|d| u.now.checked_add_signed(d)),
                },
            });
        }
        let result = serde_json::to_string(&stored)
            .map_err(|e| Error::internal(format!("cannot store idempotent result: {e}")))?;
        u.tx.put_idempotency(&IdempotencyRecord {
            business_id: business,
            key: key.to_owned(),
            fingerprint,
            result,
            created_at: u.now,
            expires_at: later(
                u.now,
                self.config.idempotency_ttl,
                "the idempotency record's expiry",
            )?,
        })
    }
}
