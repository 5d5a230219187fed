//! English (the default language).

use chrono::{DateTime, Datelike, Timelike, Utc};

use super::{Language, Values, Words, date_line};

pub(super) const ENGLISH: Language = Language {
    code: "en",
    colon: ":",
    date,
    words,
};

fn date(at: DateTime<Utc>) -> String {
    date_line(&[
        (i64::from(at.year()), 4, "-"),
        (i64::from(at.month()), 2, "-"),
        (i64::from(at.day()), 2, " "),
        (i64::from(at.hour()), 2, ":"),
        (i64::from(at.minute()), 2, " UTC"),
    ])
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
