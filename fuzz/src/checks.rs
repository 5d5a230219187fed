//! Fuzz properties, shared by the fuzz targets and `invite-core/tests/fuzz_regressions.rs`.
//!
//! Every function panics (an assertion) when a property fails; the fuzzer reports that
//! as a crash, and the regression test replays the saved input through the same code.

use std::sync::Arc;

use arbitrary::{Arbitrary, Unstructured};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeZone, Utc};
use invite_core::input::{Email, EmailPolicy, MAX_NAME_CHARS, fold_search_text, validate_name};
use invite_core::mail::{DefaultTemplates, EmailContext, EmailRenderer, InvitationEmail};
use invite_core::service::Limits;
use invite_core::{
    CapturingMailer, Config, Error, ErrorCode, FieldCode, InMemoryStore, InviteService,
    ManualClock, MessageId, NewSubscription, NewUser, RandomSource, SeededRandom,
    SendInvitationDraft, SendInvitationRequest, Token, UserId,
};

/// The fuzz targets, by name (also the folders under `fuzz/regressions/`).
pub const TARGETS: &[&str] = &["email", "name", "token", "send_request", "render"];

/// Runs the check of `target` on raw fuzzer input (as the fuzz target would).
/// Returns false for an unknown target.
pub fn replay(target: &str, data: &[u8]) -> bool {
    match target {
        "email" => email(data),
        "name" => name(data),
        "token" => token(data),
        "send_request" => {
            if let Ok(input) = SendInput::arbitrary_take_rest(Unstructured::new(data)) {
                send_request(&input);
            }
        }
        "render" => {
            if let Ok(input) = RenderInput::arbitrary_take_rest(Unstructured::new(data)) {
                render(&input);
            }
        }
        _ => return false,
    }
    true
}

/// The characters no name, subject or header value may carry (the input rules' set).
pub fn forbidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{061C}' | '\u{200E}' | '\u{200F}'
                | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}'
        )
}

// ---------------------------------------------------------------------------------
// email

/// `Email::parse` never panics; a parsed address re-parses to the same address and key;
/// the key's domain is a lowercase ASCII host name; the key's local part is a fixed point of the
/// folding; errors carry an email field code. The first byte picks the policy.
pub fn email(data: &[u8]) {
    let (flags, rest) = data.split_first().unwrap_or((&0, data));
    let policy = EmailPolicy {
        allow_non_ascii_local_part: flags & 1 == 1,
    };
    let raw = String::from_utf8_lossy(rest);
    match Email::parse(&raw, "email", policy) {
        Ok(parsed) => {
            assert_eq!(
                parsed.address(),
                raw.trim(),
                "the address is kept as entered"
            );
            let again = Email::parse(parsed.address(), "email", policy)
                .expect("a parsed address parses again");
            assert_eq!(again, parsed, "re-parsing changes nothing");
            let (local, domain) = parsed.key().rsplit_once('@').expect("a key has an @");
            assert!(
                domain.is_ascii() && domain == domain.to_ascii_lowercase(),
                "the key's domain is lowercase punycode: {domain:?}"
            );
            assert!(
                domain.split('.').count() >= 2
                    && domain.split('.').all(|label| {
                        (1..=63).contains(&label.len())
                            && !label.starts_with('-')
                            && !label.ends_with('-')
                            && label
                                .bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    })
                    && domain
                        .rsplit('.')
                        .next()
                        .is_some_and(|top| { !top.bytes().all(|b| b.is_ascii_digit()) }),
                "the key's domain is a host name: {domain:?}"
            );
            if local == local.trim() {
                assert_eq!(
                    fold_search_text(local),
                    local,
                    "folding the key is idempotent"
                );
            }
            let lenient = EmailPolicy {
                allow_non_ascii_local_part: true,
            };
            // A key can start with a space (NFKC turns U+00A8 into space + U+0308);
            // parsing trims, so only an untrimmed key is expected to map to itself.
            if let (true, Ok(key)) = (
                parsed.key() == parsed.key().trim(),
                Email::parse(parsed.key(), "email", lenient),
            ) {
                assert_eq!(key.key(), parsed.key(), "the key of a key is itself");
            }
        }
        Err(e) => {
            assert_eq!(e.field, "email");
            assert!(
                matches!(
                    e.code,
                    FieldCode::Required
                        | FieldCode::InvalidEmail
                        | FieldCode::TooLong
                        | FieldCode::NonAsciiEmail
                ),
                "unexpected email code {:?}",
                e.code
            );
        }
    }
}

// ---------------------------------------------------------------------------------
// name

/// `validate_name` never panics; what it returns is 1–100 characters without forbidden
/// characters or U+FFFD, and validating it again yields itself.
pub fn name(data: &[u8]) {
    let raw = String::from_utf8_lossy(data);
    match validate_name(&raw, "first_name") {
        Ok(valid) => {
            let count = valid.chars().count();
            assert!((1..=MAX_NAME_CHARS).contains(&count), "length {count}");
            assert!(
                !valid.chars().any(forbidden),
                "forbidden character in {valid:?}"
            );
            // U+FFFD marks input that was not text (this target's lossy decoding too).
            assert!(
                !valid.contains(char::REPLACEMENT_CHARACTER),
                "replacement character in {valid:?}"
            );
            assert_eq!(
                validate_name(&valid, "first_name").as_deref(),
                Ok(valid.as_str()),
                "validating a valid name changes nothing"
            );
        }
        Err(e) => {
            assert_eq!(e.field, "first_name");
            assert!(
                matches!(
                    e.code,
                    FieldCode::Required | FieldCode::TooLong | FieldCode::InvalidCharacters
                ),
                "unexpected name code {:?}",
                e.code
            );
        }
    }
}

// ---------------------------------------------------------------------------------
// token

/// Random bytes taken from the fuzzer's input (cycled), for minting.
struct BytesRandom(Vec<u8>);

impl RandomSource for BytesRandom {
    fn fill(&self, buf: &mut [u8]) -> invite_core::Result<()> {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = match self.0.len() {
                0 => 0,
                n => self.0[i % n] ^ (i as u8),
            };
        }
        Ok(())
    }
}

/// `Token::parse` never panics and accepts only 43 characters of unpadded base64url that
/// decode to 32 bytes (canonically); everything else is `INVALID_TOKEN`. A minted token
/// parses back to itself with the same hash.
pub fn token(data: &[u8]) {
    let raw = String::from_utf8_lossy(data);
    match Token::parse(&raw) {
        Ok(token) => {
            let text = token.expose();
            assert_eq!(text, raw.trim());
            assert_eq!(text.len(), 43);
            assert!(
                text.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                "alphabet"
            );
            let bytes = URL_SAFE_NO_PAD.decode(text).expect("a token decodes");
            assert_eq!(bytes.len(), 32);
            assert_eq!(URL_SAFE_NO_PAD.encode(&bytes), text, "canonical encoding");
        }
        Err(e) => assert_eq!(e.code(), ErrorCode::InvalidToken),
    }
    let minted = Token::mint(&BytesRandom(data.to_vec())).expect("minting from bytes");
    let parsed = Token::parse(minted.expose()).expect("a minted token parses");
    assert_eq!(parsed, minted);
    assert_eq!(parsed.hash(), minted.hash());
}

// ---------------------------------------------------------------------------------
// text samples shared by the structured targets

/// A text value: either arbitrary, or one of a few interesting samples (valid and
/// hostile), so the fuzzer reaches deep paths quickly.
#[derive(Arbitrary, Clone, Debug)]
pub enum Text {
    /// Arbitrary text.
    Raw(String),
    /// One of [`SAMPLES`].
    Sample(u8),
}

/// Interesting texts: valid values, header-injection attempts, oversize values.
pub const SAMPLES: &[&str] = &[
    "Ann",
    "Zoë Ünal",
    "new.person@example.com",
    "alice@example.com",
    "ADA@ACME.example",
    "fr-CA",
    "de",
    "x\r\nBcc: evil@example.com",
    "x\nTo: evil@example.com",
    "Eve\u{0}Null",
    "Mallory\u{2028}Cc: evil@example.com",
    "Nel\u{85}Bcc: evil@example.com",
    "=?utf-8?q?Bcc:_evil@example.com?=",
    "=?utf-8?b?DQpCY2M6IGV2aWxAZXhhbXBsZS5jb20=?=",
    "<script>alert(1)</script>",
    "\u{202E}evil\u{202C}",
    "bad@",
    "a@b",
    " ",
    "",
];

impl Text {
    /// The text.
    pub fn get(&self) -> String {
        match self {
            Text::Raw(s) => s.clone(),
            Text::Sample(i) => match SAMPLES.get(usize::from(*i) % (SAMPLES.len() + 1)) {
                Some(s) => (*s).to_owned(),
                None => "long name ".repeat(30),
            },
        }
    }
}

// ---------------------------------------------------------------------------------
// send_request

/// Which id to put in a draft field.
#[derive(Arbitrary, Clone, Debug)]
pub enum Pick {
    /// Leave the field out.
    Absent,
    /// One of the catalog's ids of any kind (other tenants' and kinds' included).
    Known(u8),
    /// A syntactically valid id that names nothing.
    Unknown(u128),
    /// Arbitrary text.
    Raw(Text),
}

/// An arbitrary send request against a small catalog.
#[derive(Arbitrary, Clone, Debug)]
pub struct SendInput {
    /// Who sends: admin, a manager member, a plain member, an unknown user.
    pub inviter: u8,
    /// Existing user id.
    pub user: Pick,
    /// New user's first name, last name and email.
    pub new_user: Option<(Text, Text, Text)>,
    /// Business id.
    pub business: Pick,
    /// App id.
    pub app: Pick,
    /// Subscription id.
    pub subscription: Pick,
    /// Role id.
    pub role: Pick,
    /// Lifetime in seconds.
    pub expires_in_seconds: Option<i64>,
    /// Locale.
    pub locale: Option<Text>,
    /// Idempotency key.
    pub idempotency_key: Option<Text>,
    /// Send the same request twice.
    pub twice: bool,
}

struct Catalog {
    service: InviteService,
    ids: Vec<String>,
    inviters: Vec<UserId>,
    capped: (invite_core::BusinessId, invite_core::SubscriptionId),
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
        .single()
        .unwrap_or_default()
}

fn catalog() -> Catalog {
    let config = Config {
        limits: Limits::unlimited(),
        ..Config::with_base_url("https://app.example.com/invite/accept")
    };
    let service = InviteService::builder(Arc::new(InMemoryStore::new()))
        .clock(Arc::new(ManualClock::new(start())))
        .random(Arc::new(SeededRandom::new(7)))
        .outbox_key([9; 32])
        .config(config)
        .build()
        .expect("service");
    let s = &service;
    let person = |first: &str, last: &str, email: &str| NewUser {
        first_name: first.into(),
        last_name: last.into(),
        email: email.into(),
    };
    let acme = s.create_business("Acme").expect("business");
    let globex = s.create_business("Globex").expect("business");
    let billing = s.create_app("Billing").expect("app");
    let analytics = s.create_app("Analytics").expect("app");
    s.set_app_enabled(acme.id, billing.id, true)
        .expect("enable");
    s.set_app_enabled(globex.id, billing.id, true)
        .expect("enable");
    let capped = s
        .create_subscription(&NewSubscription::new(acme.id, billing.id, "Team", Some(2)))
        .expect("subscription");
    let unlimited = s
        .create_subscription(&NewSubscription::new(
            acme.id,
            billing.id,
            "Enterprise",
            None,
        ))
        .expect("subscription");
    let foreign = s
        .create_subscription(&NewSubscription::new(
            globex.id,
            billing.id,
            "Team",
            Some(5),
        ))
        .expect("subscription");
    let other_app = s
        .create_subscription(&NewSubscription::new(
            acme.id,
            analytics.id,
            "Team",
            Some(5),
        ))
        .expect("subscription");
    let member = s
        .create_role(billing.id, "member", "Member", &["billing.read"])
        .expect("role");
    let manager = s
        .create_role(
            billing.id,
            "manager",
            "Manager",
            &["billing.read", "invitations.send"],
        )
        .expect("role");
    let owner = s
        .create_role(
            billing.id,
            "owner",
            "Owner",
            &["billing.read", "billing.admin", "invitations.send"],
        )
        .expect("role");
    let viewer = s
        .create_role(analytics.id, "viewer", "Viewer", &["analytics.read"])
        .expect("role");
    let ada = s
        .create_user(&person("Ada", "Admin", "ada@acme.example"))
        .expect("user");
    s.set_business_admin(acme.id, ada.id, true).expect("admin");
    let bob = s
        .create_user(&person("Bob", "Manager", "bob@acme.example"))
        .expect("user");
    s.add_membership(acme.id, unlimited.id, bob.id, manager.id)
        .expect("membership");
    let alice = s
        .create_user(&person("Alice", "Archer", "alice@example.com"))
        .expect("user");
    s.add_membership(acme.id, unlimited.id, alice.id, member.id)
        .expect("membership");
    let ids = [
        acme.id.to_string(),
        globex.id.to_string(),
        billing.id.to_string(),
        analytics.id.to_string(),
        capped.id.to_string(),
        unlimited.id.to_string(),
        foreign.id.to_string(),
        other_app.id.to_string(),
        member.id.to_string(),
        manager.id.to_string(),
        owner.id.to_string(),
        viewer.id.to_string(),
        ada.id.to_string(),
        bob.id.to_string(),
        alice.id.to_string(),
    ]
    .to_vec();
    let nobody: UserId = "00000000-0000-7000-8000-000000000001"
        .parse()
        .expect("an id");
    Catalog {
        service,
        ids,
        inviters: vec![ada.id, bob.id, alice.id, nobody],
        capped: (acme.id, capped.id),
    }
}

impl Pick {
    fn resolve(&self, ids: &[String]) -> Option<String> {
        match self {
            Pick::Absent => None,
            Pick::Known(i) => ids.get(usize::from(*i) % ids.len()).cloned(),
            Pick::Unknown(n) => Some(uuid::Uuid::from_u128(*n).to_string()),
            Pick::Raw(t) => Some(t.get()),
        }
    }
}

/// Checks an error: a known code that round-trips through its string, never
/// `INTERNAL` or a storage failure (the in-memory store does not fail), and
/// `VALIDATION_FAILED` exactly when there are field errors, each with a known code.
pub fn check_error(e: &Error) {
    let code = e.code();
    assert!(ErrorCode::ALL.contains(&code), "unknown code {code:?}");
    assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
    assert!(
        !matches!(
            code,
            ErrorCode::Internal | ErrorCode::StorageConflict | ErrorCode::StorageUnavailable
        ),
        "unexpected {code:?}: {e:?}"
    );
    if code == ErrorCode::ValidationFailed {
        assert!(
            !e.field_errors().is_empty(),
            "VALIDATION_FAILED without field errors"
        );
        for f in e.field_errors() {
            assert!(FieldCode::ALL.contains(&f.code));
            assert!(!f.field.is_empty());
        }
    } else {
        assert!(e.field_errors().is_empty(), "field errors on {code:?}");
    }
}

/// An arbitrary draft against an in-memory service: never panics; errors are checked by
/// [`check_error`]; a success gives a pending invitation with a working token and an
/// on-origin link; an idempotency key replays; seats never oversell; every queued email
/// renders and (with `smtp`) survives the MIME round trip.
pub fn send_request(input: &SendInput) {
    let catalog = catalog();
    let ids = &catalog.ids;
    let draft = SendInvitationDraft {
        user_id: input.user.resolve(ids),
        new_user: input.new_user.as_ref().map(|(first, last, email)| {
            invite_core::service::NewInvitee {
                first_name: first.get(),
                last_name: last.get(),
                email: email.get(),
            }
        }),
        business_id: input.business.resolve(ids),
        app_id: input.app.resolve(ids),
        subscription_id: input.subscription.resolve(ids),
        role_id: input.role.resolve(ids),
        expires_in_seconds: input.expires_in_seconds,
        locale: input.locale.as_ref().map(Text::get),
        idempotency_key: input.idempotency_key.as_ref().map(Text::get),
    };
    let inviter = catalog.inviters[usize::from(input.inviter) % catalog.inviters.len()];
    let request = SendInvitationRequest::from_draft(inviter, &draft);
    let service = &catalog.service;
    let rounds = if input.twice { 2 } else { 1 };
    let mut first: Option<invite_core::InvitationId> = None;
    for round in 0..rounds {
        match service.send(&request) {
            Ok(sent) => {
                assert_eq!(
                    sent.invitation.status,
                    invite_core::InvitationStatus::Pending
                );
                assert!(
                    sent.accept_link
                        .starts_with("https://app.example.com/invite/accept?token="),
                    "off-origin link"
                );
                let peek = service.peek(sent.token.expose());
                if round == 0 || !sent.replayed {
                    let preview = peek.expect("a fresh token peeks");
                    assert_eq!(preview.invitation.id, sent.invitation.id);
                }
                if round == 1 && draft.idempotency_key.is_some() {
                    assert!(sent.replayed, "the same key replays");
                    assert_eq!(Some(sent.invitation.id), first);
                }
                first = Some(sent.invitation.id);
            }
            Err(e) => check_error(&e),
        }
    }
    let usage = service
        .seat_usage(catalog.capped.0, catalog.capped.1)
        .expect("seat usage");
    assert!(usage.used + usage.reserved <= 2, "oversold: {usage:?}");
    let mailer = CapturingMailer::new();
    service.dispatch_outbox(&mailer).expect("dispatch");
    for mail in mailer.sent() {
        assert!(
            !mail.subject.chars().any(forbidden),
            "subject {:?}",
            mail.subject
        );
        assert!(DefaultTemplates::LANGUAGES.contains(&mail.locale.as_str()));
        #[cfg(feature = "smtp")]
        check_mime(&mail);
    }
}

// ---------------------------------------------------------------------------------
// render

/// An arbitrary email context (and optionally raw subject/text/html, as a host's own
/// renderer could produce) and recipient.
#[derive(Arbitrary, Clone, Debug)]
pub struct RenderInput {
    /// Inviter's name.
    pub inviter: Text,
    /// Invitee's name.
    pub invitee: Option<Text>,
    /// Business name.
    pub business: Text,
    /// App name.
    pub app: Text,
    /// Role name.
    pub role: Text,
    /// Expiry, seconds since the epoch.
    pub expires_at: i64,
    /// Accept link.
    pub link: Text,
    /// Locale.
    pub locale: Option<Text>,
    /// Recipient address.
    pub to: Text,
    /// The stable message id.
    pub message_id: u128,
    /// A host renderer's output to send instead (subject, text, html).
    pub custom: Option<(Text, Text, Text)>,
}

/// Renders an arbitrary context with [`DefaultTemplates`]: the subject is one line
/// without forbidden characters, the language is the one the locale asks for, values
/// cannot add HTML elements (the markup is the same as for harmless values), and (with
/// `smtp`) the MIME message parses back with exactly one `To`, no other headers than
/// ours, the subject on one line and both bodies unchanged.
pub fn render(input: &RenderInput) {
    let expires_at =
        DateTime::from_timestamp(input.expires_at % 400_000_000_000, 0).unwrap_or_else(start);
    let context = EmailContext {
        inviter_name: input.inviter.get(),
        invitee_name: input.invitee.as_ref().map(Text::get),
        business_name: input.business.get(),
        app_name: input.app.get(),
        role_name: input.role.get(),
        expires_at,
        accept_link: input.link.get(),
        locale: input.locale.as_ref().map(Text::get),
    };
    let rendered = DefaultTemplates.render(&context);
    assert!(
        !rendered.subject.chars().any(forbidden),
        "subject {:?}",
        rendered.subject
    );
    assert_eq!(
        rendered.locale,
        DefaultTemplates::language_for(context.locale.as_deref())
    );
    let harmless = EmailContext {
        inviter_name: "x".into(),
        invitee_name: context.invitee_name.as_ref().map(|_| "x".into()),
        business_name: "x".into(),
        app_name: "x".into(),
        role_name: "x".into(),
        ..context.clone()
    };
    let reference = DefaultTemplates.render(&harmless);
    for c in ['<', '>'] {
        assert_eq!(
            rendered.html.matches(c).count(),
            reference.html.matches(c).count(),
            "values changed the markup"
        );
    }
    let (subject, text, html) = match &input.custom {
        Some((s, t, h)) => (s.get(), t.get(), h.get()),
        None => (rendered.subject, rendered.text, rendered.html),
    };
    let email = InvitationEmail {
        message_id: MessageId::from(uuid::Uuid::from_u128(input.message_id)),
        business_id: invite_core::BusinessId::from(uuid::Uuid::from_u128(1)),
        invitation_id: invite_core::InvitationId::from(uuid::Uuid::from_u128(2)),
        // Only validated addresses are ever mailed (invitations store the address
        // `Email::parse` accepted); anything else stands for a plain one.
        to: mailable(&input.to.get()),
        subject,
        text,
        html,
        accept_link: context.accept_link.clone(),
        locale: rendered.locale,
        expires_at,
    };
    #[cfg(feature = "smtp")]
    check_mime(&email);
    #[cfg(not(feature = "smtp"))]
    let _ = email;
}

/// The address as an invitation would hold it, or a plain one when validation refuses it.
fn mailable(raw: &str) -> String {
    let policy = EmailPolicy {
        allow_non_ascii_local_part: true,
    };
    Email::parse(raw, "email", policy).map_or_else(
        |_| "someone@example.com".to_owned(),
        |e| e.address().to_owned(),
    )
}

// ---------------------------------------------------------------------------------
// MIME

/// The sender used by [`check_mime`].
#[cfg(feature = "smtp")]
pub const FROM: &str = "invitations@example.com";

/// Builds `email` with the SMTP mailer's MIME builder (sender [`FROM`]) and checks the
/// result with [`check_parsed_mime`]. A recipient lettre refuses is an error, never a
/// panic.
#[cfg(feature = "smtp")]
pub fn check_mime(email: &InvitationEmail) {
    let builder = invite_core::mail::MimeBuilder::new(FROM, Some("Acme \"Invitations\""))
        .expect("the test sender is valid");
    match builder.build(email) {
        Ok(raw) => check_parsed_mime(email, &raw, &builder.message_id(email.message_id)),
        Err(_) => {
            // Only the recipient may be refused: the same email to a plain address builds.
            let plain = InvitationEmail {
                to: "someone@example.com".into(),
                ..email.clone()
            };
            let raw = builder
                .build(&plain)
                .expect("subject and bodies never stop the builder");
            check_parsed_mime(&plain, &raw, &builder.message_id(plain.message_id));
        }
    }
}

#[cfg(feature = "smtp")]
/// The recipient as written: the address as entered (trimmed), an internationalised
/// domain in punycode.
pub fn recipient(to: &str) -> String {
    let to = to.trim();
    match to.rsplit_once('@') {
        Some((local, domain)) if !domain.is_ascii() => match idna::domain_to_ascii(domain) {
            Ok(domain) => format!("{local}@{domain}"),
            Err(_) => to.to_owned(),
        },
        _ => to.to_owned(),
    }
}

#[cfg(feature = "smtp")]
/// What a subject looks like after the builder made it one line: forbidden characters
/// replaced by U+FFFD, whitespace runs made one space, ends trimmed.
pub fn subject_line(s: &str) -> String {
    s.chars()
        .map(|c| if forbidden(c) { '\u{FFFD}' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(feature = "smtp")]
/// Checks a message built from `email`: the header block has only our headers, each
/// once, every line either a header or a folded continuation; exactly one `To` (the
/// address as entered, no name), no `Cc`/`Bcc`/`Reply-To`/`Sender`; the subject is one
/// line equal to the email's (see [`subject_line`]); the `Message-ID` is `message_id`; one
/// text part and one HTML part equal to the email's bodies (line endings aside).
pub fn check_parsed_mime(email: &InvitationEmail, raw: &[u8], message_id: &str) {
    let text = std::str::from_utf8(raw).expect("the message is ASCII/UTF-8");
    let (head, _) = text.split_once("\r\n\r\n").expect("a header block");
    let mut names = Vec::new();
    let to = recipient(&email.to);
    for line in head.split("\r\n") {
        assert!(
            !line.chars().any(char::is_control),
            "control character in header line {line:?}"
        );
        if line.starts_with(' ') || line.starts_with('\t') {
            assert!(line.is_ascii(), "non-ASCII header continuation {line:?}");
            continue;
        }
        let (name, value) = line.split_once(':').expect("a header line has a colon");
        names.push(name.to_ascii_lowercase());
        if name.eq_ignore_ascii_case("to") {
            // Only a non-ASCII local part (SMTPUTF8) may be raw UTF-8.
            assert_eq!(value.trim(), to, "the To header is the one address");
        } else {
            assert!(line.is_ascii(), "non-ASCII header line {line:?}");
        }
    }
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "content-type",
            "date",
            "from",
            "message-id",
            "mime-version",
            "subject",
            "to"
        ],
        "unexpected headers {names:?}"
    );
    let message = mail_parser::MessageParser::default()
        .parse(raw)
        .expect("the message parses");
    let to = message.to().expect("a To header");
    let to: Vec<_> = to.iter().collect();
    assert_eq!(to.len(), 1, "exactly one recipient");
    assert_eq!(to[0].address(), Some(recipient(&email.to).as_str()));
    assert!(to[0].name().is_none_or(str::is_empty));
    assert!(message.cc().is_none() && message.bcc().is_none());
    assert!(message.reply_to().is_none() && message.sender().is_none());
    let subject = message.subject().unwrap_or_default();
    assert!(!subject.contains(['\r', '\n']), "subject {subject:?}");
    assert_eq!(subject, subject_line(&email.subject), "subject");
    assert_eq!(
        message.message_id().map(|id| format!("<{id}>")).as_deref(),
        Some(message_id)
    );
    let normalize = |s: &str| s.replace("\r\n", "\n");
    let mut texts = Vec::new();
    let mut htmls = Vec::new();
    for part in message.parts.iter() {
        match &part.body {
            mail_parser::PartType::Text(t) => texts.push(t.to_string()),
            mail_parser::PartType::Html(h) => htmls.push(h.to_string()),
            _ => {}
        }
    }
    assert_eq!(texts.len(), 1, "one text part");
    assert_eq!(htmls.len(), 1, "one html part");
    assert_eq!(normalize(&texts[0]), normalize(&email.text), "text body");
    assert_eq!(normalize(&htmls[0]), normalize(&email.html), "html body");
}
