//! Idempotency keys.

use chrono::{DateTime, Utc};

use crate::error::Result;
use crate::ids::BusinessId;
use crate::model::IdempotencyRecord;
use crate::store::IdempotencyRepo;
use crate::store::postgres::error::conflict;
use crate::store::postgres::rows;
use crate::store::postgres::tx::{PgTx, WriteLock, storable};

const GET: &str = "
SELECT business_id, key, fingerprint, result, created_at, expires_at
FROM idempotency_keys WHERE business_id = $1 AND key = $2";

/// Inserts, or replaces a record this transaction could see when it began (an expired
/// key being reused) or wrote itself. A record committed meanwhile by a concurrent
/// first-writer is left alone: no row comes back and the caller gets `STORAGE_CONFLICT`;
/// its retry replays that writer's result (or answers `IDEMPOTENCY_CONFLICT`).
const PUT: &str = "
INSERT INTO idempotency_keys (business_id, key, fingerprint, result, created_at, expires_at)
VALUES ($2, $3, $4, $5, $6, $7)
ON CONFLICT (business_id, key) DO UPDATE
SET fingerprint = EXCLUDED.fingerprint, result = EXCLUDED.result,
    created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at,
    xact = pg_current_xact_id()
WHERE idempotency_keys.xact = pg_current_xact_id_if_assigned()
   OR pg_visible_in_snapshot(idempotency_keys.xact, $1::text::pg_snapshot)
RETURNING 1";

/// A batch of expired records (and the sealed tokens in their results), the oldest
/// first. The order makes the expiry index the plan even when generic: with the range
/// alone, a plan that expects a third of the rows to match would scan the table.
const PURGE: &str = "
DELETE FROM idempotency_keys WHERE ctid IN
    (SELECT ctid FROM idempotency_keys WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2
     FOR UPDATE SKIP LOCKED)";

impl IdempotencyRepo for PgTx {
    fn get_idempotency(
        &mut self,
        business: BusinessId,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>> {
        if !storable(key) {
            return Ok(None);
        }
        // Writers of one key queue here, so a concurrent retry of a send waits for the
        // first one and replays its result.
        self.lock_for_write(WriteLock::IdempotencyKey, format!("{business}/{key}"))?;
        self.opt(GET, &[business.as_uuid(), &key])?
            .map(|r| rows::idempotency(&r))
            .transpose()
    }

    fn put_idempotency(&mut self, r: &IdempotencyRecord) -> Result<()> {
        let snapshot = self.snapshot();
        let row = self.opt(
            PUT,
            &[
                &snapshot,
                r.business_id.as_uuid(),
                &r.key,
                &r.fingerprint,
                &r.result,
                &r.created_at,
                &r.expires_at,
            ],
        )?;
        match row {
            Some(_) => Ok(()),
            None => Err(conflict(
                "a concurrent transaction stored a result under this idempotency key",
            )),
        }
    }

    fn purge_idempotency(&mut self, now: DateTime<Utc>, limit: usize) -> Result<usize> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let deleted = self.exec(PURGE, &[&now, &limit])?;
        Ok(usize::try_from(deleted).unwrap_or(usize::MAX))
    }
}
