//! The page's queries: user search and the options of each step for an inviter.

use invite_core::service::{
    BusinessOption as CoreBusinessOption, SubscriptionOption as CoreSubscriptionOption,
};
use napi_derive::napi;

use crate::convert::{PageOptions, id, page_request};
use crate::model::{App, Business, Role, SeatUsage, Subscription, UserPage, list, page};
use crate::service::InviteService;
use crate::task::Call;

/// A business the inviter may invite into.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct BusinessOption {
    /// The business.
    pub business: Business,
    /// Whether the inviter administers it.
    pub is_admin: bool,
}

impl From<CoreBusinessOption> for BusinessOption {
    fn from(o: CoreBusinessOption) -> Self {
        BusinessOption {
            business: o.business.into(),
            is_admin: o.is_admin,
        }
    }
}

/// A subscription of the chosen business and app, with its seats.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct SubscriptionOption {
    /// The subscription.
    pub subscription: Subscription,
    /// Seat usage as of now: an invitation past its expiry holds no seat, swept or not.
    pub seats: SeatUsage,
    /// Active and inside its validity window now.
    pub active: bool,
}

impl From<CoreSubscriptionOption> for SubscriptionOption {
    fn from(o: CoreSubscriptionOption) -> Self {
        SubscriptionOption {
            subscription: o.subscription.into(),
            seats: o.seats.into(),
            active: o.active,
        }
    }
}

#[napi]
impl InviteService {
    /// Existing users whose email, first, last or full name starts with `query`
    /// (case- and width-insensitive; an email's IDN domain matches typed in Unicode or
    /// in punycode), one page at a time.
    #[napi(catch_unwind, strict, ts_return_type = "Promise<UserPage>")]
    pub fn search_users(&self, query: String, page_options: Option<PageOptions>) -> Call<UserPage> {
        self.run(move |s| {
            let found = s.search_users(&query, &page_request(page_options))?;
            Ok(page(found, |items, next_cursor| UserPage {
                items,
                next_cursor,
            }))
        })
    }

    /// Businesses the inviter may invite into, by name.
    #[napi(
        catch_unwind,
        strict,
        ts_return_type = "Promise<Array<BusinessOption>>"
    )]
    pub fn businesses_for_inviter(&self, inviter_id: String) -> Call<Vec<BusinessOption>> {
        self.run(move |s| s.businesses_for_inviter(id(&inviter_id)?).map(list))
    }

    /// Apps enabled for the business that the inviter may invite into, by name.
    #[napi(catch_unwind, strict, ts_return_type = "Promise<Array<App>>")]
    pub fn apps_for_inviter(&self, inviter_id: String, business_id: String) -> Call<Vec<App>> {
        self.run(move |s| {
            s.apps_for_inviter(id(&inviter_id)?, id(&business_id)?)
                .map(list)
        })
    }

    /// Subscriptions of the business *and* app, each with seat usage and whether active.
    #[napi(
        catch_unwind,
        strict,
        ts_return_type = "Promise<Array<SubscriptionOption>>"
    )]
    pub fn subscriptions_for(
        &self,
        business_id: String,
        app_id: String,
    ) -> Call<Vec<SubscriptionOption>> {
        self.run(move |s| {
            s.subscriptions_for(id(&business_id)?, id(&app_id)?)
                .map(list)
        })
    }

    /// Roles of the app that the inviter may grant in this business, by name.
    #[napi(catch_unwind, strict, ts_return_type = "Promise<Array<Role>>")]
    pub fn grantable_roles(
        &self,
        inviter_id: String,
        business_id: String,
        app_id: String,
    ) -> Call<Vec<Role>> {
        self.run(move |s| {
            s.grantable_roles(id(&inviter_id)?, id(&business_id)?, id(&app_id)?)
                .map(list)
        })
    }
}
