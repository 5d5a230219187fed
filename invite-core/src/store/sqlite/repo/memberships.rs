//! Memberships (seats).

use rusqlite::{Row, params};

use super::after;
use crate::error::{Error, Result};
use crate::ids::{BusinessId, MembershipId, SubscriptionId, UserId};
use crate::model::Membership;
use crate::store::MembershipRepo;
use crate::store::sqlite::codec::{self, Ts};
use crate::store::sqlite::tx::SqliteTx;

macro_rules! cols {
    () => {
        "id, business_id, subscription_id, app_id, user_id, role_id, created_at"
    };
}

fn membership_row(row: &Row<'_>) -> rusqlite::Result<Membership> {
    Ok(Membership {
        id: row.get(0)?,
        business_id: row.get(1)?,
        subscription_id: row.get(2)?,
        app_id: row.get(3)?,
        user_id: row.get(4)?,
        role_id: row.get(5)?,
        created_at: row.get::<_, Ts>(6)?.0,
    })
}

impl MembershipRepo for SqliteTx<'_> {
    fn insert_membership(&mut self, m: &Membership) -> Result<()> {
        self.exec(
            concat!(
                "INSERT INTO memberships (",
                cols!(),
                ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
            ),
            params![
                m.id,
                m.business_id,
                m.subscription_id,
                m.app_id,
                m.user_id,
                m.role_id,
                Ts(m.created_at)
            ],
        )?;
        Ok(())
    }

    fn delete_membership(&mut self, business: BusinessId, id: MembershipId) -> Result<()> {
        let changed = self.exec(
            "DELETE FROM memberships WHERE id = ?1 AND business_id = ?2",
            params![id, business],
        )?;
        if changed == 0 {
            return Err(Error::not_found("membership"));
        }
        Ok(())
    }

    fn get_membership(
        &mut self,
        business: BusinessId,
        id: MembershipId,
    ) -> Result<Option<Membership>> {
        self.one(
            concat!(
                "SELECT ",
                cols!(),
                " FROM memberships WHERE id = ?1 AND business_id = ?2"
            ),
            params![id, business],
            membership_row,
        )
    }

    fn find_membership(
        &mut self,
        business: BusinessId,
        subscription: SubscriptionId,
        user: UserId,
    ) -> Result<Option<Membership>> {
        self.one(
            concat!(
                "SELECT ",
                cols!(),
                " FROM memberships WHERE subscription_id = ?1 AND user_id = ?2",
                " AND business_id = ?3"
            ),
            params![subscription, user, business],
            membership_row,
        )
    }

    fn memberships_of_user(
        &mut self,
        user: UserId,
        business: Option<BusinessId>,
    ) -> Result<Vec<Membership>> {
        match business {
            Some(business) => self.all(
                concat!(
                    "SELECT ",
                    cols!(),
                    " FROM memberships WHERE user_id = ?1 AND business_id = ?2 ORDER BY id"
                ),
                params![user, business],
                membership_row,
            ),
            None => self.all(
                concat!(
                    "SELECT ",
                    cols!(),
                    " FROM memberships WHERE user_id = ?1 ORDER BY id"
                ),
                params![user],
                membership_row,
            ),
        }
    }

    fn list_memberships(
        &mut self,
        business: BusinessId,
        subscription: SubscriptionId,
        after_id: Option<MembershipId>,
        limit: usize,
    ) -> Result<Vec<Membership>> {
        self.all(
            concat!(
                "SELECT ",
                cols!(),
                " FROM memberships WHERE subscription_id = ?1 AND business_id = ?2",
                " AND id > ?3 ORDER BY id LIMIT ?4"
            ),
            params![subscription, business, after(after_id), codec::limit(limit)],
            membership_row,
        )
    }

    fn count_memberships(&mut self, subscription: SubscriptionId) -> Result<u32> {
        self.count(
            "SELECT COUNT(*) FROM memberships WHERE subscription_id = ?1",
            params![subscription],
        )
    }
}
