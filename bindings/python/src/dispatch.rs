//! Outbox dispatch through a mailer written in Python (any object with `send(email)`)
//! or a built-in one (`FileMailer`, `SmtpMailer`: see `mailer.rs`).
//!
//! A built-in mailer runs entirely in Rust with the GIL released. For a Python mailer,
//! the dispatcher runs with the GIL released and takes it back once per claimed batch
//! of emails (up to 100), calling the mailer's `send` for each. An `Exception` raised
//! by the mailer becomes a delivery failure carrying its message (retried with
//! backoff), never a crash. A `BaseException` that is not an `Exception`
//! (`KeyboardInterrupt`, `SystemExit`) stops calling the mailer (and the other Python
//! callbacks) and ends the run: the batch's answer stops short, so the emails not
//! handed over stay due with no attempt counted; it is re-raised once the bookkeeping
//! is written.

use chrono::{DateTime, Utc};
use invite_core::service::DispatchReport;
use invite_core::{InvitationEmail, MailError, Mailer};
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

use crate::callbacks::{self, failure_message};
use crate::convert::{record, wrapper};
use crate::mailer;
use crate::service::PyInviteService;

wrapper!(
    /// One invitation email, ready for delivery (what a mailer's `send` receives).
    PyInvitationEmail => "InvitationEmail", InvitationEmail
);
record!(PyInvitationEmail, repr = [message_id, to, subject], {
    /// Stable id: the same on every retry of this email, so mailers can de-duplicate.
    message_id -> String = |e| e.message_id.to_string();
    /// Business.
    business_id -> String = |e| e.business_id.to_string();
    /// Invitation.
    invitation_id -> String = |e| e.invitation_id.to_string();
    /// Recipient: the address as entered.
    to -> String = |e| e.to.clone();
    /// Subject line.
    subject -> String = |e| e.subject.clone();
    /// Plain-text body.
    text -> String = |e| e.text.clone();
    /// HTML body.
    html -> String = |e| e.html.clone();
    /// The accept link.
    accept_link -> String = |e| e.accept_link.clone();
    /// Locale the email was rendered in.
    locale -> String = |e| e.locale.clone();
    /// When the link expires.
    expires_at -> DateTime<Utc> = |e| e.expires_at;
});

wrapper!(
    /// What one dispatch run did.
    PyDispatchReport => "DispatchReport", DispatchReport
);
record!(PyDispatchReport, repr = [delivered, retrying, failed], {
    /// Emails the mailer accepted.
    delivered -> u32 = |r| r.delivered;
    /// Failed attempts that will be retried.
    retrying -> u32 = |r| r.retrying;
    /// Emails given up after the maximum attempts.
    failed -> u32 = |r| r.failed;
});

/// The `Mailer` port over a Python object.
struct PythonMailer {
    target: Py<PyAny>,
}

impl PythonMailer {
    /// Calls the Python mailer for one email (the GIL held).
    fn deliver(&self, py: Python<'_>, email: &InvitationEmail) -> Result<(), MailError> {
        let email = PyInvitationEmail::from(email.clone());
        match self.target.bind(py).call_method1("send", (email,)) {
            Ok(answer) if callbacks::discard_awaitable(&answer) => Err(MailError(
                "the mailer's send returned an awaitable (is it async?): it was never run, \
                 so nothing was sent"
                    .to_owned(),
            )),
            Ok(_) => Ok(()),
            Err(err) if err.is_instance_of::<PyException>(py) => {
                Err(MailError(failure_message(py, &err)))
            }
            Err(err) => {
                let message = format!("delivery interrupted: {}", failure_message(py, &err));
                callbacks::defer_interrupt(err);
                Err(MailError(message))
            }
        }
    }
}

impl Mailer for PythonMailer {
    fn send(&self, email: &InvitationEmail) -> Result<(), MailError> {
        Python::attach(|py| self.deliver(py, email))
    }

    /// One GIL acquisition for the whole claimed batch; the mailer still gets one
    /// `send(email)` call per email, in outbox order. Once a callback of the call was
    /// interrupted (`KeyboardInterrupt`, `SystemExit`) the answer stops short: the
    /// emails not handed over yet stay due, no attempt counted, and the run ends.
    fn send_batch(&self, emails: &[InvitationEmail]) -> Vec<Result<(), MailError>> {
        Python::attach(|py| {
            emails
                .iter()
                .map_while(|email| (!callbacks::interrupted()).then(|| self.deliver(py, email)))
                .collect()
        })
    }
}

#[pymethods]
impl PyInviteService {
    /// Delivers every due outbox email through `mailer` (a built-in `FileMailer` or
    /// `SmtpMailer`, or any object with a `send(email)` method), until none is due. A
    /// failed send (an exception raised by a Python mailer) is a failed delivery with
    /// that message: retried with backoff, then marked failed. A built-in mailer runs
    /// without the GIL throughout.
    ///
    /// Args:
    ///     mailer: A built-in mailer, or an object whose `send(email: InvitationEmail)`
    ///         delivers one email.
    ///
    /// Returns:
    ///     How many emails were delivered, will be retried, or failed for good.
    fn dispatch_outbox(
        &self,
        py: Python<'_>,
        mailer: Bound<'_, PyAny>,
    ) -> PyResult<PyDispatchReport> {
        if let Some(native) = mailer::native(&mailer) {
            return self
                .run(py, |s| s.dispatch_outbox(native.as_ref()))
                .map(Into::into);
        }
        callbacks::sync_method(py, &mailer, "mailer", "send(email)")?;
        let adapter = PythonMailer {
            target: mailer.unbind(),
        };
        self.run(py, |s| s.dispatch_outbox(&adapter))
            .map(Into::into)
    }
}
