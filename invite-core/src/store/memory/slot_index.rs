//! Index upkeep: entries follow the keys of their rows, and hashed indexes hold only
//! slots (an entry's key is read from its row), so an entry costs 4 bytes plus the hash
//! table's control byte.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hash};

use chrono::{DateTime, Utc};

use hashbrown::{DefaultHashBuilder, HashTable};

use super::interner::IdRef;
use super::table::{Keyed, Slot, Table};

/// Whether an index entry comes or goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Change {
    Add,
    Remove,
}

/// Moves an index entry from the `old` key to the `new` one (either may be absent: the
/// row was not indexed under it); nothing to do when the key did not change.
pub(super) fn rekey<K: PartialEq>(
    old: Option<K>,
    new: Option<K>,
    mut apply: impl FnMut(Change, K),
) {
    if old == new {
        return;
    }
    if let Some(old) = old {
        apply(Change::Remove, old);
    }
    if let Some(new) = new {
        apply(Change::Add, new);
    }
}

/// Counts one more or one less under `key`, dropping zero counts.
pub(super) fn tally<K: Ord>(counts: &mut BTreeMap<K, u32>, key: K, change: Change) {
    match change {
        Change::Add => *counts.entry(key).or_default() += 1,
        Change::Remove => {
            if let std::collections::btree_map::Entry::Occupied(mut entry) = counts.entry(key) {
                *entry.get_mut() -= 1;
                if *entry.get() == 0 {
                    entry.remove();
                }
            }
        }
    }
}

/// The counts a per-user tally keyed by (user, instant) holds for `who` at or after
/// `since` (`who` absent: the user never had any).
pub(super) fn tally_since(
    counts: &BTreeMap<(IdRef, DateTime<Utc>), u32>,
    who: Option<IdRef>,
    since: DateTime<Utc>,
) -> u32 {
    let Some(who) = who else {
        return 0;
    };
    let n: u64 = counts
        .range((who, since)..)
        .take_while(|((user, _), _)| *user == who)
        .map(|(_, count)| u64::from(*count))
        .sum();
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The total of a tally's counts.
#[cfg(test)]
pub(super) fn sum<K>(counts: &BTreeMap<K, u32>) -> usize {
    counts.values().map(|n| *n as usize).sum()
}

/// Slots found by the hash of a key of their rows.
#[derive(Debug, Default)]
pub(super) struct SlotIndex {
    slots: HashTable<Slot>,
    hasher: DefaultHashBuilder,
}

impl SlotIndex {
    /// The slot under `key` that `matches` (which compares the slot's row with the key).
    pub(super) fn find(
        &self,
        key: impl Hash,
        mut matches: impl FnMut(Slot) -> bool,
    ) -> Option<Slot> {
        self.slots
            .find(self.hasher.hash_one(key), |slot| matches(*slot))
            .copied()
    }

    /// The entry under `key` that `matches`, to point it at another row with that key.
    pub(super) fn find_mut(
        &mut self,
        key: impl Hash,
        mut matches: impl FnMut(Slot) -> bool,
    ) -> Option<&mut Slot> {
        self.slots
            .find_mut(self.hasher.hash_one(key), |slot| matches(*slot))
    }

    /// Adds `slot` under `key`; `key_of` reads the key of any indexed slot's row.
    pub(super) fn add<K: Hash>(&mut self, key: K, slot: Slot, key_of: impl Fn(Slot) -> Option<K>) {
        let hasher = &self.hasher;
        self.slots.insert_unique(hasher.hash_one(key), slot, |s| {
            key_of(*s).map_or(0, |k| hasher.hash_one(k))
        });
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Removes `slot` from under `key`.
    pub(super) fn remove(&mut self, key: impl Hash, slot: Slot) {
        if let Ok(entry) = self
            .slots
            .find_entry(self.hasher.hash_one(key), |s| *s == slot)
        {
            entry.remove();
        }
    }

    /// Moves the entry of `slot` from the key of `old` (the row the slot held, if any)
    /// to the key of the row it holds now, if any. `key` is `None` for a row this
    /// index leaves out.
    pub(super) fn follow<'r, R: Keyed, K: Hash + PartialEq>(
        &mut self,
        rows: &'r Table<R>,
        key: impl Fn(&'r R) -> Option<K>,
        slot: Slot,
        old: Option<&'r R>,
    ) {
        let new = rows.get(slot).and_then(&key);
        rekey(old.and_then(&key), new, |change, k| match change {
            Change::Add => self.add(k, slot, |s| rows.get(s).and_then(&key)),
            Change::Remove => self.remove(k, slot),
        });
    }
}
