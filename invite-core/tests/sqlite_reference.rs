#![cfg(feature = "sqlite")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]
//! The SQLite store answers every port query exactly like the in-memory reference store:
//! the same records (exact round trips, nanoseconds included), the same order (ties on
//! time broken by id), the same effective statuses, counts and error codes. Both stores
//! get the same generated data, then every listing is compared page by page.

use std::collections::BTreeSet;
use std::fmt::Debug;

use chrono::{DateTime, Duration, TimeZone, Utc};
use invite_core::store::sqlite::{SqliteOptions, SqliteStore};
use invite_core::store::{InvitationQuery, Transaction, UserKeyCursor};
use invite_core::token::TokenHash;
use invite_core::*;

/// A tiny deterministic generator (no extra dependency).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn now() -> DateTime<Utc> {
    Utc.timestamp_opt(1_772_442_000, 123_456_789).unwrap()
}

/// Ids with a scrambled order (not the insertion order), per kind.
fn uuid(kind: u8, n: u64) -> uuid::Uuid {
    let mixed = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    uuid::Uuid::from_u128(
        (u128::from(kind) << 120) | (u128::from(mixed) << 8) | u128::from(n as u8),
    )
}

struct Data {
    users: Vec<User>,
    businesses: Vec<Business>,
    apps: Vec<Application>,
    subscriptions: Vec<Subscription>,
    roles: Vec<Role>,
    memberships: Vec<Membership>,
    invitations: Vec<InvitationRecord>,
    events: Vec<Event>,
    messages: Vec<OutboxMessage>,
}

fn generate() -> Data {
    let mut rng = Lcg(42);
    let t0 = now();
    // A few instants only, so that ties on time are common and order falls back to ids.
    let instants: Vec<DateTime<Utc>> = (-3..=3).map(|h| t0 + Duration::hours(h)).collect();
    let firsts = [
        "Al", "Alice", "Alicia", "Bob", "Bo", "Ålice", "ALI", "Zoë", "Ωmega",
    ];
    let lasts = ["Archer", "Baker", "Al", "Stra\u{df}e", "Ng"];
    let users: Vec<User> = (0..40)
        .map(|i| User {
            id: UserId::from_uuid(uuid(1, i)),
            email: format!("U{i}@Example.com"),
            email_key: format!("{}{i}@example.com", ["al", "bo", "a", "zo"][i as usize % 4]),
            first_name: rng.pick(&firsts).to_string(),
            last_name: rng.pick(&lasts).to_string(),
            created_at: t0 + Duration::nanoseconds(i as i64 * 7),
        })
        .collect();
    let businesses: Vec<Business> = (0..2)
        .map(|i| Business {
            id: BusinessId::from_uuid(uuid(2, i)),
            name: format!("B{i}"),
            created_at: t0,
        })
        .collect();
    let apps: Vec<Application> = (0..2)
        .map(|i| Application {
            id: ApplicationId::from_uuid(uuid(3, i)),
            name: format!("A{i}"),
            created_at: t0,
        })
        .collect();
    let subscriptions: Vec<Subscription> = (0..4)
        .map(|i| Subscription {
            id: SubscriptionId::from_uuid(uuid(4, i)),
            business_id: businesses[i as usize % 2].id,
            app_id: apps[i as usize / 2].id,
            plan: format!("P{i}"),
            seats: if i == 3 { None } else { Some(10 + i as u32) },
            status: [SubscriptionStatus::Active, SubscriptionStatus::Suspended][i as usize % 2],
            valid_from: (i == 1).then(|| t0 - Duration::days(3)),
            valid_until: (i == 2).then_some(DateTime::<Utc>::MAX_UTC),
            created_at: t0,
        })
        .collect();
    let roles: Vec<Role> = (0..6)
        .map(|i| Role {
            id: RoleId::from_uuid(uuid(5, i)),
            app_id: apps[i as usize % 2].id,
            key: format!("role{}", i / 2),
            name: format!("Role {i}"),
            permissions: (0..i).map(|p| format!("perm.{p}")).collect::<BTreeSet<_>>(),
            created_at: t0,
        })
        .collect();
    let mut memberships = Vec::new();
    for (i, user) in users.iter().enumerate().take(25) {
        let sub = &subscriptions[i % 4];
        memberships.push(Membership {
            id: MembershipId::from_uuid(uuid(6, i as u64)),
            business_id: sub.business_id,
            subscription_id: sub.id,
            app_id: sub.app_id,
            user_id: user.id,
            role_id: roles[i % 6].id,
            created_at: t0,
        });
    }
    let statuses = InvitationStatus::ALL;
    let mut invitations = Vec::new();
    for i in 0..60u64 {
        let sub = rng.pick(&subscriptions).clone();
        let invitee = if rng.below(2) == 0 {
            Invitee::Existing {
                user_id: rng.pick(&users).id,
            }
        } else {
            Invitee::New {
                first_name: "Nëw".into(),
                last_name: format!("Person {i}"),
            }
        };
        let status = *rng.pick(statuses);
        let created_at = *rng.pick(&instants);
        let delivered = rng.below(3) == 0;
        invitations.push(InvitationRecord {
            invitation: Invitation {
                id: InvitationId::from_uuid(uuid(7, i)),
                business_id: sub.business_id,
                app_id: sub.app_id,
                subscription_id: sub.id,
                role_id: rng.pick(&roles).id,
                invitee,
                // One key per invitation: the port assumes one pending invitation per key.
                email: format!("Inv{i}@Example.com"),
                email_key: format!("inv{i}@example.com"),
                inviter_id: users[rng.below(3)].id,
                status,
                locale: (i % 3 == 0).then(|| "fr-CA".to_owned()),
                created_at,
                expires_at: *rng.pick(&instants),
                last_sent_at: created_at + Duration::nanoseconds(1),
                send_count: 1 + rng.below(3) as u32,
                responded_at: (status != InvitationStatus::Pending).then_some(created_at),
                accepted_user_id: (status == InvitationStatus::Accepted).then(|| users[0].id),
                delivery: DeliveryStatus {
                    state: [
                        DeliveryState::Queued,
                        DeliveryState::Sent,
                        DeliveryState::Failed,
                    ][rng.below(3)],
                    attempts: rng.below(5) as u32,
                    last_error: (!delivered).then(|| "smtp: 451 try later".to_owned()),
                    delivered_at: delivered.then(|| created_at + Duration::microseconds(3)),
                },
            },
            token_hash: TokenHash([i as u8; 32]),
        });
    }
    let kinds = EventKind::ALL;
    let events: Vec<Event> = (0..90u64)
        .map(|i| {
            let inv = &rng.pick(&invitations).invitation;
            Event {
                id: EventId::from_uuid(uuid(8, i)),
                business_id: inv.business_id,
                invitation_id: inv.id,
                kind: *rng.pick(kinds),
                actor_id: (i % 2 == 0).then_some(inv.inviter_id),
                at: *rng.pick(&instants),
                detail: (i % 5 == 0).then(|| format!("detail {i}")),
            }
        })
        .collect();
    let states = [
        OutboxState::Queued,
        OutboxState::Sent,
        OutboxState::Failed,
        OutboxState::Cancelled,
    ];
    let messages: Vec<OutboxMessage> = (0..50u64)
        .map(|i| {
            let inv = &rng.pick(&invitations).invitation;
            let state = if i % 2 == 0 {
                OutboxState::Queued
            } else {
                *rng.pick(&states)
            };
            OutboxMessage {
                id: MessageId::from_uuid(uuid(9, i)),
                business_id: inv.business_id,
                invitation_id: inv.id,
                sealed_token: (state == OutboxState::Queued).then(|| format!("sealed-{i}")),
                state,
                attempts: rng.below(4) as u32,
                next_attempt_at: *rng.pick(&instants),
                last_error: (i % 3 == 0).then(|| "boom".to_owned()),
                created_at: t0,
            }
        })
        .collect();
    Data {
        users,
        businesses,
        apps,
        subscriptions,
        roles,
        memberships,
        invitations,
        events,
        messages,
    }
}

fn load(store: &dyn Store, data: &Data) {
    let mut tx = store.begin().unwrap();
    for u in &data.users {
        tx.insert_user(u).unwrap();
    }
    for b in &data.businesses {
        tx.insert_business(b).unwrap();
    }
    for a in &data.apps {
        tx.insert_app(a).unwrap();
    }
    tx.set_app_enabled(data.businesses[0].id, data.apps[1].id, true)
        .unwrap();
    tx.set_app_enabled(data.businesses[0].id, data.apps[0].id, true)
        .unwrap();
    tx.set_app_enabled(data.businesses[0].id, data.apps[0].id, true)
        .unwrap();
    tx.set_app_enabled(data.businesses[1].id, data.apps[0].id, true)
        .unwrap();
    tx.set_app_enabled(data.businesses[1].id, data.apps[0].id, false)
        .unwrap();
    for (i, u) in data.users.iter().enumerate().take(6) {
        tx.set_business_admin(data.businesses[i % 2].id, u.id, true)
            .unwrap();
    }
    tx.set_business_admin(data.businesses[0].id, data.users[2].id, false)
        .unwrap();
    for s in &data.subscriptions {
        tx.insert_subscription(s).unwrap();
    }
    tx.set_seat_counts(
        data.subscriptions[0].id,
        SeatCounts {
            used: 3,
            reserved: 4,
        },
    )
    .unwrap();
    for r in &data.roles {
        tx.insert_role(r).unwrap();
    }
    for m in &data.memberships {
        tx.insert_membership(m).unwrap();
    }
    for r in &data.invitations {
        tx.insert_invitation(r).unwrap();
    }
    for e in &data.events {
        tx.append_event(e).unwrap();
    }
    for m in &data.messages {
        tx.enqueue_message(m).unwrap();
    }
    // Updates that move records between indexes.
    let mut user = data.users[5].clone();
    user.first_name = "Renamed".into();
    user.email_key = "renamed@example.com".into();
    tx.update_user(&user).unwrap();
    let mut record = data.invitations[4].clone();
    record.invitation.status = InvitationStatus::Pending;
    record.invitation.expires_at = now() + Duration::days(2);
    record.token_hash = TokenHash([200; 32]);
    tx.update_invitation(&record).unwrap();
    for record in data
        .invitations
        .iter()
        .filter(|r| r.invitation.status == InvitationStatus::Pending)
        .take(3)
    {
        let mut record = record.clone();
        record.invitation.status = InvitationStatus::Revoked;
        tx.update_invitation(&record).unwrap();
    }
    // Each group of indexed columns alone, and none (a replace sets only the groups
    // that change).
    let mut moved = data.invitations[40].clone();
    moved.invitation.inviter_id = data.users[7].id;
    moved.invitation.email_key = "moved@example.com".into();
    tx.update_invitation(&moved).unwrap();
    let mut noted = data.invitations[41].clone();
    noted.invitation.send_count += 1;
    noted.invitation.delivery.attempts += 1;
    tx.update_invitation(&noted).unwrap();
    let mut rehashed = data.invitations[42].clone();
    rehashed.token_hash = TokenHash([201; 32]);
    tx.update_invitation(&rehashed).unwrap();
    let mut message = data.messages[1].clone();
    message.state = OutboxState::Queued;
    tx.update_message(&message).unwrap();
    let mut retargeted = data.messages[2].clone();
    retargeted.invitation_id = data.invitations[43].invitation.id;
    tx.update_message(&retargeted).unwrap();
    let mut retried = data.messages[3].clone();
    retried.attempts += 1;
    retried.last_error = Some("later".into());
    tx.update_message(&retried).unwrap();
    tx.delete_membership(data.memberships[3].business_id, data.memberships[3].id)
        .unwrap();
    tx.commit().unwrap();
}

/// A SQLite store under comparison (and the directory its file lives in).
struct Candidate {
    name: &'static str,
    store: Box<dyn Store>,
    _dir: Option<tempfile::TempDir>,
}

/// The reference store, and the SQLite stores compared with it.
fn stores() -> (Box<dyn Store>, Vec<Candidate>) {
    let dir = tempfile::tempdir().unwrap();
    let file = SqliteStore::open(dir.path().join("ref.db"), SqliteOptions::default()).unwrap();
    let memory = SqliteStore::open_in_memory(SqliteOptions::default()).unwrap();
    let candidates = vec![
        Candidate {
            name: "file",
            store: Box::new(file),
            _dir: Some(dir),
        },
        Candidate {
            name: "sqlite::memory:",
            store: Box::new(memory),
            _dir: None,
        },
    ];
    (Box::new(InMemoryStore::new()), candidates)
}

/// Runs `query` on the reference and on each SQLite store; the answers must be equal.
fn same<T: PartialEq + Debug>(
    reference: &dyn Store,
    others: &[Candidate],
    what: &str,
    query: impl Fn(&mut dyn Transaction) -> T,
) {
    let expected = query(&mut *reference.begin_read().unwrap());
    for c in others {
        let got = query(&mut *c.store.begin_read().unwrap());
        assert_eq!(got, expected, "{}: {what}", c.name);
    }
}

/// Every page of a cursor-paged listing, concatenated.
fn pages<T: Clone, C>(
    tx: &mut dyn Transaction,
    limit: usize,
    mut next: impl FnMut(&mut dyn Transaction, Option<C>, usize) -> Vec<T>,
    cursor_of: impl Fn(&T) -> C,
) -> Vec<Vec<T>> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = next(tx, cursor.take(), limit);
        if page.is_empty() {
            return out;
        }
        cursor = page.last().map(&cursor_of);
        out.push(page);
        assert!(out.len() < 1000, "paging does not end");
    }
}

#[test]
fn every_listing_matches_the_reference_store() {
    let data = generate();
    let (reference, others) = stores();
    load(&*reference, &data);
    for c in &others {
        load(&*c.store, &data);
    }
    let r = &*reference;
    let (b0, b1) = (data.businesses[0].id, data.businesses[1].id);

    for prefix in [
        "", "a", "al", "ali", "alice", "å", "b", "bo", "renamed", "stra", "strasse", "z", "ω",
        "inv", "zz",
    ] {
        for limit in [1, 3, 100] {
            same(
                r,
                &others,
                &format!("scan_user_keys({prefix:?}, {limit})"),
                |tx| {
                    pages(
                        tx,
                        limit,
                        |tx, after: Option<UserKeyCursor>, n| {
                            tx.scan_user_keys(prefix, after.as_ref(), n).unwrap()
                        },
                        |(key, user): &(String, User)| UserKeyCursor {
                            key: key.clone(),
                            user_id: user.id,
                        },
                    )
                },
            );
        }
    }
    same(r, &others, "scan after a cursor before the prefix", |tx| {
        let cursor = UserKeyCursor {
            key: "a".into(),
            user_id: data.users[0].id,
        };
        tx.scan_user_keys("b", Some(&cursor), 5).unwrap()
    });
    same(r, &others, "scan after a cursor past the prefix", |tx| {
        let cursor = UserKeyCursor {
            key: "c".into(),
            user_id: data.users[0].id,
        };
        tx.scan_user_keys("b", Some(&cursor), 5).unwrap()
    });
    same(r, &others, "list_users", |tx| {
        pages(
            tx,
            7,
            |tx, after, n| tx.list_users(after, n).unwrap(),
            |u: &User| u.id,
        )
    });
    same(r, &others, "users by id and key", |tx| {
        data.users
            .iter()
            .map(|u| {
                (
                    tx.get_user(u.id).unwrap(),
                    tx.get_user_by_email_key(&u.email_key).unwrap(),
                )
            })
            .collect::<Vec<_>>()
    });
    same(r, &others, "tenants", |tx| {
        (
            tx.list_businesses().unwrap(),
            tx.list_apps().unwrap(),
            [b0, b1].map(|b| tx.enabled_apps(b).unwrap()),
            tx.is_app_enabled(b1, data.apps[0].id).unwrap(),
            data.users
                .iter()
                .take(7)
                .map(|u| tx.admin_businesses(u.id).unwrap())
                .collect::<Vec<_>>(),
            tx.is_business_admin(b0, data.users[0].id).unwrap(),
            tx.is_business_admin(b0, data.users[2].id).unwrap(),
        )
    });
    same(r, &others, "subscriptions and seats", |tx| {
        let lists = [None, Some(data.apps[0].id), Some(data.apps[1].id)].map(|app| {
            (
                tx.list_subscriptions(b0, app).unwrap(),
                tx.list_subscriptions(b1, app).unwrap(),
            )
        });
        let seats: Vec<_> = data
            .subscriptions
            .iter()
            .map(|s| {
                (
                    tx.get_subscription(s.business_id, s.id).unwrap(),
                    tx.get_subscription(b0, s.id).unwrap().is_some() == (s.business_id == b0),
                    tx.seat_counts_for_update(s.business_id, s.id).unwrap(),
                    tx.seat_counts_for_update(if s.business_id == b0 { b1 } else { b0 }, s.id)
                        .err()
                        .map(|e| e.code()),
                    tx.count_memberships(s.id).unwrap(),
                    tx.count_pending_in_subscription(s.id).unwrap(),
                )
            })
            .collect();
        (lists, seats)
    });
    same(r, &others, "roles", |tx| {
        (
            data.apps
                .iter()
                .map(|a| tx.list_roles(a.id).unwrap())
                .collect::<Vec<_>>(),
            data.roles
                .iter()
                .map(|role| tx.get_role(role.id).unwrap())
                .collect::<Vec<_>>(),
        )
    });
    same(r, &others, "memberships", |tx| {
        let by_sub: Vec<_> = data
            .subscriptions
            .iter()
            .map(|s| {
                pages(
                    tx,
                    2,
                    |tx, after, n| tx.list_memberships(s.business_id, s.id, after, n).unwrap(),
                    |m: &Membership| m.id,
                )
            })
            .collect();
        let by_user: Vec<_> = data
            .users
            .iter()
            .map(|u| {
                (
                    tx.memberships_of_user(u.id, None).unwrap(),
                    tx.memberships_of_user(u.id, Some(b1)).unwrap(),
                    data.subscriptions
                        .iter()
                        .map(|s| tx.find_membership(b0, s.id, u.id).unwrap())
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        let single: Vec<_> = data
            .memberships
            .iter()
            .map(|m| {
                (
                    tx.get_membership(m.business_id, m.id).unwrap(),
                    tx.get_membership(b1, m.id).unwrap(),
                )
            })
            .collect();
        (by_sub, by_user, single)
    });
    let mut statuses: Vec<Option<InvitationStatus>> = vec![None];
    statuses.extend(InvitationStatus::ALL.iter().copied().map(Some));
    for business in [b0, b1] {
        for status in &statuses {
            for subscription in [
                None,
                Some(data.subscriptions[0].id),
                Some(data.subscriptions[1].id),
            ] {
                for (app, email_key) in [
                    (None, None),
                    (Some(data.apps[0].id), None),
                    (None, Some("inv3@example.com".to_owned())),
                ] {
                    let query = |after, limit| InvitationQuery {
                        business_id: business,
                        app_id: app,
                        subscription_id: subscription,
                        status: *status,
                        email_key: email_key.clone(),
                        now: now(),
                        after,
                        limit,
                    };
                    same(
                        r,
                        &others,
                        &format!("list_invitations {:?}", query(None, 4)),
                        |tx| {
                            pages(
                                tx,
                                4,
                                |tx, after, n| tx.list_invitations(&query(after, n)).unwrap(),
                                |i: &Invitation| i.id,
                            )
                        },
                    );
                }
            }
        }
    }
    same(r, &others, "invitations one by one", |tx| {
        data.invitations
            .iter()
            .map(|rec| {
                let inv = &rec.invitation;
                (
                    tx.get_invitation(inv.business_id, inv.id).unwrap(),
                    tx.get_invitation(if inv.business_id == b0 { b1 } else { b0 }, inv.id)
                        .unwrap(),
                    tx.get_invitation_by_token_hash(&rec.token_hash).unwrap(),
                    tx.find_pending_invitation(
                        inv.business_id,
                        inv.subscription_id,
                        &inv.email_key,
                    )
                    .unwrap()
                    .map(|r| r.invitation.id),
                )
            })
            .collect::<Vec<_>>()
    });
    for at in [
        now() - Duration::hours(4),
        now(),
        now() + Duration::hours(1),
        now() + Duration::days(9),
    ] {
        same(r, &others, &format!("overdue and due at {at}"), |tx| {
            let mut overdue = vec![
                tx.overdue_pending(at, None, 1000).unwrap(),
                tx.overdue_pending(at, None, 3).unwrap(),
            ];
            overdue.extend(
                data.subscriptions
                    .iter()
                    .map(|s| tx.overdue_pending(at, Some(s.id), 1000).unwrap()),
            );
            let due = (
                tx.due_messages(at, 1000).unwrap(),
                tx.due_messages(at, 2).unwrap(),
            );
            let created: Vec<_> = data
                .users
                .iter()
                .take(4)
                .map(|u| {
                    (
                        tx.count_created_by_inviter_since(u.id, at).unwrap(),
                        tx.count_resent_by_actor_since(u.id, at).unwrap(),
                    )
                })
                .collect();
            let overdue_counts: Vec<_> = data
                .subscriptions
                .iter()
                .map(|s| tx.count_overdue_pending(at, s.id).unwrap())
                .collect();
            (overdue, due, created, overdue_counts)
        });
    }
    same(r, &others, "pending counts", |tx| {
        (tx.count_pending(b0).unwrap(), tx.count_pending(b1).unwrap())
    });
    same(r, &others, "events", |tx| {
        let by_business = [b0, b1].map(|b| {
            pages(
                tx,
                5,
                |tx, after, n| tx.list_events(b, None, after, n).unwrap(),
                |e: &Event| e.id,
            )
        });
        let by_invitation: Vec<_> = data
            .invitations
            .iter()
            .take(20)
            .map(|rec| {
                let inv = &rec.invitation;
                (
                    pages(
                        tx,
                        2,
                        |tx, after, n| {
                            tx.list_events(inv.business_id, Some(inv.id), after, n)
                                .unwrap()
                        },
                        |e: &Event| e.id,
                    ),
                    tx.list_events(
                        if inv.business_id == b0 { b1 } else { b0 },
                        Some(inv.id),
                        None,
                        10,
                    )
                    .unwrap(),
                )
            })
            .collect();
        (by_business, by_invitation)
    });
    same(r, &others, "outbox", |tx| {
        let single: Vec<_> = data
            .messages
            .iter()
            .map(|m| tx.get_message(m.id).unwrap())
            .collect();
        let by_invitation: Vec<_> = data
            .invitations
            .iter()
            .map(|rec| {
                tx.messages_for_invitation(rec.invitation.business_id, rec.invitation.id)
                    .unwrap()
            })
            .collect();
        (single, by_invitation)
    });
}

#[test]
fn error_codes_match_the_reference_store() {
    let data = generate();
    let (reference, others) = stores();
    load(&*reference, &data);
    for c in &others {
        load(&*c.store, &data);
    }
    let (b0, b1) = (data.businesses[0].id, data.businesses[1].id);
    let code = |r: Result<()>| r.err().map(|e| e.code());
    let attempts = |tx: &mut dyn Transaction| -> Vec<Option<ErrorCode>> {
        let mut dup_user = data.users[1].clone();
        dup_user.id = UserId::from_uuid(uuid(1, 999));
        let mut taken_key = data.users[1].clone();
        taken_key.email_key = data.users[2].email_key.clone();
        let ghost_user = User {
            id: UserId::from_uuid(uuid(1, 998)),
            ..data.users[0].clone()
        };
        let mut dup_role = data.roles[0].clone();
        dup_role.id = RoleId::from_uuid(uuid(5, 999));
        let mut ghost_role_taken_key = data.roles[0].clone();
        ghost_role_taken_key.id = RoleId::from_uuid(uuid(5, 998));
        let ghost_role = Role {
            key: "nobody".into(),
            ..ghost_role_taken_key.clone()
        };
        let mut dup_seat = data.memberships[0].clone();
        dup_seat.id = MembershipId::from_uuid(uuid(6, 999));
        let mut dup_token = data.invitations[1].clone();
        dup_token.invitation.id = InvitationId::from_uuid(uuid(7, 999));
        let mut steal_token = data.invitations[1].clone();
        steal_token.token_hash = data.invitations[2].token_hash;
        steal_token.invitation.send_count += 5; // must not land either
        steal_token.invitation.status = InvitationStatus::Revoked;
        let ghost_invitation = dup_token.clone();
        let ghost_message = OutboxMessage {
            id: MessageId::from_uuid(uuid(9, 999)),
            ..data.messages[0].clone()
        };
        let ghost_business = Business {
            id: BusinessId::from_uuid(uuid(2, 999)),
            ..data.businesses[0].clone()
        };
        let ghost_app = Application {
            id: ApplicationId::from_uuid(uuid(3, 999)),
            ..data.apps[0].clone()
        };
        let ghost_sub = Subscription {
            id: SubscriptionId::from_uuid(uuid(4, 999)),
            ..data.subscriptions[0].clone()
        };
        let other_b = |b| if b == b0 { b1 } else { b0 };
        vec![
            code(tx.insert_user(&dup_user)),
            code(tx.insert_user(&data.users[3])),
            code(tx.update_user(&taken_key)),
            code(tx.update_user(&ghost_user)),
            code(tx.insert_business(&data.businesses[0])),
            code(tx.update_business(&ghost_business)),
            code(tx.insert_app(&data.apps[0])),
            code(tx.update_app(&ghost_app)),
            code(tx.insert_subscription(&data.subscriptions[0])),
            code(tx.update_subscription(&ghost_sub)),
            code(tx.set_seat_counts(ghost_sub.id, SeatCounts::default())),
            tx.seat_counts_for_update(
                other_b(data.subscriptions[0].business_id),
                data.subscriptions[0].id,
            )
            .err()
            .map(|e| e.code()),
            code(tx.insert_role(&dup_role)),
            code(tx.update_role(&ghost_role_taken_key)),
            code(tx.update_role(&ghost_role)),
            code(tx.insert_membership(&dup_seat)),
            code(tx.delete_membership(
                other_b(data.memberships[0].business_id),
                data.memberships[0].id,
            )),
            code(tx.insert_invitation(&dup_token)),
            code(tx.update_invitation(&steal_token)),
            code(tx.update_invitation(&ghost_invitation)),
            code(tx.append_event(&data.events[0])),
            code(tx.enqueue_message(&data.messages[0])),
            code(tx.update_message(&ghost_message)),
        ]
    };
    let expected = attempts(&mut *reference.begin().unwrap());
    assert!(
        expected.iter().all(Option::is_some),
        "every attempt fails on the reference: {expected:?}"
    );
    for c in &others {
        let mut tx = c.store.begin().unwrap();
        assert_eq!(attempts(&mut *tx), expected, "{}", c.name);
        // The failed statements left the transaction usable and changed nothing.
        tx.commit().unwrap();
    }
    same(&*reference, &others, "nothing changed", |tx| {
        (
            tx.list_users(None, 1000).unwrap(),
            tx.list_roles(data.apps[0].id).unwrap(),
            tx.count_pending(b0).unwrap(),
            data.invitations
                .iter()
                .map(|r| {
                    tx.get_invitation(r.invitation.business_id, r.invitation.id)
                        .unwrap()
                })
                .collect::<Vec<_>>(),
            data.messages
                .iter()
                .map(|m| tx.get_message(m.id).unwrap())
                .collect::<Vec<_>>(),
        )
    });
}

#[test]
fn idempotency_records_are_replaced_per_business_and_key() {
    let (reference, others) = stores();
    let record = |business: u64, key: &str, fingerprint: &str| IdempotencyRecord {
        business_id: BusinessId::from_uuid(uuid(2, business)),
        key: key.into(),
        fingerprint: fingerprint.into(),
        result: format!("{{\"fp\":\"{fingerprint}\"}}"),
        created_at: now(),
        expires_at: now() + Duration::nanoseconds(86_400_000_000_001),
    };
    for store in std::iter::once(&*reference).chain(others.iter().map(|c| &*c.store)) {
        let mut tx = store.begin().unwrap();
        tx.put_idempotency(&record(1, "k", "first")).unwrap();
        tx.put_idempotency(&record(2, "k", "other business"))
            .unwrap();
        tx.put_idempotency(&record(1, "k", "second")).unwrap();
        tx.commit().unwrap();
    }
    same(&*reference, &others, "idempotency", |tx| {
        let b = |n| BusinessId::from_uuid(uuid(2, n));
        (
            tx.get_idempotency(b(1), "k").unwrap(),
            tx.get_idempotency(b(2), "k").unwrap(),
            tx.get_idempotency(b(1), "K").unwrap(),
        )
    });
    let got = others[0]
        .store
        .begin_read()
        .unwrap()
        .get_idempotency(BusinessId::from_uuid(uuid(2, 1)), "k")
        .unwrap();
    assert_eq!(got, Some(record(1, "k", "second")));
}
