//! Rows ordered by a time then by id (expiry of pending invitations, next attempt of
//! queued messages). Entries are (time, slot), 16 bytes: slot order is id order as long
//! as ids came in order; once one did not, rows with equal times are sorted by id when
//! read.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::slot_index::Change;
use super::table::{Keyed, Slot, Table};

#[derive(Debug, Default)]
pub(super) struct TimeIndex {
    entries: BTreeSet<(DateTime<Utc>, Slot)>,
}

impl TimeIndex {
    pub(super) fn apply(&mut self, change: Change, at: DateTime<Utc>, slot: Slot) {
        match change {
            Change::Add => self.entries.insert((at, slot)),
            Change::Remove => self.entries.remove(&(at, slot)),
        };
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Up to `limit` slots whose rows `keep` accepts among those whose time is at or
    /// before `now`, ordered by (time, row id).
    pub(super) fn due<R: Keyed>(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        rows: &Table<R>,
        mut keep: impl FnMut(&R) -> bool,
    ) -> Vec<Slot> {
        let mut kept = |slot: &Slot| rows.get(*slot).is_some_and(&mut keep);
        let entries = self
            .entries
            .range(..=(now, Slot::MAX))
            .map(|(at, slot)| (*at, *slot));
        if rows.slot_order_is_id_order() {
            return entries
                .map(|(_, slot)| slot)
                .filter(kept)
                .take(limit)
                .collect();
        }
        // Each run of equal times is put in id order before it is taken from.
        let mut due = Vec::new();
        let mut run: Vec<Slot> = Vec::new();
        let mut take_run = |run: &mut Vec<Slot>, due: &mut Vec<Slot>| {
            run.sort_by_key(|slot| rows.get(*slot).map(Keyed::id));
            let room = limit.saturating_sub(due.len());
            due.extend(run.drain(..).filter(&mut kept).take(room));
        };
        let mut run_time = None;
        for (at, slot) in entries {
            if run_time != Some(at) {
                take_run(&mut run, &mut due);
                if due.len() >= limit {
                    return due;
                }
                run_time = Some(at);
            }
            run.push(slot);
        }
        take_run(&mut run, &mut due);
        due
    }
}
