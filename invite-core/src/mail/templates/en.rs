//! English (the default language).

use chrono::{DateTime, Datelike, Timelike, Utc};

use super::{Language, Values, Words};

pub(super) const ENGLISH: Language = Language {
    code: "en",
    date,
    words,
};

fn date(at: DateTime<Utc>) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        at.year(),
        at.month(),
        at.day(),
        at.hour(),
        at.minute()
    )
}

fn words(v: &Values<'_>) -> Words {
    Words {
        subject: format!("{} invited you to {} on {}", v.inviter, v.app, v.business),
        greeting: v
            .invitee
            .map_or_else(|| "Hello,".to_owned(), |n| format!("Hello {n},")),
        invited: format!(
            "{} invited you to join {} on {} as {}.",
            v.inviter, v.app, v.business, v.role
        ),
        action: "Accept the invitation",
        expiry: format!("The link expires on {}.", v.expires),
        ignore: "If you did not expect this email, you can ignore it.",
    }
}
