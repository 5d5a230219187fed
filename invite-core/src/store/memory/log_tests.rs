//! The invitation log under random transactions (ids in and out of order, duplicates,
//! updates that move index keys) that commit or roll back: a rollback leaves every
//! listing as it was, every index matches its table, and (with the `sqlite` feature)
//! every query answers as the SQLite store's does, inside the transactions and after.

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::InMemoryStore;
use crate::error::{ErrorCode, Result};
use crate::ids::{
    ApplicationId, BusinessId, InvitationId, MessageId, RoleId, SubscriptionId, UserId,
};
use crate::model::{
    DeliveryState, DeliveryStatus, Event, EventKind, Invitation, InvitationRecord,
    InvitationStatus, Invitee, OutboxMessage, OutboxState,
};
use crate::store::{InvitationQuery, Store, Transaction};
#[cfg(feature = "sqlite")]
use crate::store::{SqliteOptions, SqliteStore};
use crate::token::TokenHash;

/// A tiny deterministic generator.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn maybe<T>(&mut self, percent: u64, value: impl FnOnce(&mut Self) -> T) -> Option<T> {
        self.chance(percent).then(|| value(self))
    }
}

/// Ids of one kind: mostly the next in order (as a service mints them), sometimes one
/// from anywhere in the space (another process, a host's own ids, a duplicate).
struct Ids {
    kind: u8,
    next: u64,
    /// How often (percent) an id comes out of order.
    disorder: u64,
}

impl Ids {
    fn new(kind: u8, disorder: u64) -> Ids {
        Ids {
            kind,
            next: 0,
            disorder,
        }
    }

    fn uuid(&self, n: u64) -> uuid::Uuid {
        uuid::Uuid::from_u128((u128::from(self.kind) << 120) | (u128::from(n) << 16))
    }

    fn mint(&mut self, rng: &mut Lcg) -> uuid::Uuid {
        if self.next > 0 && rng.chance(self.disorder) {
            // Out of order, and sometimes an id already used.
            let n = rng.below(self.next + 3);
            return self.uuid(n * 2 + rng.below(2));
        }
        self.next += 1;
        self.uuid(self.next * 2)
    }

    /// How many ids [`Ids::any`] may return so far.
    fn span(&self) -> u64 {
        (self.next + 3) * 2
    }

    /// An id that may or may not exist.
    fn any(&self, rng: &mut Lcg) -> uuid::Uuid {
        self.uuid(rng.below(self.span()))
    }
}

const INVITATIONS: u8 = 1;

struct Gen {
    rng: Lcg,
    invitations: Ids,
    events: Ids,
    messages: Ids,
}

fn shared(kind: u8, n: u64) -> uuid::Uuid {
    uuid::Uuid::from_u128((u128::from(kind) << 120) | u128::from(n + 1))
}

/// The business an invitation usually belongs to.
fn business_of(invitation: uuid::Uuid) -> BusinessId {
    shared(
        10,
        u64::try_from((invitation.as_u128() >> 17) % 3).unwrap_or(0),
    )
    .into()
}

/// The address and canonical key of an invitation. Each invitation has its own key, as
/// the service allows one pending invitation per key (the store need not choose among
/// several); the address is sometimes the key itself.
fn address(id: uuid::Uuid, as_typed: bool) -> (String, String) {
    let key = format!("zoë.{}@example.com", id.as_u128() >> 16);
    let email = if as_typed {
        key.replace('z', "Z")
    } else {
        key.clone()
    };
    (email, key)
}

impl Gen {
    fn new(seed: u64, disorder: u64) -> Gen {
        Gen {
            rng: Lcg(seed),
            invitations: Ids::new(INVITATIONS, disorder),
            events: Ids::new(2, disorder),
            messages: Ids::new(3, disorder),
        }
    }

    fn time(&mut self) -> DateTime<Utc> {
        let base = Utc
            .timestamp_opt(1_772_442_000, 0)
            .single()
            .unwrap_or_default();
        base + Duration::seconds(i64::try_from(self.rng.below(6)).unwrap_or(0))
            + Duration::nanoseconds(i64::try_from(self.rng.below(2) * 7).unwrap_or(0))
    }

    fn business(&mut self) -> BusinessId {
        shared(10, self.rng.below(3)).into()
    }

    /// An invitation and, mostly, its business (as the service writes events and
    /// messages); sometimes another business, which scoped reads must leave out.
    fn about_invitation(&mut self) -> (BusinessId, InvitationId) {
        let invitation = self.invitations.any(&mut self.rng);
        let business = if self.rng.chance(80) {
            business_of(invitation)
        } else {
            self.business()
        };
        (business, invitation.into())
    }

    fn subscription(&mut self) -> SubscriptionId {
        shared(12, self.rng.below(3)).into()
    }

    fn user(&mut self) -> UserId {
        shared(14, self.rng.below(5)).into()
    }

    fn token(&mut self) -> TokenHash {
        TokenHash([u8::try_from(self.rng.below(30)).unwrap_or(0); 32])
    }

    fn text(&mut self) -> String {
        ["", "x", "timeout", "é😀", "550 mailbox unavailable"][self.rng.below(5) as usize].into()
    }

    fn invitation(&mut self, id: InvitationId) -> InvitationRecord {
        let (email, key) = address(*id.as_uuid(), self.rng.chance(50));
        let created_at = self.time();
        let status = InvitationStatus::ALL[self.rng.below(5) as usize];
        let status = if self.rng.chance(50) {
            InvitationStatus::Pending
        } else {
            status
        };
        InvitationRecord {
            invitation: Invitation {
                id,
                business_id: if self.rng.chance(80) {
                    business_of(*id.as_uuid())
                } else {
                    self.business()
                },
                app_id: ApplicationId::from(shared(11, self.rng.below(2))),
                subscription_id: self.subscription(),
                role_id: RoleId::from(shared(13, self.rng.below(2))),
                invitee: if self.rng.chance(50) {
                    Invitee::Existing {
                        user_id: self.user(),
                    }
                } else {
                    Invitee::New {
                        first_name: self.text(),
                        last_name: self.text(),
                    }
                },
                email,
                email_key: key,
                inviter_id: self.user(),
                status,
                locale: self.rng.maybe(30, |_| "fr".to_owned()),
                created_at,
                expires_at: self.time(),
                last_sent_at: self.time(),
                send_count: u32::try_from(self.rng.below(3)).unwrap_or(0) + 1,
                responded_at: self.rng.maybe(30, |_| created_at),
                accepted_user_id: if self.rng.chance(30) {
                    Some(self.user())
                } else {
                    None
                },
                delivery: DeliveryStatus {
                    state: DeliveryState::ALL[self.rng.below(3) as usize],
                    attempts: u32::try_from(self.rng.below(3)).unwrap_or(0),
                    last_error: if self.rng.chance(30) {
                        Some(self.text())
                    } else {
                        None
                    },
                    delivered_at: self.rng.maybe(30, |_| created_at),
                },
            },
            token_hash: self.token(),
        }
    }

    fn event(&mut self) -> Event {
        let (business_id, invitation_id) = self.about_invitation();
        Event {
            id: self.events.mint(&mut self.rng).into(),
            business_id,
            invitation_id,
            kind: EventKind::ALL[self.rng.below(9) as usize],
            actor_id: if self.rng.chance(60) {
                Some(self.user())
            } else {
                None
            },
            at: self.time(),
            detail: if self.rng.chance(20) {
                Some(self.text())
            } else {
                None
            },
        }
    }

    fn message(&mut self, id: MessageId) -> OutboxMessage {
        let (business_id, invitation_id) = self.about_invitation();
        let sealed = [
            "3q2-7w_AAAE",
            "3q2-7w_AAAF",
            "not base64!",
            "QQ==",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ];
        OutboxMessage {
            id,
            business_id,
            invitation_id,
            sealed_token: self
                .rng
                .maybe(70, |rng| sealed[rng.below(5) as usize].to_owned()),
            state: OutboxState::ALL[self.rng.below(4) as usize],
            attempts: u32::try_from(self.rng.below(4)).unwrap_or(0),
            next_attempt_at: self.time(),
            last_error: if self.rng.chance(30) {
                Some(self.text())
            } else {
                None
            },
            created_at: self.time(),
        }
    }

    #[cfg(feature = "sqlite")]
    fn query(&mut self) -> InvitationQuery {
        InvitationQuery {
            business_id: self.business(),
            app_id: self
                .rng
                .maybe(30, |rng| ApplicationId::from(shared(11, rng.below(3)))),
            subscription_id: if self.rng.chance(30) {
                Some(self.subscription())
            } else {
                None
            },
            status: self
                .rng
                .maybe(40, |rng| InvitationStatus::ALL[rng.below(5) as usize]),
            email_key: if self.rng.chance(30) {
                Some(address(self.invitations.any(&mut self.rng), false).1)
            } else {
                None
            },
            now: self.time(),
            after: if self.rng.chance(40) {
                Some(self.invitations.any(&mut self.rng).into())
            } else {
                None
            },
            limit: usize::try_from(self.rng.below(8)).unwrap_or(0),
        }
    }
}

/// A result with only the error's code, to compare stores.
fn code<T>(result: Result<T>) -> std::result::Result<T, ErrorCode> {
    result.map_err(|e| e.code())
}

/// Runs the same call on both transactions and requires the same answer.
#[cfg(feature = "sqlite")]
macro_rules! same {
    ($what:expr, $tested:expr, $reference:expr, |$tx:ident| $call:expr) => {{
        let tested = {
            let $tx = &mut *$tested;
            code($call)
        };
        let reference = {
            let $tx = &mut *$reference;
            code($call)
        };
        assert_eq!(tested, reference, "{}", $what);
    }};
}

/// One random read on both.
#[cfg(feature = "sqlite")]
fn compare_read(
    g: &mut Gen,
    tested: &mut dyn Transaction,
    reference: &mut dyn Transaction,
    step: &str,
) {
    let what = |op: &str| format!("{step}: {op}");
    match g.rng.below(12) {
        0 => {
            let (b, id) = g.about_invitation();
            same!(what("get_invitation"), tested, reference, |tx| tx
                .get_invitation(b, id));
        }
        1 => {
            let hash = g.token();
            same!(what("by token"), tested, reference, |tx| tx
                .get_invitation_by_token_hash(&hash));
        }
        2 => {
            let (b, s) = (g.business(), g.subscription());
            let key = address(g.invitations.any(&mut g.rng), false).1;
            same!(what("find_pending"), tested, reference, |tx| tx
                .find_pending_invitation(b, s, &key));
        }
        3 | 4 => {
            let query = g.query();
            same!(what(&format!("list {query:?}")), tested, reference, |tx| tx
                .list_invitations(&query));
        }
        5 => {
            let (now, s, limit) = (g.time(), g.rng.maybe(50, |_| ()), g.rng.below(6));
            let s = s.map(|()| g.subscription());
            same!(what("overdue"), tested, reference, |tx| tx.overdue_pending(
                now,
                s,
                usize::try_from(limit).unwrap_or(0)
            ));
        }
        6 => {
            let (b, s, u, since) = (g.business(), g.subscription(), g.user(), g.time());
            same!(what("count_pending"), tested, reference, |tx| tx
                .count_pending(b));
            same!(what("count in sub"), tested, reference, |tx| tx
                .count_pending_in_subscription(s));
            let now = g.time();
            same!(what("count overdue in sub"), tested, reference, |tx| tx
                .count_overdue_pending(now, s));
            same!(what("count by inviter"), tested, reference, |tx| tx
                .count_created_by_inviter_since(u, since));
        }
        7 | 8 => {
            let (b, inv) = g.about_invitation();
            let inv = g.rng.chance(60).then_some(inv);
            let after = g
                .rng
                .maybe(40, |_| ())
                .map(|()| crate::ids::EventId::from(g.events.any(&mut g.rng)));
            let limit = usize::try_from(g.rng.below(8)).unwrap_or(0);
            same!(what("list_events"), tested, reference, |tx| tx
                .list_events(b, inv, after, limit));
        }
        9 => {
            let id = g.messages.any(&mut g.rng).into();
            same!(what("get_message"), tested, reference, |tx| tx
                .get_message(id));
        }
        10 => {
            let (now, limit) = (g.time(), usize::try_from(g.rng.below(8)).unwrap_or(0));
            same!(what("due"), tested, reference, |tx| tx
                .due_messages(now, limit));
        }
        _ => {
            let (b, inv) = g.about_invitation();
            same!(what("messages_for_invitation"), tested, reference, |tx| tx
                .messages_for_invitation(b, inv));
        }
    }
}

/// A write of the invitation log.
#[derive(Debug)]
enum Write {
    InsertInvitation(InvitationRecord),
    UpdateInvitation(InvitationRecord),
    AppendEvent(Event),
    EnqueueMessage(OutboxMessage),
    UpdateMessage(OutboxMessage),
}

impl Write {
    fn random(g: &mut Gen) -> Write {
        match g.rng.below(6) {
            0 | 1 => {
                let id = g.invitations.mint(&mut g.rng).into();
                Write::InsertInvitation(g.invitation(id))
            }
            2 => {
                let id = g.invitations.any(&mut g.rng).into();
                Write::UpdateInvitation(g.invitation(id))
            }
            3 => Write::AppendEvent(g.event()),
            4 => {
                let id = g.messages.mint(&mut g.rng).into();
                Write::EnqueueMessage(g.message(id))
            }
            _ => {
                let id = g.messages.any(&mut g.rng).into();
                Write::UpdateMessage(g.message(id))
            }
        }
    }

    fn apply(&self, tx: &mut dyn Transaction) -> std::result::Result<(), ErrorCode> {
        code(match self {
            Write::InsertInvitation(record) => tx.insert_invitation(record),
            Write::UpdateInvitation(record) => tx.update_invitation(record),
            Write::AppendEvent(event) => tx.append_event(event),
            Write::EnqueueMessage(message) => tx.enqueue_message(message),
            Write::UpdateMessage(message) => tx.update_message(message),
        })
    }
}

/// Everything the invitation log holds, through the port, one line per listing; the
/// invitations listed one by one are the first `invitation_ids` of [`Gen::invitations`].
fn everything(tx: &mut dyn Transaction, invitation_ids: u64) -> Vec<String> {
    let far = Utc
        .timestamp_opt(1_900_000_000, 0)
        .single()
        .unwrap_or_default();
    let mut lines = Vec::new();
    for b in 0..3 {
        let business = BusinessId::from(shared(10, b));
        let query = InvitationQuery {
            business_id: business,
            app_id: None,
            subscription_id: None,
            status: None,
            email_key: None,
            now: far,
            after: None,
            limit: usize::MAX,
        };
        let invitations = code(tx.list_invitations(&query));
        lines.push(format!("invitations of {business}: {invitations:?}"));
        let events = code(tx.list_events(business, None, None, usize::MAX));
        lines.push(format!("events of {business}: {events:?}"));
    }
    let overdue = code(tx.overdue_pending(far, None, usize::MAX));
    lines.push(format!("overdue: {overdue:?}"));
    let due = code(tx.due_messages(far, usize::MAX));
    lines.push(format!("due: {due:?}"));
    for n in 0..invitation_ids {
        let invitation = Ids::new(INVITATIONS, 0).uuid(n);
        let (b, inv) = (business_of(invitation), InvitationId::from(invitation));
        let events = code(tx.list_events(b, Some(inv), None, usize::MAX));
        lines.push(format!("events of {inv}: {events:?}"));
        let messages = code(tx.messages_for_invitation(b, inv));
        lines.push(format!("messages of {inv}: {messages:?}"));
    }
    lines
}

/// The same lines, or the first that differs.
fn assert_same_lines(tested: Vec<String>, expected: Vec<String>, step: &str) {
    assert_eq!(tested.len(), expected.len(), "{step}");
    for (tested, expected) in tested.iter().zip(&expected) {
        assert_eq!(tested, expected, "{step}");
    }
}

fn assert_indexes_match(store: &InMemoryStore, step: &str) {
    let checked = store.state.lock().map(|state| state.check_indexes());
    assert_eq!(checked.ok(), Some(Ok(())), "{step}: indexes");
}

/// Runs `transactions` random transactions on a fresh in-memory store and `reference`.
/// `disorder`: how often (percent) a new id comes out of order.
#[cfg(feature = "sqlite")]
fn compare_with(reference: &dyn Store, seed: u64, disorder: u64, transactions: usize) {
    let tested = InMemoryStore::new();
    let mut g = Gen::new(seed, disorder);
    for t in 0..transactions {
        let mut a = tested.begin().unwrap_or_else(|e| panic!("begin: {e}"));
        let mut b = reference.begin().unwrap_or_else(|e| panic!("begin: {e}"));
        let ops = g.rng.below(12) + 1;
        for op in 0..ops {
            let step = format!("seed {seed}, tx {t}, op {op}");
            if g.rng.chance(60) {
                let write = Write::random(&mut g);
                let (found, expected) = (write.apply(&mut *a), write.apply(&mut *b));
                assert_eq!(found, expected, "{step}: {write:?}");
            } else {
                compare_read(&mut g, &mut *a, &mut *b, &step);
            }
        }
        let commit = g.rng.chance(70);
        if commit {
            a.commit().unwrap_or_else(|e| panic!("commit: {e}"));
            b.commit().unwrap_or_else(|e| panic!("commit: {e}"));
        } else {
            drop(a);
            drop(b);
        }
        let step = format!("seed {seed}, after tx {t} (commit: {commit})");
        assert_indexes_match(&tested, &step);
        let mut a = tested.begin().unwrap_or_else(|e| panic!("begin: {e}"));
        let mut b = reference.begin().unwrap_or_else(|e| panic!("begin: {e}"));
        let ids = g.invitations.span();
        assert_same_lines(everything(&mut *a, ids), everything(&mut *b, ids), &step);
        for _ in 0..4 {
            compare_read(&mut g, &mut *a, &mut *b, &step);
        }
    }
}

/// Random transactions on the in-memory store alone: each rolled-back one leaves every
/// listing exactly as it was, and every index matches its table after each.
#[test]
fn a_rolled_back_transaction_leaves_the_log_as_it_was() {
    for seed in 1..=12 {
        let store = InMemoryStore::new();
        let mut g = Gen::new(seed, if seed % 3 == 0 { 0 } else { 25 });
        for t in 0..150 {
            let step = format!("seed {seed}, tx {t}");
            let writes = g.rng.below(12) + 1;
            // Each write mints at most one invitation id.
            let ids = g.invitations.span() + 2 * writes;
            let before = everything(&mut *store.begin().unwrap_or_else(|e| panic!("{e}")), ids);
            let mut tx = store.begin().unwrap_or_else(|e| panic!("begin: {e}"));
            for _ in 0..writes {
                let _ = Write::random(&mut g).apply(&mut *tx);
            }
            if g.rng.chance(60) {
                tx.commit().unwrap_or_else(|e| panic!("commit: {e}"));
            } else {
                drop(tx);
                let after = everything(&mut *store.begin().unwrap_or_else(|e| panic!("{e}")), ids);
                assert_same_lines(after, before, &format!("{step}: rolled back"));
            }
            assert_indexes_match(&store, &step);
        }
    }
}

#[cfg(feature = "sqlite")]
#[test]
fn the_invitation_log_answers_like_sqlite() {
    for seed in 1..=10 {
        let reference = SqliteStore::open_in_memory(SqliteOptions::default())
            .unwrap_or_else(|e| panic!("sqlite: {e}"));
        // Ids always in order (as one service mints them), or not.
        let disorder = if seed % 3 == 0 { 0 } else { 25 };
        compare_with(&reference, seed, disorder, 200);
    }
}
