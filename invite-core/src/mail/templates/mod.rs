use chrono::{DateTime, Utc};
use html_escape::encode_text;
use serde::{Deserialize, Serialize};

/// What a template may use. Every value is plain text; HTML renderers must escape it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailContext {
    /// The inviter's name.
    pub inviter_name: String,
    /// The invitee's name, if known.
    pub invitee_name: Option<String>,
    /// The business.
    pub business_name: String,
    /// The app.
    pub app_name: String,
    /// The role granted.
    pub role_name: String,
    /// When the link expires.
    pub expires_at: DateTime<Utc>,
    /// The accept link.
    pub accept_link: String,
    /// The requested locale (`None`: the default).
    pub locale: Option<String>,
}

/// A rendered email body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderedEmail {
    /// Subject (one line).
    pub subject: String,
    /// Plain text.
    pub text: String,
    /// HTML.
    pub html: String,
    /// The locale actually used.
    pub locale: String,
}

/// Renders invitation emails; the host can replace [`DefaultTemplates`].
pub trait EmailRenderer: Send + Sync {
    /// Renders the email for `context`.
    fn render(&self, context: &EmailContext) -> RenderedEmail;
}

/// The built-in English templates.
#[derive(Clone, Copy, Debug, Default)]
pub struct DefaultTemplates;

impl EmailRenderer for DefaultTemplates {
    fn render(&self, c: &EmailContext) -> RenderedEmail {
        let expires = c.expires_at.format("%Y-%m-%d %H:%M UTC").to_string();
        let greeting = c
            .invitee_name
            .as_deref()
            .map_or_else(|| "Hello,".to_owned(), |n| format!("Hello {n},"));
        let subject = format!(
            "{} invited you to {} on {}",
            c.inviter_name, c.app_name, c.business_name
        );
        let text = format!(
            "{greeting}\n\n{} invited you to join {} on {} as {}.\n\nAccept the invitation:\n{}\n\nThe link expires on {expires}. If you did not expect this email, you can ignore it.\n",
            c.inviter_name, c.app_name, c.business_name, c.role_name, c.accept_link
        );
        let html_greeting = c.invitee_name.as_deref().map_or_else(
            || "Hello,".to_owned(),
            |n| format!("Hello {},", encode_text(n)),
        );
        let html = format!(
            "<!doctype html><html><body><p>{html_greeting}</p><p>{} invited you to join <b>{}</b> on <b>{}</b> as <b>{}</b>.</p><p><a href=\"{}\">Accept the invitation</a></p><p>The link expires on {expires}. If you did not expect this email, you can ignore it.</p></body></html>",
            encode_text(&c.inviter_name),
            encode_text(&c.app_name),
            encode_text(&c.business_name),
            encode_text(&c.role_name),
            html_escape::encode_double_quoted_attribute(&c.accept_link),
        );
        RenderedEmail {
            subject,
            text,
            html,
            locale: "en".to_owned(),
        }
    }
}
