//! The PostgreSQL adapter at the port: the same calls on the in-memory reference store
//! and on PostgreSQL must answer the same (ordering, scoping, unique keys, NOT_FOUND,
//! effective status, search index), plus what only a shared server has (row locks,
//! SKIP LOCKED, stale updates, concurrent first-writers, aborted transactions, bounded
//! round trips). Without `INVITE_TEST_POSTGRES_URL` every test prints SKIPPED.
#![cfg(feature = "postgres")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod common;
mod postgres_support;

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use invite_core::store::postgres::{PostgresOptions, PostgresStore};
use invite_core::store::{InvitationQuery, Transaction, UserKeyCursor};
use invite_core::token::TokenHash;
use invite_core::{
    AcceptRequest, Application, ApplicationId, Business, BusinessId, CapturingMailer,
    DeliveryStatus, ErrorCode, Event, EventId, EventKind, IdempotencyRecord, InMemoryStore,
    Invitation, InvitationId, InvitationRecord, InvitationStatus, Invitee, Membership,
    MembershipId, MessageId, OutboxMessage, OutboxState, Role, RoleId, SeatCounts, Store,
    Subscription, SubscriptionId, SubscriptionStatus, User, UserId,
};
use postgres_support::{ScopedStore, TestDb};
use uuid::Uuid;

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_772_442_000 + secs, 0).unwrap()
}

/// Time-ordered ids: `n` picks the order, `kind` keeps kinds apart.
fn uid(kind: u8, n: u8) -> Uuid {
    Uuid::from_u128((u128::from(n) << 64) | u128::from(kind))
}

/// A result as text: the value's `Debug`, or only the error's code.
fn show<T: Debug>(result: invite_core::Result<T>) -> String {
    match result {
        Ok(value) => format!("Ok({value:?})"),
        Err(e) => format!("Err({})", e.code()),
    }
}

fn user(n: u8, email: &str, first: &str, last: &str) -> User {
    User {
        id: UserId::from_uuid(uid(1, n)),
        email: email.into(),
        email_key: email.to_lowercase(),
        first_name: first.into(),
        last_name: last.into(),
        created_at: at(i64::from(n)),
    }
}

fn invitation(n: u8, business: BusinessId, sub: SubscriptionId, email: &str) -> InvitationRecord {
    InvitationRecord {
        invitation: Invitation {
            id: InvitationId::from_uuid(uid(7, n)),
            business_id: business,
            app_id: ApplicationId::from_uuid(uid(3, 1)),
            subscription_id: sub,
            role_id: RoleId::from_uuid(uid(5, 1)),
            invitee: Invitee::New {
                first_name: "New".into(),
                last_name: format!("Person{n}"),
            },
            email: email.into(),
            email_key: email.to_lowercase(),
            inviter_id: UserId::from_uuid(uid(1, 1)),
            status: InvitationStatus::Pending,
            locale: Some("fr".into()),
            created_at: at(100 + i64::from(n)),
            expires_at: at(1_000 - i64::from(n) * 10),
            last_sent_at: at(100 + i64::from(n)),
            send_count: 1,
            responded_at: None,
            accepted_user_id: None,
            delivery: DeliveryStatus::queued(),
        },
        token_hash: TokenHash([n; 32]),
    }
}

fn message(n: u8, business: BusinessId, inv: InvitationId, due: i64) -> OutboxMessage {
    OutboxMessage {
        id: MessageId::from_uuid(uid(8, n)),
        business_id: business,
        invitation_id: inv,
        sealed_token: Some(format!("sealed-{n}")),
        state: OutboxState::Queued,
        attempts: 0,
        next_attempt_at: at(due),
        last_error: None,
        created_at: at(due),
    }
}

/// Every port method, with the answers written down. Run on both stores.
fn scenario(store: &dyn Store) -> Vec<String> {
    let mut out = Vec::new();
    let mut log = |label: &str, text: String| out.push(format!("{label}: {text}"));
    let acme = Business {
        id: BusinessId::from_uuid(uid(2, 2)),
        name: "Acme".into(),
        created_at: at(0),
    };
    let globex = Business {
        id: BusinessId::from_uuid(uid(2, 1)),
        name: "Globex".into(),
        created_at: at(0),
    };
    let app = Application {
        id: ApplicationId::from_uuid(uid(3, 1)),
        name: "Billing".into(),
        created_at: at(0),
    };
    let other_app = Application {
        id: ApplicationId::from_uuid(uid(3, 2)),
        name: "Other".into(),
        created_at: at(0),
    };
    let sub = |n: u8, business: BusinessId, app: ApplicationId, seats: Option<u32>| Subscription {
        id: SubscriptionId::from_uuid(uid(4, n)),
        business_id: business,
        app_id: app,
        plan: format!("plan {n}"),
        seats,
        status: SubscriptionStatus::Active,
        valid_from: Some(at(-10)),
        valid_until: None,
        created_at: at(1),
    };
    let s1 = sub(1, acme.id, app.id, Some(3));
    let s2 = sub(2, acme.id, other_app.id, None);
    let s3 = sub(3, globex.id, app.id, Some(1));
    let role = |n: u8, key: &str| Role {
        id: RoleId::from_uuid(uid(5, n)),
        app_id: app.id,
        key: key.into(),
        name: key.to_uppercase(),
        permissions: ["b.read", "a.write"]
            .iter()
            .map(|p| p.to_string())
            .collect::<BTreeSet<_>>(),
        created_at: at(2),
    };

    // Catalog, in one transaction that keeps going after refused writes.
    let mut tx = store.begin().unwrap();
    let ada = user(1, "Ada@Example.com", "Ada", "Lovelace");
    let bob = user(2, "bob@example.com", "Bob", "Baker");
    let ana = user(3, "ana@example.com", "Ána", "Ánderson");
    let zed = user(4, "zed@example.com", "Zed", "Ada");
    for u in [&zed, &ada, &bob, &ana] {
        log("insert_user", show(tx.insert_user(u)));
    }
    log(
        "insert_user dup key",
        show(tx.insert_user(&user(9, "ADA@example.com", "X", "Y"))),
    );
    log(
        "insert_user dup id",
        show(tx.insert_user(&user(1, "other@example.com", "X", "Y"))),
    );
    log(
        "update_user missing",
        show(tx.update_user(&user(8, "m@example.com", "M", "M"))),
    );
    let mut taken = bob.clone();
    taken.email_key = "ada@example.com".into();
    log("update_user taken", show(tx.update_user(&taken)));
    let mut renamed = bob.clone();
    renamed.first_name = "Robert".into();
    log("update_user", show(tx.update_user(&renamed)));
    for b in [&acme, &globex] {
        log("insert_business", show(tx.insert_business(b)));
    }
    log("insert_business dup", show(tx.insert_business(&acme)));
    let ghost = Business {
        id: BusinessId::from_uuid(uid(2, 9)),
        name: "Ghost".into(),
        created_at: at(0),
    };
    log("update_business missing", show(tx.update_business(&ghost)));
    log(
        "update_business",
        show(tx.update_business(&Business {
            name: "Acme Inc".into(),
            ..acme.clone()
        })),
    );
    for a in [&other_app, &app] {
        log("insert_app", show(tx.insert_app(a)));
    }
    log(
        "update_app missing",
        show(tx.update_app(&Application {
            id: ApplicationId::from_uuid(uid(3, 9)),
            ..app.clone()
        })),
    );
    log(
        "enable",
        show(tx.set_app_enabled(acme.id, other_app.id, true)),
    );
    log("enable", show(tx.set_app_enabled(acme.id, app.id, true)));
    log(
        "enable again",
        show(tx.set_app_enabled(acme.id, app.id, true)),
    );
    log(
        "enable then disable",
        show(tx.set_app_enabled(globex.id, app.id, true)),
    );
    log(
        "disable",
        show(tx.set_app_enabled(globex.id, app.id, false)),
    );
    log("admin", show(tx.set_business_admin(acme.id, ada.id, true)));
    log(
        "admin",
        show(tx.set_business_admin(globex.id, ada.id, true)),
    );
    log(
        "admin",
        show(tx.set_business_admin(globex.id, bob.id, true)),
    );
    log(
        "admin off",
        show(tx.set_business_admin(globex.id, bob.id, false)),
    );
    for s in [&s1, &s2, &s3] {
        log("insert_subscription", show(tx.insert_subscription(s)));
    }
    log(
        "update_subscription missing",
        show(tx.update_subscription(&sub(9, acme.id, app.id, None))),
    );
    log(
        "update_subscription",
        show(tx.update_subscription(&Subscription {
            plan: "Team+".into(),
            seats: Some(4),
            ..s1.clone()
        })),
    );
    log(
        "set_seat_counts",
        show(tx.set_seat_counts(
            s1.id,
            SeatCounts {
                used: 1,
                reserved: 2,
            },
        )),
    );
    log(
        "set_seat_counts missing",
        show(tx.set_seat_counts(SubscriptionId::from_uuid(uid(4, 9)), SeatCounts::default())),
    );
    log("insert_role", show(tx.insert_role(&role(2, "member"))));
    log("insert_role", show(tx.insert_role(&role(1, "owner"))));
    log(
        "insert_role dup key",
        show(tx.insert_role(&role(3, "member"))),
    );
    log(
        "update_role taken",
        show(tx.update_role(&role(1, "member"))),
    );
    log(
        "update_role missing",
        show(tx.update_role(&role(4, "viewer"))),
    );
    log(
        "update_role",
        show(tx.update_role(&Role {
            name: "Boss".into(),
            ..role(1, "owner")
        })),
    );
    let membership = |n: u8, s: &Subscription, u: &User| Membership {
        id: MembershipId::from_uuid(uid(6, n)),
        business_id: s.business_id,
        subscription_id: s.id,
        app_id: s.app_id,
        user_id: u.id,
        role_id: RoleId::from_uuid(uid(5, 2)),
        created_at: at(5),
    };
    for m in [
        membership(3, &s1, &bob),
        membership(1, &s1, &ada),
        membership(2, &s2, &ada),
        membership(4, &s3, &ada),
    ] {
        log("insert_membership", show(tx.insert_membership(&m)));
    }
    log(
        "insert_membership dup seat",
        show(tx.insert_membership(&membership(5, &s1, &bob))),
    );
    log(
        "delete_membership other business",
        show(tx.delete_membership(globex.id, MembershipId::from_uuid(uid(6, 1)))),
    );
    log(
        "delete_membership",
        show(tx.delete_membership(acme.id, MembershipId::from_uuid(uid(6, 3)))),
    );
    log(
        "delete_membership again",
        show(tx.delete_membership(acme.id, MembershipId::from_uuid(uid(6, 3)))),
    );
    let i1 = invitation(1, acme.id, s1.id, "new1@example.com");
    let i2 = invitation(2, acme.id, s1.id, "new2@example.com");
    let mut i3 = invitation(3, globex.id, s3.id, "new3@example.com");
    i3.invitation.invitee = Invitee::Existing { user_id: bob.id };
    let mut i4 = invitation(4, acme.id, s1.id, "gone@example.com");
    i4.invitation.status = InvitationStatus::Revoked;
    i4.invitation.responded_at = Some(at(150));
    for r in [&i2, &i1, &i3, &i4] {
        log("insert_invitation", show(tx.insert_invitation(r)));
    }
    let mut dup_token = invitation(5, acme.id, s2.id, "other@example.com");
    dup_token.token_hash = i1.token_hash;
    log(
        "insert_invitation dup token",
        show(tx.insert_invitation(&dup_token)),
    );
    log(
        "update_invitation missing",
        show(tx.update_invitation(&invitation(6, acme.id, s1.id, "x@example.com"))),
    );
    let mut i2b = i2.clone();
    i2b.invitation.send_count = 2;
    i2b.invitation.delivery.attempts = 3;
    i2b.invitation.delivery.last_error = Some("mailbox full".into());
    i2b.token_hash = TokenHash([42; 32]);
    log("update_invitation", show(tx.update_invitation(&i2b)));
    let event = |n: u8, inv: &InvitationRecord, kind: EventKind| Event {
        id: EventId::from_uuid(uid(9, n)),
        business_id: inv.invitation.business_id,
        invitation_id: inv.invitation.id,
        kind,
        actor_id: if n.is_multiple_of(2) {
            Some(ada.id)
        } else {
            None
        },
        at: at(200 + i64::from(n)),
        detail: Some(format!("detail {n}")),
    };
    for e in [
        event(2, &i1, EventKind::Sent),
        event(1, &i1, EventKind::Created),
        event(3, &i2, EventKind::Created),
        event(4, &i3, EventKind::Created),
        event(5, &i1, EventKind::DeliveryFailed),
    ] {
        log("append_event", show(tx.append_event(&e)));
    }
    log(
        "append_event dup",
        show(tx.append_event(&event(1, &i1, EventKind::Created))),
    );
    for m in [
        message(2, acme.id, i1.invitation.id, 50),
        message(1, acme.id, i2.invitation.id, 60),
        message(3, acme.id, i1.invitation.id, 40),
        message(4, globex.id, i3.invitation.id, 500),
    ] {
        log("enqueue_message", show(tx.enqueue_message(&m)));
    }
    log(
        "enqueue_message dup",
        show(tx.enqueue_message(&message(1, acme.id, i2.invitation.id, 60))),
    );
    let mut sent = message(3, acme.id, i1.invitation.id, 40);
    sent.state = OutboxState::Sent;
    sent.sealed_token = None;
    sent.attempts = 1;
    log("update_message", show(tx.update_message(&sent)));
    log(
        "update_message missing",
        show(tx.update_message(&message(7, acme.id, i1.invitation.id, 1))),
    );
    let record = |key: &str, fp: &str, expires: i64| IdempotencyRecord {
        business_id: acme.id,
        key: key.into(),
        fingerprint: fp.into(),
        result: format!("[\"{fp}\"]"),
        created_at: at(10),
        expires_at: at(expires),
    };
    log(
        "put_idempotency",
        show(tx.put_idempotency(&record("k1", "aaa", 100))),
    );
    log(
        "put_idempotency replace",
        show(tx.put_idempotency(&record("k1", "bbb", 200))),
    );
    log("commit", show(tx.commit()));

    // Reads, in a fresh write transaction and then in a read transaction.
    for read_only in [false, true] {
        let mut tx = if read_only {
            store.begin_read().unwrap()
        } else {
            store.begin().unwrap()
        };
        let tx: &mut dyn Transaction = &mut *tx;
        log("mode", format!("read_only={read_only}"));
        log("get_user", show(tx.get_user(ada.id)));
        log(
            "get_user missing",
            show(tx.get_user(UserId::from_uuid(uid(1, 9)))),
        );
        log(
            "get_user_by_email_key",
            show(tx.get_user_by_email_key("bob@example.com")),
        );
        log(
            "get_user_by_email_key nul",
            show(tx.get_user_by_email_key("bob@\0example.com")),
        );
        log("list_users", show(tx.list_users(None, 10)));
        log("list_users after", show(tx.list_users(Some(ada.id), 2)));
        for prefix in [
            "",
            "a",
            "ad",
            "ada@",
            "robert",
            "bob",
            "á",
            "\u{10FFFF}",
            "z",
            "nul\0",
        ] {
            log(
                &format!("scan {prefix:?}"),
                show(tx.scan_user_keys(prefix, None, 100)),
            );
        }
        let first = tx.scan_user_keys("a", None, 2).unwrap();
        let cursor = first.last().map(|(key, u)| UserKeyCursor {
            key: key.clone(),
            user_id: u.id,
        });
        log(
            "scan page 2",
            show(tx.scan_user_keys("a", cursor.as_ref(), 2)),
        );
        let before = UserKeyCursor {
            key: "0".into(),
            user_id: bob.id,
        };
        log(
            "scan cursor before prefix",
            show(tx.scan_user_keys("a", Some(&before), 3)),
        );
        log("get_business", show(tx.get_business(acme.id)));
        log("list_businesses", show(tx.list_businesses()));
        log("get_app", show(tx.get_app(other_app.id)));
        log("list_apps", show(tx.list_apps()));
        log("enabled_apps", show(tx.enabled_apps(acme.id)));
        log("enabled_apps globex", show(tx.enabled_apps(globex.id)));
        log("is_app_enabled", show(tx.is_app_enabled(acme.id, app.id)));
        log(
            "is_app_enabled no",
            show(tx.is_app_enabled(globex.id, app.id)),
        );
        log(
            "is_business_admin",
            show(tx.is_business_admin(globex.id, ada.id)),
        );
        log(
            "is_business_admin no",
            show(tx.is_business_admin(globex.id, bob.id)),
        );
        log("admin_businesses", show(tx.admin_businesses(ada.id)));
        log(
            "get_subscription",
            show(tx.get_subscription(acme.id, s1.id)),
        );
        log(
            "get_subscription other business",
            show(tx.get_subscription(globex.id, s1.id)),
        );
        log(
            "list_subscriptions",
            show(tx.list_subscriptions(acme.id, None)),
        );
        log(
            "list_subscriptions app",
            show(tx.list_subscriptions(acme.id, Some(app.id))),
        );
        log(
            "seat_counts",
            show(tx.seat_counts_for_update(acme.id, s1.id)),
        );
        log(
            "seat_counts other business",
            show(tx.seat_counts_for_update(globex.id, s1.id)),
        );
        log("get_role", show(tx.get_role(RoleId::from_uuid(uid(5, 1)))));
        log("list_roles", show(tx.list_roles(app.id)));
        log(
            "get_membership",
            show(tx.get_membership(acme.id, MembershipId::from_uuid(uid(6, 1)))),
        );
        log(
            "get_membership other business",
            show(tx.get_membership(globex.id, MembershipId::from_uuid(uid(6, 1)))),
        );
        log(
            "find_membership",
            show(tx.find_membership(acme.id, s1.id, ada.id)),
        );
        log(
            "find_membership deleted",
            show(tx.find_membership(acme.id, s1.id, bob.id)),
        );
        log(
            "memberships_of_user",
            show(tx.memberships_of_user(ada.id, None)),
        );
        log(
            "memberships_of_user acme",
            show(tx.memberships_of_user(ada.id, Some(acme.id))),
        );
        log(
            "list_memberships",
            show(tx.list_memberships(acme.id, s1.id, None, 10)),
        );
        log(
            "list_memberships after",
            show(tx.list_memberships(acme.id, s1.id, Some(MembershipId::from_uuid(uid(6, 1))), 10)),
        );
        log("count_memberships", show(tx.count_memberships(s1.id)));
        log(
            "get_invitation",
            show(tx.get_invitation(acme.id, i2.invitation.id)),
        );
        log(
            "get_invitation other business",
            show(tx.get_invitation(globex.id, i2.invitation.id)),
        );
        log(
            "by token",
            show(tx.get_invitation_by_token_hash(&TokenHash([42; 32]))),
        );
        log(
            "by old token",
            show(tx.get_invitation_by_token_hash(&i2.token_hash)),
        );
        log(
            "find_pending",
            show(tx.find_pending_invitation(acme.id, s1.id, "new1@example.com")),
        );
        log(
            "find_pending revoked",
            show(tx.find_pending_invitation(acme.id, s1.id, "gone@example.com")),
        );
        for (now, status) in [
            (at(0), None),
            (at(0), Some(InvitationStatus::Pending)),
            (at(985), Some(InvitationStatus::Pending)),
            (at(985), Some(InvitationStatus::Expired)),
            (at(980), Some(InvitationStatus::Expired)),
            (at(0), Some(InvitationStatus::Revoked)),
        ] {
            let query = InvitationQuery {
                business_id: acme.id,
                app_id: None,
                subscription_id: None,
                status,
                email_key: None,
                now,
                after: None,
                limit: 10,
            };
            log(
                &format!("list_invitations {status:?} at {now}"),
                show(
                    tx.list_invitations(&query)
                        .map(|v| v.iter().map(|i| i.id).collect::<Vec<_>>()),
                ),
            );
        }
        let query = InvitationQuery {
            business_id: acme.id,
            app_id: Some(app.id),
            subscription_id: Some(s1.id),
            status: None,
            email_key: Some("new2@example.com".into()),
            now: at(0),
            after: None,
            limit: 10,
        };
        log(
            "list_invitations filtered",
            show(tx.list_invitations(&query)),
        );
        let query = InvitationQuery {
            after: Some(i1.invitation.id),
            limit: 1,
            email_key: None,
            ..query
        };
        log(
            "list_invitations page",
            show(
                tx.list_invitations(&query)
                    .map(|v| v.iter().map(|i| i.id).collect::<Vec<_>>()),
            ),
        );
        log(
            "overdue_pending",
            show(
                tx.overdue_pending(at(990), None, 10)
                    .map(|v| v.iter().map(|r| r.invitation.id).collect::<Vec<_>>()),
            ),
        );
        log(
            "overdue_pending all",
            show(
                tx.overdue_pending(at(5_000), None, 10)
                    .map(|v| v.iter().map(|r| r.invitation.id).collect::<Vec<_>>()),
            ),
        );
        log(
            "overdue_pending sub",
            show(
                tx.overdue_pending(at(5_000), Some(s3.id), 10)
                    .map(|v| v.len()),
            ),
        );
        log("count_pending", show(tx.count_pending(acme.id)));
        log(
            "count_pending_in_subscription",
            show(tx.count_pending_in_subscription(s1.id)),
        );
        log(
            "count_created_by_inviter_since",
            show(tx.count_created_by_inviter_since(ada.id, at(102))),
        );
        log("list_events", show(tx.list_events(acme.id, None, None, 10)));
        log(
            "list_events invitation",
            show(tx.list_events(
                acme.id,
                Some(i1.invitation.id),
                Some(EventId::from_uuid(uid(9, 1))),
                1,
            )),
        );
        log(
            "list_events other business",
            show(tx.list_events(globex.id, Some(i1.invitation.id), None, 10)),
        );
        log(
            "get_message",
            show(tx.get_message(MessageId::from_uuid(uid(8, 3)))),
        );
        log("due_messages", show(tx.due_messages(at(55), 10)));
        log(
            "due_messages limit",
            show(tx.due_messages(at(1_000), 1).map(|v| v.len())),
        );
        log(
            "messages_for_invitation",
            show(tx.messages_for_invitation(acme.id, i1.invitation.id)),
        );
        log(
            "messages_for_invitation other business",
            show(tx.messages_for_invitation(globex.id, i1.invitation.id)),
        );
        log("get_idempotency", show(tx.get_idempotency(acme.id, "k1")));
        log(
            "get_idempotency other business",
            show(tx.get_idempotency(globex.id, "k1")),
        );
        log(
            "get_idempotency missing",
            show(tx.get_idempotency(acme.id, "k2")),
        );
    }
    out
}

#[test]
fn every_port_method_answers_like_the_reference_store() {
    let Some(pg) = ScopedStore::fresh() else {
        return;
    };
    let memory = scenario(&InMemoryStore::new());
    let postgres = scenario(&pg);
    for (m, p) in memory.iter().zip(&postgres) {
        assert_eq!(m, p, "PostgreSQL differs from the reference store");
    }
    assert_eq!(memory.len(), postgres.len());
    eprintln!(
        "{} answers compared; e.g. {}",
        memory.len(),
        memory[memory.len() / 2]
    );
    assert!(
        memory
            .iter()
            .any(|line| line.contains("Err(ALREADY_EXISTS)")),
        "the scenario exercises refusals"
    );
}

#[test]
fn a_flow_takes_a_bounded_number_of_round_trips() {
    let Some(db) = TestDb::new() else { return };
    // One connection: every statement is prepared once, then reused.
    let store = Arc::new(db.store_with(PostgresOptions::default().max_connections(1)));
    let w = common::World::new(store.clone());
    let warm = w
        .service
        .send(&w.invite_new("Warm", "Up", "warm@example.com"))
        .unwrap();
    w.service
        .accept(&AcceptRequest::new(warm.token.expose()))
        .unwrap();
    let before = store.round_trips();
    let sent = w
        .service
        .send(&w.invite_new("Bob", "Baker", "bob@example.com"))
        .unwrap();
    let send = store.round_trips() - before;
    let before = store.round_trips();
    w.service
        .accept(&AcceptRequest::new(sent.token.expose()))
        .unwrap();
    let accept = store.round_trips() - before;
    eprintln!("round trips: send {send}, accept {accept}");
    assert!(send <= 18, "send took {send} round trips");
    assert!(accept <= 24, "accept took {accept} round trips");

    // A dispatch: per email, two in the claim (its invitation, its lease) and four in
    // the bookkeeping (its message read and written, the invitation's delivery, the
    // event); per batch, the transactions, the due query and the names read once.
    let emails = 10;
    for i in 0..emails {
        w.service
            .send(
                &w.invite_new("Dee", "Patch", &format!("dee{i}@example.com"))
                    .subscription(w.unlimited.id),
            )
            .unwrap();
    }
    let before = store.round_trips();
    let report = w.service.dispatch_outbox(&CapturingMailer::new()).unwrap();
    let dispatch = store.round_trips() - before;
    eprintln!("round trips: dispatch of {emails} emails {dispatch}");
    assert_eq!(report.delivered, emails);
    assert!(
        dispatch <= 6 * u64::from(emails) + 20,
        "dispatching {emails} emails took {dispatch} round trips"
    );
}

#[test]
fn the_seat_lock_makes_a_second_writer_wait_for_fresh_counters() {
    let Some(pg) = ScopedStore::fresh() else {
        return;
    };
    let w = common::World::new(Arc::new(pg));
    let store = w.service.store().clone();
    let (business, sub) = (w.business.id, w.subscription.id);
    let mut first = store.begin().unwrap();
    let counts = first.seat_counts_for_update(business, sub).unwrap();
    first
        .set_seat_counts(
            sub,
            SeatCounts {
                used: counts.used + 1,
                ..counts
            },
        )
        .unwrap();
    let (done, waited) = mpsc::channel();
    let second = {
        let store = store.clone();
        std::thread::spawn(move || {
            let mut tx = store.begin().unwrap();
            let seen = tx.seat_counts_for_update(business, sub).unwrap();
            done.send(seen).unwrap();
        })
    };
    assert!(
        waited.recv_timeout(Duration::from_millis(400)).is_err(),
        "the second writer did not wait for the lock"
    );
    first.commit().unwrap();
    let seen = waited.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(
        seen.used,
        counts.used + 1,
        "the second writer reads the committed counters"
    );
    second.join().unwrap();
}

#[test]
fn dispatchers_skip_messages_claimed_by_another() {
    let Some(pg) = ScopedStore::fresh() else {
        return;
    };
    let w = common::World::new(Arc::new(pg));
    for i in 0..3 {
        w.service
            .send(&w.invite_new("D", "D", &format!("d{i}@example.com")))
            .unwrap();
    }
    let store = w.service.store();
    let now = w.service.now();
    let mut a = store.begin().unwrap();
    let mut b = store.begin().unwrap();
    let claimed_a: BTreeSet<_> = a
        .due_messages(now, 2)
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    let claimed_b: BTreeSet<_> = b
        .due_messages(now, 10)
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!((claimed_a.len(), claimed_b.len()), (2, 1));
    assert!(
        claimed_a.is_disjoint(&claimed_b),
        "no message is claimed twice"
    );
    let mut reader = store.begin_read().unwrap();
    assert_eq!(
        reader.due_messages(now, 10).unwrap().len(),
        3,
        "readers take no locks and skip nothing"
    );
}

#[test]
fn an_update_from_a_stale_read_is_a_conflict() {
    let Some(pg) = ScopedStore::fresh() else {
        return;
    };
    let w = common::World::new(Arc::new(pg));
    let sent = w
        .service
        .send(&w.invite_new("S", "S", "stale@example.com"))
        .unwrap();
    let store = w.service.store();
    let (business, inv) = (w.business.id, sent.invitation.id);
    let mut stale = store.begin().unwrap();
    let message = stale
        .messages_for_invitation(business, inv)
        .unwrap()
        .remove(0);
    let mut other = store.begin().unwrap();
    let mut fresh = other.get_message(message.id).unwrap().unwrap();
    fresh.attempts = 5;
    other.update_message(&fresh).unwrap();
    other.commit().unwrap();
    let mut cancelled = message.clone();
    cancelled.state = OutboxState::Cancelled;
    assert_eq!(
        stale.update_message(&cancelled).unwrap_err().code(),
        ErrorCode::StorageConflict
    );
    drop(stale);
    // A transaction that read the latest version may write it, twice.
    let mut tx = store.begin().unwrap();
    let mut latest = tx.get_message(message.id).unwrap().unwrap();
    assert_eq!(latest.attempts, 5);
    latest.attempts = 6;
    tx.update_message(&latest).unwrap();
    latest.attempts = 7;
    tx.update_message(&latest).unwrap();
    tx.commit().unwrap();
}

#[test]
fn invitation_reads_in_write_transactions_wait_for_the_writer() {
    let Some(pg) = ScopedStore::fresh() else {
        return;
    };
    let w = common::World::new(Arc::new(pg));
    let sent = w
        .service
        .send(&w.invite_new("L", "L", "lock@example.com"))
        .unwrap();
    let store = w.service.store().clone();
    let (business, id) = (w.business.id, sent.invitation.id);
    let mut first = store.begin().unwrap();
    let mut record = first.get_invitation(business, id).unwrap().unwrap();
    record.invitation.send_count = 9;
    first.update_invitation(&record).unwrap();
    let (done, waited) = mpsc::channel();
    let second = {
        let store = store.clone();
        std::thread::spawn(move || {
            let mut tx = store.begin().unwrap();
            let seen = tx.get_invitation(business, id).unwrap().unwrap();
            done.send(seen.invitation.send_count).unwrap();
        })
    };
    // Readers do not wait.
    let mut reader = store.begin_read().unwrap();
    assert_eq!(
        reader
            .get_invitation(business, id)
            .unwrap()
            .unwrap()
            .invitation
            .send_count,
        1
    );
    assert!(
        waited.recv_timeout(Duration::from_millis(400)).is_err(),
        "the second writer did not wait"
    );
    first.commit().unwrap();
    assert_eq!(waited.recv_timeout(Duration::from_secs(10)).unwrap(), 9);
    second.join().unwrap();
}

#[test]
fn a_concurrent_first_writer_is_a_conflict_a_visible_duplicate_already_exists() {
    let Some(pg) = ScopedStore::fresh() else {
        return;
    };
    let store: Arc<dyn Store> = Arc::new(pg);
    let business = BusinessId::from_uuid(uid(2, 1));
    let idem = |fp: &str| IdempotencyRecord {
        business_id: business,
        key: "k".into(),
        fingerprint: fp.into(),
        result: "[]".into(),
        created_at: at(0),
        expires_at: at(10),
    };
    // `late` begins (its snapshot) before `early` commits the same keys.
    let mut late = store.begin().unwrap();
    let mut early = store.begin().unwrap();
    early
        .insert_user(&user(1, "same@example.com", "A", "A"))
        .unwrap();
    early.put_idempotency(&idem("first")).unwrap();
    early.commit().unwrap();
    assert_eq!(
        late.insert_user(&user(2, "same@example.com", "B", "B"))
            .unwrap_err()
            .code(),
        ErrorCode::StorageConflict
    );
    assert_eq!(
        late.put_idempotency(&idem("second")).unwrap_err().code(),
        ErrorCode::StorageConflict
    );
    drop(late);
    // A transaction that began after the commit sees the rows: plain duplicates.
    let mut tx = store.begin().unwrap();
    assert_eq!(
        tx.insert_user(&user(3, "same@example.com", "C", "C"))
            .unwrap_err()
            .code(),
        ErrorCode::AlreadyExists
    );
    tx.put_idempotency(&idem("replaced")).unwrap();
    tx.commit().unwrap();
    let mut tx = store.begin_read().unwrap();
    assert_eq!(
        tx.get_idempotency(business, "k")
            .unwrap()
            .unwrap()
            .fingerprint,
        "replaced"
    );
    assert_eq!(
        tx.get_user_by_email_key("same@example.com")
            .unwrap()
            .unwrap()
            .first_name,
        "A"
    );
}

#[test]
fn a_transaction_aborted_by_the_server_cannot_commit() {
    let Some(pg) = ScopedStore::fresh() else {
        return;
    };
    let store: Arc<dyn Store> = Arc::new(pg);
    let business = BusinessId::from_uuid(uid(2, 1));
    let sub = SubscriptionId::from_uuid(uid(4, 1));
    let mut tx = store.begin().unwrap();
    tx.insert_invitation(&invitation(1, business, sub, "a@example.com"))
        .unwrap();
    tx.insert_invitation(&invitation(2, business, sub, "b@example.com"))
        .unwrap();
    // Taking another invitation's token: PostgreSQL aborts the transaction.
    let mut clash = invitation(2, business, sub, "b@example.com");
    clash.token_hash = TokenHash([1; 32]);
    assert_eq!(
        tx.update_invitation(&clash).unwrap_err().code(),
        ErrorCode::AlreadyExists
    );
    assert_eq!(
        tx.commit().unwrap_err().code(),
        ErrorCode::AlreadyExists,
        "no silent rollback"
    );
    let mut tx = store.begin_read().unwrap();
    assert!(
        tx.get_invitation(business, InvitationId::from_uuid(uid(7, 1)))
            .unwrap()
            .is_none()
    );
}

#[test]
fn opening_fails_with_stable_codes() {
    assert_eq!(
        PostgresStore::open("postgres://u@h:notaport/db")
            .unwrap_err()
            .code(),
        ErrorCode::InvalidConfig
    );
    let unreachable = PostgresStore::open_with(
        "postgres://postgres@127.0.0.1:1/nothing",
        PostgresOptions::default().connect_timeout(Duration::from_secs(2)),
    );
    assert_eq!(
        unreachable.unwrap_err().code(),
        ErrorCode::StorageUnavailable
    );
    // This build has no TLS: a URL that demands it can never connect.
    assert_eq!(
        PostgresStore::open("postgres://postgres@127.0.0.1:1/db?sslmode=require")
            .unwrap_err()
            .code(),
        ErrorCode::InvalidConfig
    );
    let Some(url) = postgres_support::url() else {
        return;
    };
    let bad_schema =
        PostgresStore::open_with(&url, PostgresOptions::default().schema("Robert'); DROP"));
    assert_eq!(bad_schema.unwrap_err().code(), ErrorCode::InvalidConfig);
    // The server refuses the database or the role: a setting to fix, at once (the
    // first connection is not retried until the connect timeout).
    let (before_query, query) = url.split_once('?').unwrap_or((url.as_str(), ""));
    let (server, _database) = before_query.rsplit_once('/').unwrap();
    let with_query = |base: String| {
        if query.is_empty() {
            base
        } else {
            format!("{base}?{query}")
        }
    };
    let missing_database = with_query(format!("{server}/invite_no_such_database"));
    let missing_role = url.replacen("postgres://postgres@", "postgres://invite_no_such_role@", 1);
    assert_ne!(missing_role, url, "the test url names the postgres role");
    for refused in [missing_database, missing_role] {
        let err = PostgresStore::open(&refused).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidConfig, "{refused}: {err}");
    }
}

#[test]
fn store_urls_open_postgres() {
    let Some(url) = postgres_support::url() else {
        return;
    };
    let store = invite_core::store::open(&url).unwrap();
    assert_eq!(store.kind(), "postgres");
    let mut tx = store.begin_read().unwrap();
    tx.list_businesses().unwrap();
}

/// After the server drops the pooled connections (a restart, a failover), the next
/// calls work: a dead connection is replaced at `BEGIN`, before anything was done,
/// instead of failing one call per pooled connection with `STORAGE_UNAVAILABLE`.
#[test]
fn dead_pooled_connections_are_replaced_without_failing_a_call() {
    let Some(db) = TestDb::new() else { return };
    let app_name = format!("invite_{}", db.schema);
    let url = if db.url.contains('?') {
        format!("{}&application_name={app_name}", db.url)
    } else {
        format!("{}?application_name={app_name}", db.url)
    };
    let store = PostgresStore::open_with(&url, db.options().max_connections(3)).unwrap();
    // Fill the pool: three transactions at once, then back to the pool.
    let held: Vec<_> = (0..3).map(|_| store.begin().unwrap()).collect();
    drop(held);
    let killed: i64 = db
        .client()
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
            &[&app_name],
        )
        .unwrap()
        .get(0);
    assert_eq!(killed, 3, "the pooled connections were found");
    std::thread::sleep(Duration::from_millis(100));
    for _ in 0..4 {
        let mut tx = store.begin().unwrap();
        assert!(tx.list_businesses().unwrap().is_empty());
        tx.commit().unwrap();
    }
}

/// `store::open` takes `?schema=NAME` and keeps the tables there.
#[test]
fn open_by_url_with_a_schema() {
    let Some(db) = postgres_support::TestDb::new() else {
        return;
    };
    let sep = if db.url.contains('?') { '&' } else { '?' };
    let store = invite_core::store::open(&format!("{}{sep}schema={}", db.url, db.schema)).unwrap();
    let w = common::World::new(store);
    w.service
        .send(&w.invite_new("Bob", "Baker", "bob@example.com"))
        .unwrap();
    let mut client = db.client();
    let row = client
        .query_one("SELECT count(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'invitations'", &[&db.schema])
        .unwrap();
    assert_eq!(
        row.get::<_, i64>(0),
        1,
        "the tables live in the named schema"
    );
    assert_eq!(
        invite_core::store::open(&format!("{}{sep}schema=Bad-Name", db.url))
            .err()
            .map(|e| e.code()),
        Some(ErrorCode::InvalidConfig)
    );
}

/// The URL's other parameters reach the server as written, beside `schema=`; a schema
/// named by a keyword works; a `schema` named twice, or a zero connect timeout, is
/// `INVALID_CONFIG` (not a mangled URL, a syntax error or a panic).
#[test]
fn url_parameters_and_schema_names_are_taken_as_given() {
    let Some(db) = postgres_support::TestDb::new() else {
        return;
    };
    let sep = if db.url.contains('?') { '&' } else { '?' };
    let url = format!(
        "{}{sep}application_name=invite%20audit&schema={}",
        db.url, db.schema
    );
    let store = invite_core::store::open(&url).unwrap();
    let w = common::World::new(store);
    w.service
        .send(&w.invite_new("Bob", "Baker", "bob@example.com"))
        .unwrap();
    let mut client = db.client();
    let names: Vec<String> = client
        .query(
            "SELECT application_name FROM pg_stat_activity WHERE application_name LIKE 'invite%'",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert!(names.iter().any(|n| n == "invite audit"), "{names:?}");
    // A keyword as the schema name.
    let keyword = postgres_support::TestDb::attach(db.url.clone(), "user".to_owned());
    let store = invite_core::store::open(&format!("{}{sep}schema=user", db.url)).unwrap();
    common::World::new(store);
    drop(keyword);
    let mut admin = postgres::Client::connect(&db.url, postgres::NoTls).unwrap();
    admin
        .batch_execute("DROP SCHEMA IF EXISTS \"user\" CASCADE")
        .unwrap();
    assert_eq!(
        invite_core::store::open(&format!("{}{sep}schema=a&schema=b", db.url))
            .err()
            .map(|e| e.code()),
        Some(ErrorCode::InvalidConfig)
    );
    let zero = PostgresOptions::default().connect_timeout(std::time::Duration::ZERO);
    assert_eq!(
        PostgresStore::open_with(&db.url, zero)
            .err()
            .map(|e| e.code()),
        Some(ErrorCode::InvalidConfig)
    );
}

/// Every pooled connection busy past the connect timeout is `STORAGE_CONFLICT` (too many
/// calls at once, retryable), not `STORAGE_UNAVAILABLE` (the server is fine).
#[test]
fn a_full_pool_is_a_storage_conflict() {
    let Some(db) = postgres_support::TestDb::new() else {
        return;
    };
    let options = PostgresOptions::default()
        .schema(db.schema.clone())
        .max_connections(1)
        .connect_timeout(Duration::from_millis(300));
    let store = PostgresStore::open_with(&db.url, options).unwrap();
    let held = store.begin().unwrap();
    let err = store.begin().err().unwrap();
    assert_eq!(err.code(), ErrorCode::StorageConflict);
    drop(held);
    assert!(store.begin().is_ok(), "free again once the call ends");
}

/// A `lock_timeout` that runs out is `STORAGE_CONFLICT`, retryable like SQLite's busy
/// timeout, not `STORAGE_UNAVAILABLE`.
#[test]
fn a_lock_timeout_is_a_storage_conflict() {
    let Some(db) = postgres_support::TestDb::new() else {
        return;
    };
    let sep = if db.url.contains('?') { '&' } else { '?' };
    let url = format!(
        "{}{sep}options=-c%20lock_timeout%3D200&schema={}",
        db.url, db.schema
    );
    let store = invite_core::store::open(&url).unwrap();
    let w = common::World::new(store.clone());
    let mut holder = db.client();
    let mut tx = holder.transaction().unwrap();
    tx.execute(
        "SELECT 1 FROM subscriptions WHERE id = $1 FOR UPDATE",
        &[w.subscription.id.as_uuid()],
    )
    .unwrap();
    let mut unit = store.begin().unwrap();
    let err = unit
        .seat_counts_for_update(w.business.id, w.subscription.id)
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::StorageConflict);
    drop(unit);
    tx.rollback().unwrap();
}

/// PostgreSQL's app servers share one outbox: a service there needs the outbox key they
/// all use, not a per-process one.
#[test]
fn a_postgres_service_needs_an_outbox_key() {
    let Some(db) = TestDb::new() else { return };
    let store: Arc<dyn invite_core::Store> = Arc::new(db.store());
    let config = || invite_core::Config::with_base_url("https://app.example.com/accept");
    let refused = invite_core::InviteService::new(store.clone(), config()).unwrap_err();
    assert_eq!(refused.code(), ErrorCode::InvalidConfig);
    let opened = invite_core::InviteService::builder(store)
        .config(config())
        .outbox_key([5; 32])
        .build();
    assert!(opened.is_ok());
}
