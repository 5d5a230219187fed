//! The core's built-in mailers, configured from Python: `FileMailer` (a development
//! mailbox directory) and `SmtpMailer`. `service.dispatch_outbox(mailer)` runs them
//! entirely in Rust with the GIL released: no Python code per email.
//!
//! Only parsing here: every rule about senders, hosts and certificates is the core's.
//! A value the core would refuse, or that cannot be a setting (port 0, an unknown `tls`,
//! a user name without a password), is `INVALID_CONFIG`; an argument of the wrong
//! Python type is a `TypeError`, as everywhere in the package.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::TimeDelta;
use invite_core::mail::{
    FileMailer, InvitationEmail, Mailer, MimeBuilder, SmtpConfig, SmtpCredentials, SmtpMailer,
    SmtpTls,
};
use invite_core::{Error, ErrorCode, MessageId};
use pyo3::exceptions::PyOSError;
use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::convert::{Count, Text, id, opt_text};
use crate::dispatch::PyInvitationEmail;
use crate::error::IntoPyResult;

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidConfig, message)
}

/// `repr()` of a string, as Python writes it.
fn quoted(py: Python<'_>, text: &str) -> PyResult<String> {
    Ok(PyString::new(py, text).repr()?.to_string())
}

/// Hands one email to a core mailer with the GIL released; a failure is an `OSError`
/// carrying the reason (as `smtplib`'s errors are).
fn send_one(py: Python<'_>, mailer: &dyn Mailer, email: &InvitationEmail) -> PyResult<()> {
    py.detach(|| mailer.send(email))
        .map_err(|e| PyOSError::new_err(e.0))
}

/// The core mailer behind a built-in mailer object, if `mailer` is one.
pub(crate) fn native(mailer: &Bound<'_, PyAny>) -> Option<Arc<dyn Mailer>> {
    if let Ok(file) = mailer.cast::<PyFileMailer>() {
        let inner: Arc<dyn Mailer> = file.get().inner.clone();
        return Some(inner);
    }
    if let Ok(smtp) = mailer.cast::<PySmtpMailer>() {
        let inner: Arc<dyn Mailer> = smtp.get().inner.clone();
        return Some(inner);
    }
    None
}

/// Writes every email into a directory: `<message_id>.json` (the `InvitationEmail`,
/// every field; read it back with `read` / `read_all`) and `<message_id>.eml` (the MIME
/// message the SMTP mailer would send; open it in any mail client). Files are written
/// atomically and named by the stable message id, so a re-delivery of the same email
/// overwrites its files instead of adding a duplicate. The directory holds live accept
/// links: for development and demos only.
///
/// Args:
///     directory: Where the files go (created on the first delivery).
///     from_address: Sender of the `.eml` files (default `invitations@localhost`).
///     from_name: Sender display name of the `.eml` files (needs `from_address`).
///
/// Raises:
///     InvalidConfigError: An empty directory, a bad sender address, or `from_name`
///         without `from_address`.
#[pyclass(name = "FileMailer", module = "invite_core._native", frozen)]
pub struct PyFileMailer {
    inner: Arc<FileMailer>,
    from_address: Option<String>,
    from_name: Option<String>,
}

#[pymethods]
impl PyFileMailer {
    #[new]
    #[pyo3(signature = (directory, *, from_address = None, from_name = None))]
    fn new(
        py: Python<'_>,
        directory: PathBuf,
        from_address: Option<Text>,
        from_name: Option<Text>,
    ) -> PyResult<Self> {
        let build = || -> invite_core::Result<FileMailer> {
            if directory.as_os_str().is_empty() {
                return Err(invalid("the file mailer directory is empty"));
            }
            let mailer = FileMailer::new(directory);
            match &from_address {
                Some(from) => Ok(mailer.with_sender(MimeBuilder::new(from, from_name.as_deref())?)),
                None if from_name.is_some() => Err(invalid(
                    "the file mailer's `from_name` needs a `from_address`",
                )),
                None => Ok(mailer),
            }
        };
        let inner = Arc::new(build().into_py(py)?);
        Ok(PyFileMailer {
            inner,
            from_address: opt_text(from_address),
            from_name: opt_text(from_name),
        })
    }

    /// The directory the files go to.
    #[getter]
    fn directory(&self) -> PathBuf {
        self.inner.dir().to_path_buf()
    }

    /// The configured sender of the `.eml` files (`None`: `invitations@localhost`).
    #[getter(from_address)]
    fn configured_address(&self) -> Option<String> {
        self.from_address.clone()
    }

    /// The configured sender display name (`None`: the default, `Invitations`).
    #[getter(from_name)]
    fn configured_name(&self) -> Option<String> {
        self.from_name.clone()
    }

    /// Writes one email's files now (what a dispatch does for each email), with the GIL
    /// released. Lets a mailer written in Python wrap this one.
    ///
    /// Raises:
    ///     OSError: The files could not be written (the reason is the message).
    #[pyo3(signature = (email, /))]
    fn send(&self, py: Python<'_>, email: &Bound<'_, PyInvitationEmail>) -> PyResult<()> {
        send_one(py, self.inner.as_ref(), &email.get().inner)
    }

    /// The email stored under `message_id`, or `None`.
    ///
    /// Raises:
    ///     NotFoundError: `message_id` is not a message id.
    ///     OSError: The file exists but cannot be read.
    fn read(&self, py: Python<'_>, message_id: Text) -> PyResult<Option<PyInvitationEmail>> {
        let message_id: MessageId = id(py, &message_id)?;
        let read = py.detach(|| self.inner.read(message_id))?;
        Ok(read.map(PyInvitationEmail::from))
    }

    /// Every stored email, oldest first (message ids are time-ordered).
    ///
    /// Raises:
    ///     OSError: The directory or a file in it cannot be read.
    fn read_all(&self, py: Python<'_>) -> PyResult<Vec<PyInvitationEmail>> {
        let all = py.detach(|| self.inner.read_all())?;
        Ok(all.into_iter().map(PyInvitationEmail::from).collect())
    }

    /// The path of a message's `.json` file (whether it exists or not).
    fn json_path(&self, py: Python<'_>, message_id: Text) -> PyResult<PathBuf> {
        Ok(self.inner.json_path(id(py, &message_id)?))
    }

    /// The path of a message's `.eml` file (whether it exists or not).
    fn eml_path(&self, py: Python<'_>, message_id: Text) -> PyResult<PathBuf> {
        Ok(self.inner.eml_path(id(py, &message_id)?))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let dir = quoted(py, &self.inner.dir().to_string_lossy())?;
        Ok(match &self.from_address {
            Some(from) => format!("FileMailer({dir}, from_address={})", quoted(py, from)?),
            None => format!("FileMailer({dir})"),
        })
    }
}

/// The `tls` setting's Python spelling.
const fn tls_name(tls: SmtpTls) -> &'static str {
    match tls {
        SmtpTls::None => "none",
        SmtpTls::StartTls => "starttls",
        SmtpTls::Implicit => "tls",
    }
}

/// The core's default timeout, as the signature's default.
fn default_timeout() -> TimeDelta {
    TimeDelta::from_std(SmtpConfig::new("", "").timeout).unwrap_or(TimeDelta::MAX)
}

/// Delivers invitation emails to an SMTP server, one connection per email. The only
/// recipient is the invitation's address; the `Message-ID` is derived from the stable
/// message id, so a retried delivery is recognisable as the same message. Every
/// failure (connection, TLS, authentication, a refusing server, the timeout) is a
/// failed delivery, retried with backoff. Building one does not connect: the first
/// delivery does. The password never appears in `repr` or in messages.
///
/// Args:
///     host: Server host name or IP address (also the name its certificate must carry).
///     port: Server port (587 for STARTTLS, 465 for implicit TLS, 25 for relays).
///     from_address: The sender address (`From` and the envelope sender).
///     tls: `"starttls"` (plaintext, then STARTTLS, required: nothing is sent before
///         the server proved its certificate), `"tls"` (TLS from the first byte) or
///         `"none"` (plaintext: only for a trusted relay on the same host or network).
///     username: `AUTH` user name (with `password`).
///     password: `AUTH` password (with `username`).
///     timeout: Limit for connecting and for each exchange with the server.
///     from_name: The sender's display name in `From`.
///     extra_root_certificate_pem: A certificate authority to trust (PEM text) besides
///         the webpki roots: for a relay with a private CA.
///     hello_name: The name given in `EHLO` (default: this machine's host name).
///
/// Raises:
///     InvalidConfigError: A bad host, port, `tls`, sender address, timeout or
///         certificate, or a user name without a password (or the reverse).
#[pyclass(name = "SmtpMailer", module = "invite_core._native", frozen)]
pub struct PySmtpMailer {
    inner: Arc<SmtpMailer>,
    config: SmtpConfig,
}

#[pymethods]
impl PySmtpMailer {
    #[new]
    #[pyo3(signature = (
        host, port = Count::from(587), *, from_address, tls = Text::from("starttls"), username = None,
        password = None, timeout = default_timeout(), from_name = None,
        extra_root_certificate_pem = None, hello_name = None,
    ), text_signature = "(host, port=587, *, from_address, tls=\"starttls\", username=None, password=None, timeout=..., from_name=None, extra_root_certificate_pem=None, hello_name=None)")]
    #[expect(
        clippy::too_many_arguments,
        reason = "one keyword argument per smtp setting"
    )]
    fn new(
        py: Python<'_>,
        host: Text,
        port: Count,
        from_address: Text,
        tls: Text,
        username: Option<Text>,
        password: Option<Text>,
        timeout: TimeDelta,
        from_name: Option<Text>,
        extra_root_certificate_pem: Option<Text>,
        hello_name: Option<Text>,
    ) -> PyResult<Self> {
        let config = (|| -> invite_core::Result<SmtpConfig> {
            let mut config = SmtpConfig::new(host, from_address);
            config.port = port
                .in_range(1, u16::MAX)
                .ok_or_else(|| invalid("the smtp port must be a whole number from 1 to 65535"))?;
            config.tls = match &*tls {
                "none" => SmtpTls::None,
                "starttls" => SmtpTls::StartTls,
                "tls" => SmtpTls::Implicit,
                _ => {
                    return Err(invalid(
                        "the smtp `tls` must be \"starttls\", \"tls\" or \"none\"",
                    ));
                }
            };
            config.credentials = match (username, password) {
                (Some(user), Some(password)) => Some(SmtpCredentials::new(user, password)),
                (None, None) => None,
                _ => {
                    return Err(invalid("the smtp `username` and `password` go together"));
                }
            };
            config.timeout = timeout
                .to_std()
                .ok()
                .filter(|t| !t.is_zero())
                .ok_or_else(|| invalid("the smtp `timeout` must be positive"))?;
            config.from_name = opt_text(from_name);
            config.extra_root_certificate_pem = opt_text(extra_root_certificate_pem);
            config.hello_name = opt_text(hello_name);
            Ok(config)
        })()
        .into_py(py)?;
        // Building the TLS settings takes a few milliseconds: without the GIL.
        let inner = py.detach(|| SmtpMailer::new(&config)).into_py(py)?;
        Ok(PySmtpMailer {
            inner: Arc::new(inner),
            config,
        })
    }

    /// Server host name or IP address.
    #[getter]
    fn host(&self) -> String {
        self.config.host.clone()
    }

    /// Server port.
    #[getter]
    fn port(&self) -> u16 {
        self.config.port
    }

    /// Connection security: `"starttls"`, `"tls"` or `"none"`.
    #[getter]
    fn tls(&self) -> &'static str {
        tls_name(self.config.tls)
    }

    /// The `AUTH` user name, if any (the password is never readable back).
    #[getter]
    fn username(&self) -> Option<String> {
        self.config.credentials.as_ref().map(|c| c.username.clone())
    }

    /// Limit for connecting and for each exchange with the server.
    #[getter]
    fn timeout(&self) -> TimeDelta {
        TimeDelta::from_std(self.config.timeout).unwrap_or(TimeDelta::MAX)
    }

    /// The sender address.
    #[getter(from_address)]
    fn sender_address(&self) -> String {
        self.config.from_address.clone()
    }

    /// The sender's display name, if any.
    #[getter(from_name)]
    fn sender_name(&self) -> Option<String> {
        self.config.from_name.clone()
    }

    /// The name given in `EHLO` (`None`: this machine's host name).
    #[getter]
    fn hello_name(&self) -> Option<String> {
        self.config.hello_name.clone()
    }

    /// The `From` header as sent, e.g. `"Acme" <invites@acme.example>`.
    #[getter]
    fn sender(&self) -> String {
        self.inner.mime().sender()
    }

    /// Delivers one email now (what a dispatch does for each email), with the GIL
    /// released. Lets a mailer written in Python wrap this one.
    ///
    /// Raises:
    ///     OSError: The delivery failed (the reason is the message), as `smtplib`'s
    ///         errors are `OSError`s.
    #[pyo3(signature = (email, /))]
    fn send(&self, py: Python<'_>, email: &Bound<'_, PyInvitationEmail>) -> PyResult<()> {
        send_one(py, self.inner.as_ref(), &email.get().inner)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let c = &self.config;
        let mut out = format!(
            "SmtpMailer({}, {}, tls={}",
            quoted(py, &c.host)?,
            c.port,
            quoted(py, tls_name(c.tls))?
        );
        if let Some(credentials) = &c.credentials {
            out.push_str(&format!(
                ", username={}, password='<redacted>'",
                quoted(py, &credentials.username)?
            ));
        }
        out.push_str(&format!(", from_address={})", quoted(py, &c.from_address)?));
        Ok(out)
    }
}
