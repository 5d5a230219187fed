//! The `Mailer` port, the email a mailer receives, templates and test mailers.

mod file;
mod seal;
#[cfg(feature = "smtp")]
mod smtp;
mod templates;

pub use file::FileMailer;
pub(crate) use seal::NONCE_LEN;
pub use seal::TokenSealer;
#[cfg(feature = "smtp")]
pub use smtp::{MimeBuilder, SmtpConfig, SmtpCredentials, SmtpMailer, SmtpTls};
pub use templates::{DefaultTemplates, EmailContext, EmailRenderer, RenderedEmail};

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{BusinessId, InvitationId, MessageId};

/// One invitation email, ready for delivery. `Debug` redacts the link and the bodies,
/// which carry the raw token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationEmail {
    /// Stable id: the same on every retry of this email, so mailers can de-duplicate.
    pub message_id: MessageId,
    /// Business.
    pub business_id: BusinessId,
    /// Invitation.
    pub invitation_id: InvitationId,
    /// Recipient: the address as entered.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
    /// The accept link (built from the configured base URL only).
    pub accept_link: String,
    /// Locale the email was rendered in.
    pub locale: String,
    /// When the link expires.
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for InvitationEmail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InvitationEmail")
            .field("message_id", &self.message_id)
            .field("business_id", &self.business_id)
            .field("invitation_id", &self.invitation_id)
            .field("to", &self.to)
            .field("subject", &self.subject)
            .field("text", &crate::token::REDACTED)
            .field("html", &crate::token::REDACTED)
            .field("accept_link", &crate::token::REDACTED)
            .field("locale", &self.locale)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Why a delivery failed (its message is kept as the invitation's last delivery error).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MailError(pub String);

/// Delivers invitation emails. Called outside any store transaction; delivery is
/// at-least-once, so the same `message_id` may arrive more than once.
pub trait Mailer: Send + Sync {
    /// Delivers one email or says why not.
    fn send(&self, email: &InvitationEmail) -> Result<(), MailError>;

    /// Delivers a batch (the emails one dispatcher claim took), one outcome per email in
    /// the same order. The default sends them one by one; a mailer whose every call has
    /// a fixed cost (a hop to another thread or language, a connection) overrides it.
    ///
    /// A mailer that must stop (the host is shutting down, say) answers short: the
    /// emails past the last outcome were not attempted. The dispatcher makes them due
    /// again without counting an attempt, and ends its run after this batch.
    fn send_batch(&self, emails: &[InvitationEmail]) -> Vec<Result<(), MailError>> {
        emails.iter().map(|email| self.send(email)).collect()
    }
}

/// Keeps every email in memory (tests, examples, the development mailbox).
#[derive(Debug, Default)]
pub struct CapturingMailer {
    sent: Mutex<Vec<InvitationEmail>>,
}

impl CapturingMailer {
    /// An empty mailbox.
    pub fn new() -> Self {
        CapturingMailer::default()
    }

    /// Every email delivered so far, oldest first.
    pub fn sent(&self) -> Vec<InvitationEmail> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Emails delivered to `to` (compared case-insensitively).
    pub fn sent_to(&self, to: &str) -> Vec<InvitationEmail> {
        self.sent()
            .into_iter()
            .filter(|e| e.to.eq_ignore_ascii_case(to))
            .collect()
    }
}

impl Mailer for CapturingMailer {
    fn send(&self, email: &InvitationEmail) -> Result<(), MailError> {
        self.sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(email.clone());
        Ok(())
    }
}

/// Fails the first `n` deliveries, then hands the rest to an inner capturing mailer.
#[derive(Debug)]
pub struct FailingMailer {
    failures_left: AtomicU32,
    inner: CapturingMailer,
}

impl FailingMailer {
    /// Fails `n` times, then delivers.
    pub fn new(n: u32) -> Self {
        FailingMailer {
            failures_left: AtomicU32::new(n),
            inner: CapturingMailer::new(),
        }
    }

    /// Fails every time.
    pub fn always() -> Self {
        FailingMailer::new(u32::MAX)
    }

    /// Emails that got through.
    pub fn delivered(&self) -> Vec<InvitationEmail> {
        self.inner.sent()
    }
}

impl Mailer for FailingMailer {
    fn send(&self, email: &InvitationEmail) -> Result<(), MailError> {
        let failing = self
            .failures_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failing {
            Err(MailError("the mail server refused the message".to_owned()))
        } else {
            self.inner.send(email)
        }
    }
}
