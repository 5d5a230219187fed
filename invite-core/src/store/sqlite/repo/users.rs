//! Users and their search keys.

use rusqlite::{Row, params};

use super::after;
use crate::error::{Error, Result};
use crate::ids::UserId;
use crate::model::User;
use crate::store::sqlite::codec::{self, Ts};
use crate::store::sqlite::tx::SqliteTx;
use crate::store::{UserKeyCursor, UserRepo};

macro_rules! cols {
    () => {
        "id, email, email_key, first_name, last_name, created_at"
    };
}

/// Reads a user from the row's columns starting at `at` (in `cols!()` order).
fn user_at(row: &Row<'_>, at: usize) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(at)?,
        email: row.get(at + 1)?,
        email_key: row.get(at + 2)?,
        first_name: row.get(at + 3)?,
        last_name: row.get(at + 4)?,
        created_at: row.get::<_, Ts>(at + 5)?.0,
    })
}

fn user_row(row: &Row<'_>) -> rusqlite::Result<User> {
    user_at(row, 0)
}

impl SqliteTx<'_> {
    fn index_user(&self, user: &User) -> Result<()> {
        for key in user.search_keys() {
            self.exec(
                "INSERT OR IGNORE INTO user_search_keys (key, user_id) VALUES (?1, ?2)",
                params![key, user.id],
            )?;
        }
        Ok(())
    }
}

impl UserRepo for SqliteTx<'_> {
    fn insert_user(&mut self, user: &User) -> Result<()> {
        self.exec(
            "INSERT INTO users (id, email, email_key, first_name, last_name, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                user.id,
                user.email,
                user.email_key,
                user.first_name,
                user.last_name,
                Ts(user.created_at)
            ],
        )?;
        self.index_user(user)
    }

    fn update_user(&mut self, user: &User) -> Result<()> {
        let Some(old) = self.get_user(user.id)? else {
            return Err(Error::not_found("user"));
        };
        self.exec(
            "UPDATE users SET email = ?2, email_key = ?3, first_name = ?4, last_name = ?5,
             created_at = ?6 WHERE id = ?1",
            params![
                user.id,
                user.email,
                user.email_key,
                user.first_name,
                user.last_name,
                Ts(user.created_at)
            ],
        )?;
        let (old_keys, new_keys) = (old.search_keys(), user.search_keys());
        if old_keys != new_keys {
            for key in old_keys {
                self.exec(
                    "DELETE FROM user_search_keys WHERE key = ?1 AND user_id = ?2",
                    params![key, user.id],
                )?;
            }
            self.index_user(user)?;
        }
        Ok(())
    }

    fn get_user(&mut self, id: UserId) -> Result<Option<User>> {
        self.one(
            concat!("SELECT ", cols!(), " FROM users WHERE id = ?1"),
            params![id],
            user_row,
        )
    }

    fn get_user_by_email_key(&mut self, key: &str) -> Result<Option<User>> {
        self.one(
            concat!("SELECT ", cols!(), " FROM users WHERE email_key = ?1"),
            params![key],
            user_row,
        )
    }

    fn list_users(&mut self, after_id: Option<UserId>, limit: usize) -> Result<Vec<User>> {
        self.all(
            concat!(
                "SELECT ",
                cols!(),
                " FROM users WHERE id > ?1 ORDER BY id LIMIT ?2"
            ),
            params![after(after_id), codec::limit(limit)],
            user_row,
        )
    }

    fn scan_user_keys(
        &mut self,
        prefix: &str,
        after: Option<&UserKeyCursor>,
        limit: usize,
    ) -> Result<Vec<(String, User)>> {
        // Resume strictly after the cursor when it lies inside the prefix's range,
        // else start at the prefix; stop at the first key outside the prefix.
        let (bound, user_bound) = match after {
            Some(c) if c.key.as_str() >= prefix => (c.key.clone(), super::after(Some(c.user_id))),
            _ => (prefix.to_owned(), super::after(None)),
        };
        self.scan(
            "SELECT k.key, u.id, u.email, u.email_key, u.first_name, u.last_name, u.created_at
             FROM user_search_keys AS k JOIN users AS u ON u.id = k.user_id
             WHERE k.key >= ?1 AND (k.key > ?1 OR k.user_id > ?2)
             ORDER BY k.key, k.user_id LIMIT ?3",
            params![bound, user_bound, codec::limit(limit)],
            |row| Ok((row.get::<_, String>(0)?, user_at(row, 1)?)),
            |(key, _)| key.starts_with(prefix),
        )
    }
}
