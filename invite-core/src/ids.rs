//! Typed identifiers.
//!
//! Each id is a newtype over a [`Uuid`] so a `UserId` can never be passed where a
//! `BusinessId` is meant. Ids minted by the service are time-ordered (UUIDv7 layout),
//! so ordering by id is ordering by creation; stores paginate by id.
//!
//! `Default` is deliberately not implemented: there is no meaningful "empty" id.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Error, ErrorCode, FieldCode, FieldError};

macro_rules! define_id {
    ($( $(#[$doc:meta])* $name:ident => $what:literal; )*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// Wraps an existing UUID (for hosts that keep their own ids).
            pub const fn from_uuid(uuid: Uuid) -> Self {
                $name(uuid)
            }

            /// The underlying UUID.
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }

            /// Parses a request field; a malformed id is an unknown option, like a missing one.
            pub fn parse_field(raw: &str, field: &str) -> Result<Self, FieldError> {
                raw.trim().parse().map_err(|_| {
                    FieldError::new(field, FieldCode::UnknownOption, concat!("unknown ", $what))
                })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.as_hyphenated().fmt(f)
            }
        }

        /// A malformed id reads as `NOT_FOUND`: indistinguishable from a missing record.
        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                if s.len() > 64 {
                    return Err(Error::new(ErrorCode::NotFound, concat!($what, " not found")));
                }
                Uuid::parse_str(s)
                    .map($name)
                    .map_err(|_| Error::new(ErrorCode::NotFound, concat!($what, " not found")))
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                $name(uuid)
            }
        }
    )*};
}

define_id! {
    /// A user (global: not scoped to a business).
    UserId => "user";
    /// A business (tenant).
    BusinessId => "business";
    /// An application (global; enabled per business).
    ApplicationId => "app";
    /// A subscription of one business to one app.
    SubscriptionId => "subscription";
    /// An application role.
    RoleId => "role";
    /// A membership: one seat held by one user in one subscription.
    MembershipId => "membership";
    /// An invitation.
    InvitationId => "invitation";
    /// An audit event.
    EventId => "event";
    /// An outgoing email in the outbox; also the stable message id mailers de-duplicate on.
    MessageId => "message";
}
