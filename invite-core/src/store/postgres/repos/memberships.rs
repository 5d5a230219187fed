//! Memberships (seats).

use crate::error::{Error, Result};
use crate::ids::{BusinessId, MembershipId, SubscriptionId, UserId};
use crate::model::Membership;
use crate::store::MembershipRepo;
use crate::store::postgres::rows::{self, membership_cols};
use crate::store::postgres::tx::{PgTx, after_id, get_u32, limit};

const INSERT: &str = "
WITH ins AS (
    INSERT INTO memberships (id, business_id, subscription_id, app_id, user_id, role_id, created_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7)
    ON CONFLICT DO NOTHING
    RETURNING 1
)
SELECT count(*) FROM ins";

const INSERT_SEEN: &str = "
SELECT coalesce(bool_or(xact = pg_current_xact_id_if_assigned()
                        OR pg_visible_in_snapshot(xact, $1::text::pg_snapshot)), false)
FROM memberships WHERE id = $2 OR (subscription_id = $3 AND user_id = $4)";

const DELETE: &str = "DELETE FROM memberships WHERE business_id = $1 AND id = $2";
const GET: &str = concat!(
    "SELECT ",
    membership_cols!(),
    " FROM memberships WHERE business_id = $1 AND id = $2"
);
const FIND: &str = concat!(
    "SELECT ",
    membership_cols!(),
    " FROM memberships WHERE business_id = $1 AND subscription_id = $2 AND user_id = $3"
);
const OF_USER: &str = concat!(
    "SELECT ",
    membership_cols!(),
    " FROM memberships WHERE user_id = $1 AND ($2::uuid IS NULL OR business_id = $2) ORDER BY id"
);
const LIST: &str = concat!(
    "SELECT ",
    membership_cols!(),
    " FROM memberships WHERE business_id = $1 AND subscription_id = $2 \
      AND id > $3 ORDER BY id LIMIT $4"
);
const COUNT: &str = "SELECT count(*) FROM memberships WHERE subscription_id = $1";

impl MembershipRepo for PgTx {
    fn insert_membership(&mut self, m: &Membership) -> Result<()> {
        self.insert_unique(
            "membership",
            INSERT,
            &[
                m.id.as_uuid(),
                m.business_id.as_uuid(),
                m.subscription_id.as_uuid(),
                m.app_id.as_uuid(),
                m.user_id.as_uuid(),
                m.role_id.as_uuid(),
                &m.created_at,
            ],
            INSERT_SEEN,
            &[
                m.id.as_uuid(),
                m.subscription_id.as_uuid(),
                m.user_id.as_uuid(),
            ],
        )
    }

    fn delete_membership(&mut self, business: BusinessId, id: MembershipId) -> Result<()> {
        match self.exec(DELETE, &[business.as_uuid(), id.as_uuid()])? {
            0 => Err(Error::not_found("membership")),
            _ => Ok(()),
        }
    }

    fn get_membership(
        &mut self,
        business: BusinessId,
        id: MembershipId,
    ) -> Result<Option<Membership>> {
        self.opt(GET, &[business.as_uuid(), id.as_uuid()])?
            .map(|r| rows::membership(&r))
            .transpose()
    }

    fn find_membership(
        &mut self,
        business: BusinessId,
        subscription: SubscriptionId,
        user: UserId,
    ) -> Result<Option<Membership>> {
        self.opt(
            FIND,
            &[business.as_uuid(), subscription.as_uuid(), user.as_uuid()],
        )?
        .map(|r| rows::membership(&r))
        .transpose()
    }

    fn memberships_of_user(
        &mut self,
        user: UserId,
        business: Option<BusinessId>,
    ) -> Result<Vec<Membership>> {
        let business = business.map(|b| *b.as_uuid());
        self.rows(OF_USER, &[user.as_uuid(), &business])?
            .iter()
            .map(rows::membership)
            .collect()
    }

    fn list_memberships(
        &mut self,
        business: BusinessId,
        subscription: SubscriptionId,
        after: Option<MembershipId>,
        n: usize,
    ) -> Result<Vec<Membership>> {
        let after = after_id(after.as_ref().map(MembershipId::as_uuid));
        self.rows(
            LIST,
            &[
                business.as_uuid(),
                subscription.as_uuid(),
                &after,
                &limit(n),
            ],
        )?
        .iter()
        .map(rows::membership)
        .collect()
    }

    fn count_memberships(&mut self, subscription: SubscriptionId) -> Result<u32> {
        let row = self.one(COUNT, &[subscription.as_uuid()])?;
        get_u32(&row, 0)
    }
}
