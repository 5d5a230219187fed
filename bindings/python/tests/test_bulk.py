"""Bulk send: one transaction, one result per row, seats counted across the batch."""

from __future__ import annotations

from datetime import timedelta

import pytest

from invite_core import MAX_BULK_ROWS, SeatLimitError, ValidationError

from .conftest import World


def test_bulk_send_reports_every_row(world: World) -> None:
    rows: list[dict[str, str | None]] = [
        {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"},
        {"user_id": world.bob.id},
        {"first_name": "", "last_name": "Turing", "email": "not-an-email"},
        {"user_id": "not-a-uuid"},
        {"first_name": "Edsger", "last_name": "Dijkstra", "email": "edsger@example.com"},
        {"first_name": "Barbara", "last_name": "Liskov", "email": "barbara@example.com"},
    ]
    result = world.service.bulk_send(
        world.admin.id, rows, business_id=world.acme.id, app_id=world.crm.id,
        subscription_id=world.team.id, role_id=world.member.id,
    )
    assert [r.index for r in result.rows] == list(range(6))
    assert [r.ok for r in result.rows] == [True, True, False, False, True, False]
    assert (result.sent, result.failed, result.replayed) == (3, 3, False)
    bad = result.rows[2].error
    assert isinstance(bad, ValidationError)
    assert {(e["field"], e["code"]) for e in bad.errors} == {
        ("rows[2].first_name", "REQUIRED"), ("rows[2].email", "INVALID_EMAIL"),
    }
    unknown = result.rows[3].error
    assert isinstance(unknown, ValidationError)
    assert unknown.errors[0]["field"] == "rows[3].user_id"
    assert unknown.errors[0]["code"] == "UNKNOWN_OPTION"
    assert isinstance(result.rows[5].error, SeatLimitError)  # 3 seats, counted across rows
    sent = result.rows[1].sent
    assert sent is not None and sent.invitation.invitee_user_id == world.bob.id
    data = result.to_dict()
    assert data["rows"][5]["error"]["code"] == "SEAT_LIMIT_REACHED"
    assert data["rows"][0]["sent"]["invitation"]["email"] == "ada@example.com"
    usage = world.service.seat_usage(world.acme.id, world.team.id)
    assert usage.reserved == 3


def test_a_call_takes_at_most_max_bulk_rows(world: World) -> None:
    rows: list[dict[str, str | None]] = [{"user_id": world.bob.id}] * (MAX_BULK_ROWS + 1)
    with pytest.raises(ValidationError) as e:
        world.service.bulk_send(
            world.admin.id, rows, business_id=world.acme.id, app_id=world.crm.id,
            subscription_id=world.team.id, role_id=world.member.id,
        )
    assert [(x["field"], x["code"]) for x in e.value.errors] == [("rows", "OUT_OF_RANGE")]
    assert MAX_BULK_ROWS == 10_000


def test_bulk_send_shared_field_problems_fail_the_call(world: World) -> None:
    with pytest.raises(ValidationError) as e:
        world.service.bulk_send(world.admin.id, [{"user_id": world.bob.id}], business_id=world.acme.id)
    assert {(x["field"], x["code"]) for x in e.value.errors} == {
        ("app_id", "REQUIRED"), ("subscription_id", "REQUIRED"), ("role_id", "REQUIRED"),
    }
    with pytest.raises(TypeError):
        world.service.bulk_send(world.admin.id, [{"mail": "a@b.c"}], business_id=world.acme.id)
    with pytest.raises(TypeError):
        world.service.bulk_send(world.admin.id, ["ada@example.com"], business_id=world.acme.id)  # type: ignore[list-item]


def test_bulk_send_reports_malformed_and_missing_shared_ids_at_once(world: World) -> None:
    rows: list[dict[str, str | None]] = [{"user_id": world.bob.id}]
    with pytest.raises(ValidationError) as e:
        world.service.bulk_send(world.admin.id, rows, business_id="x", app_id="not-a-uuid")
    assert e.value.code == "VALIDATION_FAILED"
    expected = {
        ("business_id", "UNKNOWN_OPTION"), ("app_id", "UNKNOWN_OPTION"),
        ("subscription_id", "REQUIRED"), ("role_id", "REQUIRED"),
    }
    assert {(x["field"], x["code"]) for x in e.value.errors} == expected
    # The same fields answer the same through a single send.
    with pytest.raises(ValidationError) as single:
        world.service.send(world.admin.id, user_id=world.bob.id, business_id="x", app_id="not-a-uuid")
    assert {(x["field"], x["code"]) for x in single.value.errors} == expected
    assert world.service.seat_usage(world.acme.id, world.team.id).reserved == 0


def test_a_malformed_row_id_fails_only_its_row(world: World) -> None:
    rows: list[dict[str, str | None]] = [
        {"user_id": "not-a-uuid"},
        {"user_id": "   "},  # blank: no user chosen
        {"user_id": f" {world.bob.id} "},  # ids are trimmed
    ]
    result = world.service.bulk_send(
        world.admin.id, rows, business_id=world.acme.id, app_id=world.crm.id,
        subscription_id=world.team.id, role_id=world.member.id, expires_in=timedelta(days=2),
    )
    assert [r.ok for r in result.rows] == [False, False, True]
    codes = [
        {(x["field"], x["code"]) for x in r.error.errors}
        for r in result.rows
        if isinstance(r.error, ValidationError)
    ]
    assert codes == [{("rows[0].user_id", "UNKNOWN_OPTION")}, {("rows[1].user", "REQUIRED")}]
    sent = result.rows[2].sent
    assert sent is not None
    assert sent.invitation.expires_at == world.clock.now() + timedelta(days=2)


def test_bulk_send_is_idempotent(world: World) -> None:
    def run() -> list[str]:
        result = world.service.bulk_send(
            world.admin.id, [{"first_name": "Ada", "last_name": "L", "email": "ada@example.com"}],
            business_id=world.acme.id, app_id=world.crm.id, subscription_id=world.team.id,
            role_id=world.member.id, idempotency_key="import-42",
        )
        return [r.sent.token for r in result.rows if r.sent is not None]

    assert run() == run()


def test_a_cell_that_is_not_text_names_its_row_and_sends_nothing(world: World) -> None:
    shared = dict(
        business_id=world.acme.id, app_id=world.crm.id,
        subscription_id=world.team.id, role_id=world.member.id,
    )
    rows: list[dict[str, object]] = [
        {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"},
        {"first_name": "Alan", "last_name": "Turing", "email": 42},
    ]
    # Text, even text with a lone surrogate, is a row's value: see test_unicode_input.py.
    for bad in (42, float("nan"), b"ada@example.com"):
        rows[1]["email"] = bad
        with pytest.raises((TypeError, ValueError)) as e:
            world.service.bulk_send(world.admin.id, rows, **shared)  # type: ignore[arg-type]
        assert "rows[1].email" in str(e.value)  # where in the file, not prose
    assert world.service.list_invitations(world.acme.id).items == []


def test_a_rate_limited_row_says_when_to_retry() -> None:
    from invite_core import Config, InviteForm, InviteService, Limits, ManualClock, RateLimitedError

    from .conftest import BASE_URL, START, build_world

    clock = ManualClock(START)
    config = Config(BASE_URL, limits=Limits(invites_per_inviter_per_day=1, pending_per_business=None))
    world = build_world(InviteService(config=config, clock=clock), clock, seats=None)
    shared = dict(
        business_id=world.acme.id, app_id=world.crm.id,
        subscription_id=world.team.id, role_id=world.member.id,
    )
    rows = [{"first_name": "A", "last_name": "A", "email": f"a{i}@example.com"} for i in range(2)]
    result = world.service.bulk_send(world.admin.id, rows, **shared)  # type: ignore[arg-type]
    error = result.rows[1].error
    assert isinstance(error, RateLimitedError)
    assert error.retry_after is not None and error.retry_after > 0
    form = InviteForm()
    form.set_mode("new")
    form.set_first_name("F")
    form.set_last_name("F")
    form.set_email("f@example.com")
    for field, value in shared.items():
        form.set_field(field, value)
    rejection = form.submit(world.service, world.admin.id).rejection
    assert rejection is not None and rejection.code == "RATE_LIMITED"
    assert rejection.retry_after == error.retry_after
