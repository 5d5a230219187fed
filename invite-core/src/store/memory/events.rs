//! The audit log: compact rows in a dense table, chained per invitation.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use hashbrown::HashMap;

use super::chains::Chains;
use super::interner::{IdRef, Interner, RefFilter};
use super::slot_index::{rekey, tally, tally_since};
use super::table::{IndexedTable, Keyed, Slot, Table};
use super::{MemoryTx, Undo, already_exists};
use crate::error::Result;
use crate::ids::{BusinessId, EventId, InvitationId, UserId};
use crate::model::{Event, EventKind};
use crate::store::EventRepo;

/// An [`Event`] as stored, but for its detail (few events have one).
#[derive(Clone, Debug)]
pub(super) struct EventRow {
    id: EventId,
    invitation_id: InvitationId,
    at: DateTime<Utc>,
    business: IdRef,
    actor: Option<IdRef>,
    kind: EventKind,
}

impl Keyed for EventRow {
    type Id = EventId;
    fn id(&self) -> EventId {
        self.id
    }
}

/// Every event, with its invitation chains.
#[derive(Debug, Default)]
pub(super) struct EventLog {
    rows: Table<EventRow>,
    details: HashMap<Slot, Box<str>>,
    by_invitation: Chains,
    /// `resent` events per actor and instant (the daily budget counts them).
    resent_by_actor: BTreeMap<(IdRef, DateTime<Utc>), u32>,
}

impl IndexedTable for EventLog {
    type Row = EventRow;

    fn table(&mut self) -> &mut Table<EventRow> {
        &mut self.rows
    }

    fn reindex(&mut self, slot: Slot, old: Option<&EventRow>) {
        let rows = &self.rows;
        let new = rows.get(slot);
        if new.is_none() {
            self.details.remove(&slot);
        }
        self.by_invitation.follow(
            slot,
            old.map(|row| row.invitation_id),
            new.map(|row| row.invitation_id),
            |s| invitation_of(rows, s),
        );
        let resent_by_actor = &mut self.resent_by_actor;
        rekey(
            old.and_then(EventRow::resent_key),
            new.and_then(EventRow::resent_key),
            |change, key| tally(resent_by_actor, key, change),
        );
    }
}

impl EventRow {
    /// The `resent_by_actor` key of a `resent` event with an actor.
    fn resent_key(&self) -> Option<(IdRef, DateTime<Utc>)> {
        match (self.kind, self.actor) {
            (EventKind::Resent, Some(actor)) => Some((actor, self.at)),
            _ => None,
        }
    }
}

impl EventLog {
    fn append(&mut self, row: EventRow, detail: Option<&str>) -> Result<()> {
        let slot = self.insert(row)?;
        if let Some(detail) = detail {
            self.details.insert(slot, detail.into());
        }
        Ok(())
    }

    fn event(&self, slot: Slot, row: &EventRow, refs: &Interner) -> Result<Event> {
        Ok(Event {
            id: row.id,
            business_id: refs.id(row.business)?,
            invitation_id: row.invitation_id,
            kind: row.kind,
            actor_id: row.actor.map(|actor| refs.id(actor)).transpose()?,
            at: row.at,
            detail: self.details.get(&slot).map(|detail| detail.to_string()),
        })
    }
}

#[cfg(test)]
impl EventLog {
    pub(super) fn check_indexes(&self) -> super::Checked {
        use super::slot_index::sum;
        let rows: Vec<(Slot, &EventRow)> = self.rows.after(None).collect();
        let mut invitations: Vec<InvitationId> =
            rows.iter().map(|(_, r)| r.invitation_id).collect();
        invitations.sort();
        invitations.dedup();
        super::expect_count("event chains", self.by_invitation.len(), invitations.len())?;
        let resent = rows
            .iter()
            .filter(|(_, r)| r.resent_key().is_some())
            .count();
        super::expect_count("resent by actor", sum(&self.resent_by_actor), resent)?;
        if self
            .details
            .keys()
            .any(|slot| self.rows.get(*slot).is_none())
        {
            return Err("a detail outlived its event".into());
        }
        for (slot, row) in rows {
            let chain = self
                .by_invitation
                .slots(row.invitation_id, |s| invitation_of(&self.rows, s));
            if !chain.contains(&slot) || !chain.is_sorted_by(|a, b| a > b) {
                return Err(format!("event {} is missing from its chain", row.id));
            }
        }
        Ok(())
    }
}

fn invitation_of(rows: &Table<EventRow>, slot: Slot) -> Option<InvitationId> {
    rows.get(slot).map(|row| row.invitation_id)
}

impl EventRepo for MemoryTx<'_> {
    fn append_event(&mut self, event: &Event) -> Result<()> {
        let state = &mut *self.state;
        if state.events.rows.find(event.id).is_some() {
            return Err(already_exists("event"));
        }
        let row = EventRow {
            id: event.id,
            invitation_id: event.invitation_id,
            at: event.at,
            business: state.refs.intern(event.business_id.as_uuid())?,
            actor: event
                .actor_id
                .map(|actor| state.refs.intern(actor.as_uuid()))
                .transpose()?,
            kind: event.kind,
        };
        state.events.append(row, event.detail.as_deref())?;
        self.undo.push(Undo::EventAppended);
        Ok(())
    }

    fn list_events(
        &mut self,
        business: BusinessId,
        invitation: Option<InvitationId>,
        after: Option<EventId>,
        limit: usize,
    ) -> Result<Vec<Event>> {
        let state = &*self.state;
        let log = &state.events;
        let business = RefFilter::new(&state.refs, Some(business.as_uuid()));
        if business.is_nothing() {
            return Ok(Vec::new());
        }
        let in_business = |row: &EventRow| business.matches(row.business);
        let page: Vec<(Slot, &EventRow)> = match invitation {
            Some(invitation) => {
                let mut rows: Vec<(Slot, &EventRow)> = log
                    .by_invitation
                    .slots(invitation, |s| invitation_of(&log.rows, s))
                    .into_iter()
                    .filter_map(|slot| Some((slot, log.rows.get(slot)?)))
                    .filter(|(_, row)| in_business(row) && after.is_none_or(|a| row.id > a))
                    .collect();
                rows.sort_by_key(|(_, row)| row.id);
                rows.truncate(limit);
                rows
            }
            None => log
                .rows
                .after(after)
                .filter(|(_, row)| in_business(row))
                .take(limit)
                .collect(),
        };
        page.into_iter()
            .map(|(slot, row)| log.event(slot, row, &state.refs))
            .collect()
    }

    fn count_resent_by_actor_since(&mut self, actor: UserId, since: DateTime<Utc>) -> Result<u32> {
        let state = &*self.state;
        let actor = state.refs.find(actor.as_uuid());
        Ok(tally_since(&state.events.resent_by_actor, actor, since))
    }
}
