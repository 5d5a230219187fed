//! Bulk send: many invitees into one business / app / subscription / role in one call.
//! The call is one batch: its valid rows commit together in one transaction, seats are
//! counted across the whole batch (rows beyond the free seats fail, nothing oversells),
//! and every row gets its own result.

use chrono::Duration;
use serde::{Deserialize, Serialize};

use super::idempotency::idempotency_key;
use super::request::{NewInvitee, SentInvitation, parse_draft_id, parse_draft_lifetime};
use super::validate::{
    Placement, Target, digest, target_line, validate_placement, validate_target,
};
use super::{InviteService, Unit};
use crate::error::{Error, ErrorCode, FieldCode, FieldError, FieldErrors, Result};
use crate::ids::{ApplicationId, BusinessId, RoleId, SubscriptionId, UserId};

/// One invitee of a bulk send: an existing user or a new one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkInvitee {
    /// An existing user.
    pub user_id: Option<UserId>,
    /// Or a new user's details.
    pub new_user: Option<NewInvitee>,
    /// Problems found reading this row from a text draft, reported as the row's errors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub draft_errors: Vec<FieldError>,
}

/// One row of a [`BulkSendDraft`]: ids as text.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkRowDraft {
    /// An existing user's id.
    pub user_id: Option<String>,
    /// Or a new user's details.
    pub new_user: Option<NewInvitee>,
}

/// A bulk send with every id as text, as a page or a binding receives it. Malformed
/// shared ids are reported with the other field problems; a malformed row id fails
/// only its row (`rows[i].user_id`, `UNKNOWN_OPTION`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkSendDraft {
    /// Business id.
    pub business_id: Option<String>,
    /// App id.
    pub app_id: Option<String>,
    /// Subscription id.
    pub subscription_id: Option<String>,
    /// Role id.
    pub role_id: Option<String>,
    /// The invitees.
    pub rows: Vec<BulkRowDraft>,
    /// Lifetime in seconds.
    pub expires_in_seconds: Option<i64>,
    /// Email locale.
    pub locale: Option<String>,
    /// Idempotency key.
    pub idempotency_key: Option<String>,
}

impl BulkInvitee {
    /// An existing user.
    pub fn existing(user_id: UserId) -> Self {
        BulkInvitee {
            user_id: Some(user_id),
            new_user: None,
            draft_errors: Vec::new(),
        }
    }

    /// A new user.
    pub fn new_user(first_name: &str, last_name: &str, email: &str) -> Self {
        BulkInvitee {
            user_id: None,
            new_user: Some(NewInvitee {
                first_name: first_name.into(),
                last_name: last_name.into(),
                email: email.into(),
            }),
            draft_errors: Vec::new(),
        }
    }
}

/// A bulk send. The placement fields are shared by every row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BulkSendRequest {
    /// Who sends.
    pub inviter_id: UserId,
    /// Business.
    pub business_id: Option<BusinessId>,
    /// App.
    pub app_id: Option<ApplicationId>,
    /// Subscription.
    pub subscription_id: Option<SubscriptionId>,
    /// Role.
    pub role_id: Option<RoleId>,
    /// The invitees.
    pub rows: Vec<BulkInvitee>,
    /// Lifetime of every invitation.
    pub expires_in: Option<Duration>,
    /// Email locale.
    pub locale: Option<String>,
    /// Idempotency key for the whole call.
    pub idempotency_key: Option<String>,
    /// Problems found reading the shared fields from a text draft.
    pub draft_errors: Vec<FieldError>,
}

impl BulkSendRequest {
    /// A bulk send from `inviter` into one subscription with one role.
    pub fn new(
        inviter_id: UserId,
        business_id: BusinessId,
        app_id: ApplicationId,
        subscription_id: SubscriptionId,
        role_id: RoleId,
        rows: Vec<BulkInvitee>,
    ) -> Self {
        BulkSendRequest {
            inviter_id,
            business_id: Some(business_id),
            app_id: Some(app_id),
            subscription_id: Some(subscription_id),
            role_id: Some(role_id),
            rows,
            expires_in: None,
            locale: None,
            idempotency_key: None,
            draft_errors: Vec::new(),
        }
    }

    /// From a text draft; malformed ids are kept as field errors for [`InviteService::bulk_send`].
    pub fn from_draft(inviter_id: UserId, draft: &BulkSendDraft) -> Self {
        let mut errors = FieldErrors::new();
        let rows = draft
            .rows
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let mut row_errors = FieldErrors::new();
                let user_id =
                    parse_draft_id(&row.user_id, &format!("rows[{i}].user_id"), &mut row_errors);
                BulkInvitee {
                    user_id,
                    new_user: row.new_user.clone(),
                    draft_errors: row_errors.into_vec(),
                }
            })
            .collect();
        BulkSendRequest {
            inviter_id,
            business_id: parse_draft_id(&draft.business_id, "business_id", &mut errors),
            app_id: parse_draft_id(&draft.app_id, "app_id", &mut errors),
            subscription_id: parse_draft_id(&draft.subscription_id, "subscription_id", &mut errors),
            role_id: parse_draft_id(&draft.role_id, "role_id", &mut errors),
            rows,
            expires_in: parse_draft_lifetime(draft.expires_in_seconds, &mut errors),
            locale: draft.locale.clone(),
            idempotency_key: draft.idempotency_key.clone(),
            draft_errors: errors.into_vec(),
        }
    }
}

/// Why one row was not sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    /// The error code (`VALIDATION_FAILED`, `SEAT_LIMIT_REACHED`, `ALREADY_INVITED`, …).
    pub code: ErrorCode,
    /// A lowercase message.
    pub message: String,
    /// Field problems, named `rows[i].field`.
    pub field_errors: Vec<FieldError>,
    /// What to do about it, when the library knows (as `Error::help`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// When retrying may succeed, for `RATE_LIMITED` (as `Error::retry_after`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<std::time::Duration>,
}

impl From<Error> for RowError {
    fn from(e: Error) -> Self {
        RowError {
            code: e.code(),
            message: e.message().to_owned(),
            field_errors: e.field_errors().to_vec(),
            help: e.help().map(str::to_owned),
            retry_after: e.retry_after(),
        }
    }
}

impl From<RowError> for Error {
    fn from(e: RowError) -> Self {
        let error = if e.code == ErrorCode::ValidationFailed {
            Error::validation(e.field_errors)
        } else {
            Error::new(e.code, e.message)
        };
        let error = match e.retry_after {
            Some(retry) => error.with_retry_after(retry),
            None => error,
        };
        match e.help {
            Some(help) => error.with_help(help),
            None => error,
        }
    }
}

/// The result of a bulk send: one entry per row, in order.
#[derive(Clone, Debug)]
pub struct BulkSendResult {
    /// Per-row outcome.
    pub rows: Vec<Result<SentInvitation, RowError>>,
    /// True when an idempotency key returned an earlier result.
    pub replayed: bool,
}

impl BulkSendResult {
    /// How many rows were sent.
    pub fn sent(&self) -> usize {
        self.rows.iter().filter(|r| r.is_ok()).count()
    }

    /// How many rows failed.
    pub fn failed(&self) -> usize {
        self.rows.len() - self.sent()
    }
}

/// The idempotency fingerprint of a bulk send: every row in its place, a valid row by its
/// validated parameters and an invalid one by its input, so two requests that differ in
/// any row, or in the order of their rows, never share a stored result.
fn bulk_fingerprint(
    rows: &[BulkInvitee],
    targets: &[Result<Target, Error>],
    placement: &Placement,
) -> String {
    let lines = rows.iter().zip(targets).map(|(row, target)| match target {
        Ok(target) => target_line(target, placement),
        Err(_) => format!(
            "invalid:{}\n",
            serde_json::to_string(row).unwrap_or_default()
        ),
    });
    format!("bulk:{}:{}", rows.len(), digest(lines))
}

/// Whether a row's error fails the whole bulk send instead of that row: anything but
/// the refusals a row meets before its writes (its fields, its user gone, a duplicate,
/// no seat, a limit). Anything else may strike after some of the row's writes, which
/// only the rollback of the whole unit takes back: a storage or internal failure, or a
/// unique key a write runs into (the store's `ALREADY_EXISTS`; the row's own duplicates
/// are `ALREADY_INVITED` and `ALREADY_MEMBER`).
fn ends_the_batch(e: &Error) -> bool {
    !matches!(
        e.code(),
        ErrorCode::ValidationFailed
            | ErrorCode::NotFound
            | ErrorCode::AlreadyInvited
            | ErrorCode::AlreadyMember
            | ErrorCode::SeatLimitReached
            | ErrorCode::RateLimited
    )
}

/// Most rows one bulk send takes. One call is one transaction, which holds the store's
/// write lock (every tenant's writes wait on SQLite) and is stored whole under an
/// idempotency key: larger imports go in several calls.
pub const MAX_BULK_ROWS: usize = 10_000;

impl InviteService {
    /// Sends many invitations in one transaction (at most [`MAX_BULK_ROWS`] rows; more
    /// is a `rows` / `OUT_OF_RANGE` field error). Errors in the shared fields (business,
    /// app, subscription, role, expiry) and the inviter's rights fail the whole call;
    /// everything about one invitee (validation, duplicates, seats, rate limits) fails
    /// only that row. A store failure (a unique key a write runs into among them) fails the
    /// whole call and commits nothing.
    pub fn bulk_send(&self, request: &BulkSendRequest) -> Result<BulkSendResult> {
        self.write(|u| {
            let mut errors = FieldErrors::from(request.draft_errors.clone());
            let placement = validate_placement(
                self,
                u,
                request.inviter_id,
                request.business_id,
                request.app_id,
                request.subscription_id,
                request.role_id,
                request.expires_in,
                request.locale.as_deref(),
                &mut errors,
            )?;
            let key = idempotency_key(request.idempotency_key.as_deref(), &mut errors);
            if request.rows.len() > MAX_BULK_ROWS {
                errors.push(
                    "rows",
                    FieldCode::OutOfRange,
                    format!("at most {MAX_BULK_ROWS} rows per call; send the rest in another"),
                );
            }
            errors.into_result()?;
            let placement =
                placement.ok_or_else(|| Error::internal("validated placement is missing"))?;
            let targets = self.validate_rows(u, &request.rows)?;
            let fp = key
                .as_ref()
                .map(|_| bulk_fingerprint(&request.rows, &targets, &placement));
            let rights = self.inviter_may_invite(u, &placement)?;
            if let (Some(key), Some(fp)) = (&key, &fp)
                && let Some(rows) = self.replay(u, placement.business, key, fp)?
            {
                // As for a send: live links only to an inviter who may still send them.
                self.check_role_grant(&rights, &placement.role, placement.subscription.app_id)?;
                return Ok(BulkSendResult {
                    rows,
                    replayed: true,
                });
            }
            self.authorize(u, &placement, &rights)?;
            let mut rows = Vec::with_capacity(targets.len());
            for target in targets {
                let row = target.and_then(|t| {
                    self.check_inviter_limits(u, placement.inviter, placement.business, 1)?;
                    self.create_invitation(u, &t, &placement)
                });
                match row {
                    // A failure that may strike after some of the row's writes fails the
                    // whole unit, so the rollback takes them back (a STORAGE_CONFLICT is
                    // retried). A row's own refusals come before its writes; only the
                    // expiry of overdue invitations may precede them, which stands on
                    // its own.
                    Err(e) if ends_the_batch(&e) => return Err(e),
                    row => rows.push(row.map_err(RowError::from)),
                }
            }
            if let (Some(key), Some(fp)) = (&key, fp) {
                self.remember(u, placement.business, key, fp, &rows)?;
            }
            Ok(BulkSendResult {
                rows,
                replayed: false,
            })
        })
    }

    /// Validates each row on its own; a row's field errors are named `rows[i].field`.
    fn validate_rows(
        &self,
        u: &mut Unit<'_>,
        rows: &[BulkInvitee],
    ) -> Result<Vec<Result<Target, Error>>> {
        let mut out = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let mut errors = FieldErrors::from(row.draft_errors.clone());
            let prefix = format!("rows[{i}].");
            let target = validate_target(
                self,
                u,
                row.user_id,
                row.new_user.as_ref(),
                &prefix,
                &mut errors,
            )?;
            out.push(match (errors.into_result(), target) {
                (Ok(()), Some(t)) => Ok(t),
                (Err(e), _) => Err(e),
                (Ok(()), None) => Err(Error::internal("validated row is missing")),
            });
        }
        Ok(out)
    }
}
