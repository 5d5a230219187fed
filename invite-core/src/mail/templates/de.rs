//! German.

use chrono::{DateTime, Datelike, Timelike, Utc};

use super::{Language, Values, Words, date_line};

pub(super) const GERMAN: Language = Language {
    code: "de",
    colon: ":",
    date,
    words,
};

fn date(at: DateTime<Utc>) -> String {
    date_line(&[
        (i64::from(at.day()), 2, "."),
        (i64::from(at.month()), 2, "."),
        (i64::from(at.year()), 4, " um "),
        (i64::from(at.hour()), 2, ":"),
        (i64::from(at.minute()), 2, " UTC"),
    ])
}

fn words(v: &Values<'_>) -> Words {
    Words {
        subject: [
            v.inviter,
            " hat Sie zu ",
            v.app,
            " bei ",
            v.business,
            " eingeladen",
        ]
        .concat(),
        greeting: v
            .invitee
            .map_or_else(|| "Hallo,".to_owned(), |n| ["Hallo ", n, ","].concat()),
        invited: [
            v.inviter,
            " hat Sie eingeladen, ",
            v.app,
            " bei ",
            v.business,
            " als ",
            v.role,
            " beizutreten.",
        ]
        .concat(),
        action: "Einladung annehmen",
        expiry: ["Der Link läuft am ", v.expires, " ab."].concat(),
        ignore: "Falls Sie diese E-Mail nicht erwartet haben, können Sie sie ignorieren.",
    }
}
