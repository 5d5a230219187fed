"""Text that is not valid Unicode: a lone surrogate, as `json.loads` yields from a
request body, fails as its field with a stable code, as it does from Node; it never
raises `UnicodeEncodeError`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from invite_core import (
    FileMailer,
    InvalidConfigError,
    InvalidTokenError,
    InviteForm,
    NotFoundError,
    SmtpMailer,
    ValidationError,
)

from .conftest import World

# What a JSON API host gets from `{"first_name": "Ann\ud800"}`.
LONE = json.loads('"\\ud800"')


def field_codes(error: ValidationError) -> set[tuple[str, str]]:
    return {(e["field"], e["code"]) for e in error.errors}


def test_a_send_reports_each_field_with_a_lone_surrogate(world: World) -> None:
    with pytest.raises(ValidationError) as e:
        world.service.send(
            world.admin.id,
            first_name=f"Ann{LONE}",
            last_name="Lee",
            email=f"ann{LONE}@example.com",
            business_id=world.acme.id,
            app_id=world.crm.id,
            subscription_id=world.team.id,
            role_id=world.member.id,
            idempotency_key=f"key-{LONE}",
        )
    assert field_codes(e.value) == {
        ("first_name", "INVALID_CHARACTERS"),
        ("email", "INVALID_EMAIL"),
        ("idempotency_key", "INVALID_CHARACTERS"),
    }
    assert world.service.list_invitations(world.acme.id).items == []


def test_ids_tokens_and_queries_with_a_lone_surrogate_find_nothing(world: World) -> None:
    s = world.service
    with pytest.raises(ValidationError) as e:
        world.send_new("ann@example.com", subscription_id=f"{world.team.id}{LONE}")
    assert field_codes(e.value) == {("subscription_id", "UNKNOWN_OPTION")}
    with pytest.raises(NotFoundError):
        s.get_user(f"{world.bob.id}{LONE}")
    with pytest.raises(InvalidTokenError):
        s.accept(f"{'A' * 42}{LONE}")
    assert s.search_users(f"bob{LONE}").items == []


def test_labels_with_a_lone_surrogate_are_invalid_characters(world: World) -> None:
    with pytest.raises(ValidationError) as e:
        world.service.create_business(f"Acme{LONE}")
    assert field_codes(e.value) == {("name", "INVALID_CHARACTERS")}
    with pytest.raises(ValidationError) as e:
        world.service.update_subscription(world.acme.id, world.team.id, plan=f"Gold{LONE}")
    assert field_codes(e.value) == {("plan", "INVALID_CHARACTERS")}


def test_a_bulk_row_with_a_lone_surrogate_fails_alone(world: World) -> None:
    result = world.service.bulk_send(
        world.admin.id,
        [
            {"first_name": f"Ann{LONE}", "last_name": "Lee", "email": "ann@example.com"},
            {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"},
        ],
        business_id=world.acme.id,
        app_id=world.crm.id,
        subscription_id=world.team.id,
        role_id=world.member.id,
    )
    assert [r.ok for r in result.rows] == [False, True]
    error = result.rows[0].error
    assert isinstance(error, ValidationError)
    assert field_codes(error) == {("rows[0].first_name", "INVALID_CHARACTERS")}


def test_the_form_shows_a_lone_surrogate_as_a_field_error(world: World) -> None:
    form = InviteForm()
    form.set_mode("new")
    form.set_first_name(f"Ann{LONE}")
    view = form.view(world.service, world.admin.id)
    assert ("first_name", "INVALID_CHARACTERS") in {
        (e["field"], e["code"]) for e in view.field_errors
    }
    assert not view.can_send


def test_anything_but_a_str_is_still_a_type_error(world: World) -> None:
    with pytest.raises(TypeError):
        world.service.create_business(42)  # type: ignore[arg-type]


def test_mailer_settings_and_message_ids_with_a_lone_surrogate(tmp_path: Path) -> None:
    mailbox = FileMailer(tmp_path)
    for look_up in (mailbox.read, mailbox.json_path, mailbox.eml_path):
        with pytest.raises(NotFoundError):
            look_up(f"msg{LONE}")
    with pytest.raises(InvalidConfigError):
        SmtpMailer(
            "localhost", from_address="invites@example.com", tls=f"tls{LONE}"  # type: ignore[arg-type]
        )
