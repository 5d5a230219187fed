//! Dense tables: rows in insertion order, read in id order.
//!
//! Ids are time-ordered, so nearly every insert carries the largest id yet and the
//! insertion order *is* the id order. A row keeps its [`Slot`] (insertion index) for
//! life: the only row ever removed is the newest, when its insert is rolled back.
//! Indexes therefore refer to rows by slot, in 4 bytes.

use std::num::NonZeroU32;

use crate::error::{Error, Result};

/// Where a row lives in its table. `Option<Slot>` is 4 bytes too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct Slot(NonZeroU32);

impl Slot {
    /// Greater than every slot.
    pub(super) const MAX: Slot = Slot(NonZeroU32::MAX);

    fn at(index: usize) -> Option<Slot> {
        u32::try_from(index + 1)
            .ok()
            .and_then(NonZeroU32::new)
            .map(Slot)
    }

    pub(super) fn index(self) -> usize {
        // u32 always fits usize on the targets Rust std supports for this crate.
        usize::try_from(self.0.get() - 1).unwrap_or(usize::MAX)
    }
}

/// A row with a unique, ordered id.
pub(super) trait Keyed {
    type Id: Ord + Copy;
    fn id(&self) -> Self::Id;
}

/// Rows by slot, with their id order.
#[derive(Debug)]
pub(super) struct Table<R> {
    rows: Vec<R>,
    /// `None` while every row came with the largest id yet, so that slot order is id
    /// order; else (a row came out of order: another process's ids, a host's own ids)
    /// the slots in id order, kept from then on.
    id_order: Option<Vec<Slot>>,
}

impl<R> Default for Table<R> {
    fn default() -> Self {
        Table {
            rows: Vec::new(),
            id_order: None,
        }
    }
}

impl<R: Keyed> Table<R> {
    pub(super) fn get(&self, slot: Slot) -> Option<&R> {
        self.rows.get(slot.index())
    }

    /// The newest row's slot.
    pub(super) fn last_slot(&self) -> Option<Slot> {
        self.rows.len().checked_sub(1).and_then(Slot::at)
    }

    /// Whether slot order is id order (every row came with the largest id yet).
    pub(super) fn slot_order_is_id_order(&self) -> bool {
        self.id_order.is_none()
    }

    /// Every row, in slot order (for scans where order does not matter).
    pub(super) fn rows(&self) -> impl Iterator<Item = &R> {
        self.rows.iter()
    }

    /// Appends a row; its id must not be in the table yet (see [`Table::find`]).
    pub(super) fn push(&mut self, row: R) -> Result<Slot> {
        let slot = Slot::at(self.rows.len())
            .ok_or_else(|| Error::internal("an in-memory table is full"))?;
        let id = row.id();
        if self.id_order.is_some() || self.max_id().is_some_and(|max| id < max) {
            let rank = self.rank_of(id);
            let len = self.rows.len();
            self.id_order
                .get_or_insert_with(|| (0..len).filter_map(Slot::at).collect())
                .insert(rank, slot);
        }
        self.rows.push(row);
        Ok(slot)
    }

    /// Removes the newest row (the rollback of its [`Table::push`]).
    pub(super) fn pop(&mut self) -> Option<R> {
        let id = self.rows.last()?.id();
        if let Some(id_order) = &mut self.id_order {
            let rank = count_below(&self.rows, Some(id_order), |row_id| row_id < id);
            id_order.remove(rank);
        }
        self.rows.pop()
    }

    /// Puts `row` in place of the row at `slot`, which must have the same id.
    pub(super) fn replace(&mut self, slot: Slot, row: R) -> Option<R> {
        let current = self.rows.get_mut(slot.index())?;
        Some(std::mem::replace(current, row))
    }

    /// The slot of the row with this id.
    pub(super) fn find(&self, id: R::Id) -> Option<Slot> {
        if self.max_id().is_none_or(|max| max < id) {
            return None;
        }
        let slot = self.slot_at_rank(self.rank_of(id))?;
        (self.get(slot).map(Keyed::id) == Some(id)).then_some(slot)
    }

    /// Rows in id order, strictly after `after` if given.
    pub(super) fn after(&self, after: Option<R::Id>) -> impl Iterator<Item = (Slot, &R)> {
        let start = after.map_or(0, |after| {
            count_below(&self.rows, self.id_order.as_deref(), |id| id <= after)
        });
        (start..self.rows.len())
            .filter_map(|rank| self.slot_at_rank(rank))
            .filter_map(|slot| Some((slot, self.get(slot)?)))
    }

    fn max_id(&self) -> Option<R::Id> {
        let last = match &self.id_order {
            None => self.last_slot()?,
            Some(id_order) => *id_order.last()?,
        };
        self.get(last).map(Keyed::id)
    }

    fn slot_at_rank(&self, rank: usize) -> Option<Slot> {
        match &self.id_order {
            None => (rank < self.rows.len()).then(|| Slot::at(rank)).flatten(),
            Some(id_order) => id_order.get(rank).copied(),
        }
    }

    /// How many rows have an id below `id`.
    fn rank_of(&self, id: R::Id) -> usize {
        count_below(&self.rows, self.id_order.as_deref(), |row_id| row_id < id)
    }
}

/// A table together with indexes that follow its rows: the owner says how to move one
/// slot's index entries, and gets insert, replace and remove-newest that keep the
/// indexes in step with the rows.
pub(super) trait IndexedTable {
    type Row: Keyed;

    /// The rows.
    fn table(&mut self) -> &mut Table<Self::Row>;

    /// Moves the index entries of `slot` from the keys of `old` (the row it held, if
    /// any) to those of the row it holds now (if any). Only keys that changed are
    /// touched.
    fn reindex(&mut self, slot: Slot, old: Option<&Self::Row>);

    /// Adds a row whose id is new.
    fn insert(&mut self, row: Self::Row) -> Result<Slot> {
        let slot = self.table().push(row)?;
        self.reindex(slot, None);
        Ok(slot)
    }

    /// Replaces the row at `slot` (same id), returning the old one.
    fn replace(&mut self, slot: Slot, row: Self::Row) -> Option<Self::Row> {
        let old = self.table().replace(slot, row)?;
        self.reindex(slot, Some(&old));
        Some(old)
    }

    /// Removes the newest row (the rollback of its insert).
    fn remove_newest(&mut self) {
        let table = self.table();
        if let Some(slot) = table.last_slot()
            && let Some(old) = table.pop()
        {
            self.reindex(slot, Some(&old));
        }
    }
}

/// How many rows, in id order, pass `below` (a bound on their id).
fn count_below<R: Keyed>(
    rows: &[R],
    id_order: Option<&[Slot]>,
    below: impl Fn(R::Id) -> bool,
) -> usize {
    match id_order {
        None => rows.partition_point(|row| below(row.id())),
        Some(id_order) => id_order
            .partition_point(|slot| rows.get(slot.index()).is_some_and(|row| below(row.id()))),
    }
}
