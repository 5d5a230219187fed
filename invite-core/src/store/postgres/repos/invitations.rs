//! Invitations: one row each, with the hash of its live token and a version.

use chrono::{DateTime, Utc};
use postgres::types::ToSql;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::ids::{BusinessId, InvitationId, SubscriptionId, UserId};
use crate::model::{DeliveryStatus, Invitation, InvitationRecord, InvitationStatus, Invitee};
use crate::store::postgres::error::conflict;
use crate::store::postgres::rows::{self, invitation_cols};
use crate::store::postgres::tx::{PgTx, WriteLock, after_id, get, get_u32, limit, storable};
use crate::store::{InvitationQuery, InvitationRepo};
use crate::token::TokenHash;

const INSERT: &str = "
WITH ins AS (
    INSERT INTO invitations (
        id, business_id, app_id, subscription_id, role_id, invitee_user_id,
        invitee_first_name, invitee_last_name, email, email_key, inviter_id, status, locale,
        created_at, expires_at, last_sent_at, send_count, responded_at, accepted_user_id,
        delivery_state, delivery_attempts, delivery_last_error, delivered_at, token_hash)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
            $19, $20, $21, $22, $23, $24)
    ON CONFLICT DO NOTHING
    RETURNING 1
)
SELECT count(*) FROM ins";

/// Conflicts: the id, the token hash, or (for a pending invitation) the one pending
/// invitation of the same business, subscription and email key.
const INSERT_SEEN: &str = "
SELECT coalesce(bool_or(xact = pg_current_xact_id_if_assigned()
                        OR pg_visible_in_snapshot(xact, $1::text::pg_snapshot)), false)
FROM invitations
WHERE id = $2 OR token_hash = $3
   OR ($7 AND status = 'pending' AND business_id = $4 AND subscription_id = $5
       AND email_key = $6)";

/// `$25`: the version this transaction read, if it read the row: an update made from a
/// stale read matches nothing and is reported as a conflict.
const UPDATE: &str = "
UPDATE invitations
SET business_id = $2, app_id = $3, subscription_id = $4, role_id = $5, invitee_user_id = $6,
    invitee_first_name = $7, invitee_last_name = $8, email = $9, email_key = $10,
    inviter_id = $11, status = $12, locale = $13, created_at = $14, expires_at = $15,
    last_sent_at = $16, send_count = $17, responded_at = $18, accepted_user_id = $19,
    delivery_state = $20, delivery_attempts = $21, delivery_last_error = $22,
    delivered_at = $23, token_hash = $24, version = version + 1, xact = pg_current_xact_id()
WHERE id = $1 AND ($25::bigint IS NULL OR version = $25)
RETURNING version";

/// The delivery columns alone, for the dispatcher, which does not read the row first.
/// The version still moves: an update made from an earlier read conflicts.
const UPDATE_DELIVERY: &str = "
UPDATE invitations
SET delivery_state = $3, delivery_attempts = $4, delivery_last_error = $5, delivered_at = $6,
    version = version + 1, xact = pg_current_xact_id()
WHERE business_id = $1 AND id = $2
RETURNING version";

/// Point reads, plain (read-only transactions) and locking (write transactions).
macro_rules! point_reads {
    ($($name:ident, $locking:ident: $filter:literal;)*) => {$(
        const $name: &str = concat!("SELECT ", invitation_cols!(), " FROM invitations WHERE ", $filter);
        const $locking: &str =
            concat!("SELECT ", invitation_cols!(), " FROM invitations WHERE ", $filter, " FOR UPDATE");
    )*};
}
point_reads! {
    GET, GET_FOR_UPDATE: "business_id = $1 AND id = $2";
    BY_TOKEN, BY_TOKEN_FOR_UPDATE: "token_hash = $1";
    PENDING, PENDING_FOR_UPDATE:
        "status = 'pending' AND business_id = $1 AND subscription_id = $2 AND email_key = $3";
}
/// A listing's parameters: `$1` the business, `$2`/`$3` the app and subscription or NULL,
/// `$4`/`$5` the status asked for and `now`, `$6` the email key or NULL, `$7` the cursor,
/// `$8` the page size. Each shape of filter has a statement of its own, so that even a
/// generic plan starts at the index that bounds it (an optional bound cannot start an
/// index scan): `invitations_email` when filtered by email, `invitations_status` when by
/// status, `invitations_business` otherwise.
macro_rules! list {
    ($filter:expr) => {
        concat!(
            "SELECT ",
            invitation_cols!(),
            " FROM invitations WHERE business_id = $1 \
              AND ($2::uuid IS NULL OR app_id = $2) \
              AND ($3::uuid IS NULL OR subscription_id = $3) \
              AND ",
            $filter,
            " AND id > $7 \
              ORDER BY id LIMIT $8"
        )
    };
}
/// The effective status at `$5` equals `$4` (or none was asked for), as
/// `Invitation::status_at` computes it.
macro_rules! effective_status {
    () => {
        "($4::text IS NULL OR \
          (CASE WHEN status = 'pending' AND expires_at <= $5 THEN 'expired' \
           ELSE status END) = $4)"
    };
}
const LIST: &str = list!(concat!("$6::text IS NULL AND ", effective_status!()));
const LIST_BY_EMAIL: &str = list!(concat!("email_key = $6 AND ", effective_status!()));
/// Filtered by any status but `expired`: the stored status is the effective one, except
/// that a pending invitation past its expiry counts as expired.
const LIST_BY_STATUS: &str = list!(
    "$6::text IS NULL AND status = $4::text \
     AND ($4::text <> 'pending' OR expires_at > $5)"
);
/// Filtered by `expired`: the stored expired ones and the pending ones past their expiry
/// (which the sweep has not settled yet), each read in id order, merged.
const LIST_EXPIRED: &str = concat!(
    "SELECT * FROM ((",
    list!("$6::text IS NULL AND status = $4::text"),
    ") UNION ALL (",
    list!("$6::text IS NULL AND status = 'pending' AND expires_at <= $5"),
    ")) AS expired ORDER BY id LIMIT $8"
);
/// Sweepers in several processes split the work: rows another transaction is changing
/// are skipped (it is settling them anyway).
const OVERDUE_FOR_UPDATE: &str = concat!(
    "SELECT ",
    invitation_cols!(),
    " FROM invitations WHERE status = 'pending' AND expires_at <= $1 \
      AND ($2::uuid IS NULL OR subscription_id = $2) \
      ORDER BY expires_at, id LIMIT $3 FOR UPDATE SKIP LOCKED"
);
const OVERDUE: &str = concat!(
    "SELECT ",
    invitation_cols!(),
    " FROM invitations WHERE status = 'pending' AND expires_at <= $1 \
      AND ($2::uuid IS NULL OR subscription_id = $2) \
      ORDER BY expires_at, id LIMIT $3"
);
const COUNT_PENDING: &str =
    "SELECT count(*) FROM invitations WHERE status = 'pending' AND business_id = $1";
const COUNT_PENDING_IN: &str =
    "SELECT count(*) FROM invitations WHERE status = 'pending' AND subscription_id = $1";
const COUNT_OVERDUE_IN: &str = "SELECT count(*) FROM invitations \
     WHERE status = 'pending' AND subscription_id = $1 AND expires_at <= $2";
const COUNT_BY_INVITER: &str =
    "SELECT count(*) FROM invitations WHERE inviter_id = $1 AND created_at >= $2";

/// An invitation's values in SQL types, in `INSERT`/`UPDATE` parameter order.
struct Values<'a> {
    record: &'a InvitationRecord,
    invitee_user: Option<Uuid>,
    first_name: Option<&'a str>,
    last_name: Option<&'a str>,
    status: &'static str,
    send_count: i64,
    accepted_user: Option<Uuid>,
    delivery_state: &'static str,
    delivery_attempts: i64,
    token_hash: &'a [u8],
}

impl<'a> Values<'a> {
    fn new(record: &'a InvitationRecord) -> Self {
        let inv = &record.invitation;
        let (invitee_user, first_name, last_name) = match &inv.invitee {
            Invitee::Existing { user_id } => (Some(*user_id.as_uuid()), None, None),
            Invitee::New {
                first_name,
                last_name,
            } => (None, Some(first_name.as_str()), Some(last_name.as_str())),
        };
        Values {
            record,
            invitee_user,
            first_name,
            last_name,
            status: inv.status.as_str(),
            send_count: i64::from(inv.send_count),
            accepted_user: inv.accepted_user_id.map(|u| *u.as_uuid()),
            delivery_state: inv.delivery.state.as_str(),
            delivery_attempts: i64::from(inv.delivery.attempts),
            token_hash: &record.token_hash.0,
        }
    }

    fn params(&self) -> [&(dyn ToSql + Sync); 24] {
        let inv = &self.record.invitation;
        [
            inv.id.as_uuid(),
            inv.business_id.as_uuid(),
            inv.app_id.as_uuid(),
            inv.subscription_id.as_uuid(),
            inv.role_id.as_uuid(),
            &self.invitee_user,
            &self.first_name,
            &self.last_name,
            &inv.email,
            &inv.email_key,
            inv.inviter_id.as_uuid(),
            &self.status,
            &inv.locale,
            &inv.created_at,
            &inv.expires_at,
            &inv.last_sent_at,
            &self.send_count,
            &inv.responded_at,
            &self.accepted_user,
            &self.delivery_state,
            &self.delivery_attempts,
            &inv.delivery.last_error,
            &inv.delivery.delivered_at,
            &self.token_hash,
        ]
    }
}

impl PgTx {
    /// Reads invitation records, remembering the version of each.
    fn invitation_records(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<InvitationRecord>> {
        let found = self.rows(sql, params)?;
        let mut out = Vec::with_capacity(found.len());
        for row in &found {
            let record = rows::invitation_record(row)?;
            self.saw_invitation(*record.invitation.id.as_uuid(), get(row, "version")?);
            out.push(record);
        }
        Ok(out)
    }

    fn invitation_record(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<InvitationRecord>> {
        Ok(self.invitation_records(sql, params)?.into_iter().next())
    }
}

impl InvitationRepo for PgTx {
    fn insert_invitation(&mut self, record: &InvitationRecord) -> Result<()> {
        let values = Values::new(record);
        let inv = &record.invitation;
        let pending = inv.status == InvitationStatus::Pending;
        self.insert_unique(
            "invitation",
            INSERT,
            &values.params(),
            INSERT_SEEN,
            &[
                inv.id.as_uuid(),
                &values.token_hash,
                inv.business_id.as_uuid(),
                inv.subscription_id.as_uuid(),
                &inv.email_key,
                &pending,
            ],
        )?;
        self.wrote_invitation(*inv.id.as_uuid(), 1);
        Ok(())
    }

    fn update_invitation(&mut self, record: &InvitationRecord) -> Result<()> {
        let id = *record.invitation.id.as_uuid();
        let expected = self.invitation_version(id);
        let values = Values::new(record);
        let mut params: Vec<&(dyn ToSql + Sync)> = values.params().to_vec();
        params.push(&expected);
        match self.opt(UPDATE, &params)? {
            Some(row) => {
                let version = get(&row, "version")?;
                self.wrote_invitation(id, version);
                Ok(())
            }
            None if expected.is_some() => Err(conflict(
                "the invitation was changed by a concurrent transaction",
            )),
            None => Err(Error::not_found("invitation")),
        }
    }

    fn update_delivery(
        &mut self,
        business: BusinessId,
        id: InvitationId,
        delivery: &DeliveryStatus,
    ) -> Result<()> {
        let state = delivery.state.as_str();
        let attempts = i64::from(delivery.attempts);
        let row = self.opt(
            UPDATE_DELIVERY,
            &[
                business.as_uuid(),
                id.as_uuid(),
                &state,
                &attempts,
                &delivery.last_error,
                &delivery.delivered_at,
            ],
        )?;
        let Some(row) = row else {
            return Err(Error::not_found("invitation"));
        };
        let version = get(&row, "version")?;
        self.wrote_invitation(*id.as_uuid(), version);
        Ok(())
    }

    fn get_invitation(
        &mut self,
        business: BusinessId,
        id: InvitationId,
    ) -> Result<Option<InvitationRecord>> {
        let sql = if self.locks_invitations() {
            GET_FOR_UPDATE
        } else {
            GET
        };
        self.invitation_record(sql, &[business.as_uuid(), id.as_uuid()])
    }

    fn get_invitation_by_token_hash(
        &mut self,
        hash: &TokenHash,
    ) -> Result<Option<InvitationRecord>> {
        let hash: &[u8] = &hash.0;
        let sql = if self.locks_invitations() {
            BY_TOKEN_FOR_UPDATE
        } else {
            BY_TOKEN
        };
        self.invitation_record(sql, &[&hash])
    }

    fn find_pending_invitation(
        &mut self,
        business: BusinessId,
        subscription: SubscriptionId,
        email_key: &str,
    ) -> Result<Option<InvitationRecord>> {
        if !storable(email_key) {
            return Ok(None);
        }
        let sql = if self.locks_invitations() {
            PENDING_FOR_UPDATE
        } else {
            PENDING
        };
        self.invitation_record(
            sql,
            &[business.as_uuid(), subscription.as_uuid(), &email_key],
        )
    }

    fn list_invitations(&mut self, q: &InvitationQuery) -> Result<Vec<Invitation>> {
        if q.email_key.as_deref().is_some_and(|k| !storable(k)) {
            return Ok(Vec::new());
        }
        let app = q.app_id.map(|a| *a.as_uuid());
        let subscription = q.subscription_id.map(|s| *s.as_uuid());
        let status = q.status.map(InvitationStatus::as_str);
        let after = after_id(q.after.as_ref().map(InvitationId::as_uuid));
        let statement = match (&q.email_key, q.status) {
            (Some(_), _) => LIST_BY_EMAIL,
            (None, None) => LIST,
            (None, Some(InvitationStatus::Expired)) => LIST_EXPIRED,
            (None, Some(_)) => LIST_BY_STATUS,
        };
        let records = self.invitation_records(
            statement,
            &[
                q.business_id.as_uuid(),
                &app,
                &subscription,
                &status,
                &q.now,
                &q.email_key,
                &after,
                &limit(q.limit),
            ],
        )?;
        Ok(records.into_iter().map(|r| r.invitation).collect())
    }

    fn overdue_pending(
        &mut self,
        now: DateTime<Utc>,
        subscription: Option<SubscriptionId>,
        n: usize,
    ) -> Result<Vec<InvitationRecord>> {
        let sql = if self.locks_invitations() {
            OVERDUE_FOR_UPDATE
        } else {
            OVERDUE
        };
        let subscription = subscription.map(|s| *s.as_uuid());
        self.invitation_records(sql, &[&now, &subscription, &limit(n)])
    }

    fn count_pending(&mut self, business: BusinessId) -> Result<u32> {
        self.lock_for_write(WriteLock::BusinessPending, business.to_string())?;
        get_u32(&self.one(COUNT_PENDING, &[business.as_uuid()])?, 0)
    }

    fn count_pending_in_subscription(&mut self, subscription: SubscriptionId) -> Result<u32> {
        get_u32(&self.one(COUNT_PENDING_IN, &[subscription.as_uuid()])?, 0)
    }

    fn count_overdue_pending(
        &mut self,
        now: DateTime<Utc>,
        subscription: SubscriptionId,
    ) -> Result<u32> {
        get_u32(
            &self.one(COUNT_OVERDUE_IN, &[subscription.as_uuid(), &now])?,
            0,
        )
    }

    fn count_created_by_inviter_since(
        &mut self,
        inviter: UserId,
        since: DateTime<Utc>,
    ) -> Result<u32> {
        self.lock_for_write(WriteLock::InviterBudget, inviter.to_string())?;
        get_u32(
            &self.one(COUNT_BY_INVITER, &[inviter.as_uuid(), &since])?,
            0,
        )
    }
}
