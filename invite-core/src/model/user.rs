use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::UserId;

/// A person known to the system (global: not scoped to a business).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Id.
    pub id: UserId,
    /// The address as entered: where mail goes.
    pub email: String,
    /// Canonical email key (unique): used for every comparison.
    pub email_key: String,
    /// First name (NFC, 1–100 characters).
    pub first_name: String,
    /// Last name (NFC, 1–100 characters).
    pub last_name: String,
    /// When the user was created.
    pub created_at: DateTime<Utc>,
}

impl User {
    /// "First Last".
    pub fn display_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }

    /// The folded keys a prefix search matches: email key, last name and full name, and
    /// for an address with an IDN domain the email key with that domain in Unicode (so
    /// that `anna@bü` finds `anna@xn--bcher-kva.example`, whichever form was entered).
    ///
    /// No key of the first name alone: the full name starts with it, so every prefix of
    /// the first name already matches the full name (one index entry fewer per user;
    /// stores written before keep a first-name entry, which search skips, as it skips
    /// every entry that is not the user's smallest matching key).
    pub fn search_keys(&self) -> Vec<String> {
        use crate::input::{fold_search_text as fold, unicode_search_key};
        let mut keys = vec![
            self.email_key.clone(),
            fold(&self.last_name),
            fold(&self.display_name()),
        ];
        keys.extend(unicode_search_key(&self.email_key));
        keys
    }
}

#[cfg(test)]
mod tests {
    use crate::input::{fold_search_text as fold, validate_name};

    /// Any printable text, weighted towards what composes or folds: combining marks,
    /// Hangul jamo, Oriya vowel signs, ß, dotted and dotless i, ligatures, half-width
    /// kana, spaces.
    const NAME: &str =
        "(\\PC|[\u{300}-\u{36F}\u{1100}-\u{1175}\u{11A8}-\u{11C2}\u{B3E}\u{B47}ßİıǅﬀ-ﬆﾊﾟ ]){1,12}";

    fn user(first: &str, last: &str) -> super::User {
        super::User {
            id: uuid::Uuid::nil().into(),
            email: "a@example.com".into(),
            email_key: "a@example.com".into(),
            first_name: first.into(),
            last_name: last.into(),
            created_at: chrono::DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_first_name_is_a_prefix_of_the_full_name_even_where_text_composes() {
        // A last name that would compose with the first name's end if they touched:
        // Hangul jamo (L + V), a combining acute, an Oriya two-part vowel.
        for (first, last) in [
            ("\u{1100}", "\u{1161}"),
            ("Ana", "\u{301}x"),
            ("\u{B15}\u{B47}", "\u{B3E}"),
            ("İlkay", "ẞach"),
        ] {
            let full = fold(&user(first, last).display_name());
            assert!(
                full.starts_with(&fold(first)),
                "{first:?} {last:?}: {full:?}"
            );
        }
        let keys = user("Ada", "Lovelace").search_keys();
        assert_eq!(keys, ["a@example.com", "lovelace", "ada lovelace"]);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2048))]

        /// The reason the first name needs no key of its own.
        #[test]
        fn the_full_name_key_starts_with_the_folded_first_name(
            first in NAME,
            last in NAME,
        ) {
            let (Ok(first), Ok(last)) = (validate_name(&first, "first"), validate_name(&last, "last"))
            else {
                return Ok(());
            };
            let full = fold(&user(&first, &last).display_name());
            proptest::prop_assert!(full.starts_with(&fold(&first)));
        }
    }
}
