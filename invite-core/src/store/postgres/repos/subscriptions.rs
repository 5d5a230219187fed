//! Subscriptions and their seat counters (columns of the subscription row).

use crate::error::{Error, Result};
use crate::ids::{ApplicationId, BusinessId, SubscriptionId};
use crate::model::{SeatCounts, Subscription};
use crate::store::SubscriptionRepo;
use crate::store::postgres::error::already_exists;
use crate::store::postgres::rows::{self, subscription_cols};
use crate::store::postgres::tx::{PgTx, get_u32};

const INSERT: &str = "
INSERT INTO subscriptions
    (id, business_id, app_id, plan, seats, status, valid_from, valid_until, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT DO NOTHING";

const UPDATE: &str = "
UPDATE subscriptions
SET business_id = $2, app_id = $3, plan = $4, seats = $5, status = $6, valid_from = $7,
    valid_until = $8, created_at = $9
WHERE id = $1";

const GET: &str = concat!(
    "SELECT ",
    subscription_cols!(),
    " FROM subscriptions WHERE business_id = $1 AND id = $2"
);
const LIST: &str = concat!(
    "SELECT ",
    subscription_cols!(),
    " FROM subscriptions WHERE business_id = $1 AND ($2::uuid IS NULL OR app_id = $2) ORDER BY id"
);

/// The seat lock (other writers of this subscription's counters wait until we end),
/// with the cap of the locked row (its latest committed version).
const SEATS_FOR_UPDATE: &str = "SELECT seats_used, seats_reserved, seats FROM subscriptions \
                                WHERE business_id = $1 AND id = $2 FOR UPDATE";
/// In read-only transactions: the snapshot's counters and cap, no lock.
const SEATS: &str = "SELECT seats_used, seats_reserved, seats FROM subscriptions \
                     WHERE business_id = $1 AND id = $2";
const SET_COUNTS: &str =
    "UPDATE subscriptions SET seats_used = $2, seats_reserved = $3 WHERE id = $1";

impl SubscriptionRepo for PgTx {
    fn insert_subscription(&mut self, s: &Subscription) -> Result<()> {
        let seats = s.seats.map(i64::from);
        let inserted = self.exec(
            INSERT,
            &[
                s.id.as_uuid(),
                s.business_id.as_uuid(),
                s.app_id.as_uuid(),
                &s.plan,
                &seats,
                &s.status.as_str(),
                &s.valid_from,
                &s.valid_until,
                &s.created_at,
            ],
        )?;
        match inserted {
            0 => Err(already_exists("subscription")),
            _ => Ok(()),
        }
    }

    fn update_subscription(&mut self, s: &Subscription) -> Result<()> {
        let seats = s.seats.map(i64::from);
        let updated = self.exec(
            UPDATE,
            &[
                s.id.as_uuid(),
                s.business_id.as_uuid(),
                s.app_id.as_uuid(),
                &s.plan,
                &seats,
                &s.status.as_str(),
                &s.valid_from,
                &s.valid_until,
                &s.created_at,
            ],
        )?;
        match updated {
            0 => Err(Error::not_found("subscription")),
            _ => Ok(()),
        }
    }

    fn get_subscription(
        &mut self,
        business: BusinessId,
        id: SubscriptionId,
    ) -> Result<Option<Subscription>> {
        self.opt(GET, &[business.as_uuid(), id.as_uuid()])?
            .map(|r| rows::subscription(&r))
            .transpose()
    }

    fn list_subscriptions(
        &mut self,
        business: BusinessId,
        app: Option<ApplicationId>,
    ) -> Result<Vec<Subscription>> {
        let app = app.map(|a| *a.as_uuid());
        self.rows(LIST, &[business.as_uuid(), &app])?
            .iter()
            .map(rows::subscription)
            .collect()
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
        let sql = if self.read_only {
            SEATS
        } else {
            SEATS_FOR_UPDATE
        };
        let row = self
            .opt(sql, &[business.as_uuid(), id.as_uuid()])?
            .ok_or_else(|| Error::not_found("subscription"))?;
        let counts = SeatCounts {
            used: get_u32(&row, "seats_used")?,
            reserved: get_u32(&row, "seats_reserved")?,
        };
        Ok((counts, rows::seat_cap(&row)?))
    }

    fn set_seat_counts(&mut self, id: SubscriptionId, counts: SeatCounts) -> Result<()> {
        let (used, reserved) = (i64::from(counts.used), i64::from(counts.reserved));
        match self.exec(SET_COUNTS, &[id.as_uuid(), &used, &reserved])? {
            0 => Err(Error::not_found("subscription")),
            _ => Ok(()),
        }
    }
}
