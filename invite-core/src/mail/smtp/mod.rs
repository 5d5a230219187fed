//! The SMTP mailer (cargo feature `smtp`): lettre's SMTP client with rustls.

mod mime;

pub use mime::MimeBuilder;

use std::fmt;
use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use lettre::Transport;
use lettre::transport::smtp::SmtpTransport;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;

use crate::error::{Error, ErrorCode, Result};
use crate::mail::{InvitationEmail, MailError, Mailer};

/// How the connection to the SMTP server is secured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plaintext. Only for a trusted relay on the same host or network (and tests).
    None,
    /// Plaintext first, then `STARTTLS`, required: no mail or password goes out before
    /// the server proved its certificate (usually port 587).
    #[default]
    StartTls,
    /// TLS from the first byte ("SMTPS", usually port 465).
    Implicit,
}

/// A user name and password for SMTP `AUTH`. `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpCredentials {
    /// User name.
    pub username: String,
    /// Password.
    pub password: String,
}

impl SmtpCredentials {
    /// Credentials from a user name and password.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        SmtpCredentials {
            username: username.into(),
            password: password.into(),
        }
    }
}

impl fmt::Debug for SmtpCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpCredentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Where and how [`SmtpMailer`] delivers. Start from [`SmtpConfig::new`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmtpConfig {
    /// Server host name or IP address (also the name its certificate must carry).
    pub host: String,
    /// Server port (587 for STARTTLS, 465 for implicit TLS, 25 for relays).
    pub port: u16,
    /// Connection security.
    pub tls: SmtpTls,
    /// `AUTH` credentials, if the server wants them.
    pub credentials: Option<SmtpCredentials>,
    /// Limit for connecting and for each exchange with the server.
    pub timeout: Duration,
    /// The sender address (`From` and the envelope sender).
    pub from_address: String,
    /// The sender's display name in `From`.
    pub from_name: Option<String>,
    /// Extra certificate authority to trust (PEM), besides the webpki roots: for a
    /// relay with a private CA.
    pub extra_root_certificate_pem: Option<String>,
    /// The name given in `EHLO` (default: this machine's host name): a domain name or
    /// an IP address.
    pub hello_name: Option<String>,
}

impl SmtpConfig {
    /// STARTTLS on port 587, a 30-second timeout, no credentials.
    pub fn new(host: impl Into<String>, from_address: impl Into<String>) -> Self {
        SmtpConfig {
            host: host.into(),
            port: 587,
            tls: SmtpTls::StartTls,
            credentials: None,
            timeout: Duration::from_secs(30),
            from_address: from_address.into(),
            from_name: None,
            extra_root_certificate_pem: None,
            hello_name: None,
        }
    }
}

/// Delivers invitation emails to an SMTP server, one connection per email.
///
/// The message is built by [`MimeBuilder`]: the only recipient is the invitation's
/// address as entered, and its `Message-ID` is derived from the stable message id, so
/// a retried delivery is recognisable as the same message. Every failure (connection,
/// TLS, authentication, a refusing server) is a [`MailError`] that the outbox
/// dispatcher records and retries with backoff.
#[derive(Clone)]
pub struct SmtpMailer {
    transport: SmtpTransport,
    mime: MimeBuilder,
    server: String,
}

impl fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("server", &self.server)
            .field("from", &self.mime.sender())
            .finish()
    }
}

impl SmtpMailer {
    /// A mailer for `config`; `INVALID_CONFIG` for a bad sender address, host, `EHLO`
    /// name or certificate. Does not connect: the first delivery does.
    pub fn new(config: &SmtpConfig) -> Result<SmtpMailer> {
        let invalid = |m: String| Error::new(ErrorCode::InvalidConfig, m);
        let host = config.host.trim();
        // A name or an address, nothing else: `user:password@host` or `host:25` would
        // carry a secret into every delivery error recorded on the invitations.
        if host.parse::<IpAddr>().is_err() && !is_domain_name(host) {
            return Err(invalid(
                "the smtp host must be a host name or an IP address (the port is a setting of its own)"
                    .to_owned(),
            ));
        }
        let mime = MimeBuilder::new(&config.from_address, config.from_name.as_deref())?;
        let tls = match config.tls {
            SmtpTls::None => Tls::None,
            SmtpTls::StartTls => Tls::Required(tls_parameters(host, config)?),
            SmtpTls::Implicit => Tls::Wrapper(tls_parameters(host, config)?),
        };
        let mut builder = SmtpTransport::builder_dangerous(host)
            .port(config.port)
            .tls(tls)
            .timeout(Some(config.timeout));
        if let Some(name) = &config.hello_name {
            builder = builder.hello_name(client_id(name)?);
        }
        if let Some(c) = &config.credentials {
            builder = builder.credentials(Credentials::new(c.username.clone(), c.password.clone()));
        }
        Ok(SmtpMailer {
            transport: builder.build(),
            mime,
            server: format!("{host}:{}", config.port),
        })
    }

    /// The MIME builder this mailer uses (to preview or store the exact message).
    pub fn mime(&self) -> &MimeBuilder {
        &self.mime
    }
}

/// The `EHLO` name: an IP address (sent as an address literal) or a domain name of
/// letters, digits and inner hyphens (RFC 5321 §4.1.2). Anything else, a line break
/// above all, would let the setting write SMTP commands of its own.
fn client_id(name: &str) -> Result<ClientId> {
    if let Ok(ip) = name.parse::<IpAddr>() {
        return Ok(match ip {
            IpAddr::V4(v4) => ClientId::Ipv4(v4),
            IpAddr::V6(v6) => ClientId::Ipv6(v6),
        });
    }
    if is_domain_name(name) {
        Ok(ClientId::Domain(name.to_owned()))
    } else {
        Err(Error::new(
            ErrorCode::InvalidConfig,
            "the smtp hello name must be a domain name or an IP address",
        ))
    }
}

/// A DNS name: dot-separated labels of letters, digits and inner hyphens, each 1 to 63
/// long, 253 at most in all.
fn is_domain_name(name: &str) -> bool {
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    name.len() <= 253 && name.split('.').all(label_ok)
}

fn tls_parameters(host: &str, config: &SmtpConfig) -> Result<TlsParameters> {
    let invalid = |m: &str| Error::new(ErrorCode::InvalidConfig, m.to_owned());
    let mut builder = TlsParameters::builder(host.to_owned());
    if let Some(pem) = &config.extra_root_certificate_pem {
        if !pem.contains("-----BEGIN CERTIFICATE-----") {
            return Err(invalid(
                "the extra smtp root certificate is not a pem certificate",
            ));
        }
        let cert = Certificate::from_pem(pem.as_bytes())
            .map_err(|_| invalid("the extra smtp root certificate is not a pem certificate"))?;
        builder = builder.add_root_certificate(cert);
    }
    builder
        .build_rustls()
        .map_err(|_| invalid("the smtp tls settings are not usable"))
}

impl Mailer for SmtpMailer {
    fn send(&self, email: &InvitationEmail) -> std::result::Result<(), MailError> {
        let message = self.mime.message(email, SystemTime::now())?;
        self.transport
            .send(&message)
            .map(|_| ())
            .map_err(|e| MailError(format!("smtp delivery to {} failed: {e}", self.server)))
    }
}
