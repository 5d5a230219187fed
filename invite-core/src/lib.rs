#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

/// The workspace README's Rust code blocks, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct WorkspaceReadme;

pub mod authz;
pub mod clock;
pub mod error;
pub mod form;
pub mod ids;
pub mod input;
pub mod mail;
pub mod model;
pub mod random;
pub mod service;
pub mod store;
pub mod token;

pub use authz::{AuthorizationPolicy, DefaultPolicy, InviterRights};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Error, ErrorCode, ErrorKind, FieldCode, FieldError, Result};
pub use form::{FormView, InviteForm, SubmitOutcome, UserMode};
pub use ids::{
    ApplicationId, BusinessId, EventId, InvitationId, MembershipId, MessageId, RoleId,
    SubscriptionId, UserId,
};
pub use mail::{CapturingMailer, FailingMailer, FileMailer, InvitationEmail, MailError, Mailer};
#[cfg(feature = "smtp")]
pub use mail::{MimeBuilder, SmtpConfig, SmtpCredentials, SmtpMailer, SmtpTls};
pub use model::*;
pub use random::{OsRandom, RandomSource, SeededRandom};
pub use service::{
    AcceptRequest, Accepted, BulkInvitee, BulkRowDraft, BulkSendDraft, BulkSendRequest,
    BulkSendResult, Config, InvitationFilter, InvitationPreview, InviteService, NewSubscription,
    NewUser, Page, PageRequest, RowError, SendInvitationDraft, SendInvitationRequest,
    SentInvitation, SubscriptionChanges,
};
pub use store::{InMemoryStore, Store};
pub use token::Token;
