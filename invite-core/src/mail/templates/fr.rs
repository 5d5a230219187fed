//! French.

use chrono::{DateTime, Datelike, Timelike, Utc};

use super::{Language, Values, Words, date_line};

pub(super) const FRENCH: Language = Language {
    code: "fr",
    // French sets a narrow no-break space before a colon.
    colon: "\u{202F}:",
    date,
    words,
};

fn date(at: DateTime<Utc>) -> String {
    date_line(&[
        (i64::from(at.day()), 2, "/"),
        (i64::from(at.month()), 2, "/"),
        (i64::from(at.year()), 4, " à "),
        (i64::from(at.hour()), 2, ":"),
        (i64::from(at.minute()), 2, " UTC"),
    ])
}

fn words(v: &Values<'_>) -> Words {
    Words {
        subject: [
            v.inviter,
            " vous invite à rejoindre ",
            v.app,
            " sur ",
            v.business,
        ]
        .concat(),
        greeting: v
            .invitee
            .map_or_else(|| "Bonjour,".to_owned(), |n| ["Bonjour ", n, ","].concat()),
        invited: [
            v.inviter,
            " vous invite à rejoindre ",
            v.app,
            " sur ",
            v.business,
            " en tant que ",
            v.role,
            ".",
        ]
        .concat(),
        action: "Accepter l’invitation",
        expiry: ["Le lien expire le ", v.expires, "."].concat(),
        ignore: "Si vous n’attendiez pas cet e-mail, vous pouvez l’ignorer.",
    }
}
