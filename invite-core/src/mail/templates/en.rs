//! English (the default language).

use chrono::{DateTime, Datelike, Timelike, Utc};

use super::{Language, Values, Words};

pub(super) const ENGLISH: Language = Language {
    code: "en",
    colon: ":",
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
        subject: [v.inviter, " invited you to ", v.app, " on ", v.business].concat(),
        greeting: v
            .invitee
            .map_or_else(|| "Hello,".to_owned(), |n| ["Hello ", n, ","].concat()),
        invited: [
            v.inviter,
            " invited you to join ",
            v.app,
            " on ",
            v.business,
            " as ",
            v.role,
            ".",
        ]
        .concat(),
        action: "Accept the invitation",
        expiry: ["The link expires on ", v.expires, "."].concat(),
        ignore: "If you did not expect this email, you can ignore it.",
    }
}
