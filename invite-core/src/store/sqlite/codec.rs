//! How domain values are stored: ids as hyphenated lowercase TEXT (its order is the
//! UUID's byte order, so `ORDER BY id` equals the in-memory store's order), instants as
//! fixed-width RFC 3339 TEXT with nanoseconds (exact round trip; text order is time
//! order for years 0000–9999), enums as their `as_str`, token hashes as 32-byte BLOBs.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

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
                Ok(ToSqlOutput::from(self.to_string()))
            }
        }

        impl FromSql for $id {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                let text = value.as_str()?;
                uuid::Uuid::parse_str(text)
                    .map(<$id>::from_uuid)
                    .map_err(|e| FromSqlError::Other(Box::new(e)))
            }
        }
    )*};
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

/// The text form of an instant (fixed width for years 0000–9999).
pub(super) fn ts_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// Reads [`ts_text`] back, including years outside 0000–9999.
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
        Ok(ToSqlOutput::from(ts_text(self.0)))
    }
}

impl FromSql for Ts {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = value.as_str()?;
        parse_ts(text)
            .map(Ts)
            .ok_or_else(|| FromSqlError::Other(format!("bad timestamp `{text}`").into()))
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
    fn instants_round_trip_exactly_and_sort_as_text() {
        let instants = [
            DateTime::<Utc>::MIN_UTC,
            Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 0).unwrap(),
            Utc.timestamp_opt(1_772_442_000, 123_456_789).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            DateTime::<Utc>::MAX_UTC,
        ];
        for at in instants {
            assert_eq!(parse_ts(&ts_text(at)), Some(at), "{at}");
        }
        let (a, b) = (instants[1], instants[2]);
        assert!(ts_text(a) < ts_text(b));
        assert!(ts_text(b) < ts_text(b + chrono::Duration::nanoseconds(1)));
    }

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
