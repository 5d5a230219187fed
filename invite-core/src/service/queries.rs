//! The page's queries: user search, and the options of each step for an inviter.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::catalog::counts_at;
use super::paging::{Listing, bad_cursor, encode_cursor};
use super::{InviteService, Page, PageRequest, inviter_rights};
use crate::error::{Error, FieldCode, FieldError, Result};
use crate::ids::{ApplicationId, BusinessId, UserId};
use crate::input::fold_search_text;
use crate::model::{Application, Business, Role, SeatUsage, Subscription, User};
use crate::store::{Transaction, UserKeyCursor};

/// Longest search query, in bytes.
pub const MAX_QUERY_LEN: usize = 254;

/// `TOO_LONG` on `field` for a search query longer than [`MAX_QUERY_LEN`] bytes, measured
/// as searched: surrounding whitespace is no part of the query.
pub(crate) fn check_query_len(query: &str, field: &str) -> Result<(), FieldError> {
    if query.trim().len() > MAX_QUERY_LEN {
        return Err(FieldError::new(
            field,
            FieldCode::TooLong,
            "search is longer than 254 bytes",
        ));
    }
    Ok(())
}

/// A business the inviter may invite into.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessOption {
    /// The business.
    pub business: Business,
    /// Whether the inviter administers it.
    pub is_admin: bool,
}

/// A subscription of the chosen business and app, with its seats.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionOption {
    /// The subscription.
    pub subscription: Subscription,
    /// Seat usage as of now: an invitation past its expiry holds no seat, swept or not.
    pub seats: SeatUsage,
    /// Active and inside its validity window now.
    pub active: bool,
}

impl InviteService {
    /// Existing users whose email, first name, last name or full name starts with
    /// `query` (case- and width-insensitive; an email's IDN domain matches typed in
    /// Unicode or in punycode), one page at a time. Each user appears once, ordered by
    /// the first of its keys that matches ([`User::search_keys`]).
    pub fn search_users(&self, query: &str, page: &PageRequest) -> Result<Page<User>> {
        check_query_len(query, "query").map_err(|e| Error::validation(vec![e]))?;
        let prefix = fold_search_text(query);
        let limit = page.size()?;
        let mut cursor = match page.decode(Listing::Users)? {
            Some((id, key)) => Some(UserKeyCursor {
                key,
                user_id: id.parse().map_err(|_| bad_cursor())?,
            }),
            None => None,
        };
        self.read(|tx, _| {
            let mut items: Vec<(String, User)> = Vec::with_capacity(limit + 1);
            let batch = (limit + 1) * 4;
            'scan: loop {
                let rows = tx.scan_user_keys(&prefix, cursor.as_ref(), batch)?;
                let exhausted = rows.len() < batch;
                for (key, user) in rows {
                    cursor = Some(UserKeyCursor {
                        key: key.clone(),
                        user_id: user.id,
                    });
                    if primary_key(&user, &prefix).as_deref() == Some(key.as_str())
                        && items
                            .last()
                            .is_none_or(|(k, u)| (k, u.id) != (&key, user.id))
                    {
                        items.push((key, user));
                        if items.len() > limit {
                            break 'scan;
                        }
                    }
                }
                if exhausted {
                    break;
                }
            }
            let next_cursor = if items.len() > limit {
                items.truncate(limit);
                items
                    .last()
                    .map(|(key, user)| encode_cursor(Listing::Users, &user.id.to_string(), key))
            } else {
                None
            };
            Ok(Page {
                items: items.into_iter().map(|(_, u)| u).collect(),
                next_cursor,
            })
        })
    }

    /// Businesses the inviter may invite into (as admin, or through a membership whose
    /// role the policy accepts), by name.
    pub fn businesses_for_inviter(&self, inviter: UserId) -> Result<Vec<BusinessOption>> {
        self.read(|tx, now| {
            let mut out: BTreeMap<BusinessId, bool> = BTreeMap::new();
            for business in tx.admin_businesses(inviter)? {
                out.insert(business, true);
            }
            for membership in tx.memberships_of_user(inviter, None)? {
                if out.contains_key(&membership.business_id) {
                    continue;
                }
                let rights =
                    inviter_rights(tx, inviter, membership.business_id, membership.app_id, now)?;
                if self.policy.may_invite(&rights) {
                    out.insert(membership.business_id, false);
                }
            }
            let mut options = Vec::new();
            for (id, is_admin) in out {
                if let Some(business) = tx.get_business(id)? {
                    options.push(BusinessOption { business, is_admin });
                }
            }
            options.sort_by(|a, b| a.business.name.cmp(&b.business.name));
            Ok(options)
        })
    }

    /// Apps enabled for the business that the inviter may invite into, by name.
    pub fn apps_for_inviter(
        &self,
        inviter: UserId,
        business: BusinessId,
    ) -> Result<Vec<Application>> {
        self.read(|tx, now| {
            let mut apps = Vec::new();
            for app_id in tx.enabled_apps(business)? {
                let rights = inviter_rights(tx, inviter, business, app_id, now)?;
                if !self.policy.may_invite(&rights) {
                    continue;
                }
                if let Some(app) = tx.get_app(app_id)? {
                    apps.push(app);
                }
            }
            apps.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(apps)
        })
    }

    /// Subscriptions of the business *and* app (none unless the app is enabled for the
    /// business), each with its seat usage as of now (an invitation past its expiry
    /// holds no seat, swept or not) and whether it is active now.
    pub fn subscriptions_for(
        &self,
        business: BusinessId,
        app: ApplicationId,
    ) -> Result<Vec<SubscriptionOption>> {
        self.read(|tx, now| {
            if !tx.is_app_enabled(business, app)? {
                return Ok(Vec::new());
            }
            let mut options = Vec::new();
            for subscription in tx.list_subscriptions(business, Some(app))? {
                let counts = counts_at(tx, business, subscription.id, now)?;
                options.push(SubscriptionOption {
                    seats: SeatUsage::new(subscription.seats, counts),
                    active: subscription.is_active_at(now),
                    subscription,
                });
            }
            Ok(options)
        })
    }

    /// Roles of the app that the inviter may grant in this business, by name.
    pub fn grantable_roles(
        &self,
        inviter: UserId,
        business: BusinessId,
        app: ApplicationId,
    ) -> Result<Vec<Role>> {
        self.read(|tx, now| grantable(self, tx, inviter, business, app, now))
    }
}

pub(crate) fn grantable(
    service: &InviteService,
    tx: &mut dyn Transaction,
    inviter: UserId,
    business: BusinessId,
    app: ApplicationId,
    now: DateTime<Utc>,
) -> Result<Vec<Role>> {
    let rights = inviter_rights(tx, inviter, business, app, now)?;
    if !service.policy.may_invite(&rights) {
        return Ok(Vec::new());
    }
    let mut roles: Vec<Role> = tx
        .list_roles(app)?
        .into_iter()
        .filter(|r| service.policy.may_grant(&rights, r))
        .collect();
    roles.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(roles)
}

/// The key a user is listed under for `prefix`: the smallest of its keys that matches.
fn primary_key(user: &User, prefix: &str) -> Option<String> {
    user.search_keys()
        .into_iter()
        .filter(|k| k.starts_with(prefix))
        .min()
}
