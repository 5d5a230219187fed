//! The rows of a table about each invitation (its events, its outbox messages) as a
//! chain of slots: the index keeps each invitation's highest slot, and every slot links
//! to the next lower slot of the same invitation. Appending (the highest slot yet) and
//! rolling it back are O(1); 4 bytes per row plus one hash entry per invitation.

use super::slot_index::{Change, SlotIndex, rekey};
use super::table::Slot;
use crate::ids::InvitationId;

#[derive(Debug, Default)]
pub(super) struct Chains {
    /// Each invitation's highest slot.
    highest: SlotIndex,
    /// By slot: the next lower slot of the same invitation.
    lower: Vec<Option<Slot>>,
}

impl Chains {
    /// Moves `slot` from the chain of `old` (the invitation of the row it held, if any)
    /// to the chain of `new` (that of the row it holds now, if any). `invitation_of`
    /// reads the invitation of a slot's current row.
    pub(super) fn follow(
        &mut self,
        slot: Slot,
        old: Option<InvitationId>,
        new: Option<InvitationId>,
        invitation_of: impl Fn(Slot) -> Option<InvitationId>,
    ) {
        rekey(old, new, |change, invitation| match change {
            Change::Add => self.add(slot, invitation, &invitation_of),
            Change::Remove => self.remove(slot, invitation, &invitation_of),
        });
    }

    /// The slots of `invitation`, highest first.
    pub(super) fn slots(
        &self,
        invitation: InvitationId,
        invitation_of: impl Fn(Slot) -> Option<InvitationId>,
    ) -> Vec<Slot> {
        let mut slots = Vec::new();
        let mut next = self
            .highest
            .find(invitation, |s| invitation_of(s) == Some(invitation));
        while let Some(slot) = next {
            slots.push(slot);
            next = self.lower_than(slot);
        }
        slots
    }

    /// How many invitations have a chain.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.highest.len()
    }

    fn add(
        &mut self,
        slot: Slot,
        invitation: InvitationId,
        invitation_of: &impl Fn(Slot) -> Option<InvitationId>,
    ) {
        if self.lower.len() <= slot.index() {
            self.lower.resize(slot.index() + 1, None);
        }
        let highest = self
            .highest
            .find(invitation, |s| invitation_of(s) == Some(invitation));
        let Some(highest) = highest else {
            self.set_lower(slot, None);
            self.highest.add(invitation, slot, invitation_of);
            return;
        };
        if highest < slot {
            self.set_lower(slot, Some(highest));
            if let Some(entry) = self.highest.find_mut(invitation, |s| s == highest) {
                *entry = slot;
            }
            return;
        }
        // Below the highest (a row whose invitation changed): keep the chain descending.
        let mut above = highest;
        while let Some(next) = self.lower_than(above).filter(|next| *next > slot) {
            above = next;
        }
        self.set_lower(slot, self.lower_than(above));
        self.set_lower(above, Some(slot));
    }

    /// Removes `slot` from the chain of `invitation`; the row at `slot` may already be
    /// gone or hold another invitation.
    fn remove(
        &mut self,
        slot: Slot,
        invitation: InvitationId,
        invitation_of: &impl Fn(Slot) -> Option<InvitationId>,
    ) {
        let in_chain = |s: Slot| s == slot || invitation_of(s) == Some(invitation);
        let Some(highest) = self.highest.find(invitation, in_chain) else {
            return;
        };
        let below = self.lower_than(slot);
        if highest == slot {
            match below {
                Some(below) => {
                    if let Some(entry) = self.highest.find_mut(invitation, |s| s == slot) {
                        *entry = below;
                    }
                }
                None => self.highest.remove(invitation, slot),
            }
        } else {
            let mut above = highest;
            while let Some(next) = self.lower_than(above) {
                if next == slot {
                    self.set_lower(above, below);
                    break;
                }
                above = next;
            }
        }
        self.set_lower(slot, None);
    }

    fn lower_than(&self, slot: Slot) -> Option<Slot> {
        self.lower.get(slot.index()).copied().flatten()
    }

    fn set_lower(&mut self, slot: Slot, lower: Option<Slot>) {
        if let Some(link) = self.lower.get_mut(slot.index()) {
            *link = lower;
        }
    }
}
