//! Ids that rows of the invitation log refer to (businesses, apps, subscriptions, roles,
//! users inviting, invited, accepting or acting), kept once and referred to by a
//! 4-byte [`IdRef`].

use std::hash::BuildHasher;
use std::num::NonZeroU32;

use hashbrown::{DefaultHashBuilder, HashTable};
use uuid::Uuid;

use crate::error::{Error, Result};

/// A shared id, as the number [`Interner::intern`] gave it. `Option<IdRef>` is 4 bytes too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct IdRef(NonZeroU32);

/// Every id interned so far. Entries are never removed (a rolled-back write may leave
/// one behind: it is invisible, as no row refers to it).
#[derive(Debug, Default)]
pub(super) struct Interner {
    /// The id of `IdRef(n)` is at `n - 1`.
    uuids: Vec<Uuid>,
    by_uuid: HashTable<IdRef>,
    hasher: DefaultHashBuilder,
}

impl Interner {
    /// The reference of `uuid`, interning it if it is new.
    pub(super) fn intern(&mut self, uuid: &Uuid) -> Result<IdRef> {
        if let Some(found) = self.find(uuid) {
            return Ok(found);
        }
        let number = u32::try_from(self.uuids.len() + 1)
            .ok()
            .and_then(NonZeroU32::new)
            .ok_or_else(|| Error::internal("the in-memory store has too many distinct ids"))?;
        let new = IdRef(number);
        self.uuids.push(*uuid);
        let Interner {
            uuids,
            by_uuid,
            hasher,
        } = self;
        by_uuid.insert_unique(hasher.hash_one(uuid), new, |r| {
            hasher.hash_one(lookup(uuids, *r).unwrap_or_default())
        });
        Ok(new)
    }

    /// The reference of `uuid`, if it was ever interned (no row refers to it otherwise).
    pub(super) fn find(&self, uuid: &Uuid) -> Option<IdRef> {
        self.by_uuid
            .find(self.hasher.hash_one(uuid), |r| {
                lookup(&self.uuids, *r) == Some(*uuid)
            })
            .copied()
    }

    /// The id behind a reference, as the typed id a row field holds.
    pub(super) fn id<T: From<Uuid>>(&self, r: IdRef) -> Result<T> {
        lookup(&self.uuids, r)
            .map(T::from)
            .ok_or_else(|| Error::internal("the in-memory store lost an interned id"))
    }
}

fn lookup(uuids: &[Uuid], r: IdRef) -> Option<Uuid> {
    let index = usize::try_from(r.0.get() - 1).ok()?;
    uuids.get(index).copied()
}

/// A query's filter on a shared id, resolved once before a scan.
#[derive(Clone, Copy, Debug)]
pub(super) enum RefFilter {
    /// No filter.
    Any,
    /// Rows referring to this id.
    Only(IdRef),
    /// The id was never interned: no row refers to it.
    Nothing,
}

impl RefFilter {
    pub(super) fn new(refs: &Interner, uuid: Option<&Uuid>) -> RefFilter {
        match uuid {
            None => RefFilter::Any,
            Some(uuid) => refs.find(uuid).map_or(RefFilter::Nothing, RefFilter::Only),
        }
    }

    pub(super) fn matches(self, r: IdRef) -> bool {
        match self {
            RefFilter::Any => true,
            RefFilter::Only(only) => only == r,
            RefFilter::Nothing => false,
        }
    }

    /// Whether no row can match.
    pub(super) fn is_nothing(self) -> bool {
        matches!(self, RefFilter::Nothing)
    }
}
