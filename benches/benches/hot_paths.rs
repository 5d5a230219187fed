//! Criterion benches of the hot paths: send, accept, seat usage, user search, token
//! minting and hashing, validation and canonicalisation (in-memory store), and the two
//! fixed costs of every invitation email: the outbox token's seal and open, and
//! rendering with the default templates.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "benchmarks abort loudly"
)]

use std::hint::black_box;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use invite_core::input::{Email, EmailPolicy, validate_name};
use invite_core::mail::{DefaultTemplates, EmailContext, EmailRenderer, TokenSealer};
use invite_core::random::OsRandom;
use invite_core::service::Limits;
use invite_core::token::Token;
use invite_core::{
    AcceptRequest, Config, InMemoryStore, InviteService, NewSubscription, NewUser, PageRequest,
    SendInvitationRequest,
};

struct Fixture {
    service: InviteService,
    base: SendInvitationRequest,
    business: invite_core::BusinessId,
    subscription: invite_core::SubscriptionId,
}

fn fixture(users: usize) -> Fixture {
    let config = Config {
        limits: Limits::unlimited(),
        ..Config::default()
    };
    let service = InviteService::new(Arc::new(InMemoryStore::new()), config).unwrap();
    let business = service.create_business("Bench").unwrap();
    let app = service.create_app("App").unwrap();
    service.set_app_enabled(business.id, app.id, true).unwrap();
    let sub = service
        .create_subscription(&NewSubscription::new(business.id, app.id, "Plan", None))
        .unwrap();
    let role = service
        .create_role(app.id, "member", "Member", &["x"])
        .unwrap();
    let admin = service
        .create_user(&NewUser {
            first_name: "A".into(),
            last_name: "A".into(),
            email: "admin@example.com".into(),
        })
        .unwrap();
    service
        .set_business_admin(business.id, admin.id, true)
        .unwrap();
    for i in 0..users {
        service
            .create_user(&NewUser {
                first_name: format!("Name{i}"),
                last_name: format!("Family{i}"),
                email: format!("u{i}@example.com"),
            })
            .unwrap();
    }
    let base = SendInvitationRequest::new(admin.id)
        .business(business.id)
        .app(app.id)
        .subscription(sub.id)
        .role(role.id);
    Fixture {
        service,
        base,
        business: business.id,
        subscription: sub.id,
    }
}

fn benches(c: &mut Criterion) {
    let f = fixture(100_000);
    let mut i = 0u64;
    c.bench_function("send (memory)", |b| {
        b.iter(|| {
            i += 1;
            f.service
                .send(
                    &f.base
                        .clone()
                        .new_user("Bob", "Baker", &format!("s{i}@example.com")),
                )
                .unwrap()
        })
    });
    c.bench_function("accept (memory)", |b| {
        b.iter_batched(
            || {
                i += 1;
                f.service
                    .send(
                        &f.base
                            .clone()
                            .new_user("Bob", "Baker", &format!("a{i}@example.com")),
                    )
                    .unwrap()
                    .token
            },
            |token| {
                f.service
                    .accept(&AcceptRequest::new(token.expose()))
                    .unwrap()
            },
            BatchSize::SmallInput,
        )
    });
    c.bench_function("seat usage", |b| {
        b.iter(|| f.service.seat_usage(f.business, f.subscription).unwrap())
    });
    c.bench_function("user search, 100k users, prefix `name4`", |b| {
        b.iter(|| {
            f.service
                .search_users(black_box("name4"), &PageRequest::first(20))
                .unwrap()
        })
    });
    c.bench_function("token mint + hash", |b| {
        b.iter(|| Token::mint(&OsRandom).unwrap().hash())
    });
    c.bench_function("email parse + canonical key", |b| {
        b.iter(|| {
            Email::parse(
                black_box(" Ann.Lee@Bücher.Example "),
                "email",
                EmailPolicy::default(),
            )
            .unwrap()
        })
    });
    c.bench_function("name validation", |b| {
        b.iter(|| validate_name(black_box("  Zoë O'Neill "), "first_name").unwrap())
    });
    let sealer = TokenSealer::new([7; 32]);
    let token = Token::mint(&OsRandom).unwrap();
    c.bench_function("token seal + open (outbox at rest)", |b| {
        b.iter(|| {
            let sealed = sealer.seal(black_box(&token), &OsRandom).unwrap();
            sealer.open(&sealed).unwrap()
        })
    });
    let context = EmailContext {
        inviter_name: "Ada Admin".into(),
        invitee_name: Some("Bob Baker".into()),
        business_name: "Bench".into(),
        app_name: "App".into(),
        role_name: "Member".into(),
        expires_at: Utc.with_ymd_and_hms(2026, 12, 4, 9, 30, 0).unwrap(),
        accept_link: format!(
            "https://app.example.com/invite/accept?token={}",
            token.expose()
        ),
        locale: None,
    };
    c.bench_function("email render (default templates, English)", |b| {
        b.iter(|| DefaultTemplates.render(black_box(&context)))
    });
}

criterion_group!(hot_paths, benches);
criterion_main!(hot_paths);
