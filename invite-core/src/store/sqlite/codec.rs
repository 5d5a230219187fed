//! How domain values are stored: ids as their 16 UUID bytes (a BLOB, whose byte order is
//! the UUID's order, so `ORDER BY id` equals the in-memory store's order), instants as
//! 12-byte BLOBs that sort in time order and round-trip exactly ([`ts_bytes`]), enums as
//! their `as_str`, token hashes as 32-byte BLOBs.
//!
//! Binary keys keep index entries short: every id and instant in an index is a fraction
//! of its text form (16 bytes against 36, 12 against 30), so more entries fit a page and
//! a commit writes fewer pages. Schema version 2 stored both as text; [`parse_ts`]
//! remains to read its instants during the upgrade (and `ts_text`, in tests, to write
//! them).

use chrono::{DateTime, NaiveDateTime, Utc};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, Value, ValueRef};

use crate::ids::{
    ApplicationId, BusinessId, EventId, InvitationId, MembershipId, MessageId, RoleId,
    SubscriptionId, UserId,
};
use crate::model::{DeliveryState, EventKind, InvitationStatus, OutboxState, SubscriptionStatus};
use crate::token::TokenHash;

macro_rules! id_sql {
    ($($id:ty),* $(,)?) => {$(
        impl ToSql for $id {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::Borrowed(ValueRef::Blob(self.as_uuid().as_bytes())))
            }
        }

        impl FromSql for $id {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                id_from_bytes(value.as_blob()?).map(<$id>::from_uuid)
            }
        }
    )*};
}

/// A stored id's UUID (16 bytes).
fn id_from_bytes(bytes: &[u8]) -> FromSqlResult<uuid::Uuid> {
    <[u8; 16]>::try_from(bytes)
        .map(uuid::Uuid::from_bytes)
        .map_err(|_| FromSqlError::InvalidBlobSize {
            expected_size: 16,
            blob_size: bytes.len(),
        })
}

id_sql!(
    UserId,
    BusinessId,
    ApplicationId,
    SubscriptionId,
    RoleId,
    MembershipId,
    InvitationId,
    EventId,
    MessageId,
);

/// An instant as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Ts(pub(super) DateTime<Utc>);

/// Bytes of a stored instant.
pub(super) const TS_BYTES: usize = 12;

/// Flips the sign bit of the seconds, so that byte order is numeric order.
const SIGN: u64 = 1 << 63;

/// The stored form of an instant: its seconds since the Unix epoch as a big-endian
/// 64-bit integer with the sign bit flipped, then its nanoseconds within that second as
/// a big-endian 32-bit integer (a leap second's run past 1,000,000,000, as in chrono).
/// Byte order is time order (SQLite compares BLOBs with `memcmp`), for every instant
/// chrono represents, and the round trip is exact.
pub(super) fn ts_bytes(at: DateTime<Utc>) -> [u8; TS_BYTES] {
    let seconds = at.timestamp().cast_unsigned() ^ SIGN;
    let mut bytes = [0; TS_BYTES];
    bytes[..8].copy_from_slice(&seconds.to_be_bytes());
    bytes[8..].copy_from_slice(&at.timestamp_subsec_nanos().to_be_bytes());
    bytes
}

/// Reads [`ts_bytes`] back; `None` for anything else.
pub(super) fn ts_from_bytes(bytes: &[u8]) -> Option<DateTime<Utc>> {
    let seconds: [u8; 8] = bytes.get(..8)?.try_into().ok()?;
    let nanos: [u8; 4] = bytes.get(8..)?.try_into().ok()?;
    let seconds = (u64::from_be_bytes(seconds) ^ SIGN).cast_signed();
    DateTime::from_timestamp(seconds, u32::from_be_bytes(nanos))
}

/// The text form of an instant in schema version 2 (fixed width for years 0000–9999).
#[cfg(test)]
pub(super) fn ts_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// Reads `ts_text`'s form back, including years outside 0000–9999 (schema version 2's
/// instants, read by its upgrade).
pub(super) fn parse_ts(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.fZ")
                .ok()
                .map(|at| at.and_utc())
        })
}

impl ToSql for Ts {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Owned(Value::Blob(ts_bytes(self.0).to_vec())))
    }
}

impl FromSql for Ts {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let bytes = value.as_blob()?;
        ts_from_bytes(bytes)
            .map(Ts)
            .ok_or(FromSqlError::InvalidBlobSize {
                expected_size: TS_BYTES,
                blob_size: bytes.len(),
            })
    }
}

/// An optional instant, for binding.
pub(super) fn ts_opt(at: Option<DateTime<Utc>>) -> Option<Ts> {
    at.map(Ts)
}

impl ToSql for TokenHash {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(ValueRef::Blob(&self.0)))
    }
}

impl FromSql for TokenHash {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let bytes = value.as_blob()?;
        <[u8; 32]>::try_from(bytes)
            .map(TokenHash)
            .map_err(|_| FromSqlError::InvalidBlobSize {
                expected_size: 32,
                blob_size: bytes.len(),
            })
    }
}

macro_rules! enum_sql {
    ($($ty:ty),* $(,)?) => {$(
        impl ToSql for $ty {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }

        impl FromSql for $ty {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                let text = value.as_str()?;
                <$ty>::parse(text).ok_or_else(|| {
                    FromSqlError::Other(format!("unknown {} `{text}`", stringify!($ty)).into())
                })
            }
        }
    )*};
}

enum_sql!(
    InvitationStatus,
    DeliveryState,
    EventKind,
    OutboxState,
    SubscriptionStatus,
);

/// A `usize` limit as an SQL integer.
pub(super) fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A count read from SQL as `u32` (saturating, like the in-memory store).
pub(super) fn count(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn instants_round_trip_exactly_and_sort_as_bytes() {
        let instants = [
            DateTime::<Utc>::MIN_UTC,
            Utc.with_ymd_and_hms(-1, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(1969, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 0).unwrap(),
            Utc.timestamp_opt(1_772_442_000, 123_456_789).unwrap(),
            Utc.timestamp_opt(1_772_442_000, 123_456_790).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            DateTime::<Utc>::MAX_UTC,
        ];
        for at in instants {
            assert_eq!(ts_from_bytes(&ts_bytes(at)), Some(at), "{at}");
            assert_eq!(parse_ts(&ts_text(at)), Some(at), "version 2's text: {at}");
        }
        for pair in instants.windows(2) {
            assert!(
                ts_bytes(pair[0]) < ts_bytes(pair[1]),
                "{} < {}",
                pair[0],
                pair[1]
            );
        }
        assert_eq!(ts_from_bytes(&[0; 11]), None);
        assert_eq!(ts_from_bytes(&[0; 13]), None);
    }

    /// Version 2 stored ids as text: its order was already the bytes' order, so pages of
    /// ids resume where they did across the upgrade.
    #[test]
    fn id_text_order_is_uuid_order() {
        let mut ids: Vec<uuid::Uuid> = (0u8..=255)
            .map(|i| uuid::Uuid::from_bytes([i.wrapping_mul(37); 16]))
            .collect();
        ids.push(uuid::Uuid::max());
        ids.push(uuid::Uuid::nil());
        let mut by_text = ids.clone();
        by_text.sort_by_key(|u| u.hyphenated().to_string());
        ids.sort();
        assert_eq!(ids, by_text);
    }
}
