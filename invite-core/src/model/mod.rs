//! Domain records. Plain data with serde; rules live in the service.

mod event;
mod invitation;
mod membership;
mod outbox;
mod role;
mod subscription;
mod tenant;
mod user;

pub use event::{Event, EventKind};
pub use invitation::{
    DeliveryState, DeliveryStatus, Invitation, InvitationRecord, InvitationStatus, Invitee,
};
pub use membership::Membership;
pub use outbox::{IdempotencyRecord, OutboxMessage, OutboxState};
pub use role::{PERMISSION_INVITATIONS_SEND, Role};
pub use subscription::{SeatCounts, SeatUsage, Subscription, SubscriptionStatus};
pub use tenant::{Application, Business};
pub use user::User;
