//! The MIME form of an invitation email, built with lettre's message builder.

use std::time::SystemTime;

use lettre::Address;
use lettre::Message;
use lettre::message::header::{ContentTransferEncoding, HeaderName, HeaderValue};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};

use crate::error::{Error, ErrorCode, Result};
use crate::ids::MessageId;
use crate::mail::templates::is_forbidden_char;
use crate::mail::{InvitationEmail, MailError};

/// Longest word a plain ASCII subject may have; a longer one could not be folded
/// under the 78-character line limit, so the subject is encoded instead.
const MAX_PLAIN_WORD: usize = 60;

/// Domain used in `Message-ID`s when the sender's domain cannot be used.
const FALLBACK_ID_DOMAIN: &str = "invite-core.invalid";

/// Builds the MIME message of an [`InvitationEmail`]: `multipart/alternative` with a
/// text and an HTML part (quoted-printable UTF-8), and the headers `From` (the
/// configured sender), `To` (the invitation's address as entered, an internationalised
/// domain in punycode, alone: it is also the only envelope recipient), `Subject`, `Message-ID` (derived from the stable
/// [`InvitationEmail::message_id`], so a retried delivery carries the same id and
/// receivers can drop duplicates), `Date` and `MIME-Version`.
///
/// No value reaches a header unencoded: a subject that is not plain printable ASCII, or
/// that contains an encoded-word look-alike (`=?`), is RFC 2047-encoded whole, so
/// receivers show exactly the text sent; characters that could break a line (controls,
/// line separators, bidi controls) are replaced by U+FFFD first, and whitespace runs
/// become one space. The recipient must be
/// one plain address (no display name, no list), or the build fails.
#[derive(Clone, Debug)]
pub struct MimeBuilder {
    from: Mailbox,
    id_domain: String,
}

impl MimeBuilder {
    /// A builder sending as `from_address`, shown as `from_name` when given.
    /// `INVALID_CONFIG` when the address is not one.
    pub fn new(from_address: &str, from_name: Option<&str>) -> Result<MimeBuilder> {
        let invalid = || {
            Error::new(
                ErrorCode::InvalidConfig,
                format!("sender address `{from_address}` is not a valid email address"),
            )
        };
        let address = ascii_domain_address(from_address).ok_or_else(invalid)?;
        let name = from_name
            .map(|n| {
                n.chars()
                    .filter(|c| !is_forbidden_char(*c))
                    .collect::<String>()
            })
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty());
        let id_domain = idna::domain_to_ascii(address.domain())
            .ok()
            .filter(|d| {
                !d.is_empty()
                    && d.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
            })
            .unwrap_or_else(|| FALLBACK_ID_DOMAIN.to_owned());
        let builder = MimeBuilder {
            from: Mailbox::new(name, address),
            id_domain,
        };
        // Whatever else lettre needs of a sender (an envelope's source: no domain
        // literal, say) is checked here, once, rather than failing every email.
        builder
            .message(&probe_email(), SystemTime::UNIX_EPOCH)
            .map_err(|_| invalid())?;
        Ok(builder)
    }

    /// The sender, as it appears in `From`.
    pub fn sender(&self) -> String {
        self.from.to_string()
    }

    /// The `Message-ID` of a message: `<{message_id}@{sender's domain}>`.
    pub fn message_id(&self, id: MessageId) -> String {
        format!("<{id}@{}>", self.id_domain)
    }

    /// The message in wire form (CRLF line endings), dated now.
    pub fn build(&self, email: &InvitationEmail) -> std::result::Result<Vec<u8>, MailError> {
        Ok(self.message(email, SystemTime::now())?.formatted())
    }

    /// The lettre message (its envelope is `From` → the one `To`).
    pub(crate) fn message(
        &self,
        email: &InvitationEmail,
        date: SystemTime,
    ) -> std::result::Result<Message, MailError> {
        let to = recipient(&email.to)?;
        let text = SinglePart::builder()
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(quoted_printable(&email.text));
        let html = SinglePart::builder()
            .header(lettre::message::header::ContentType::TEXT_HTML)
            .body(quoted_printable(&email.html));
        Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, to))
            .raw_header(subject_header(&email.subject)?)
            .message_id(Some(self.message_id(email.message_id)))
            .date(date)
            .multipart(MultiPart::alternative().singlepart(text).singlepart(html))
            .map_err(|e| MailError(format!("the email could not be built: {e}")))
    }
}

/// The recipient: the address as entered, except that an internationalised domain is
/// written in punycode (see [`ascii_domain_address`]).
fn recipient(to: &str) -> std::result::Result<Address, MailError> {
    ascii_domain_address(to)
        .ok_or_else(|| MailError("the recipient is not a valid email address".to_owned()))
}

/// An address as given, except that an internationalised domain is written in punycode
/// (the same domain, and every mail system can carry it); `None` for no address. A
/// non-ASCII local part stays as is and needs a server with SMTPUTF8.
fn ascii_domain_address(text: &str) -> Option<Address> {
    let (local, domain) = text.trim().rsplit_once('@')?;
    let domain = if domain.is_ascii() {
        domain.to_owned()
    } else {
        idna::domain_to_ascii(domain).ok()?
    };
    Address::new(local, domain).ok()
}

/// A plain email to check a sender against (see [`MimeBuilder::new`]).
fn probe_email() -> InvitationEmail {
    InvitationEmail {
        message_id: MessageId::from(uuid::Uuid::nil()),
        business_id: uuid::Uuid::nil().into(),
        invitation_id: uuid::Uuid::nil().into(),
        to: "probe@example.com".to_owned(),
        subject: "Probe".to_owned(),
        text: "Probe".to_owned(),
        html: "<p>Probe</p>".to_owned(),
        accept_link: "https://example.com/accept".to_owned(),
        locale: "en".to_owned(),
        expires_at: chrono::DateTime::UNIX_EPOCH,
    }
}

/// A body in quoted-printable: any text survives transport byte for byte (up to line
/// endings, which become CRLF), and ASCII stays readable.
fn quoted_printable(text: &str) -> Body {
    match Body::new_with_encoding(text.to_owned(), ContentTransferEncoding::QuotedPrintable) {
        Ok(body) => body,
        // Quoted-printable accepts every input; keep lettre's own choice otherwise.
        Err(_) => Body::new(text.to_owned()),
    }
}

/// The `Subject` header: one line (forbidden characters replaced, runs of whitespace
/// made one space, ends trimmed: header folding would not keep them). Printable ASCII
/// with words of at most 60 characters is written as is (folded by lettre); anything else is encoded whole (RFC 2047, base64
/// words split at character boundaries), so that text that looks like an encoded-word
/// (`=?`) is shown as typed instead of being decoded by receivers, and no space between
/// non-ASCII words is lost (lettre's word-by-word encoding can put a bare space between
/// two encoded-words, which decoders must drop).
fn subject_header(subject: &str) -> std::result::Result<HeaderValue, MailError> {
    let name = HeaderName::new_from_ascii_str("Subject");
    let line: String = subject
        .chars()
        .map(|c| if is_forbidden_char(c) { '\u{FFFD}' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let plain_ascii = line.bytes().all(|b| (0x20..0x7f).contains(&b));
    let foldable = line.split(' ').all(|word| word.len() <= MAX_PLAIN_WORD);
    if plain_ascii && foldable && !line.contains("=?") {
        return Ok(HeaderValue::new(name, line));
    }
    let mut encoded = String::new();
    {
        let mut writer = email_encoding::headers::writer::EmailWriter::new(
            &mut encoded,
            "Subject: ".len(),
            0,
            false,
        );
        email_encoding::headers::rfc2047::encode(&line, &mut writer)
            .map_err(|_| MailError("the subject could not be encoded".to_owned()))?;
    }
    // Only printable ASCII, folded with CRLF + space: nothing can start a new header.
    let safe = encoded.split("\r\n").enumerate().all(|(i, part)| {
        (i == 0 || part.starts_with(' ')) && part.bytes().all(|b| (0x20..0x7f).contains(&b))
    });
    if !safe {
        return Err(MailError("the subject could not be encoded".to_owned()));
    }
    Ok(HeaderValue::dangerous_new_pre_encoded(name, line, encoded))
}
