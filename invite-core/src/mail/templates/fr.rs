//! French.

use chrono::{DateTime, Datelike, Timelike, Utc};

use super::{Language, Values, Words};

pub(super) const FRENCH: Language = Language {
    code: "fr",
    date,
    words,
};

fn date(at: DateTime<Utc>) -> String {
    format!(
        "{:02}/{:02}/{:04} à {:02}:{:02} UTC",
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
            "{} vous invite à rejoindre {} sur {}",
            v.inviter, v.app, v.business
        ),
        greeting: v
            .invitee
            .map_or_else(|| "Bonjour,".to_owned(), |n| format!("Bonjour {n},")),
        invited: format!(
            "{} vous invite à rejoindre {} sur {} en tant que {}.",
            v.inviter, v.app, v.business, v.role
        ),
        action: "Accepter l’invitation",
        expiry: format!("Le lien expire le {}.", v.expires),
        ignore: "Si vous n’attendiez pas cet e-mail, vous pouvez l’ignorer.",
    }
}
