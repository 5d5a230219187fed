//! Idempotency keys, one row per (business, key).

use chrono::{DateTime, Utc};
use rusqlite::params;

use crate::error::Result;
use crate::ids::BusinessId;
use crate::model::IdempotencyRecord;
use crate::store::IdempotencyRepo;
use crate::store::sqlite::codec::{self, Ts};
use crate::store::sqlite::tx::SqliteTx;

impl IdempotencyRepo for SqliteTx<'_> {
    fn get_idempotency(
        &mut self,
        business: BusinessId,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>> {
        self.one(
            "SELECT business_id, key, fingerprint, result, created_at, expires_at
             FROM idempotency WHERE business_id = ?1 AND key = ?2",
            params![business, key],
            |row| {
                Ok(IdempotencyRecord {
                    business_id: row.get(0)?,
                    key: row.get(1)?,
                    fingerprint: row.get(2)?,
                    result: row.get(3)?,
                    created_at: row.get::<_, Ts>(4)?.0,
                    expires_at: row.get::<_, Ts>(5)?.0,
                })
            },
        )
    }

    fn put_idempotency(&mut self, r: &IdempotencyRecord) -> Result<()> {
        self.exec(
            "INSERT INTO idempotency (business_id, key, fingerprint, result, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (business_id, key) DO UPDATE SET fingerprint = excluded.fingerprint,
             result = excluded.result, created_at = excluded.created_at,
             expires_at = excluded.expires_at",
            params![
                r.business_id,
                r.key,
                r.fingerprint,
                r.result,
                Ts(r.created_at),
                Ts(r.expires_at)
            ],
        )?;
        Ok(())
    }

    fn purge_idempotency(&mut self, now: DateTime<Utc>, limit: usize) -> Result<usize> {
        self.exec(
            "DELETE FROM idempotency WHERE rowid IN
             (SELECT rowid FROM idempotency WHERE expires_at <= ?1 ORDER BY expires_at
              LIMIT ?2)",
            params![Ts(now), codec::limit(limit)],
        )
    }
}
