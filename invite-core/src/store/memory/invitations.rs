//! Invitations: compact rows in a dense table, with the indexes the port's queries use.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::interner::{IdRef, Interner, RefFilter};
use super::packed_text::{PackedText, Packing};
use super::slot_index::{SlotIndex, rekey, tally, tally_since};
use super::table::{IndexedTable, Keyed, Slot, Table};
use super::time_index::TimeIndex;
use super::{MemoryTx, Undo, already_exists};
use crate::error::{Error, Result};
use crate::ids::{BusinessId, InvitationId, SubscriptionId, UserId};
use crate::model::{
    DeliveryState, DeliveryStatus, Invitation, InvitationRecord, InvitationStatus, Invitee,
};
use crate::store::{InvitationQuery, InvitationRepo};
use crate::token::TokenHash;

/// An [`InvitationRecord`] as stored: shared ids interned, strings packed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct InvitationRow {
    id: InvitationId,
    token_hash: TokenHash,
    business: IdRef,
    app: IdRef,
    subscription: IdRef,
    role: IdRef,
    inviter: IdRef,
    /// The invitee when it is an existing user; a new user's names are in `text`.
    invitee_user: Option<IdRef>,
    status: InvitationStatus,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    last_sent_at: DateTime<Utc>,
    send_count: u32,
    responded_at: Option<DateTime<Utc>>,
    accepted_user: Option<IdRef>,
    delivery_state: DeliveryState,
    delivery_attempts: u32,
    delivered_at: Option<DateTime<Utc>>,
    /// The fields of [`text_field`].
    text: PackedText,
}

/// The strings of an invitation, in [`InvitationRow::text`].
mod text_field {
    pub(super) const EMAIL: usize = 0;
    /// Absent when the key is the email itself.
    pub(super) const EMAIL_KEY: usize = 1;
    pub(super) const FIRST_NAME: usize = 2;
    pub(super) const LAST_NAME: usize = 3;
    pub(super) const LOCALE: usize = 4;
    pub(super) const DELIVERY_ERROR: usize = 5;
    pub(super) const COUNT: usize = 6;
}

impl Keyed for InvitationRow {
    type Id = InvitationId;
    fn id(&self) -> InvitationId {
        self.id
    }
}

impl InvitationRow {
    pub(super) fn pack(record: &InvitationRecord, refs: &mut Interner) -> Result<InvitationRow> {
        let inv = &record.invitation;
        let (invitee_user, first_name, last_name) = match &inv.invitee {
            Invitee::Existing { user_id } => (Some(refs.intern(user_id.as_uuid())?), None, None),
            Invitee::New {
                first_name,
                last_name,
            } => (None, Some(first_name.as_str()), Some(last_name.as_str())),
        };
        let email_key = (inv.email_key != inv.email).then_some(inv.email_key.as_str());
        let mut text = [None; text_field::COUNT];
        text[text_field::EMAIL] = Some(inv.email.as_str());
        text[text_field::EMAIL_KEY] = email_key;
        text[text_field::FIRST_NAME] = first_name;
        text[text_field::LAST_NAME] = last_name;
        text[text_field::LOCALE] = inv.locale.as_deref();
        text[text_field::DELIVERY_ERROR] = inv.delivery.last_error.as_deref();
        Ok(InvitationRow {
            id: inv.id,
            token_hash: record.token_hash,
            business: refs.intern(inv.business_id.as_uuid())?,
            app: refs.intern(inv.app_id.as_uuid())?,
            subscription: refs.intern(inv.subscription_id.as_uuid())?,
            role: refs.intern(inv.role_id.as_uuid())?,
            inviter: refs.intern(inv.inviter_id.as_uuid())?,
            invitee_user,
            status: inv.status,
            created_at: inv.created_at,
            expires_at: inv.expires_at,
            last_sent_at: inv.last_sent_at,
            send_count: inv.send_count,
            responded_at: inv.responded_at,
            accepted_user: inv
                .accepted_user_id
                .map(|user| refs.intern(user.as_uuid()))
                .transpose()?,
            delivery_state: inv.delivery.state,
            delivery_attempts: inv.delivery.attempts,
            delivered_at: inv.delivery.delivered_at,
            text: PackedText::pack(text.map(|field| (field, Packing::Plain))),
        })
    }

    pub(super) fn invitation(&self, refs: &Interner) -> Result<Invitation> {
        let text = |field| self.text.string(field);
        let email = text(text_field::EMAIL)?.unwrap_or_default();
        let email_key = match text(text_field::EMAIL_KEY)? {
            Some(key) => key,
            None => email.clone(),
        };
        let invitee = match self.invitee_user {
            Some(user) => Invitee::Existing {
                user_id: refs.id(user)?,
            },
            None => Invitee::New {
                first_name: text(text_field::FIRST_NAME)?.unwrap_or_default(),
                last_name: text(text_field::LAST_NAME)?.unwrap_or_default(),
            },
        };
        Ok(Invitation {
            id: self.id,
            business_id: refs.id(self.business)?,
            app_id: refs.id(self.app)?,
            subscription_id: refs.id(self.subscription)?,
            role_id: refs.id(self.role)?,
            invitee,
            email,
            email_key,
            inviter_id: refs.id(self.inviter)?,
            status: self.status,
            locale: text(text_field::LOCALE)?,
            created_at: self.created_at,
            expires_at: self.expires_at,
            last_sent_at: self.last_sent_at,
            send_count: self.send_count,
            responded_at: self.responded_at,
            accepted_user_id: self.accepted_user.map(|user| refs.id(user)).transpose()?,
            delivery: DeliveryStatus {
                state: self.delivery_state,
                attempts: self.delivery_attempts,
                last_error: text(text_field::DELIVERY_ERROR)?,
                delivered_at: self.delivered_at,
            },
        })
    }

    pub(super) fn record(&self, refs: &Interner) -> Result<InvitationRecord> {
        Ok(InvitationRecord {
            invitation: self.invitation(refs)?,
            token_hash: self.token_hash,
        })
    }

    /// This row with `delivery` as its delivery status; its text is packed again only
    /// when the delivery error changes.
    fn with_delivery(&self, delivery: &DeliveryStatus) -> Result<InvitationRow> {
        let mut row = self.clone();
        row.delivery_state = delivery.state;
        row.delivery_attempts = delivery.attempts;
        row.delivered_at = delivery.delivered_at;
        let error = delivery.last_error.as_deref();
        if self.text.plain_str(text_field::DELIVERY_ERROR)? != error {
            let mut text = [None; text_field::COUNT];
            for (index, field) in text.iter_mut().enumerate() {
                *field = self.text.plain_str(index)?;
            }
            text[text_field::DELIVERY_ERROR] = error;
            row.text = PackedText::pack(text.map(|field| (field, Packing::Plain)));
        }
        Ok(row)
    }

    fn email_key(&self) -> &[u8] {
        self.text
            .plain_bytes(text_field::EMAIL_KEY)
            .or_else(|| self.text.plain_bytes(text_field::EMAIL))
            .unwrap_or_default()
    }

    /// [`Invitation::status_at`] on the stored fields (without unpacking the row).
    fn status_at(&self, now: DateTime<Utc>) -> InvitationStatus {
        self.status.effective_at(self.expires_at, now)
    }

    /// [`Invitation::holds_reservation`] on the stored fields.
    fn holds_reservation(&self) -> bool {
        self.status.holds_reservation()
    }
}

/// Every invitation, with its indexes.
#[derive(Debug, Default)]
pub(super) struct Invitations {
    rows: Table<InvitationRow>,
    by_id: SlotIndex,
    by_token: SlotIndex,
    /// Stored-pending rows by (business, subscription, email key).
    pending_by_key: SlotIndex,
    pending_by_expiry: TimeIndex,
    pending_per_business: BTreeMap<IdRef, u32>,
    pending_per_subscription: BTreeMap<IdRef, u32>,
    /// How many invitations each inviter created at each instant.
    created_by_inviter: BTreeMap<(IdRef, DateTime<Utc>), u32>,
}

/// The keys a row is indexed under (`None`: not in that index).
impl InvitationRow {
    fn id_key(&self) -> Option<InvitationId> {
        Some(self.id)
    }

    fn token_key(&self) -> Option<TokenHash> {
        Some(self.token_hash)
    }

    fn inviter_key(&self) -> Option<(IdRef, DateTime<Utc>)> {
        Some((self.inviter, self.created_at))
    }

    fn pending_key(&self) -> Option<(IdRef, IdRef, &[u8])> {
        self.holds_reservation()
            .then(|| (self.business, self.subscription, self.email_key()))
    }

    fn pending_expiry(&self) -> Option<DateTime<Utc>> {
        self.holds_reservation().then_some(self.expires_at)
    }

    fn pending_business(&self) -> Option<IdRef> {
        self.holds_reservation().then_some(self.business)
    }

    fn pending_subscription(&self) -> Option<IdRef> {
        self.holds_reservation().then_some(self.subscription)
    }
}

impl Invitations {
    fn get(&self, slot: Slot) -> Option<&InvitationRow> {
        self.rows.get(slot)
    }

    fn slot_of(&self, id: InvitationId) -> Option<Slot> {
        self.by_id.find(id, |s| {
            self.get(s).and_then(InvitationRow::id_key) == Some(id)
        })
    }

    fn by_id(&self, id: InvitationId) -> Option<&InvitationRow> {
        self.slot_of(id).and_then(|s| self.get(s))
    }

    fn by_token(&self, hash: &TokenHash) -> Option<&InvitationRow> {
        let slot = self.by_token.find(hash, |s| {
            self.get(s).and_then(InvitationRow::token_key) == Some(*hash)
        })?;
        self.get(slot)
    }

    fn pending(&self, business: IdRef, subscription: IdRef, key: &str) -> Option<&InvitationRow> {
        let key = (business, subscription, key.as_bytes());
        let slot = self.pending_by_key.find(key, |s| {
            self.get(s).and_then(InvitationRow::pending_key) == Some(key)
        })?;
        self.get(slot)
    }
}

impl IndexedTable for Invitations {
    type Row = InvitationRow;

    fn table(&mut self) -> &mut Table<InvitationRow> {
        &mut self.rows
    }

    fn reindex(&mut self, slot: Slot, old: Option<&InvitationRow>) {
        let Invitations {
            rows,
            by_id,
            by_token,
            pending_by_key,
            pending_by_expiry,
            pending_per_business,
            pending_per_subscription,
            created_by_inviter,
        } = self;
        let rows: &Table<InvitationRow> = rows;
        let new = rows.get(slot);
        by_id.follow(rows, InvitationRow::id_key, slot, old);
        by_token.follow(rows, InvitationRow::token_key, slot, old);
        pending_by_key.follow(rows, InvitationRow::pending_key, slot, old);
        rekey(
            old.and_then(InvitationRow::inviter_key),
            new.and_then(InvitationRow::inviter_key),
            |change, key| tally(created_by_inviter, key, change),
        );
        rekey(
            old.and_then(InvitationRow::pending_expiry),
            new.and_then(InvitationRow::pending_expiry),
            |change, at| pending_by_expiry.apply(change, at, slot),
        );
        rekey(
            old.and_then(InvitationRow::pending_business),
            new.and_then(InvitationRow::pending_business),
            |change, key| tally(pending_per_business, key, change),
        );
        rekey(
            old.and_then(InvitationRow::pending_subscription),
            new.and_then(InvitationRow::pending_subscription),
            |change, key| tally(pending_per_subscription, key, change),
        );
    }
}

#[cfg(test)]
impl Invitations {
    pub(super) fn check_indexes(&self) -> super::Checked {
        use super::expect_count;
        use super::slot_index::sum;
        let rows: Vec<(Slot, &InvitationRow)> = self.rows.after(None).collect();
        let pending = rows.iter().filter(|(_, r)| r.holds_reservation()).count();
        expect_count("invitations by id", self.by_id.len(), rows.len())?;
        expect_count("invitations by token", self.by_token.len(), rows.len())?;
        expect_count("pending by key", self.pending_by_key.len(), pending)?;
        expect_count("pending by expiry", self.pending_by_expiry.len(), pending)?;
        expect_count("per business", sum(&self.pending_per_business), pending)?;
        expect_count(
            "per subscription",
            sum(&self.pending_per_subscription),
            pending,
        )?;
        expect_count("by inviter", sum(&self.created_by_inviter), rows.len())?;
        for (slot, row) in rows {
            let found = [
                self.by_id.find(row.id, |s| s == slot),
                self.by_token.find(row.token_hash, |s| s == slot),
            ];
            let pending = row
                .pending_key()
                .map(|key| self.pending_by_key.find(key, |s| s == slot));
            if found.contains(&None) || pending == Some(None) {
                return Err(format!("invitation {} is missing from an index", row.id));
            }
        }
        Ok(())
    }
}

impl InvitationRepo for MemoryTx<'_> {
    fn insert_invitation(&mut self, record: &InvitationRecord) -> Result<()> {
        let state = &mut *self.state;
        if state.invitations.slot_of(record.invitation.id).is_some()
            || state.invitations.by_token(&record.token_hash).is_some()
        {
            return Err(already_exists("invitation"));
        }
        let row = InvitationRow::pack(record, &mut state.refs)?;
        state.invitations.insert(row)?;
        self.undo.push(Undo::InvitationInserted);
        Ok(())
    }

    fn update_invitation(&mut self, record: &InvitationRecord) -> Result<()> {
        let state = &mut *self.state;
        let Some(slot) = state.invitations.slot_of(record.invitation.id) else {
            return Err(Error::not_found("invitation"));
        };
        if state
            .invitations
            .by_token(&record.token_hash)
            .is_some_and(|owner| owner.id != record.invitation.id)
        {
            return Err(already_exists("invitation token"));
        }
        let row = InvitationRow::pack(record, &mut state.refs)?;
        if let Some(old) = state.invitations.replace(slot, row) {
            self.undo
                .push(Undo::InvitationReplaced(slot, Box::new(old)));
        }
        Ok(())
    }

    fn update_delivery(
        &mut self,
        business: BusinessId,
        id: InvitationId,
        delivery: &DeliveryStatus,
    ) -> Result<()> {
        let state = &mut *self.state;
        let business = RefFilter::new(&state.refs, Some(business.as_uuid()));
        let Some(slot) = state.invitations.slot_of(id) else {
            return Err(Error::not_found("invitation"));
        };
        let Some(row) = state
            .invitations
            .rows
            .get(slot)
            .filter(|row| business.matches(row.business))
        else {
            return Err(Error::not_found("invitation"));
        };
        let row = row.with_delivery(delivery)?;
        if let Some(old) = state.invitations.replace(slot, row) {
            self.undo
                .push(Undo::InvitationReplaced(slot, Box::new(old)));
        }
        Ok(())
    }

    fn get_invitation(
        &mut self,
        business: BusinessId,
        id: InvitationId,
    ) -> Result<Option<InvitationRecord>> {
        let state = &*self.state;
        let business = RefFilter::new(&state.refs, Some(business.as_uuid()));
        state
            .invitations
            .by_id(id)
            .filter(|row| business.matches(row.business))
            .map(|row| row.record(&state.refs))
            .transpose()
    }

    fn get_invitation_by_token_hash(
        &mut self,
        hash: &TokenHash,
    ) -> Result<Option<InvitationRecord>> {
        let state = &*self.state;
        state
            .invitations
            .by_token(hash)
            .map(|row| row.record(&state.refs))
            .transpose()
    }

    fn find_pending_invitation(
        &mut self,
        business: BusinessId,
        subscription: SubscriptionId,
        email_key: &str,
    ) -> Result<Option<InvitationRecord>> {
        let state = &*self.state;
        let (Some(business), Some(subscription)) = (
            state.refs.find(business.as_uuid()),
            state.refs.find(subscription.as_uuid()),
        ) else {
            return Ok(None);
        };
        state
            .invitations
            .pending(business, subscription, email_key)
            .map(|row| row.record(&state.refs))
            .transpose()
    }

    fn list_invitations(&mut self, query: &InvitationQuery) -> Result<Vec<Invitation>> {
        let state = &*self.state;
        let refs = &state.refs;
        let business = RefFilter::new(refs, Some(query.business_id.as_uuid()));
        let app = RefFilter::new(refs, query.app_id.as_ref().map(|a| a.as_uuid()));
        let subscription =
            RefFilter::new(refs, query.subscription_id.as_ref().map(|s| s.as_uuid()));
        if business.is_nothing() || app.is_nothing() || subscription.is_nothing() {
            return Ok(Vec::new());
        }
        let email_key = query.email_key.as_deref().map(str::as_bytes);
        state
            .invitations
            .rows
            .after(query.after)
            .map(|(_, row)| row)
            .filter(|row| {
                business.matches(row.business)
                    && app.matches(row.app)
                    && subscription.matches(row.subscription)
                    && query.status.is_none_or(|s| row.status_at(query.now) == s)
                    && email_key.is_none_or(|key| row.email_key() == key)
            })
            .take(query.limit)
            .map(|row| row.invitation(refs))
            .collect()
    }

    fn overdue_pending(
        &mut self,
        now: DateTime<Utc>,
        subscription: Option<SubscriptionId>,
        limit: usize,
    ) -> Result<Vec<InvitationRecord>> {
        let state = &*self.state;
        let invitations = &state.invitations;
        let subscription = RefFilter::new(&state.refs, subscription.as_ref().map(|s| s.as_uuid()));
        if subscription.is_nothing() {
            return Ok(Vec::new());
        }
        invitations
            .pending_by_expiry
            .due(now, limit, &invitations.rows, |row| {
                subscription.matches(row.subscription)
            })
            .into_iter()
            .filter_map(|slot| invitations.get(slot))
            .map(|row| row.record(&state.refs))
            .collect()
    }

    fn count_pending(&mut self, business: BusinessId) -> Result<u32> {
        let state = &*self.state;
        Ok(state
            .refs
            .find(business.as_uuid())
            .and_then(|b| state.invitations.pending_per_business.get(&b).copied())
            .unwrap_or(0))
    }

    fn count_pending_in_subscription(&mut self, subscription: SubscriptionId) -> Result<u32> {
        let state = &*self.state;
        let Some(subscription) = state.refs.find(subscription.as_uuid()) else {
            return Ok(0);
        };
        let n = state
            .invitations
            .rows
            .rows()
            .filter(|row| row.subscription == subscription && row.holds_reservation())
            .count();
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    fn count_overdue_pending(
        &mut self,
        now: DateTime<Utc>,
        subscription: SubscriptionId,
    ) -> Result<u32> {
        let state = &*self.state;
        let Some(subscription) = state.refs.find(subscription.as_uuid()) else {
            return Ok(0);
        };
        let invitations = &state.invitations;
        let n = invitations
            .pending_by_expiry
            .due(now, usize::MAX, &invitations.rows, |row| {
                row.subscription == subscription
            })
            .len();
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    fn count_created_by_inviter_since(
        &mut self,
        inviter: UserId,
        since: DateTime<Utc>,
    ) -> Result<u32> {
        let state = &*self.state;
        let inviter = state.refs.find(inviter.as_uuid());
        Ok(tally_since(
            &state.invitations.created_by_inviter,
            inviter,
            since,
        ))
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    /// A row unpacks to the record it was packed from, with the same status rules.
    #[test]
    fn a_row_round_trips_with_the_model_rules() {
        let at = Utc.timestamp_opt(1_772_442_000, 5).unwrap();
        let invitation = Invitation {
            id: InvitationId::from_uuid(uuid::Uuid::from_u128(1)),
            business_id: BusinessId::from_uuid(uuid::Uuid::from_u128(2)),
            app_id: uuid::Uuid::from_u128(3).into(),
            subscription_id: uuid::Uuid::from_u128(4).into(),
            role_id: uuid::Uuid::from_u128(5).into(),
            invitee: Invitee::New {
                first_name: "Ada".into(),
                last_name: String::new(),
            },
            email: "Ada@Example.com".into(),
            email_key: "ada@example.com".into(),
            inviter_id: uuid::Uuid::from_u128(6).into(),
            status: InvitationStatus::Pending,
            locale: Some("fr".into()),
            created_at: at,
            expires_at: at + Duration::hours(1),
            last_sent_at: at,
            send_count: 1,
            responded_at: None,
            accepted_user_id: None,
            delivery: DeliveryStatus::queued(),
        };
        let mut refs = Interner::default();
        for &status in InvitationStatus::ALL {
            let mut invitation = invitation.clone();
            invitation.status = status;
            let record = InvitationRecord {
                invitation,
                token_hash: TokenHash([7; 32]),
            };
            let row = InvitationRow::pack(&record, &mut refs).unwrap();
            assert_eq!(row.record(&refs).unwrap(), record, "round trip");
            assert_eq!(
                row.holds_reservation(),
                record.invitation.holds_reservation()
            );
            for now in [at, at + Duration::hours(1), at + Duration::hours(2)] {
                assert_eq!(row.status_at(now), record.invitation.status_at(now));
            }
        }
    }
}
