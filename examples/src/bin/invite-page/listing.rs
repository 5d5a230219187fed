//! What the invitations list shows: the newest invitations of each business the admin
//! may invite into, each with the newest events of its history. The library lists
//! oldest first, one page at a time, so both are read to the end and only the tail is
//! kept.

use std::collections::{HashMap, VecDeque};

use invite_core::service::MAX_PAGE_SIZE;
use invite_core::{
    ApplicationId, Business, Error, Invitation, InvitationFilter, Invitee, Page, PageRequest,
    SubscriptionId,
};

use crate::app::App;
use crate::pages::invitations::{Hidden, List, Row};

/// How many invitations per business the list shows (the newest).
pub const LIST_LIMIT: usize = 200;
/// How many events of an invitation's history the list shows (the newest).
pub const HISTORY_LIMIT: usize = 50;

/// The last `keep` items of a listing read page by page (oldest first), in the
/// listing's order, and how many came before them.
pub fn newest<T>(
    keep: usize,
    mut read: impl FnMut(&PageRequest) -> Result<Page<T>, Error>,
) -> Result<(Vec<T>, usize), Error> {
    let mut tail = VecDeque::with_capacity(keep.min(MAX_PAGE_SIZE as usize) + 1);
    let mut dropped = 0;
    let mut request = PageRequest::first(MAX_PAGE_SIZE);
    loop {
        let page = read(&request)?;
        for item in page.items {
            tail.push_back(item);
            if tail.len() > keep {
                tail.pop_front();
                dropped += 1;
            }
        }
        match page.next_cursor {
            Some(cursor) => request = PageRequest::after(cursor, MAX_PAGE_SIZE),
            None => return Ok((tail.into(), dropped)),
        }
    }
}

/// Names the table shows instead of ids, read once per list.
struct Names {
    apps: HashMap<ApplicationId, String>,
    roles: HashMap<invite_core::RoleId, String>,
    plans: HashMap<SubscriptionId, String>,
}

impl App {
    /// The invitations list: newest first, at most [`LIST_LIMIT`] per business.
    pub fn invitation_list(&self) -> Result<List, Error> {
        let svc = &self.service;
        let apps: HashMap<ApplicationId, String> = svc
            .list_apps()?
            .into_iter()
            .map(|a| (a.id, a.name))
            .collect();
        let mut roles = HashMap::new();
        for app in apps.keys() {
            for role in svc.list_roles(*app)? {
                roles.insert(role.id, role.name);
            }
        }
        let mut names = Names {
            apps,
            roles,
            plans: HashMap::new(),
        };
        let mut list = List::default();
        for option in svc.businesses_for_inviter(self.admin.id)? {
            let business = option.business;
            let (invitations, older) = newest(LIST_LIMIT, |page| {
                svc.list_invitations(business.id, &InvitationFilter::default(), page)
            })?;
            if older > 0 {
                list.hidden.push(Hidden {
                    business: business.name.clone(),
                    count: older,
                });
            }
            for invitation in invitations {
                list.rows.push(self.row(&business, invitation, &mut names)?);
            }
        }
        list.rows
            .sort_by_key(|row| std::cmp::Reverse((row.invitation.created_at, row.invitation.id)));
        Ok(list)
    }

    fn row(
        &self,
        business: &Business,
        invitation: Invitation,
        names: &mut Names,
    ) -> Result<Row, Error> {
        let svc = &self.service;
        let plan = match names.plans.get(&invitation.subscription_id) {
            Some(plan) => plan.clone(),
            None => {
                let plan = svc
                    .get_subscription(business.id, invitation.subscription_id)?
                    .plan;
                names.plans.insert(invitation.subscription_id, plan.clone());
                plan
            }
        };
        let invitee = match &invitation.invitee {
            Invitee::Existing { user_id } => svc.get_user(*user_id)?.display_name(),
            Invitee::New {
                first_name,
                last_name,
            } => format!("{first_name} {last_name} (new)"),
        };
        let (events, events_hidden) = newest(HISTORY_LIMIT, |page| {
            svc.list_events(business.id, Some(invitation.id), page)
        })?;
        Ok(Row {
            business: business.name.clone(),
            app: names
                .apps
                .get(&invitation.app_id)
                .cloned()
                .unwrap_or_default(),
            plan,
            role: names
                .roles
                .get(&invitation.role_id)
                .cloned()
                .unwrap_or_default(),
            invitee,
            events,
            events_hidden,
            invitation,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A listing of `0..total`, oldest first, paged like the library's.
    fn numbers(total: u32) -> impl FnMut(&PageRequest) -> Result<Page<u32>, Error> {
        move |request| {
            let limit = request.limit.unwrap_or(50);
            let start: u32 = request
                .cursor
                .as_deref()
                .map_or(0, |c| c.parse::<u32>().unwrap() + 1);
            let items: Vec<u32> = (start..total.min(start + limit)).collect();
            let next_cursor =
                (items.len() == limit as usize).then(|| items.last().unwrap().to_string());
            Ok(Page { items, next_cursor })
        }
    }

    #[test]
    fn newest_keeps_the_tail_across_pages() {
        let (kept, dropped) = newest(200, numbers(1205)).unwrap();
        assert_eq!(kept.len(), 200);
        assert_eq!(kept.first(), Some(&1005));
        assert_eq!(kept.last(), Some(&1204));
        assert_eq!(dropped, 1005);
    }

    #[test]
    fn newest_keeps_everything_when_there_is_room() {
        assert_eq!(newest(50, numbers(3)).unwrap(), (vec![0, 1, 2], 0));
        assert_eq!(newest(50, numbers(0)).unwrap(), (vec![], 0));
        assert_eq!(newest(0, numbers(7)).unwrap(), (vec![], 7));
        // A listing of exactly one full page ends with an empty page.
        let (kept, dropped) = newest(600, numbers(500)).unwrap();
        assert_eq!((kept.len(), dropped), (500, 0));
    }

    #[test]
    fn newest_asks_for_the_largest_pages() {
        let mut sizes = Vec::new();
        let mut inner = numbers(1001);
        newest(10, |request| {
            sizes.push(request.limit);
            inner(request)
        })
        .unwrap();
        assert_eq!(sizes, vec![Some(MAX_PAGE_SIZE); 3]);
    }
}
