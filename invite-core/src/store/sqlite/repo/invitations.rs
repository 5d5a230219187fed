//! Invitations. The invitee is three columns plus its kind; the delivery status four.
//! Effective status (`pending` past its expiry counts as `expired`) is computed in SQL.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use rusqlite::types::{ToSql, Value};
use rusqlite::{Row, params, params_from_iter};

use crate::error::{Error, Result};
use crate::ids::{BusinessId, InvitationId, SubscriptionId, UserId};
use crate::model::{DeliveryStatus, Invitation, InvitationRecord, InvitationStatus, Invitee};
use crate::store::sqlite::codec::{self, Ts, ts_bytes, ts_opt};
use crate::store::sqlite::repo::replace::Replace;
use crate::store::sqlite::tx::SqliteTx;
use crate::store::{InvitationQuery, InvitationRepo};
use crate::token::TokenHash;

macro_rules! cols {
    () => {
        "id, business_id, app_id, subscription_id, role_id, \
         invitee_kind, invitee_user_id, invitee_first_name, invitee_last_name, \
         email, email_key, inviter_id, status, locale, \
         created_at, expires_at, last_sent_at, send_count, responded_at, accepted_user_id, \
         delivery_state, delivery_attempts, delivery_error, delivered_at, token_hash"
    };
}

const INSERT: &str = concat!(
    "INSERT INTO invitations (",
    cols!(),
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, \
     ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25)"
);

/// A replace writes only the indexes whose columns change (see `replace`). Parameters:
/// `?1` the id, `?2`–`?17` the columns without an index, then the groups.
static REPLACE: Replace = Replace {
    unchanged: "SELECT token_hash IS ?2, status IS ?3 AND expires_at IS ?4, \
         business_id IS ?5 AND subscription_id IS ?6 AND email_key IS ?7 \
         AND inviter_id IS ?8 AND created_at IS ?9 FROM invitations WHERE id = ?1",
    groups_from: 17,
    head: "UPDATE invitations SET app_id = ?2, role_id = ?3, invitee_kind = ?4, \
         invitee_user_id = ?5, invitee_first_name = ?6, invitee_last_name = ?7, email = ?8, \
         locale = ?9, last_sent_at = ?10, send_count = ?11, responded_at = ?12, \
         accepted_user_id = ?13, delivery_state = ?14, delivery_attempts = ?15, \
         delivery_error = ?16, delivered_at = ?17",
    groups: &[
        // The token hash (its unique index): a taken one fails the whole UPDATE, so
        // nothing changes (`ALREADY_EXISTS`).
        "token_hash = ?18",
        // Status and expiry: the pending indexes and the per-business pending trigger.
        "status = ?19, expires_at = ?20",
        // Placement and inviter: never changed by the service, kept for a full replace.
        "business_id = ?21, subscription_id = ?22, email_key = ?23, inviter_id = ?24, \
         created_at = ?25",
    ],
    tail: "WHERE id = ?1",
    assembled: OnceLock::new(),
};

/// The delivery columns alone (none has an index), for the dispatcher.
const UPDATE_DELIVERY: &str = "UPDATE invitations SET delivery_state = ?3, \
     delivery_attempts = ?4, delivery_error = ?5, delivered_at = ?6 \
     WHERE id = ?2 AND business_id = ?1";

/// A record's column values, in `cols!()` order.
struct Bind<'a> {
    record: &'a InvitationRecord,
    kind: &'static str,
    invitee_user: Option<UserId>,
    first_name: Option<&'a str>,
    last_name: Option<&'a str>,
    created_at: Ts,
    expires_at: Ts,
    last_sent_at: Ts,
    responded_at: Option<Ts>,
    delivered_at: Option<Ts>,
}

impl<'a> Bind<'a> {
    fn new(record: &'a InvitationRecord) -> Self {
        let inv = &record.invitation;
        let (kind, invitee_user, first_name, last_name) = match &inv.invitee {
            Invitee::Existing { user_id } => ("existing", Some(*user_id), None, None),
            Invitee::New {
                first_name,
                last_name,
            } => (
                "new",
                None,
                Some(first_name.as_str()),
                Some(last_name.as_str()),
            ),
        };
        Bind {
            record,
            kind,
            invitee_user,
            first_name,
            last_name,
            created_at: Ts(inv.created_at),
            expires_at: Ts(inv.expires_at),
            last_sent_at: Ts(inv.last_sent_at),
            responded_at: ts_opt(inv.responded_at),
            delivered_at: ts_opt(inv.delivery.delivered_at),
        }
    }

    fn params(&self) -> [&dyn ToSql; 25] {
        let inv = &self.record.invitation;
        [
            &inv.id,
            &inv.business_id,
            &inv.app_id,
            &inv.subscription_id,
            &inv.role_id,
            &self.kind,
            &self.invitee_user,
            &self.first_name,
            &self.last_name,
            &inv.email,
            &inv.email_key,
            &inv.inviter_id,
            &inv.status,
            &inv.locale,
            &self.created_at,
            &self.expires_at,
            &self.last_sent_at,
            &inv.send_count,
            &self.responded_at,
            &inv.accepted_user_id,
            &inv.delivery.state,
            &inv.delivery.attempts,
            &inv.delivery.last_error,
            &self.delivered_at,
            &self.record.token_hash,
        ]
    }
}

fn record_row(row: &Row<'_>) -> rusqlite::Result<InvitationRecord> {
    let kind: String = row.get(5)?;
    let invitee = match kind.as_str() {
        "existing" => Invitee::Existing {
            user_id: row.get(6)?,
        },
        "new" => Invitee::New {
            first_name: row.get(7)?,
            last_name: row.get(8)?,
        },
        other => {
            return Err(rusqlite::Error::FromSqlConversionFailure(
                5,
                rusqlite::types::Type::Text,
                format!("unknown invitee kind `{other}`").into(),
            ));
        }
    };
    let invitation = Invitation {
        id: row.get(0)?,
        business_id: row.get(1)?,
        app_id: row.get(2)?,
        subscription_id: row.get(3)?,
        role_id: row.get(4)?,
        invitee,
        email: row.get(9)?,
        email_key: row.get(10)?,
        inviter_id: row.get(11)?,
        status: row.get(12)?,
        locale: row.get(13)?,
        created_at: row.get::<_, Ts>(14)?.0,
        expires_at: row.get::<_, Ts>(15)?.0,
        last_sent_at: row.get::<_, Ts>(16)?.0,
        send_count: row.get(17)?,
        responded_at: row.get::<_, Option<Ts>>(18)?.map(|t| t.0),
        accepted_user_id: row.get(19)?,
        delivery: DeliveryStatus {
            state: row.get(20)?,
            attempts: row.get(21)?,
            last_error: row.get(22)?,
            delivered_at: row.get::<_, Option<Ts>>(23)?.map(|t| t.0),
        },
    };
    Ok(InvitationRecord {
        invitation,
        token_hash: row.get(24)?,
    })
}

/// The `WHERE … ORDER BY id LIMIT` of [`InvitationRepo::list_invitations`], with its values.
fn list_query(query: &InvitationQuery) -> (String, Vec<Value>) {
    let mut sql = String::from(concat!("SELECT ", cols!(), " FROM invitations"));
    if query.email_key.is_some() {
        // The person's invitations, however many the business has; sorted by id after.
        sql.push_str(" INDEXED BY invitations_by_email");
    }
    sql.push_str(" WHERE business_id = ?");
    let id = |id: &uuid::Uuid| Value::Blob(id.as_bytes().to_vec());
    let mut values = vec![id(query.business_id.as_uuid())];
    if let Some(after) = query.after {
        sql.push_str(" AND id > ?");
        values.push(id(after.as_uuid()));
    }
    if let Some(app) = query.app_id {
        sql.push_str(" AND app_id = ?");
        values.push(id(app.as_uuid()));
    }
    if let Some(subscription) = query.subscription_id {
        sql.push_str(" AND subscription_id = ?");
        values.push(id(subscription.as_uuid()));
    }
    if let Some(key) = &query.email_key {
        sql.push_str(" AND email_key = ?");
        values.push(Value::Text(key.clone()));
    }
    let now = Value::Blob(ts_bytes(query.now).to_vec());
    match query.status {
        None => {}
        Some(InvitationStatus::Pending) => {
            sql.push_str(" AND status = 'pending' AND expires_at > ?");
            values.push(now);
        }
        Some(InvitationStatus::Expired) => {
            sql.push_str(" AND (status = 'expired' OR (status = 'pending' AND expires_at <= ?))");
            values.push(now);
        }
        Some(other) => {
            sql.push_str(" AND status = ?");
            values.push(Value::Text(other.as_str().to_owned()));
        }
    }
    sql.push_str(" ORDER BY id LIMIT ?");
    values.push(Value::Integer(codec::limit(query.limit)));
    (sql, values)
}

impl InvitationRepo for SqliteTx<'_> {
    fn insert_invitation(&mut self, record: &InvitationRecord) -> Result<()> {
        let bind = Bind::new(record);
        self.exec(INSERT, &bind.params()[..])?;
        Ok(())
    }

    fn update_invitation(&mut self, record: &InvitationRecord) -> Result<()> {
        let b = Bind::new(record);
        let inv = &record.invitation;
        let params: [&dyn ToSql; 25] = [
            &inv.id,
            &inv.app_id,
            &inv.role_id,
            &b.kind,
            &b.invitee_user,
            &b.first_name,
            &b.last_name,
            &inv.email,
            &inv.locale,
            &b.last_sent_at,
            &inv.send_count,
            &b.responded_at,
            &inv.accepted_user_id,
            &inv.delivery.state,
            &inv.delivery.attempts,
            &inv.delivery.last_error,
            &b.delivered_at,
            &record.token_hash,
            &inv.status,
            &b.expires_at,
            &inv.business_id,
            &inv.subscription_id,
            &inv.email_key,
            &inv.inviter_id,
            &b.created_at,
        ];
        if !REPLACE.run(self, &params)? {
            return Err(Error::not_found("invitation"));
        }
        Ok(())
    }

    fn update_delivery(
        &mut self,
        business: BusinessId,
        id: InvitationId,
        delivery: &DeliveryStatus,
    ) -> Result<()> {
        let changed = self.exec(
            UPDATE_DELIVERY,
            params![
                business,
                id,
                delivery.state,
                delivery.attempts,
                delivery.last_error,
                ts_opt(delivery.delivered_at)
            ],
        )?;
        if changed == 0 {
            return Err(Error::not_found("invitation"));
        }
        Ok(())
    }

    fn get_invitation(
        &mut self,
        business: BusinessId,
        id: InvitationId,
    ) -> Result<Option<InvitationRecord>> {
        self.one(
            concat!(
                "SELECT ",
                cols!(),
                " FROM invitations WHERE id = ?1 AND business_id = ?2"
            ),
            params![id, business],
            record_row,
        )
    }

    fn get_invitation_by_token_hash(
        &mut self,
        hash: &TokenHash,
    ) -> Result<Option<InvitationRecord>> {
        self.one(
            concat!(
                "SELECT ",
                cols!(),
                " FROM invitations WHERE token_hash = ?1"
            ),
            params![hash],
            record_row,
        )
    }

    fn find_pending_invitation(
        &mut self,
        business: BusinessId,
        subscription: SubscriptionId,
        email_key: &str,
    ) -> Result<Option<InvitationRecord>> {
        self.one(
            concat!(
                "SELECT ",
                cols!(),
                " FROM invitations INDEXED BY invitations_by_email",
                " WHERE business_id = ?1 AND email_key = ?3 AND subscription_id = ?2",
                " AND status = 'pending' LIMIT 1"
            ),
            params![business, subscription, email_key],
            record_row,
        )
    }

    fn list_invitations(&mut self, query: &InvitationQuery) -> Result<Vec<Invitation>> {
        let (sql, values) = list_query(query);
        self.all(&sql, params_from_iter(values), |row| {
            record_row(row).map(|r| r.invitation)
        })
    }

    fn overdue_pending(
        &mut self,
        now: DateTime<Utc>,
        subscription: Option<SubscriptionId>,
        limit: usize,
    ) -> Result<Vec<InvitationRecord>> {
        let now = Ts(now);
        let limit = codec::limit(limit);
        match subscription {
            Some(subscription) => self.all(
                concat!(
                    "SELECT ",
                    cols!(),
                    " FROM invitations INDEXED BY invitations_pending_by_subscription",
                    " WHERE subscription_id = ?1 AND status = 'pending' AND expires_at <= ?2",
                    " ORDER BY expires_at, id LIMIT ?3"
                ),
                params![subscription, now, limit],
                record_row,
            ),
            None => self.all(
                concat!(
                    "SELECT ",
                    cols!(),
                    " FROM invitations INDEXED BY invitations_pending_by_expiry",
                    " WHERE status = 'pending' AND expires_at <= ?1",
                    " ORDER BY expires_at, id LIMIT ?2"
                ),
                params![now, limit],
                record_row,
            ),
        }
    }

    fn count_pending(&mut self, business: BusinessId) -> Result<u32> {
        self.count(
            "SELECT pending FROM business_pending WHERE business_id = ?1",
            params![business],
        )
    }

    fn count_pending_in_subscription(&mut self, subscription: SubscriptionId) -> Result<u32> {
        self.count(
            "SELECT COUNT(*) FROM invitations INDEXED BY invitations_pending_by_subscription
             WHERE subscription_id = ?1 AND status = 'pending'",
            params![subscription],
        )
    }

    fn count_overdue_pending(
        &mut self,
        now: DateTime<Utc>,
        subscription: SubscriptionId,
    ) -> Result<u32> {
        self.count(
            "SELECT COUNT(*) FROM invitations INDEXED BY invitations_pending_by_subscription
             WHERE subscription_id = ?1 AND status = 'pending' AND expires_at <= ?2",
            params![subscription, Ts(now)],
        )
    }

    fn count_created_by_inviter_since(
        &mut self,
        inviter: UserId,
        since: DateTime<Utc>,
    ) -> Result<u32> {
        self.count(
            "SELECT COUNT(*) FROM invitations WHERE inviter_id = ?1 AND created_at >= ?2",
            params![inviter, Ts(since)],
        )
    }
}
