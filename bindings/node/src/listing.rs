//! Reading invitations, their audit trail and delivery history (admin side).

use invite_core::InvitationFilter;
use napi_derive::napi;

use crate::convert::{id, one_of, opt_id, page_limit};
use crate::model::{EventPage, Invitation, InvitationPage, OutboxMessage, list, page};
use crate::service::InviteService;
use crate::task::Call;

/// Filters and page of `listInvitations`.
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct ListInvitationsOptions {
    /// Only this app.
    pub app_id: Option<Option<String>>,
    /// Only this subscription.
    pub subscription_id: Option<Option<String>>,
    /// Only this effective status (`expired` includes pending ones past their expiry).
    #[napi(ts_type = "InvitationStatus | undefined | null")]
    pub status: Option<Option<String>>,
    /// Only this email (compared canonically).
    pub email: Option<Option<String>>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<Option<String>>,
    /// Items per page (1–500; default 50).
    pub limit: Option<Option<f64>>,
}

/// Filter and page of `listEvents`.
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct ListEventsOptions {
    /// Only this invitation's events.
    pub invitation_id: Option<Option<String>>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<Option<String>>,
    /// Items per page (1–500; default 50).
    pub limit: Option<Option<f64>>,
}

#[napi]
impl InviteService {
    /// An invitation of the business (effective status). Ids of other businesses are
    /// `NOT_FOUND`, like missing ones.
    #[napi(catch_unwind, strict, ts_return_type = "Promise<Invitation>")]
    pub fn get_invitation(&self, business_id: String, invitation_id: String) -> Call<Invitation> {
        self.run(move |s| {
            s.get_invitation(id(&business_id)?, id(&invitation_id)?)
                .map(Invitation::from)
        })
    }

    /// The business's invitations matching the filters, oldest first, one page at a time.
    #[napi(catch_unwind, strict, ts_return_type = "Promise<InvitationPage>")]
    pub fn list_invitations(
        &self,
        business_id: String,
        options: Option<ListInvitationsOptions>,
    ) -> Call<InvitationPage> {
        self.run(move |s| {
            let o = options.unwrap_or_default();
            let filter = InvitationFilter {
                app_id: opt_id(o.app_id.flatten().as_deref())?,
                subscription_id: opt_id(o.subscription_id.flatten().as_deref())?,
                status: o
                    .status
                    .flatten()
                    .map(|v| one_of(&v, "status", invite_core::InvitationStatus::parse))
                    .transpose()?,
                email: o.email.flatten(),
            };
            let request = invite_core::PageRequest {
                cursor: o.cursor.flatten(),
                limit: page_limit(o.limit.flatten()),
            };
            let found = s.list_invitations(id(&business_id)?, &filter, &request)?;
            Ok(page(found, |items, next_cursor| InvitationPage {
                items,
                next_cursor,
            }))
        })
    }

    /// The business's audit events (of one invitation, if given), oldest first.
    #[napi(catch_unwind, strict, ts_return_type = "Promise<EventPage>")]
    pub fn list_events(
        &self,
        business_id: String,
        options: Option<ListEventsOptions>,
    ) -> Call<EventPage> {
        self.run(move |s| {
            let o = options.unwrap_or_default();
            let request = invite_core::PageRequest {
                cursor: o.cursor.flatten(),
                limit: page_limit(o.limit.flatten()),
            };
            let found = s.list_events(
                id(&business_id)?,
                opt_id(o.invitation_id.flatten().as_deref())?,
                &request,
            )?;
            Ok(page(found, |items, next_cursor| EventPage {
                items,
                next_cursor,
            }))
        })
    }

    /// The invitation's emails (delivery history), oldest first.
    #[napi(catch_unwind, strict, ts_return_type = "Promise<Array<OutboxMessage>>")]
    pub fn invitation_messages(
        &self,
        business_id: String,
        invitation_id: String,
    ) -> Call<Vec<OutboxMessage>> {
        self.run(move |s| {
            s.invitation_messages(id(&business_id)?, id(&invitation_id)?)
                .map(list)
        })
    }
}
