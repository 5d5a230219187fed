//! Subscriptions; their seat counters are columns of the same row.

use rusqlite::{Row, params};

use crate::error::{Error, Result};
use crate::ids::{ApplicationId, BusinessId, SubscriptionId};
use crate::model::{SeatCounts, Subscription};
use crate::store::SubscriptionRepo;
use crate::store::sqlite::codec::{Ts, ts_opt};
use crate::store::sqlite::tx::SqliteTx;

macro_rules! cols {
    () => {
        "id, business_id, app_id, plan, seats, status, valid_from, valid_until, created_at"
    };
}

fn subscription_row(row: &Row<'_>) -> rusqlite::Result<Subscription> {
    Ok(Subscription {
        id: row.get(0)?,
        business_id: row.get(1)?,
        app_id: row.get(2)?,
        plan: row.get(3)?,
        seats: row.get(4)?,
        status: row.get(5)?,
        valid_from: row.get::<_, Option<Ts>>(6)?.map(|t| t.0),
        valid_until: row.get::<_, Option<Ts>>(7)?.map(|t| t.0),
        created_at: row.get::<_, Ts>(8)?.0,
    })
}

impl SubscriptionRepo for SqliteTx<'_> {
    fn insert_subscription(&mut self, s: &Subscription) -> Result<()> {
        self.exec(
            concat!(
                "INSERT INTO subscriptions (",
                cols!(),
                ", used, reserved) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0, 0)"
            ),
            params![
                s.id,
                s.business_id,
                s.app_id,
                s.plan,
                s.seats,
                s.status,
                ts_opt(s.valid_from),
                ts_opt(s.valid_until),
                Ts(s.created_at)
            ],
        )?;
        Ok(())
    }

    fn update_subscription(&mut self, s: &Subscription) -> Result<()> {
        let changed = self.exec(
            "UPDATE subscriptions SET business_id = ?2, app_id = ?3, plan = ?4, seats = ?5,
             status = ?6, valid_from = ?7, valid_until = ?8, created_at = ?9 WHERE id = ?1",
            params![
                s.id,
                s.business_id,
                s.app_id,
                s.plan,
                s.seats,
                s.status,
                ts_opt(s.valid_from),
                ts_opt(s.valid_until),
                Ts(s.created_at)
            ],
        )?;
        if changed == 0 {
            return Err(Error::not_found("subscription"));
        }
        Ok(())
    }

    fn get_subscription(
        &mut self,
        business: BusinessId,
        id: SubscriptionId,
    ) -> Result<Option<Subscription>> {
        self.one(
            concat!(
                "SELECT ",
                cols!(),
                " FROM subscriptions WHERE id = ?1 AND business_id = ?2"
            ),
            params![id, business],
            subscription_row,
        )
    }

    fn list_subscriptions(
        &mut self,
        business: BusinessId,
        app: Option<ApplicationId>,
    ) -> Result<Vec<Subscription>> {
        match app {
            Some(app) => self.all(
                concat!(
                    "SELECT ",
                    cols!(),
                    " FROM subscriptions WHERE business_id = ?1 AND app_id = ?2 ORDER BY id"
                ),
                params![business, app],
                subscription_row,
            ),
            None => self.all(
                concat!(
                    "SELECT ",
                    cols!(),
                    " FROM subscriptions WHERE business_id = ?1 ORDER BY id"
                ),
                params![business],
                subscription_row,
            ),
        }
    }

    fn seat_counts_for_update(
        &mut self,
        business: BusinessId,
        id: SubscriptionId,
    ) -> Result<SeatCounts> {
        Ok(self.seats_for_update(business, id)?.0)
    }

    fn seats_for_update(
        &mut self,
        business: BusinessId,
        id: SubscriptionId,
    ) -> Result<(SeatCounts, Option<u32>)> {
        // A write transaction began with `BEGIN IMMEDIATE`: it holds the database's
        // write lock, so these counters and this cap cannot change under it until it ends.
        let seats = self.one(
            "SELECT used, reserved, seats FROM subscriptions WHERE id = ?1 AND business_id = ?2",
            params![id, business],
            |row| {
                let counts = SeatCounts {
                    used: row.get(0)?,
                    reserved: row.get(1)?,
                };
                Ok((counts, row.get(2)?))
            },
        )?;
        seats.ok_or_else(|| Error::not_found("subscription"))
    }

    fn set_seat_counts(&mut self, id: SubscriptionId, counts: SeatCounts) -> Result<()> {
        let changed = self.exec(
            "UPDATE subscriptions SET used = ?2, reserved = ?3 WHERE id = ?1",
            params![id, counts.used, counts.reserved],
        )?;
        if changed == 0 {
            return Err(Error::not_found("subscription"));
        }
        Ok(())
    }
}
