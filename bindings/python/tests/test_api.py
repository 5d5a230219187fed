"""The Python surface: result objects, types, configuration, stores, paging."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path

import pytest

import invite_core
from invite_core import (
    Config,
    DeliveryConfig,
    InvalidConfigError,
    InviteService,
    Limits,
    ManualClock,
    NotFoundError,
    Page,
    SmtpMailer,
    Store,
    User,
    ValidationError,
)

from .conftest import BASE_URL, START, World


def test_results_have_a_readable_repr_and_to_dict(world: World) -> None:
    sent = world.send_new("ada@example.com")
    text = repr(sent)
    assert text.startswith("SentInvitation(invitation=Invitation(id='")
    assert "email='ada@example.com'" in text and "status='pending'" in text
    assert sent.token not in text  # shown once: never in a repr
    data = sent.to_dict()
    assert data["token"] == sent.token
    assert data["invitation"]["delivery"] == {
        "state": "queued", "attempts": 0, "last_error": None, "delivered_at": None,
    }
    assert data["invitation"]["created_at"] == START
    assert repr(world.team) == f"Subscription(id='{world.team.id}', plan='Team', seats=3, status='active')"
    assert world.member.to_dict()["permissions"] == ["records.read"]


def test_ids_are_strings_and_datetimes_are_aware(world: World) -> None:
    inv = world.send_new("ada@example.com").invitation
    for value in [inv.id, inv.business_id, inv.subscription_id, inv.role_id, inv.inviter_id]:
        assert isinstance(value, str) and len(value) == 36
    for when in [inv.created_at, inv.expires_at, inv.last_sent_at, world.acme.created_at]:
        assert when.tzinfo is not None and when.utcoffset() == timedelta(0)
    assert world.service.now() == START


def test_any_timezone_is_accepted_and_naive_is_refused(world: World) -> None:
    paris = timezone(timedelta(hours=1))
    sub = world.service.create_subscription(
        world.acme.id, world.crm.id, plan="Window",
        valid_from=datetime(2030, 1, 1, 1, 0, tzinfo=paris),
    )
    assert sub.valid_from == datetime(2030, 1, 1, 0, 0, tzinfo=timezone.utc)
    with pytest.raises(TypeError):
        world.service.create_subscription(
            world.acme.id, world.crm.id, plan="Naive", valid_from=datetime(2030, 1, 1)
        )


def test_records_compare_by_value(world: World) -> None:
    assert world.service.get_user(world.bob.id) == world.bob
    assert world.service.get_business(world.acme.id) != world.service.create_business("Other")


def test_configuration(world: World) -> None:
    config = Config(
        "https://example.com/join",
        default_expiry=timedelta(days=2),
        limits=Limits(invites_per_inviter_per_day=None, resend_cooldown=timedelta(0)),
        delivery=DeliveryConfig(max_attempts=2),
        allow_non_ascii_email=True,
    )
    assert config.limits.pending_per_business == Limits().pending_per_business  # core default
    assert config.limits.invites_per_inviter_per_day is None
    assert config.delivery.base_backoff == DeliveryConfig().base_backoff
    assert Config().default_expiry == timedelta(days=7)
    assert Config().to_dict()["limits"]["resend_cooldown"] == timedelta(seconds=60)
    clock = ManualClock(START)
    service = InviteService(config=config, clock=clock)
    assert service.config == config
    assert service.store_kind == "memory"
    assert "store='memory'" in repr(service)


@pytest.mark.parametrize(
    "config",
    [
        Config("ftp://example.com/accept"),
        Config("https://user:pw@example.com/accept"),
        Config(BASE_URL, default_expiry=timedelta(minutes=5)),
        Config(BASE_URL, default_expiry=timedelta(days=31)),
        Config(BASE_URL, delivery=DeliveryConfig(max_attempts=0)),
    ],
)
def test_invalid_configuration(config: Config) -> None:
    with pytest.raises(InvalidConfigError) as e:
        InviteService(config=config)
    assert e.value.code == "INVALID_CONFIG"


def test_outbox_key_must_be_32_bytes() -> None:
    InviteService(outbox_key=bytes(32))
    with pytest.raises(InvalidConfigError):
        InviteService(outbox_key=b"short")


def test_durations_past_the_bounds_are_invalid_config_not_a_crash() -> None:
    huge = timedelta(days=999_999_999)
    for config in [
        Config(BASE_URL, delivery=DeliveryConfig(lease=huge)),
        Config(BASE_URL, delivery=DeliveryConfig(base_backoff=huge, max_backoff=huge)),
        Config(BASE_URL, delivery=DeliveryConfig(max_attempts=101)),
        Config(BASE_URL, idempotency_ttl=huge),
        Config(BASE_URL, limits=Limits(resend_cooldown=huge)),
    ]:
        with pytest.raises(InvalidConfigError) as refused:
            InviteService(config=config)
        assert refused.value.code == "INVALID_CONFIG"
    clock = ManualClock(START)
    with pytest.raises(ValueError):
        clock.advance(huge)
    assert clock.now() == START


def test_a_clock_whose_expiries_leave_the_year_9999_is_invalid_config(world: World) -> None:
    # A week before the year 10000 an invitation would expire in it, where no `datetime`
    # could hold its expiry: the send is refused and nothing is written.
    world.clock.set(datetime(9999, 12, 28, tzinfo=timezone.utc))
    with pytest.raises(InvalidConfigError) as refused:
        world.send_new("ada@example.com")
    assert refused.value.code == "INVALID_CONFIG"
    assert world.service.seat_usage(world.acme.id, world.team.id).reserved == 0
    assert world.service.list_invitations(world.acme.id).items == []
    # An invitation that expires within the year is sent, and reads back.
    sent = world.service.send(
        world.admin.id, user_id=world.bob.id, business_id=world.acme.id, app_id=world.crm.id,
        subscription_id=world.team.id, role_id=world.member.id, expires_in=timedelta(hours=1),
    )
    assert sent.invitation.expires_at == datetime(9999, 12, 28, 1, tzinfo=timezone.utc)


def test_expiry_per_send(world: World) -> None:
    sent = world.service.send(
        world.admin.id, user_id=world.bob.id, business_id=world.acme.id, app_id=world.crm.id,
        subscription_id=world.team.id, role_id=world.member.id, expires_in=timedelta(hours=1),
    )
    assert sent.invitation.expires_at == START + timedelta(hours=1)
    with pytest.raises(ValidationError) as e:
        world.service.resend(world.acme.id, sent.invitation.id, world.admin.id,
                             expires_in=timedelta(days=60))
    assert e.value.errors[0]["code"] == "OUT_OF_RANGE"


def test_stores_by_url_can_be_shared() -> None:
    store = Store("memory:")
    assert store.kind == "memory"
    one = InviteService(store)
    two = InviteService(store)
    acme = one.create_business("Acme")
    assert two.get_business(acme.id) == acme
    assert InviteService("memory:").list_businesses() == []
    assert InviteService().store_kind == "memory"


def test_not_found_for_malformed_and_foreign_ids(world: World) -> None:
    with pytest.raises(NotFoundError):
        world.service.get_business("nope")
    sent = world.send_new("ada@example.com")
    other = world.service.create_business("Other")
    with pytest.raises(NotFoundError):
        world.service.get_invitation(other.id, sent.invitation.id)  # tenant isolation


def test_paging(world: World) -> None:
    s = world.service
    for i in range(5):
        s.create_user(f"User{i}", "Zed", f"user{i}@example.com")
    first: Page[User] = s.search_users("user", limit=2)
    assert len(first) == 2 and first.next_cursor is not None
    names = [u.first_name for u in first]
    cursor: str | None = first.next_cursor
    while cursor is not None:
        page = s.search_users("user", cursor=cursor, limit=2)
        names += [u.first_name for u in page.items]
        cursor = page.next_cursor
    assert names == [f"User{i}" for i in range(5)]
    assert first.to_dict()["items"][0]["email"] == "user0@example.com"
    assert repr(first).startswith("Page(items=<2 items>")
    with pytest.raises(ValidationError):
        s.search_users("user", limit=0)
    with pytest.raises(ValidationError):
        s.list_invitations(world.acme.id, status="lost")  # type: ignore[arg-type]


def test_search_finds_an_idn_domain_typed_as_shown_or_as_punycode(world: World) -> None:
    s = world.service
    ana = s.create_user("Ana", "Buch", "ana@Bücher.example")
    ben = s.create_user("Ben", "Buch", "ben@xn--bcher-kva.example")
    assert [u.id for u in s.search_users("ANA@BÜ")] == [ana.id]
    assert [u.id for u in s.search_users("ana@xn--bcher")] == [ana.id]
    assert [u.id for u in s.search_users("ben@bücher.example")] == [ben.id]


def test_listing_invitations_and_events(world: World) -> None:
    s = world.service
    a = world.send_new("ada@example.com")
    b = world.send_new("bea@example.com")
    s.revoke(world.acme.id, b.invitation.id, world.admin.id)
    assert [i.id for i in s.list_invitations(world.acme.id)] == [a.invitation.id, b.invitation.id]
    assert [i.id for i in s.list_invitations(world.acme.id, status="revoked")] == [b.invitation.id]
    assert [i.id for i in s.list_invitations(world.acme.id, email="ADA@example.com")] == [a.invitation.id]
    events = s.list_events(world.acme.id, invitation_id=b.invitation.id)
    assert [(e.kind, e.actor_id) for e in events] == [
        ("created", world.admin.id), ("sent", world.admin.id), ("revoked", world.admin.id),
    ]


def test_idempotency_key_replays_the_first_result(world: World) -> None:
    def send() -> invite_core.SentInvitation:
        return world.service.send(
            world.admin.id, user_id=world.bob.id, business_id=world.acme.id,
            app_id=world.crm.id, subscription_id=world.team.id, role_id=world.member.id,
            idempotency_key="req-1",
        )

    first, second = send(), send()
    assert not first.replayed and second.replayed
    assert (second.invitation.id, second.token) == (first.invitation.id, first.token)


def test_catalog_round_trip(world: World) -> None:
    s = world.service
    assert s.rename_business(world.acme.id, "Acme Inc").name == "Acme Inc"
    assert s.rename_app(world.crm.id, "CRM Pro").name == "CRM Pro"
    assert [a.id for a in s.list_apps()] == [world.crm.id]
    assert [r.key for r in s.list_roles(world.crm.id)] == ["member", "manager"]
    assert s.get_role(world.member.id) == world.member
    updated = s.update_user(world.bob.id, "Robert", "Builder", "rob@example.com")
    assert (updated.first_name, updated.email) == ("Robert", "rob@example.com")
    sub = s.update_subscription(world.acme.id, world.team.id, seats=None, plan="Unlimited")
    assert (sub.seats, sub.plan, sub.status) == (None, "Unlimited", "active")
    with pytest.raises(TypeError):
        s.update_subscription(world.acme.id, world.team.id, colour="red")  # type: ignore[call-arg]
    m = s.add_membership(world.acme.id, world.team.id, world.bob.id, world.member.id)
    assert s.memberships_of_user(world.bob.id) == [m]
    assert [x.id for x in s.list_memberships(world.acme.id, world.team.id)] == [m.id]
    s.remove_membership(world.acme.id, m.id)
    assert s.memberships_of_user(world.bob.id, world.acme.id) == []
    [option] = s.businesses_for_inviter(world.admin.id)
    assert option.is_admin and option.business.id == world.acme.id
    assert [a.id for a in s.apps_for_inviter(world.admin.id, world.acme.id)] == [world.crm.id]
    assert {r.key for r in s.grantable_roles(world.admin.id, world.acme.id, world.crm.id)} == {
        "member", "manager",
    }


def test_version_and_accept_link(world: World) -> None:
    assert invite_core.__version__
    sent = world.send_new("ada@example.com")
    assert world.service.accept_link(sent.token) == sent.accept_link
    assert sent.accept_link.startswith(BASE_URL + "?token=")


def _out_of_range(call: Callable[[], object]) -> str:
    with pytest.raises(ValidationError) as e:
        call()
    [error] = e.value.errors
    assert error["code"] == "OUT_OF_RANGE"
    return error["field"]


def test_whole_numbers_out_of_range_are_field_errors_not_overflow(world: World) -> None:
    s, acme, crm = world.service, world.acme.id, world.crm.id
    usage = s.seat_usage(acme, world.team.id)
    calls: dict[str, Callable[[], object]] = {
        "seats": lambda: s.create_subscription(acme, crm, plan="P", seats=-1),
        "seats ": lambda: s.create_subscription(acme, crm, plan="P", seats=2**32),
        " seats": lambda: s.update_subscription(acme, world.team.id, seats=2**70),
        "limit": lambda: s.list_invitations(acme, limit=-1),
        " limit": lambda: s.search_users("a", limit=2**64),
        "limit ": lambda: s.list_events(acme, limit=-(2**80)),
        "n": lambda: usage.has_room_for(-1),
        "random_seed": lambda: InviteService(random_seed=-1),
    }
    for name, call in calls.items():
        assert _out_of_range(call) == name.strip(), name
    assert s.get_subscription(acme, world.team.id).seats == world.team.seats  # unchanged
    # In a configuration object, a bad count is a bad configuration (as in Node).
    for bad_config in (
        lambda: Limits(invites_per_inviter_per_day=-1),
        lambda: Limits(pending_per_business=2**40),
        lambda: DeliveryConfig(max_attempts=-1),
    ):
        with pytest.raises(InvalidConfigError):
            bad_config()
    # Every integer type is an integer, numpy's included; a 64-bit seed is a seed.
    InviteService(random_seed=2**64 - 1)

    class NumpyLike:
        def __index__(self) -> int:
            return 3

    sub = s.create_subscription(acme, crm, plan="Indexed", seats=NumpyLike())  # type: ignore[arg-type]
    assert sub.seats == 3


def test_booleans_and_other_types_are_not_whole_numbers(world: World) -> None:
    s, acme, crm = world.service, world.acme.id, world.crm.id
    for value in (True, 1.0, "3"):
        with pytest.raises(TypeError):
            s.create_subscription(acme, crm, plan="P", seats=value)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            s.list_invitations(acme, limit=value)  # type: ignore[arg-type]
    for port in (0, -25, 65536, 2**64):
        with pytest.raises(InvalidConfigError):
            SmtpMailer("smtp.example.com", port, from_address="a@example.com")
    with pytest.raises(TypeError):
        SmtpMailer("smtp.example.com", True, from_address="a@example.com")


class _Floating(tzinfo):
    """A tzinfo that knows no offset: Python counts such datetimes as naive."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        return None


def test_datetimes_are_taken_in_their_own_zone_and_never_guessed() -> None:
    paris = timezone(timedelta(hours=1))
    clock = ManualClock(datetime(2030, 1, 1, 13, 30, tzinfo=paris))
    assert clock.now() == datetime(2030, 1, 1, 12, 30, tzinfo=timezone.utc)
    with pytest.raises(TypeError):  # naive by Python's own rule: utcoffset() is None
        ManualClock(datetime(2030, 1, 1, 12, tzinfo=_Floating()))
    with pytest.raises(TypeError):
        ManualClock(datetime(2030, 1, 1, 12))
    for edge in (
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))),
        datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5))),
    ):
        with pytest.raises(ValueError):  # not OverflowError: the instant is out of range
            ManualClock(edge)


def test_records_compare_by_value_and_are_not_hashable(world: World) -> None:
    again = world.service.get_user(world.bob.id)
    assert again == world.bob and again is not world.bob
    with pytest.raises(TypeError):  # the stubs say so too (`__hash__: ClassVar[None]`)
        hash(world.bob)


def test_a_random_seed_is_for_the_in_memory_store_only(tmp_path: Path) -> None:
    # Anyone who knows the seed can compute every token: never on a durable store.
    for store in (f"sqlite:{tmp_path / 'seeded.db'}", "sqlite::memory:"):
        with pytest.raises(InvalidConfigError) as refused:
            InviteService(store, random_seed=7)
        assert refused.value.code == "INVALID_CONFIG"
    assert not (tmp_path / "seeded.db").exists(), "refused before any file is created"
    assert InviteService("memory:", random_seed=7).store_kind == "memory"
