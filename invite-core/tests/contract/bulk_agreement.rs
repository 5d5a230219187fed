//! A proptest of bulk send against single sends: on two fresh stores brought to the
//! same state (a seat cap, a daily budget and a pending cap drawn at random; people
//! already invited, some of them overdue; members), one bulk send of random rows and the
//! same rows sent one by one must answer alike, row for row: the same invitee on
//! success, the same error code and field problems on failure (a bulk row's fields
//! named `rows[i].…`), and leave the same seats, pending invitations and budget behind.

use std::sync::Arc;

use chrono::Duration;
use invite_core::service::Limits;
use invite_core::{BulkInvitee, Config, InviteService, SeededRandom, Store, UserId};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{Value, json};

use crate::common::{World, person};

const EMAILS: &[&str] = &[
    "p0@example.com",
    "P0@EXAMPLE.COM",
    "p1@example.com",
    "p2@example.com",
    "p3@example.com",
    "alice@example.com",
    "not-an-email",
    "",
];
const NAMES: &[&str] = &["Pat", "", "Bad\u{202E}Name"];

#[derive(Clone, Debug)]
enum Row {
    New(usize, usize, usize),
    /// One of the world's users: Alice, the admin, or a member made in the setup.
    Existing(usize),
}

#[derive(Clone, Debug)]
struct Case {
    seats: Option<u32>,
    daily: Option<u32>,
    pending_cap: Option<u32>,
    /// Emails invited before the bulk send, then whether time passes beyond their expiry.
    invited: Vec<usize>,
    overdue: bool,
    /// Emails that hold a seat before the bulk send.
    members: Vec<usize>,
    rows: Vec<Row>,
}

fn case() -> impl Strategy<Value = Case> {
    let row = prop_oneof![
        4 => (0..NAMES.len(), 0..NAMES.len(), 0..EMAILS.len())
            .prop_map(|(f, l, e)| Row::New(f, l, e)),
        1 => (0..3usize).prop_map(Row::Existing),
    ];
    (
        prop::option::of(1..7u32),
        prop::option::of(1..9u32),
        prop::option::of(1..7u32),
        prop::collection::vec(0..5usize, 0..3),
        any::<bool>(),
        prop::collection::vec(2..5usize, 0..2),
        prop::collection::vec(row, 1..10),
    )
        .prop_map(
            |(seats, daily, pending_cap, invited, overdue, members, rows)| Case {
                seats,
                daily,
                pending_cap,
                invited,
                overdue,
                members,
                rows,
            },
        )
}

/// A world in the case's state; the users rows may name.
fn prepare(store: Arc<dyn Store>, case: &Case) -> Result<(World, Vec<UserId>), TestCaseError> {
    let config = Config {
        limits: Limits {
            invites_per_inviter_per_day: case.daily,
            pending_per_business: case.pending_cap,
            ..Limits::unlimited()
        },
        ..crate::common::config()
    };
    // The setup's own sends must not run into the limits drawn for the rows: it runs
    // on a service without them, over the same store and clock (with randomness of its
    // own: the same seed would mint the world's ids again).
    let w = World::with_config(store, config, case.seats);
    let setup = InviteService::builder(w.service.store().clone())
        .clock(w.clock.clone())
        .random(Arc::new(SeededRandom::new(8)))
        .outbox_key([9; 32])
        .config(crate::common::config())
        .build()
        .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
    let mut member = None;
    for &e in &case.members {
        let user = setup
            .create_user(&person("M", "M", EMAILS[e]))
            .ok()
            .or_else(|| setup.find_user_by_email(EMAILS[e]).ok().flatten());
        if let Some(user) = user
            && setup
                .add_membership(w.business.id, w.subscription.id, user.id, w.member.id)
                .is_ok()
        {
            member.get_or_insert(user.id);
        }
    }
    for &e in &case.invited {
        let _refused_when_full_or_duplicate = setup.send(&w.invite_new("I", "I", EMAILS[e]));
    }
    if case.overdue {
        w.clock.advance(Duration::days(8));
    }
    let users = vec![w.alice.id, w.admin.id, member.unwrap_or(w.alice.id)];
    Ok((w, users))
}

fn invitee(row: &Row, users: &[UserId]) -> BulkInvitee {
    match row {
        Row::New(f, l, e) => BulkInvitee::new_user(NAMES[*f], NAMES[*l], EMAILS[*e]),
        Row::Existing(u) => BulkInvitee::existing(users[*u]),
    }
}

/// A refused row: its code and its field problems, as (field, code).
type Refusal = (invite_core::ErrorCode, Vec<(String, String)>);

/// A row's outcome as comparable JSON: the invitee and status, or the code and the
/// field problems (fields without their `rows[i].` prefix), sorted.
fn row_outcome(result: Result<&invite_core::SentInvitation, Refusal>) -> Value {
    match result {
        Ok(sent) => json!({
            "email": sent.invitation.email,
            "invitee": sent.invitation.invitee,
            "status": sent.invitation.status,
        }),
        Err((code, mut fields)) => {
            fields.sort();
            json!({ "code": code, "fields": fields })
        }
    }
}

fn unprefixed(field: &str) -> String {
    match field.split_once("].") {
        Some((head, rest)) if head.starts_with("rows[") => rest.to_owned(),
        _ => field.to_owned(),
    }
}

/// What a side leaves behind: seats, the invitations by email and status, in order.
/// Swept first: a bulk row's sweep of overdue invitations stands even when the row is
/// refused, where a refused single send rolls its sweep back (either way those
/// invitations read as expired and hold no seat anyone can take).
fn state(w: &World) -> Value {
    let swept = w.service.expire_overdue().map(|_| ()).map_err(|e| e.code());
    let usage = w.usage();
    let listed = w
        .invitations(100)
        .map(|items| {
            items
                .iter()
                .map(|i| json!([i.email, i.status]))
                .collect::<Vec<_>>()
        })
        .map_err(|e| e.code());
    json!({
        "swept": swept,
        "used": usage.used,
        "reserved": usage.reserved,
        "invitations": listed,
    })
}

/// Runs the property on fresh stores from `factory` (two per case).
pub fn run(factory: &dyn Fn() -> Option<Arc<dyn Store>>) {
    crate::common::check_property(
        "bulk send and single sends disagree",
        "INVITE_BULK_CASES",
        24,
        &case(),
        |case| {
            let (Some(a), Some(b)) = (factory(), factory()) else {
                return Ok(());
            };
            let (bulk, bulk_users) = prepare(a, &case)?;
            let (single, single_users) = prepare(b, &case)?;
            let rows: Vec<BulkInvitee> = case
                .rows
                .iter()
                .map(|row| invitee(row, &bulk_users))
                .collect();
            let result = bulk
                .service
                .bulk_send(&bulk.bulk_request(bulk.subscription.id, rows))
                .map_err(|e| TestCaseError::fail(format!("bulk send failed: {e:?}")))?;
            prop_assert_eq!(result.rows.len(), case.rows.len());
            for (i, (row, bulk_row)) in case.rows.iter().zip(&result.rows).enumerate() {
                let request = match row {
                    Row::New(f, l, e) => single.invite_new(NAMES[*f], NAMES[*l], EMAILS[*e]),
                    Row::Existing(u) => single.invite_user(single_users[*u]),
                };
                let sent = single.service.send(&request);
                let one = row_outcome(sent.as_ref().map_err(|e| {
                    let fields = e
                        .field_errors()
                        .iter()
                        .map(|f| (f.field.clone(), f.code.as_str().to_owned()))
                        .collect();
                    (e.code(), fields)
                }));
                let many = row_outcome(bulk_row.as_ref().map_err(|e| {
                    let fields = e
                        .field_errors
                        .iter()
                        .map(|f| (unprefixed(&f.field), f.code.as_str().to_owned()))
                        .collect();
                    (e.code, fields)
                }));
                prop_assert_eq!(many, one, "row {} ({:?})", i, row);
            }
            prop_assert_eq!(state(&bulk), state(&single), "after the rows");
            Ok(())
        },
    );
}
