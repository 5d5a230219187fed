//! Users and the user search index.

use crate::error::{Error, Result};
use crate::ids::UserId;
use crate::model::User;
use crate::store::postgres::error::already_exists;
use crate::store::postgres::rows::{self, user_cols};
use crate::store::postgres::tx::{PgTx, after_id, get, limit, storable};
use crate::store::{UserKeyCursor, UserRepo};

const INSERT: &str = "
WITH ins AS (
    INSERT INTO users (id, email, email_key, first_name, last_name, created_at)
    VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT DO NOTHING
    RETURNING id
), keys AS (
    INSERT INTO user_search_keys (key, user_id)
    SELECT DISTINCT k, ins.id FROM ins, unnest($7::text[]) AS k
    ON CONFLICT DO NOTHING
)
SELECT count(*) FROM ins";

const INSERT_SEEN: &str = "
SELECT coalesce(bool_or(xact = pg_current_xact_id_if_assigned()
                        OR pg_visible_in_snapshot(xact, $1::text::pg_snapshot)), false)
FROM users WHERE id = $2 OR email_key = $3";

/// Found, key taken by another user, updated. The key check runs first so a taken key
/// does not abort the transaction.
const UPDATE: &str = "
WITH found AS (
    SELECT EXISTS (SELECT 1 FROM users WHERE id = $1) AS found,
           EXISTS (SELECT 1 FROM users WHERE email_key = $3 AND id <> $1) AS taken
), upd AS (
    UPDATE users
    SET email = $2, email_key = $3, first_name = $4, last_name = $5, created_at = $6,
        xact = pg_current_xact_id()
    WHERE id = $1 AND NOT (SELECT taken FROM found)
    RETURNING id
), gone AS (
    DELETE FROM user_search_keys s USING upd
    WHERE s.user_id = upd.id AND NOT (s.key = ANY ($7::text[]))
), added AS (
    INSERT INTO user_search_keys (key, user_id)
    SELECT DISTINCT k, upd.id FROM upd, unnest($7::text[]) AS k
    ON CONFLICT DO NOTHING
)
SELECT found, taken FROM found";

const GET: &str = concat!("SELECT ", user_cols!(), " FROM users WHERE id = $1");
const BY_KEY: &str = concat!("SELECT ", user_cols!(), " FROM users WHERE email_key = $1");
const LIST: &str = concat!(
    "SELECT ",
    user_cols!(),
    " FROM users WHERE id > $1 ORDER BY id LIMIT $2"
);

/// Keys are `COLLATE "C"`: byte order, as Rust orders strings. The primary key's range
/// scan starts after `($2, $3)` (the cursor, or the prefix and the nil id) and stops
/// before `$4`, the smallest string above every string that starts with the prefix. Both
/// bounds are always there, so a generic plan uses them too (see `tx::after_id`).
const SCAN: &str = "
SELECT k.key AS search_key, u.id, u.email, u.email_key, u.first_name, u.last_name, u.created_at
FROM user_search_keys k JOIN users u ON u.id = k.user_id
WHERE (k.key, k.user_id) > ($2, $3::uuid) AND k.key < $4 AND starts_with(k.key, $1)
ORDER BY k.key, k.user_id
LIMIT $5";
/// [`SCAN`] for a prefix with no string above it (empty, or only `char::MAX`).
const SCAN_TO_END: &str = "
SELECT k.key AS search_key, u.id, u.email, u.email_key, u.first_name, u.last_name, u.created_at
FROM user_search_keys k JOIN users u ON u.id = k.user_id
WHERE (k.key, k.user_id) > ($2, $3::uuid) AND starts_with(k.key, $1)
ORDER BY k.key, k.user_id
LIMIT $4";

impl UserRepo for PgTx {
    fn insert_user(&mut self, user: &User) -> Result<()> {
        let keys = user.search_keys();
        self.insert_unique(
            "a user with this email",
            INSERT,
            &[
                user.id.as_uuid(),
                &user.email,
                &user.email_key,
                &user.first_name,
                &user.last_name,
                &user.created_at,
                &keys,
            ],
            INSERT_SEEN,
            &[user.id.as_uuid(), &user.email_key],
        )
    }

    fn update_user(&mut self, user: &User) -> Result<()> {
        let keys = user.search_keys();
        let row = self.one(
            UPDATE,
            &[
                user.id.as_uuid(),
                &user.email,
                &user.email_key,
                &user.first_name,
                &user.last_name,
                &user.created_at,
                &keys,
            ],
        )?;
        if !get::<bool, _>(&row, "found")? {
            return Err(Error::not_found("user"));
        }
        if get::<bool, _>(&row, "taken")? {
            return Err(already_exists("a user with this email"));
        }
        Ok(())
    }

    fn get_user(&mut self, id: UserId) -> Result<Option<User>> {
        self.opt(GET, &[id.as_uuid()])?
            .map(|r| rows::user(&r))
            .transpose()
    }

    fn get_user_by_email_key(&mut self, key: &str) -> Result<Option<User>> {
        if !storable(key) {
            return Ok(None);
        }
        self.opt(BY_KEY, &[&key])?
            .map(|r| rows::user(&r))
            .transpose()
    }

    fn list_users(&mut self, after: Option<UserId>, n: usize) -> Result<Vec<User>> {
        let after = after_id(after.as_ref().map(UserId::as_uuid));
        self.rows(LIST, &[&after, &limit(n)])?
            .iter()
            .map(rows::user)
            .collect()
    }

    fn scan_user_keys(
        &mut self,
        prefix: &str,
        after: Option<&UserKeyCursor>,
        n: usize,
    ) -> Result<Vec<(String, User)>> {
        if !storable(prefix) {
            return Ok(Vec::new());
        }
        // Resume strictly after the cursor when it lies inside the prefix's range, else
        // start at the prefix.
        let (from_key, from_user) = match after {
            Some(c) if c.key.as_str() >= prefix => {
                (c.key.as_str(), after_id(Some(c.user_id.as_uuid())))
            }
            _ => (prefix, after_id(None)),
        };
        let rows = match prefix_upper_bound(prefix) {
            Some(upper) => self.rows(SCAN, &[&prefix, &from_key, &from_user, &upper, &limit(n)])?,
            None => self.rows(SCAN_TO_END, &[&prefix, &from_key, &from_user, &limit(n)])?,
        };
        rows.iter()
            .map(|r| Ok((get(r, "search_key")?, rows::user(r)?)))
            .collect()
    }
}

/// The smallest string greater than every string that starts with `prefix`, in byte
/// (= code point) order; `None` when there is none (empty, or only `char::MAX`).
fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match u32::from(last) {
            0xD7FF => Some('\u{E000}'),
            code => char::from_u32(code + 1),
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::prefix_upper_bound;

    #[test]
    fn upper_bound_bumps_the_last_char() {
        assert_eq!(prefix_upper_bound("ab").as_deref(), Some("ac"));
        assert_eq!(
            prefix_upper_bound("a\u{D7FF}").as_deref(),
            Some("a\u{E000}")
        );
        assert_eq!(prefix_upper_bound("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_upper_bound(""), None);
        assert_eq!(prefix_upper_bound("\u{10FFFF}"), None);
        for s in ["ab", "abz", "ab\u{10FFFF}", "aé"] {
            let upper = prefix_upper_bound("ab").unwrap_or_default();
            assert_eq!(s.starts_with("ab"), s >= "ab" && s < upper.as_str(), "{s}");
        }
    }
}
