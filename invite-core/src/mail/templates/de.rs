//! German.

use chrono::{DateTime, Datelike, Timelike, Utc};

use super::{Language, Values, Words};

pub(super) const GERMAN: Language = Language {
    code: "de",
    date,
    words,
};

fn date(at: DateTime<Utc>) -> String {
    format!(
        "{:02}.{:02}.{:04} um {:02}:{:02} UTC",
        at.day(),
        at.month(),
        at.year(),
        at.hour(),
        at.minute()
    )
}

fn words(v: &Values<'_>) -> Words {
    Words {
        subject: format!(
            "{} hat Sie zu {} bei {} eingeladen",
            v.inviter, v.app, v.business
        ),
        greeting: v
            .invitee
            .map_or_else(|| "Hallo,".to_owned(), |n| format!("Hallo {n},")),
        invited: format!(
            "{} hat Sie eingeladen, {} bei {} als {} beizutreten.",
            v.inviter, v.app, v.business, v.role
        ),
        action: "Einladung annehmen",
        expiry: format!("Der Link läuft am {} ab.", v.expires),
        ignore: "Falls Sie diese E-Mail nicht erwartet haben, können Sie sie ignorieren.",
    }
}
