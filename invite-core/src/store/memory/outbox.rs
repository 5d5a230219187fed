//! The outbox: compact rows in a dense table, found by id, by due time and per
//! invitation.

use chrono::{DateTime, Utc};

use super::chains::Chains;
use super::interner::{IdRef, Interner, RefFilter};
use super::packed_text::{PackedText, Packing};
use super::slot_index::{SlotIndex, rekey};
use super::table::{IndexedTable, Keyed, Slot, Table};
use super::time_index::TimeIndex;
use super::{MemoryTx, Undo, already_exists};
use crate::error::{Error, Result};
use crate::ids::{BusinessId, InvitationId, MessageId};
use crate::model::{OutboxMessage, OutboxState};
use crate::store::OutboxRepo;

/// An [`OutboxMessage`] as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct MessageRow {
    id: MessageId,
    invitation_id: InvitationId,
    business: IdRef,
    state: OutboxState,
    attempts: u32,
    next_attempt_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    /// The sealed token (kept decoded: it is base64url), then the last error.
    text: PackedText,
}

const SEALED_TOKEN: usize = 0;
const LAST_ERROR: usize = 1;

impl Keyed for MessageRow {
    type Id = MessageId;
    fn id(&self) -> MessageId {
        self.id
    }
}

impl MessageRow {
    fn pack(message: &OutboxMessage, refs: &mut Interner) -> Result<MessageRow> {
        let mut text = [(None, Packing::Plain); 2];
        text[SEALED_TOKEN] = (message.sealed_token.as_deref(), Packing::Base64Url);
        text[LAST_ERROR] = (message.last_error.as_deref(), Packing::Plain);
        Ok(MessageRow {
            id: message.id,
            invitation_id: message.invitation_id,
            business: refs.intern(message.business_id.as_uuid())?,
            state: message.state,
            attempts: message.attempts,
            next_attempt_at: message.next_attempt_at,
            created_at: message.created_at,
            text: PackedText::pack(text),
        })
    }

    fn message(&self, refs: &Interner) -> Result<OutboxMessage> {
        Ok(OutboxMessage {
            id: self.id,
            business_id: refs.id(self.business)?,
            invitation_id: self.invitation_id,
            sealed_token: self.text.string(SEALED_TOKEN)?,
            state: self.state,
            attempts: self.attempts,
            next_attempt_at: self.next_attempt_at,
            last_error: self.text.string(LAST_ERROR)?,
            created_at: self.created_at,
        })
    }
}

/// Every message, with its indexes.
#[derive(Debug, Default)]
pub(super) struct Outbox {
    rows: Table<MessageRow>,
    by_id: SlotIndex,
    /// Queued messages by next attempt.
    due: TimeIndex,
    by_invitation: Chains,
}

/// The keys a row is indexed under (`None`: not in that index).
impl MessageRow {
    fn id_key(&self) -> Option<MessageId> {
        Some(self.id)
    }

    fn due_key(&self) -> Option<DateTime<Utc>> {
        (self.state == OutboxState::Queued).then_some(self.next_attempt_at)
    }

    fn invitation_key(&self) -> Option<InvitationId> {
        Some(self.invitation_id)
    }
}

impl Outbox {
    fn slot_of(&self, id: MessageId) -> Option<Slot> {
        self.by_id.find(id, |s| {
            self.rows.get(s).and_then(MessageRow::id_key) == Some(id)
        })
    }
}

impl IndexedTable for Outbox {
    type Row = MessageRow;

    fn table(&mut self) -> &mut Table<MessageRow> {
        &mut self.rows
    }

    fn reindex(&mut self, slot: Slot, old: Option<&MessageRow>) {
        let Outbox {
            rows,
            by_id,
            due,
            by_invitation,
        } = self;
        let rows: &Table<MessageRow> = rows;
        let new = rows.get(slot);
        by_id.follow(rows, MessageRow::id_key, slot, old);
        rekey(
            old.and_then(MessageRow::due_key),
            new.and_then(MessageRow::due_key),
            |change, at| due.apply(change, at, slot),
        );
        by_invitation.follow(
            slot,
            old.and_then(MessageRow::invitation_key),
            new.and_then(MessageRow::invitation_key),
            |s| rows.get(s).and_then(MessageRow::invitation_key),
        );
    }
}

#[cfg(test)]
impl Outbox {
    pub(super) fn check_indexes(&self) -> super::Checked {
        use super::expect_count;
        let rows: Vec<(Slot, &MessageRow)> = self.rows.after(None).collect();
        let queued = rows.iter().filter(|(_, r)| r.due_key().is_some()).count();
        expect_count("messages by id", self.by_id.len(), rows.len())?;
        expect_count("messages due", self.due.len(), queued)?;
        let mut invitations: Vec<InvitationId> =
            rows.iter().map(|(_, r)| r.invitation_id).collect();
        invitations.sort();
        invitations.dedup();
        expect_count(
            "message chains",
            self.by_invitation.len(),
            invitations.len(),
        )?;
        for (slot, row) in rows {
            let chain = self.by_invitation.slots(row.invitation_id, |s| {
                self.rows.get(s).and_then(MessageRow::invitation_key)
            });
            if self.by_id.find(row.id, |s| s == slot).is_none()
                || !chain.contains(&slot)
                || !chain.is_sorted_by(|a, b| a > b)
            {
                return Err(format!("message {} is missing from an index", row.id));
            }
        }
        Ok(())
    }
}

impl OutboxRepo for MemoryTx<'_> {
    fn enqueue_message(&mut self, message: &OutboxMessage) -> Result<()> {
        let state = &mut *self.state;
        if state.outbox.slot_of(message.id).is_some() {
            return Err(already_exists("message"));
        }
        let row = MessageRow::pack(message, &mut state.refs)?;
        state.outbox.insert(row)?;
        self.undo.push(Undo::MessageEnqueued);
        Ok(())
    }

    fn update_message(&mut self, message: &OutboxMessage) -> Result<()> {
        let state = &mut *self.state;
        let Some(slot) = state.outbox.slot_of(message.id) else {
            return Err(Error::not_found("message"));
        };
        let row = MessageRow::pack(message, &mut state.refs)?;
        if let Some(old) = state.outbox.replace(slot, row) {
            self.undo.push(Undo::MessageReplaced(slot, Box::new(old)));
        }
        Ok(())
    }

    fn get_message(&mut self, id: MessageId) -> Result<Option<OutboxMessage>> {
        let state = &*self.state;
        let outbox = &state.outbox;
        outbox
            .slot_of(id)
            .and_then(|slot| outbox.rows.get(slot))
            .map(|row| row.message(&state.refs))
            .transpose()
    }

    fn due_messages(&mut self, now: DateTime<Utc>, limit: usize) -> Result<Vec<OutboxMessage>> {
        let state = &*self.state;
        let rows = &state.outbox.rows;
        state
            .outbox
            .due
            .due(now, limit, rows, |_| true)
            .into_iter()
            .filter_map(|slot| rows.get(slot))
            .map(|row| row.message(&state.refs))
            .collect()
    }

    fn messages_for_invitation(
        &mut self,
        business: BusinessId,
        invitation: InvitationId,
    ) -> Result<Vec<OutboxMessage>> {
        let state = &*self.state;
        let rows = &state.outbox.rows;
        let business = RefFilter::new(&state.refs, Some(business.as_uuid()));
        let mut messages: Vec<&MessageRow> = state
            .outbox
            .by_invitation
            .slots(invitation, |s| rows.get(s).map(|row| row.invitation_id))
            .into_iter()
            .filter_map(|slot| rows.get(slot))
            .filter(|row| business.matches(row.business))
            .collect();
        messages.sort_by_key(|row| row.id);
        messages
            .into_iter()
            .map(|row| row.message(&state.refs))
            .collect()
    }
}
