//! Bulk send: many invitees into one business / app / subscription / role in one call,
//! one transaction, one result per row.

use invite_core::service::{
    BulkRowDraft, BulkSendDraft, BulkSendRequest, BulkSendResult as CoreResult, RowError as CoreRow,
};
use invite_core::{Error as CoreError, UserId};
use napi_derive::napi;

use crate::convert::{Checked, draft_lifetime, id};
use crate::error::FieldError;
use crate::lifecycle::{NewInviteeInput, SentInvitation};
use crate::service::InviteService;
use crate::task::Call;

/// Most rows one `bulkSend` takes (more is `VALIDATION_FAILED`, `rows` / `OUT_OF_RANGE`):
/// one call is one transaction, so larger imports go in several calls.
#[napi]
pub const MAX_BULK_ROWS: u32 = 10_000;

/// One invitee of a bulk send: an existing user or a new person.
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct BulkInviteeInput {
    /// An existing user (exclusive with `newUser`).
    pub user_id: Option<Option<String>>,
    /// Or a new person.
    pub new_user: Option<Option<NewInviteeInput>>,
}

/// A bulk send: shared placement fields and the rows.
#[napi(object, object_to_js = false)]
#[derive(Debug, Clone)]
pub struct BulkSendInput {
    /// Who sends.
    pub inviter_id: String,
    /// Business.
    pub business_id: Option<Option<String>>,
    /// App.
    pub app_id: Option<Option<String>>,
    /// Subscription.
    pub subscription_id: Option<Option<String>>,
    /// Role.
    pub role_id: Option<Option<String>>,
    /// The invitees.
    #[napi(ts_type = "Array<BulkInviteeInput>")]
    pub rows: Vec<Checked<BulkInviteeInput>>,
    /// Lifetime of every invitation, in seconds.
    pub expires_in_seconds: Option<Option<f64>>,
    /// Email locale.
    pub locale: Option<Option<String>>,
    /// Idempotency key for the whole call.
    pub idempotency_key: Option<Option<String>>,
}

/// Why one row was not sent.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct RowError {
    /// The error code (`VALIDATION_FAILED`, `SEAT_LIMIT_REACHED`, `ALREADY_INVITED`, …).
    #[napi(ts_type = "ErrorCode")]
    pub code: String,
    /// A lowercase message.
    pub message: String,
    /// Field problems, named `rows[i].field`.
    pub field_errors: Vec<FieldError>,
    /// What to do about it, when the library knows.
    pub help: Option<String>,
    /// Seconds until retrying may succeed, for `RATE_LIMITED`.
    pub retry_after_seconds: Option<f64>,
}

impl From<CoreRow> for RowError {
    fn from(e: CoreRow) -> Self {
        RowError {
            code: e.code.as_str().to_owned(),
            message: e.message,
            field_errors: e.field_errors.iter().map(FieldError::from).collect(),
            help: e.help,
            retry_after_seconds: e.retry_after.map(|d| d.as_secs_f64()),
        }
    }
}

/// One row's outcome: `ok` with `sent`, or not `ok` with `error`.
#[napi(object, use_nullable = true)]
#[derive(Debug, Clone)]
pub struct BulkRow {
    /// Whether this row was sent.
    pub ok: bool,
    /// The sent invitation (token shown once).
    pub sent: Option<SentInvitation>,
    /// Why not.
    pub error: Option<RowError>,
}

/// The result of a bulk send: one entry per row, in order.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct BulkSendResult {
    /// Per-row outcome.
    pub rows: Vec<BulkRow>,
    /// How many rows were sent.
    pub sent: u32,
    /// How many rows failed.
    pub failed: u32,
    /// True when an idempotency key returned an earlier result.
    pub replayed: bool,
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl From<CoreResult> for BulkSendResult {
    fn from(r: CoreResult) -> Self {
        let (sent, failed) = (count(r.sent()), count(r.failed()));
        let rows = r
            .rows
            .into_iter()
            .map(|row| match row {
                Ok(s) => BulkRow {
                    ok: true,
                    sent: Some(s.into()),
                    error: None,
                },
                Err(e) => BulkRow {
                    ok: false,
                    sent: None,
                    error: Some(e.into()),
                },
            })
            .collect();
        BulkSendResult {
            rows,
            sent,
            failed,
            replayed: r.replayed,
        }
    }
}

impl BulkSendInput {
    /// The core request from a text draft (parsing only): malformed ids become
    /// `UNKNOWN_OPTION` field errors, reported with every other problem.
    fn into_request(self) -> Result<BulkSendRequest, CoreError> {
        let inviter: UserId = id(&self.inviter_id)?;
        let mut errors = Vec::new();
        let expires = draft_lifetime(self.expires_in_seconds.flatten(), &mut errors);
        let draft = BulkSendDraft {
            business_id: self.business_id.flatten(),
            app_id: self.app_id.flatten(),
            subscription_id: self.subscription_id.flatten(),
            role_id: self.role_id.flatten(),
            rows: self
                .rows
                .into_iter()
                .map(|Checked(row)| BulkRowDraft {
                    user_id: row.user_id.flatten(),
                    new_user: row.new_user.flatten().and_then(NewInviteeInput::into_core),
                })
                .collect(),
            expires_in_seconds: expires,
            locale: self.locale.flatten(),
            idempotency_key: self.idempotency_key.flatten(),
        };
        let mut request = BulkSendRequest::from_draft(inviter, &draft);
        request.draft_errors.extend(errors);
        Ok(request)
    }
}

#[napi]
impl InviteService {
    /// Sends many invitations into one subscription with one role, in one transaction.
    /// Problems with the shared fields or the inviter's rights reject the whole call;
    /// problems with one invitee (validation, duplicates, seats, limits) fail only its
    /// row. Seats are counted across the batch: rows beyond the free seats fail. A store
    /// failure rejects the whole call and commits nothing.
    #[napi(catch_unwind, strict, ts_return_type = "Promise<BulkSendResult>")]
    pub fn bulk_send(&self, input: BulkSendInput) -> Call<BulkSendResult> {
        self.run(move |s| {
            s.bulk_send(&input.into_request()?)
                .map(BulkSendResult::from)
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_row_limit_is_the_core_s() {
        assert_eq!(
            usize::try_from(super::MAX_BULK_ROWS).ok(),
            Some(invite_core::service::MAX_BULK_ROWS)
        );
    }
}
