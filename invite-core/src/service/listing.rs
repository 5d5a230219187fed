//! Reading invitations and their audit trail (admin side).

use serde::{Deserialize, Serialize};

use super::paging::{Listing, next_cursor};
use super::{InviteService, Page, PageRequest, found};
use crate::error::{Error, Result};
use crate::ids::{ApplicationId, BusinessId, EventId, InvitationId, SubscriptionId};
use crate::input::Email;
use crate::model::{Event, Invitation, InvitationStatus, OutboxMessage};
use crate::store::InvitationQuery;

/// Filters for [`InviteService::list_invitations`]. Status is the effective one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationFilter {
    /// Only this app.
    pub app_id: Option<ApplicationId>,
    /// Only this subscription.
    pub subscription_id: Option<SubscriptionId>,
    /// Only this status (`expired` includes pending invitations past their expiry).
    pub status: Option<InvitationStatus>,
    /// Only this email (compared by canonical key).
    pub email: Option<String>,
}

impl InviteService {
    /// An invitation of the business (effective status). Ids of other businesses are
    /// `NOT_FOUND`, like missing ones.
    pub fn get_invitation(&self, business: BusinessId, id: InvitationId) -> Result<Invitation> {
        self.read(|tx, now| {
            Ok(found(tx.get_invitation(business, id)?, "invitation")?
                .invitation
                .as_of(now))
        })
    }

    /// The business's invitations matching `filter`, oldest first, one page at a time.
    pub fn list_invitations(
        &self,
        business: BusinessId,
        filter: &InvitationFilter,
        page: &PageRequest,
    ) -> Result<Page<Invitation>> {
        let limit = page.size()?;
        let after = page.after_id::<InvitationId>(Listing::Invitations)?;
        let email_key = match &filter.email {
            Some(raw) => Some(
                Email::parse(raw, "email", self.config.email_policy)
                    .map_err(|e| Error::validation(vec![e]))?
                    .key()
                    .to_owned(),
            ),
            None => None,
        };
        self.read(|tx, now| {
            let query = InvitationQuery {
                business_id: business,
                app_id: filter.app_id,
                subscription_id: filter.subscription_id,
                status: filter.status,
                email_key: email_key.clone(),
                now,
                after,
                limit,
            };
            let items: Vec<Invitation> = tx
                .list_invitations(&query)?
                .into_iter()
                .map(|i| i.as_of(now))
                .collect();
            let next_cursor =
                next_cursor(Listing::Invitations, &items, limit, |i| i.id.to_string());
            Ok(Page { items, next_cursor })
        })
    }

    /// The business's audit events (of one invitation, if given), oldest first.
    pub fn list_events(
        &self,
        business: BusinessId,
        invitation: Option<InvitationId>,
        page: &PageRequest,
    ) -> Result<Page<Event>> {
        let limit = page.size()?;
        let after = page.after_id::<EventId>(Listing::Events)?;
        self.read(|tx, _| {
            let items = tx.list_events(business, invitation, after, limit)?;
            let next_cursor = next_cursor(Listing::Events, &items, limit, |e| e.id.to_string());
            Ok(Page { items, next_cursor })
        })
    }

    /// The invitation's outbox messages (delivery history), oldest first. Sealed tokens
    /// are removed from the answer.
    pub fn invitation_messages(
        &self,
        business: BusinessId,
        invitation: InvitationId,
    ) -> Result<Vec<OutboxMessage>> {
        self.read(|tx, _| {
            found(tx.get_invitation(business, invitation)?, "invitation")?;
            Ok(tx
                .messages_for_invitation(business, invitation)?
                .into_iter()
                .map(|m| OutboxMessage {
                    sealed_token: None,
                    ..m
                })
                .collect())
        })
    }
}
