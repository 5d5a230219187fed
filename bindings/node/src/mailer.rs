//! Built-in mailers configured from JavaScript: the core's file mailer (a development
//! mailbox directory) and its SMTP mailer. A configuration is plain data
//! (`{ kind: 'file', dir }`, `{ kind: 'smtp', host, port, tls, from, … }`), so a host
//! can keep it in its settings; `Mailer.fromConfig` checks and builds it once, and
//! `dispatchOutbox` takes either the `Mailer` or the configuration itself. Delivery runs
//! entirely in Rust on the dispatch's thread: no hop back to the JS thread per email.
//!
//! Only parsing here: every rule about senders, hosts and certificates is the core's.

use std::path::PathBuf;
use std::sync::Arc;

#[cfg(feature = "smtp")]
use std::time::Duration;

use invite_core::Error as CoreError;
use invite_core::mail::{FileMailer, Mailer as CoreMailer};
#[cfg(feature = "smtp")]
use invite_core::mail::{MimeBuilder, SmtpConfig, SmtpCredentials, SmtpMailer, SmtpTls as CoreTls};
use napi::bindgen_prelude::{Either, JsObjectValue, Object, Unknown};
use napi::{Env, ValueType};
use napi_derive::napi;

use crate::convert::only;
use crate::error::{invalid_config as invalid, sync};

/// The kind of a built-in mailer.
#[napi(string_enum = "snake_case")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailerKind {
    /// Writes every email into a directory (`<messageId>.json` and `.eml`).
    File,
    /// Delivers to an SMTP server.
    Smtp,
}

/// How the connection to the SMTP server is secured.
#[napi(string_enum = "snake_case")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plaintext: only for a trusted relay on the same host or network (and tests).
    None,
    /// Plaintext first, then `STARTTLS`, required: nothing is sent before the server
    /// proved its certificate (usually port 587).
    Starttls,
    /// TLS from the first byte ("SMTPS", usually port 465).
    Tls,
}

/// The file mailer: every email is written into `dir` as `<messageId>.json` (the email
/// exactly as a JavaScript mailer would receive it, in the core's snake_case) and
/// `<messageId>.eml` (the MIME message the SMTP mailer would send). Files are written
/// atomically and named by the stable message id, so a re-delivery overwrites them. The
/// directory holds live accept links: development and demos only.
#[napi(object, object_to_js = false)]
#[derive(Debug, Clone)]
pub struct FileMailerConfig {
    /// `'file'`.
    #[napi(ts_type = "'file'")]
    #[expect(
        dead_code,
        reason = "declares the discriminant in index.d.ts; `MailerPlan::read` reads it from the object"
    )]
    pub kind: String,
    /// The directory (created on the first delivery).
    pub dir: String,
    /// Sender address of the `.eml` files (default `invitations@localhost`).
    pub from: Option<Option<String>>,
    /// Sender display name of the `.eml` files (needs `from`).
    pub from_name: Option<Option<String>>,
}

/// The SMTP mailer: one connection per email, the invitation's address as the only
/// recipient, a `Message-ID` derived from the stable message id. Every failure
/// (connection, TLS, authentication, a refusing server) is a delivery failure, retried
/// with backoff. Invalid settings are `INVALID_CONFIG`.
#[napi(object, object_to_js = false)]
#[derive(Debug, Clone)]
#[cfg_attr(
    not(feature = "smtp"),
    expect(
        dead_code,
        reason = "read only by the smtp mailer, which this build lacks"
    )
)]
pub struct SmtpMailerConfig {
    /// `'smtp'`.
    #[napi(ts_type = "'smtp'")]
    #[expect(
        dead_code,
        reason = "declares the discriminant in index.d.ts; `MailerPlan::read` reads it from the object"
    )]
    pub kind: String,
    /// Server host name or IP address (also the name its certificate must carry).
    pub host: String,
    /// Server port (default 587, for STARTTLS; 465 for implicit TLS, 25 for relays).
    pub port: Option<Option<u32>>,
    /// Connection security (default `'starttls'`, as in Rust and Python).
    pub tls: Option<Option<SmtpTls>>,
    /// `AUTH` user name (with `password`).
    pub username: Option<Option<String>>,
    /// `AUTH` password (with `username`); never shown in messages.
    pub password: Option<Option<String>>,
    /// Limit for connecting and for each exchange with the server, in seconds (default 30).
    pub timeout_seconds: Option<Option<f64>>,
    /// The sender address (`From` and the envelope sender).
    pub from: String,
    /// The sender's display name in `From`.
    pub from_name: Option<Option<String>>,
    /// An extra certificate authority to trust (PEM text), besides the webpki roots: for a
    /// relay with a private CA.
    pub extra_root_certificate_pem: Option<Option<String>>,
    /// The name given in `EHLO` (default: this machine's host name).
    pub hello_name: Option<Option<String>>,
}

const FILE_KEYS: &[&str] = &["kind", "dir", "from", "fromName"];
const SMTP_KEYS: &[&str] = &[
    "kind",
    "host",
    "port",
    "tls",
    "username",
    "password",
    "timeoutSeconds",
    "from",
    "fromName",
    "extraRootCertificatePem",
    "helloName",
];

/// Reads the properties of a configuration object, every mistake `INVALID_CONFIG`.
struct Reader<'o, 'e> {
    object: &'o Object<'e>,
    what: &'static str,
}

impl Reader<'_, '_> {
    /// The property, `None` when undefined or null.
    fn value(&self, name: &str) -> Result<Option<ValueType>, CoreError> {
        let value: Unknown<'_> = self
            .object
            .get_named_property(name)
            .map_err(|_| invalid(format!("the {} option `{name}` cannot be read", self.what)))?;
        let kind = value
            .get_type()
            .map_err(|_| invalid(format!("the {} option `{name}` cannot be read", self.what)))?;
        Ok(match kind {
            ValueType::Undefined | ValueType::Null => None,
            other => Some(other),
        })
    }

    fn string(&self, name: &str) -> Result<Option<String>, CoreError> {
        let wrong = || {
            invalid(format!(
                "the {} option `{name}` must be a string",
                self.what
            ))
        };
        match self.value(name)? {
            None => Ok(None),
            Some(ValueType::String) => self
                .object
                .get_named_property::<String>(name)
                .map(Some)
                .map_err(|_| wrong()),
            Some(_) => Err(wrong()),
        }
    }

    fn number(&self, name: &str) -> Result<Option<f64>, CoreError> {
        let wrong = || {
            invalid(format!(
                "the {} option `{name}` must be a number",
                self.what
            ))
        };
        match self.value(name)? {
            None => Ok(None),
            Some(ValueType::Number) => self
                .object
                .get_named_property::<f64>(name)
                .map(Some)
                .map_err(|_| wrong()),
            Some(_) => Err(wrong()),
        }
    }

    fn required<T>(&self, name: &str, value: Option<T>) -> Result<T, CoreError> {
        value.ok_or_else(|| invalid(format!("the {} option `{name}` is required", self.what)))
    }

    /// Rejects unknown options: a typo (`usename`) must not silently drop a setting.
    fn only(&self, known: &[&str]) -> Result<(), CoreError> {
        only(self.object, known, self.what)
    }
}

impl FileMailerConfig {
    fn read(reader: &Reader<'_, '_>) -> Result<FileMailerConfig, CoreError> {
        reader.only(FILE_KEYS)?;
        Ok(FileMailerConfig {
            kind: "file".to_owned(),
            dir: reader.required("dir", reader.string("dir")?)?,
            from: Some(reader.string("from")?),
            from_name: Some(reader.string("fromName")?),
        })
    }
}

impl SmtpMailerConfig {
    fn read(reader: &Reader<'_, '_>) -> Result<SmtpMailerConfig, CoreError> {
        reader.only(SMTP_KEYS)?;
        let port = match reader.number("port")? {
            None => None,
            Some(port) if (1.0..=65535.0).contains(&port) && port.fract() == 0.0 => {
                // A whole number in 1..=65535, checked by the guard.
                Some(port as u32)
            }
            Some(port) => {
                return Err(invalid(format!(
                    "the smtp port must be a whole number from 1 to 65535, not `{port}`"
                )));
            }
        };
        let tls = match reader.string("tls")?.as_deref() {
            None => None,
            Some("none") => Some(SmtpTls::None),
            Some("starttls") => Some(SmtpTls::Starttls),
            Some("tls") => Some(SmtpTls::Tls),
            Some(other) => {
                let shown: String = other.chars().take(40).collect();
                return Err(invalid(format!(
                    "the smtp option `tls` must be `none`, `starttls` or `tls`, not `{shown}`"
                )));
            }
        };
        Ok(SmtpMailerConfig {
            kind: "smtp".to_owned(),
            host: reader.required("host", reader.string("host")?)?,
            port: Some(port),
            tls: Some(tls),
            username: Some(reader.string("username")?),
            password: Some(reader.string("password")?),
            timeout_seconds: Some(reader.number("timeoutSeconds")?),
            from: reader.required("from", reader.string("from")?)?,
            from_name: Some(reader.string("fromName")?),
            extra_root_certificate_pem: Some(reader.string("extraRootCertificatePem")?),
            hello_name: Some(reader.string("helloName")?),
        })
    }
}

/// A checked configuration, built into a core mailer off the main thread (building the
/// SMTP mailer's TLS settings takes a few milliseconds).
#[derive(Debug, Clone)]
pub(crate) enum MailerPlan {
    File(FileMailerConfig),
    #[cfg(feature = "smtp")]
    Smtp(SmtpConfig),
}

impl MailerPlan {
    /// Reads a configuration object. `default_kind` is used when it has no `kind`.
    pub(crate) fn read(
        object: &Object<'_>,
        default_kind: Option<MailerKind>,
    ) -> Result<MailerPlan, CoreError> {
        let probe = Reader {
            object,
            what: "mailer",
        };
        let kind = match probe.string("kind")?.as_deref() {
            None => default_kind,
            Some("file") => Some(MailerKind::File),
            Some("smtp") => Some(MailerKind::Smtp),
            Some(other) => {
                let shown: String = other.chars().take(40).collect();
                return Err(invalid(format!(
                    "unknown mailer kind `{shown}` (known: file, smtp)"
                )));
            }
        };
        if default_kind.is_some() && kind != default_kind {
            return Err(invalid("the mailer `kind` does not match the factory"));
        }
        match kind {
            None => Err(invalid(
                "a mailer configuration needs a `kind`: `file` or `smtp`",
            )),
            Some(MailerKind::File) => {
                let config = FileMailerConfig::read(&Reader {
                    object,
                    what: "file mailer",
                })?;
                Self::file(config)
            }
            Some(MailerKind::Smtp) => {
                let config = SmtpMailerConfig::read(&Reader {
                    object,
                    what: "smtp mailer",
                })?;
                Self::smtp(config)
            }
        }
    }

    fn file(config: FileMailerConfig) -> Result<MailerPlan, CoreError> {
        if config.dir.trim().is_empty() {
            return Err(invalid("the file mailer `dir` is empty"));
        }
        if config.from.clone().flatten().is_none() && config.from_name.clone().flatten().is_some() {
            return Err(invalid("the file mailer option `fromName` needs `from`"));
        }
        if cfg!(not(feature = "smtp")) && config.from.clone().flatten().is_some() {
            return Err(invalid(
                "the file mailer option `from` needs the smtp feature (it writes no .eml without it)",
            ));
        }
        Ok(MailerPlan::File(config))
    }

    #[cfg(feature = "smtp")]
    fn smtp(c: SmtpMailerConfig) -> Result<MailerPlan, CoreError> {
        // The core's defaults (port 587, STARTTLS required) for what is not given.
        let mut config = SmtpConfig::new(c.host, c.from);
        if let Some(port) = c.port.flatten() {
            config.port =
                u16::try_from(port).map_err(|_| invalid("the smtp port is out of range"))?;
        }
        match c.tls.flatten() {
            None => {}
            Some(SmtpTls::None) => config.tls = CoreTls::None,
            Some(SmtpTls::Starttls) => config.tls = CoreTls::StartTls,
            Some(SmtpTls::Tls) => config.tls = CoreTls::Implicit,
        }
        config.credentials = match (c.username.flatten(), c.password.flatten()) {
            (Some(user), Some(password)) => Some(SmtpCredentials::new(user, password)),
            (None, None) => None,
            _ => {
                return Err(invalid(
                    "the smtp options `username` and `password` go together",
                ));
            }
        };
        if let Some(seconds) = c.timeout_seconds.flatten() {
            config.timeout = Duration::try_from_secs_f64(seconds)
                .ok()
                .filter(|d| !d.is_zero())
                .ok_or_else(|| {
                    invalid("the smtp `timeoutSeconds` must be a positive number of seconds")
                })?;
        }
        config.from_name = c.from_name.flatten();
        config.extra_root_certificate_pem = c.extra_root_certificate_pem.flatten();
        config.hello_name = c.hello_name.flatten();
        Ok(MailerPlan::Smtp(config))
    }

    #[cfg(not(feature = "smtp"))]
    fn smtp(_: SmtpMailerConfig) -> Result<MailerPlan, CoreError> {
        Err(CoreError::new(
            ErrorCode::NotSupported,
            "this build has no smtp mailer (cargo feature `smtp`)",
        ))
    }

    /// The kind of mailer this plan builds.
    fn kind(&self) -> MailerKind {
        match self {
            MailerPlan::File(_) => MailerKind::File,
            #[cfg(feature = "smtp")]
            MailerPlan::Smtp(_) => MailerKind::Smtp,
        }
    }

    /// A one-line description for logs (never the password).
    fn describe(&self) -> String {
        match self {
            MailerPlan::File(c) => format!("file mailer writing into `{}`", c.dir),
            #[cfg(feature = "smtp")]
            MailerPlan::Smtp(c) => {
                let tls = match c.tls {
                    CoreTls::None => "none",
                    CoreTls::StartTls => "starttls",
                    CoreTls::Implicit => "tls",
                };
                let user = c
                    .credentials
                    .as_ref()
                    .map(|c| format!(", user `{}`", c.username))
                    .unwrap_or_default();
                format!(
                    "smtp mailer to {}:{} (tls: {tls}{user}) from `{}`",
                    c.host.trim(),
                    c.port,
                    c.from_address.trim()
                )
            }
        }
    }

    /// Builds the core mailer (`INVALID_CONFIG` for a bad sender, host or certificate).
    pub(crate) fn build(self) -> Result<Arc<dyn CoreMailer>, CoreError> {
        match self {
            MailerPlan::File(c) => {
                let mailer = FileMailer::new(PathBuf::from(c.dir));
                #[cfg(feature = "smtp")]
                let mailer = match c.from.flatten() {
                    Some(from) => mailer
                        .with_sender(MimeBuilder::new(&from, c.from_name.flatten().as_deref())?),
                    None => mailer,
                };
                Ok(Arc::new(mailer))
            }
            #[cfg(feature = "smtp")]
            MailerPlan::Smtp(config) => Ok(Arc::new(SmtpMailer::new(&config)?)),
        }
    }
}

/// A built-in mailer, checked and built once (at start-up, say), then passed to
/// `service.dispatchOutbox(mailer)` as often as needed. Deliveries run in native code
/// on the dispatch's own thread.
///
/// ```js
/// const mailer = Mailer.fromConfig({ kind: 'smtp', host: 'smtp.example.com', port: 587,
///   tls: 'starttls', username, password, from: 'invites@example.com' })
/// setInterval(() => service.dispatchOutbox(mailer).catch(console.error), 10_000)
/// ```
#[napi]
pub struct Mailer {
    kind: MailerKind,
    description: String,
    pub(crate) inner: Arc<dyn CoreMailer>,
}

impl Mailer {
    fn built(plan: MailerPlan) -> Result<Mailer, CoreError> {
        Ok(Mailer {
            kind: plan.kind(),
            description: plan.describe(),
            inner: plan.build()?,
        })
    }
}

fn config_object<'a>(config: Either<Object<'a>, Unknown<'a>>) -> Result<Object<'a>, CoreError> {
    match config {
        Either::A(object) => Ok(object),
        Either::B(_) => Err(invalid("a mailer configuration must be an object")),
    }
}

fn build(
    config: Either<Object<'_>, Unknown<'_>>,
    kind: Option<MailerKind>,
) -> Result<Mailer, CoreError> {
    Mailer::built(MailerPlan::read(&config_object(config)?, kind)?)
}

#[napi]
impl Mailer {
    /// A mailer from its configuration: `{ kind: 'file', dir }` or
    /// `{ kind: 'smtp', host, port, tls, from, … }`. Throws `INVALID_CONFIG` for an
    /// unknown kind or option, a missing or mistyped one, a bad sender address, host or
    /// certificate. Does not connect: the first delivery does.
    #[napi(
        factory,
        catch_unwind,
        ts_args_type = "config: FileMailerConfig | SmtpMailerConfig"
    )]
    pub fn from_config(env: Env, config: Either<Object<'_>, Unknown<'_>>) -> napi::Result<Mailer> {
        sync(&env, || build(config, None))
    }

    /// The file mailer writing into `dir` (see `FileMailerConfig`).
    #[napi(factory, catch_unwind)]
    pub fn file(env: Env, dir: String) -> napi::Result<Mailer> {
        sync(&env, || {
            Mailer::built(MailerPlan::file(FileMailerConfig {
                kind: "file".to_owned(),
                dir,
                from: None,
                from_name: None,
            })?)
        })
    }

    /// The SMTP mailer (see `SmtpMailerConfig`; `kind` may be omitted). Throws
    /// `INVALID_CONFIG` like `fromConfig`.
    #[napi(
        factory,
        catch_unwind,
        ts_args_type = "config: Omit<SmtpMailerConfig, 'kind'> & { kind?: 'smtp' }"
    )]
    pub fn smtp(env: Env, config: Either<Object<'_>, Unknown<'_>>) -> napi::Result<Mailer> {
        sync(&env, || build(config, Some(MailerKind::Smtp)))
    }

    /// `'file'` or `'smtp'`.
    #[napi(getter, catch_unwind)]
    pub fn kind(&self) -> MailerKind {
        self.kind
    }

    /// One line for logs: the kind, the directory or server, the sender (never the
    /// password).
    #[napi(catch_unwind, strict)]
    pub fn describe(&self) -> String {
        self.description.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use invite_core::ErrorCode;

    fn file(dir: &str, from: Option<&str>, from_name: Option<&str>) -> FileMailerConfig {
        FileMailerConfig {
            kind: "file".to_owned(),
            dir: dir.to_owned(),
            from: Some(from.map(str::to_owned)),
            from_name: Some(from_name.map(str::to_owned)),
        }
    }

    fn code<T>(result: Result<T, CoreError>) -> Option<ErrorCode> {
        result.err().map(|e| e.code())
    }

    #[test]
    fn file_plans() {
        assert_eq!(
            code(MailerPlan::file(file(" ", None, None))),
            Some(ErrorCode::InvalidConfig)
        );
        assert_eq!(
            code(MailerPlan::file(file("/tmp/x", None, Some("Acme")))),
            Some(ErrorCode::InvalidConfig)
        );
        let plan = MailerPlan::file(file("/tmp/x", None, None)).map(|p| (p.kind(), p.describe()));
        assert!(matches!(plan, Ok((MailerKind::File, d)) if d.contains("/tmp/x")));
    }

    #[cfg(feature = "smtp")]
    #[test]
    fn smtp_plans_keep_the_core_defaults_and_pair_credentials() {
        let base = SmtpMailerConfig {
            kind: "smtp".to_owned(),
            host: "smtp.example.com".to_owned(),
            port: None,
            tls: None,
            username: None,
            password: None,
            timeout_seconds: None,
            from: "invites@example.com".to_owned(),
            from_name: None,
            extra_root_certificate_pem: None,
            hello_name: None,
        };
        let Ok(MailerPlan::Smtp(config)) = MailerPlan::smtp(base.clone()) else {
            panic!("a plain configuration is valid");
        };
        let defaults = SmtpConfig::new("smtp.example.com", "invites@example.com");
        assert_eq!((config.port, config.tls), (defaults.port, defaults.tls));
        let lonely = SmtpMailerConfig {
            username: Some(Some("user".to_owned())),
            ..base.clone()
        };
        assert_eq!(
            code(MailerPlan::smtp(lonely)),
            Some(ErrorCode::InvalidConfig)
        );
        let zero = SmtpMailerConfig {
            timeout_seconds: Some(Some(0.0)),
            ..base.clone()
        };
        assert_eq!(code(MailerPlan::smtp(zero)), Some(ErrorCode::InvalidConfig));
        let secret = SmtpMailerConfig {
            username: Some(Some("user".to_owned())),
            password: Some(Some("pw-secret".to_owned())),
            tls: Some(Some(SmtpTls::Tls)),
            port: Some(Some(465)),
            ..base
        };
        let plan = MailerPlan::smtp(secret);
        assert!(matches!(&plan, Ok(p) if !p.describe().contains("pw-secret")));
        assert!(plan.and_then(MailerPlan::build).is_ok());
    }
}
