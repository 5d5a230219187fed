"""The form view's user list: at most USER_OPTIONS users, a truncation flag, and an
over-long search reported as a field error."""

from __future__ import annotations

import pytest

from invite_core import USER_OPTIONS, InviteForm, ValidationError

from .conftest import World


def test_user_options_is_the_core_constant() -> None:
    assert USER_OPTIONS == 20


def test_the_user_list_says_when_more_users_match(world: World) -> None:
    for i in range(USER_OPTIONS):
        world.service.create_user("Test", f"Person{i:02}", f"person{i:02}@example.com")
    form = InviteForm()
    form.set_user_query("person")
    view = form.view(world.service, world.admin.id)
    assert len(view.users) == USER_OPTIONS
    assert not view.users_truncated  # exactly USER_OPTIONS match
    world.service.create_user("Test", "Person99", "person99@example.com")
    view = form.view(world.service, world.admin.id)
    assert len(view.users) == USER_OPTIONS
    assert view.users_truncated
    assert view.to_dict()["users_truncated"] is True
    form.set_user_query("person99")
    view = form.view(world.service, world.admin.id)
    assert [u.email for u in view.users] == ["person99@example.com"]
    assert not view.users_truncated


def test_new_user_mode_lists_no_users(world: World) -> None:
    form = InviteForm()
    form.set_mode("new")
    view = form.view(world.service, world.admin.id)
    assert view.users == [] and not view.users_truncated


def test_an_over_long_search_is_a_field_error_not_an_exception(world: World) -> None:
    form = InviteForm()
    form.set_user_query("bob" * 400)
    view = form.view(world.service, world.admin.id)
    assert ("user_query", "TOO_LONG") in {(e["field"], e["code"]) for e in view.field_errors}
    assert view.users == [] and not view.users_truncated
    assert not view.can_send
    form.set_user_query("bob")
    view = form.view(world.service, world.admin.id)
    assert "user_query" not in {e["field"] for e in view.field_errors}
    assert [u.id for u in view.users] == [world.bob.id]


def test_a_double_submitted_form_under_its_key_replays_the_first_send(world: World) -> None:
    form = InviteForm()
    form.set_mode("new")
    form.set_first_name("Ada")
    form.set_last_name("Lovelace")
    form.set_email("ada@example.com")
    form.select_business(world.acme.id)
    form.select_app(world.crm.id)
    form.select_subscription(world.team.id)
    form.select_role(world.member.id)
    first = form.submit(world.service, world.admin.id, idempotency_key="render-1")
    again = form.submit(world.service, world.admin.id, idempotency_key="render-1")
    assert first.sent is not None and again.sent is not None
    assert not first.sent.replayed and again.sent.replayed
    assert again.sent.invitation.id == first.sent.invitation.id
    other = form.submit(world.service, world.admin.id)  # no key: a second invitation
    assert other.rejection is not None and other.rejection.code == "ALREADY_INVITED"


def test_from_json_applies_the_setters_rules() -> None:
    form = InviteForm.from_json('{"business_id": " b2 ", "app_id": "", "role_id": " r2 "}')
    assert (form.business_id, form.app_id, form.role_id) == ("b2", None, None)
    # Nothing below a missing choice: view() and submit() agree on what is missing.
    orphans = InviteForm.from_json('{"app_id": "a1", "subscription_id": "s1", "role_id": "r1"}')
    assert (orphans.app_id, orphans.subscription_id, orphans.role_id) == (None, None, None)
    mixed = InviteForm.from_json('{"mode": "existing", "user_id": "u1", "email": "x@example.com"}')
    assert (mixed.user_id, mixed.email) == ("u1", "")
    assert InviteForm.from_json(mixed.to_json()) == mixed


@pytest.mark.parametrize(
    ("saved", "field"),
    [
        ('{"mode": "bogus"}', "mode"),
        ("{", "form"),
        ("[]", "form"),
        ('{"first_name": 5}', "form"),
    ],
)
def test_from_json_refuses_what_is_not_a_saved_form(saved: str, field: str) -> None:
    with pytest.raises(ValidationError) as e:
        InviteForm.from_json(saved)
    assert e.value.code == "VALIDATION_FAILED"
    assert [(f["field"], f["code"]) for f in e.value.errors] == [(field, "UNKNOWN_OPTION")]
