//! Replacing a stored record while writing only the indexes whose columns change.
//!
//! SQLite rewrites an index whenever one of its columns appears in an UPDATE's `SET`,
//! even with an equal value, and every index page it touches is written at commit. So a
//! replace sets the record's unindexed columns always and each group of indexed columns
//! only when the stored values differ: one read of which groups are unchanged (computed
//! in SQL, nothing decoded), then one UPDATE assembled from those groups. The row is
//! rewritten once, its unchanged indexes not at all.
//!
//! One parameter numbering serves every assembled UPDATE: `?1` is the key, then the
//! unindexed columns, then each group's columns in group order. A statement binds the
//! parameters up to the highest one it names (`SqliteTx::exec_prefix`).

use std::sync::OnceLock;

use rusqlite::ToSql;

use crate::error::{Error, Result};
use crate::store::sqlite::tx::SqliteTx;

/// The pieces of one table's replace, and its assembled UPDATEs (built on first use).
pub(super) struct Replace {
    /// Reads, for the row keyed `?1`, one boolean per group: whether its stored columns
    /// equal the parameters `?2…` (the groups' values in order; `IS`, so NULLs compare
    /// equal).
    pub unchanged: &'static str,
    /// Where the groups' values start in the numbering (0-based: after the key and the
    /// unindexed columns).
    pub groups_from: usize,
    /// `UPDATE table SET <unindexed columns>`.
    pub head: &'static str,
    /// Each group's `SET` assignments, numbered after the unindexed columns.
    pub groups: &'static [&'static str],
    /// `WHERE <key> = ?1`.
    pub tail: &'static str,
    /// Every assembly, indexed by the bit mask of the groups it sets.
    pub assembled: OnceLock<Vec<String>>,
}

impl Replace {
    /// The UPDATE setting the groups in `mask` (bit `i` for group `i`).
    fn sql(&self, mask: usize) -> Option<&str> {
        let all = self.assembled.get_or_init(|| {
            (0..1usize << self.groups.len())
                .map(|mask| {
                    let mut sql = String::from(self.head);
                    for (i, group) in self.groups.iter().enumerate() {
                        if mask & (1 << i) != 0 {
                            sql.push_str(", ");
                            sql.push_str(group);
                        }
                    }
                    sql.push(' ');
                    sql.push_str(self.tail);
                    sql
                })
                .collect()
        });
        all.get(mask).map(String::as_str)
    }

    /// Replaces the row keyed `params[0]` with the values of the whole numbering.
    /// `Ok(false)` when there is no such row (nothing written).
    pub fn run(&self, tx: &SqliteTx<'_>, params: &[&dyn ToSql]) -> Result<bool> {
        let groups = self.groups.len();
        let compare: Vec<&dyn ToSql> = params
            .iter()
            .take(1)
            .chain(params.iter().skip(self.groups_from))
            .copied()
            .collect();
        let unchanged = tx.one(self.unchanged, &compare[..], |row| {
            (0..groups)
                .map(|i| row.get::<_, bool>(i))
                .collect::<rusqlite::Result<Vec<bool>>>()
        })?;
        let Some(unchanged) = unchanged else {
            return Ok(false);
        };
        let mask = unchanged
            .iter()
            .enumerate()
            .filter(|(_, same)| !**same)
            .fold(0, |mask, (i, _)| mask | (1 << i));
        let sql = self
            .sql(mask)
            .ok_or_else(|| Error::internal("a replace has no statement for its groups"))?;
        Ok(tx.exec_prefix(sql, params)? > 0)
    }
}
