"""The user guide's common tasks and troubleshooting cases, from Python."""

from __future__ import annotations

from datetime import timedelta

import pytest

from invite_core import (
    InvalidTokenError,
    InvitationExpiredError,
    InvitationNotPendingError,
    InviteForm,
    SeatLimitError,
    ValidationError,
)

from .conftest import CapturingMailer, World


def field_codes(error: ValidationError) -> set[tuple[str, str]]:
    return {(e["field"], e["code"]) for e in error.errors}


# --- common tasks ---------------------------------------------------------------------


def test_invite_an_existing_user(world: World) -> None:
    s = world.service
    found = s.search_users("bob")
    assert [u.id for u in found] == [world.bob.id]
    sent = s.send(
        world.admin.id,
        user_id=found.items[0].id,
        business_id=world.acme.id,
        app_id=world.crm.id,
        subscription_id=world.team.id,
        role_id=world.member.id,
    )
    assert sent.invitation.status == "pending"
    assert sent.invitation.invitee_user_id == world.bob.id
    assert sent.invitation.email == "bob@example.com"
    assert sent.token in sent.accept_link
    accepted = s.accept(sent.token)
    assert accepted.user.id == world.bob.id
    assert not accepted.user_created
    assert accepted.membership.role_id == world.member.id


def test_invite_a_new_user(world: World) -> None:
    sent = world.send_new("Ada@Example.com")
    inv = sent.invitation
    assert inv.invitee_user_id is None
    assert (inv.invitee_first_name, inv.invitee_last_name) == ("Ada", "Lovelace")
    assert inv.email == "Ada@Example.com"  # mail goes to the address as entered
    accepted = world.service.accept(sent.token)
    assert accepted.user_created
    assert accepted.user.display_name == "Ada Lovelace"
    assert world.service.find_user_by_email("ada@example.com") == accepted.user


def test_check_seats_before_inviting(world: World) -> None:
    s = world.service
    [option] = s.subscriptions_for(world.acme.id, world.crm.id)
    assert option.subscription.id == world.team.id
    assert option.active
    seats = option.seats
    assert (seats.total, seats.used, seats.reserved, seats.available) == (3, 0, 0, 3)
    assert seats.has_room_for(3) and not seats.has_room_for(4)
    world.send_new("ada@example.com")
    after = s.seat_usage(world.acme.id, world.team.id)
    assert (after.used, after.reserved, after.available) == (0, 1, 2)

    unlimited = s.create_subscription(world.acme.id, world.crm.id, plan="Enterprise")
    usage = s.seat_usage(world.acme.id, unlimited.id)
    assert usage.unlimited and usage.total is None and usage.available is None


def test_invitee_accepts(world: World) -> None:
    s = world.service
    sent = world.send_new("ada@example.com")
    preview = s.peek(sent.token)
    assert (preview.business_name, preview.app_name, preview.role_name) == ("Acme", "CRM", "Member")
    assert preview.inviter_name == "Grace Hopper"
    assert preview.creates_user
    accepted = s.accept(sent.token)
    assert accepted.invitation.status == "accepted"
    assert accepted.invitation.accepted_user_id == accepted.user.id
    usage = s.seat_usage(world.acme.id, world.team.id)
    assert (usage.used, usage.reserved) == (1, 0)
    kinds = [e.kind for e in s.list_events(world.acme.id, invitation_id=sent.invitation.id)]
    assert kinds == ["created", "sent", "accepted"]
    with pytest.raises(InvalidTokenError):
        s.accept(sent.token)  # single use


def test_resend_after_did_not_receive(world: World, mailer: CapturingMailer) -> None:
    s = world.service
    first = world.send_new("ada@example.com")
    assert s.dispatch_outbox(mailer).delivered == 1
    world.clock.advance(timedelta(hours=2))
    again = s.resend(world.acme.id, first.invitation.id, world.admin.id)
    assert again.token != first.token
    assert again.invitation.send_count == 2
    assert again.invitation.expires_at == world.clock.now() + timedelta(days=7)
    with pytest.raises(InvalidTokenError):
        s.peek(first.token)  # the old link died
    assert s.dispatch_outbox(mailer).delivered == 1
    assert [m.accept_link for m in mailer.sent] == [first.accept_link, again.accept_link]
    assert mailer.sent[0].message_id != mailer.sent[1].message_id
    assert s.accept(again.token).invitation.status == "accepted"


def test_revoke(world: World) -> None:
    s = world.service
    sent = world.send_new("ada@example.com")
    revoked = s.revoke(world.acme.id, sent.invitation.id, world.admin.id)
    assert revoked.status == "revoked"
    assert s.seat_usage(world.acme.id, world.team.id).reserved == 0
    with pytest.raises(InvalidTokenError):
        s.accept(sent.token)
    with pytest.raises(InvitationNotPendingError) as e:
        s.revoke(world.acme.id, sent.invitation.id, world.admin.id)
    assert e.value.code == "INVITATION_NOT_PENDING"


def test_decline(world: World) -> None:
    s = world.service
    sent = world.send_new("ada@example.com")
    declined = s.decline(sent.token)
    assert declined.status == "declined"
    assert declined.responded_at == world.clock.now()
    assert s.seat_usage(world.acme.id, world.team.id).reserved == 0
    with pytest.raises(InvalidTokenError):
        s.accept(sent.token)


def test_peek_never_changes_state(world: World) -> None:
    s = world.service
    sent = world.send_new("ada@example.com")
    before = (
        s.get_invitation(world.acme.id, sent.invitation.id),
        s.seat_usage(world.acme.id, world.team.id),
        s.list_events(world.acme.id).to_dict(),
    )
    for _ in range(3):
        assert s.peek(sent.token).invitation == before[0]
    world.clock.advance(timedelta(days=8))
    assert s.peek(sent.token).invitation.status == "expired"  # shown, not written
    after = (
        s.get_invitation(world.acme.id, sent.invitation.id),
        s.seat_usage(world.acme.id, world.team.id),
        s.list_events(world.acme.id).to_dict(),
    )
    assert after[1:] == before[1:]
    assert after[0].status == "expired" and after[0].responded_at is None


def test_expiry_with_an_injected_clock(world: World) -> None:
    s = world.service
    sent = world.send_new("ada@example.com", role_id=world.member.id)
    assert sent.invitation.expires_at == world.clock.now() + timedelta(days=7)
    world.clock.advance(timedelta(days=7) - timedelta(seconds=1))
    assert s.peek(sent.token).invitation.status == "pending"
    world.clock.advance(timedelta(seconds=1))  # accept at expires_at fails
    with pytest.raises(InvitationExpiredError) as e:
        s.accept(sent.token)
    assert e.value.code == "INVITATION_EXPIRED" and e.value.help
    assert s.seat_usage(world.acme.id, world.team.id).reserved == 1  # until the sweep
    assert s.expire_overdue() == 1
    assert s.seat_usage(world.acme.id, world.team.id).reserved == 0
    assert s.list_invitations(world.acme.id, status="expired").items[0].id == sent.invitation.id
    revived = s.resend(world.acme.id, sent.invitation.id, world.admin.id, expires_in=timedelta(hours=1))
    assert revived.invitation.status == "pending"
    assert revived.invitation.expires_at == world.clock.now() + timedelta(hours=1)


# --- troubleshooting -------------------------------------------------------------------


def test_app_list_is_empty_before_a_business_is_chosen(world: World) -> None:
    form = InviteForm()
    view = form.view(world.service, world.admin.id)
    assert view.apps == []
    assert "SELECT_BUSINESS_FIRST" in {h["code"] for h in view.hints}
    assert [b.business.id for b in view.businesses] == [world.acme.id]
    form.select_business(world.acme.id)
    view = form.view(world.service, world.admin.id)
    assert [a.id for a in view.apps] == [world.crm.id]
    assert "SELECT_BUSINESS_FIRST" not in {h["code"] for h in view.hints}


def test_subscription_list_is_empty_before_business_and_app(world: World) -> None:
    form = InviteForm()
    form.select_business(world.acme.id)
    view = form.view(world.service, world.admin.id)
    assert view.subscriptions == [] and view.roles == []
    assert "SELECT_BUSINESS_AND_APP" in {h["code"] for h in view.hints}
    form.select_app(world.crm.id)
    view = form.view(world.service, world.admin.id)
    assert [o.subscription.id for o in view.subscriptions] == [world.team.id]
    assert {r.id for r in view.roles} == {world.member.id, world.manager.id}
    # The service answers the same: nothing for an app the business has not enabled.
    other = world.service.create_app("Billing")
    assert world.service.subscriptions_for(world.acme.id, other.id) == []


def test_changing_a_choice_clears_the_ones_below_and_clear_resets(world: World) -> None:
    form = InviteForm()
    form.select_business(world.acme.id)
    form.select_app(world.crm.id)
    form.select_subscription(world.team.id)
    form.select_role(world.member.id)
    form.select_app(world.service.create_app("Other").id)
    assert (form.subscription_id, form.role_id) == (None, None)
    form.set_first_name("Ada")
    assert form.mode == "new"
    form.select_user(world.bob.id)
    assert (form.mode, form.first_name) == ("existing", "")
    form.clear()
    assert form == InviteForm()


REQUIRED_FIELDS = ["user", "business_id", "app_id", "subscription_id", "role_id"]
NEW_USER_FIELDS = ["first_name", "last_name", "email"]


@pytest.mark.parametrize("missing", REQUIRED_FIELDS + NEW_USER_FIELDS)
def test_invitation_wont_send_without(world: World, missing: str) -> None:
    fields: dict[str, str | None] = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "business_id": world.acme.id,
        "app_id": world.crm.id,
        "subscription_id": world.team.id,
        "role_id": world.member.id,
    }
    if missing == "user":
        fields.update(first_name=None, last_name=None, email=None)
    else:
        fields[missing] = None
    with pytest.raises(ValidationError) as e:
        world.service.send(
            world.admin.id,
            first_name=fields["first_name"],
            last_name=fields["last_name"],
            email=fields["email"],
            business_id=fields["business_id"],
            app_id=fields["app_id"],
            subscription_id=fields["subscription_id"],
            role_id=fields["role_id"],
        )
    assert e.value.code == "VALIDATION_FAILED"
    assert field_codes(e.value) == {(missing, "REQUIRED")}
    assert world.service.seat_usage(world.acme.id, world.team.id).reserved == 0


def test_invitation_wont_send_reports_every_problem_at_once(world: World) -> None:
    with pytest.raises(ValidationError) as e:
        world.service.send(world.admin.id)
    assert field_codes(e.value) == {(f, "REQUIRED") for f in REQUIRED_FIELDS}
    assert e.value.details["errors"] == e.value.errors
    form = InviteForm()
    form.set_mode("new")
    view = form.view(world.service, world.admin.id)
    assert not view.can_send
    assert set(view.missing) == {"first_name", "last_name", "email"} | set(REQUIRED_FIELDS[1:])
    result = form.submit(world.service, world.admin.id)
    assert not result.ok and result.rejection is not None
    assert result.rejection.code == "VALIDATION_FAILED"
    assert {e["field"] for e in result.rejection.errors} == set(NEW_USER_FIELDS) | set(
        REQUIRED_FIELDS[1:]
    )


@pytest.mark.parametrize(
    "email",
    [
        "not-an-email",
        "ada@",
        "@example.com",
        "ada@@example.com",
        "=?utf-8?q?ada?=@example.com",
        "a\u0085da@example.com",
        # Domains no mail can reach: not host names.
        "ada@exa_mple.com",
        "ada@192.0.2.1",
        "ada@example\uff3f.com",
    ],
)
def test_invalid_email(world: World, email: str) -> None:
    with pytest.raises(ValidationError) as e:
        world.send_new(email)
    assert field_codes(e.value) == {("email", "INVALID_EMAIL")}


def test_malformed_ids_are_unknown_options(world: World) -> None:
    with pytest.raises(ValidationError) as e:
        world.send_new("ada@example.com", subscription_id="not-a-uuid", role_id="x")
    assert field_codes(e.value) == {("subscription_id", "UNKNOWN_OPTION"), ("role_id", "UNKNOWN_OPTION")}


def test_seat_limit(world: World) -> None:
    s = world.service
    for i in range(3):
        world.send_new(f"person{i}@example.com")
    with pytest.raises(SeatLimitError) as e:
        world.send_new("one-too-many@example.com")
    assert e.value.code == "SEAT_LIMIT_REACHED" and e.value.kind == "limit_exceeded"
    assert e.value.help  # "free a seat, revoke a pending invitation, …"
    form = InviteForm()
    for field, value in [
        ("business_id", world.acme.id),
        ("app_id", world.crm.id),
        ("subscription_id", world.team.id),
    ]:
        form.set_field(field, value)
    view = form.view(s, world.admin.id)
    assert "NO_SEATS_LEFT" in {h["code"] for h in view.hints}
    assert view.seats is not None and view.seats.available == 0
    # Revoking a pending invitation frees its seat.
    first = s.list_invitations(world.acme.id, status="pending").items[0]
    s.revoke(world.acme.id, first.id, world.admin.id)
    assert world.send_new("one-too-many@example.com").invitation.status == "pending"


def test_form_submit_sends(world: World) -> None:
    form = InviteForm()
    form.select_user(world.bob.id)
    form.select_business(world.acme.id)
    form.select_app(world.crm.id)
    form.select_subscription(world.team.id)
    form.select_role(world.member.id)
    view = form.view(world.service, world.admin.id)
    assert view.can_send and view.selected_user == world.bob
    result = form.submit(world.service, world.admin.id)
    assert result.ok and result.sent is not None
    assert result.sent.invitation.invitee_user_id == world.bob.id
    again = form.submit(world.service, world.admin.id)
    assert again.rejection is not None
    assert (again.rejection.code, again.rejection.field) == ("ALREADY_INVITED", "user_id")
    assert InviteForm.from_json(form.to_json()) == form
