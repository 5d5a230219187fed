"""The authorization port from Python: `policy=` replaces who may invite and which roles
they may grant, in part (`None` answers, missing methods) or whole; a failing policy
denies."""

from __future__ import annotations

import logging

import pytest

from invite_core import (
    AuthorizationPolicy,
    InviterRights,
    InviteService,
    ManualClock,
    PermissionDeniedError,
    Role,
    RoleNotAssignableError,
)

from .conftest import START, World, build_world


def policy_world(policy: object) -> World:
    clock = ManualClock(START)
    return build_world(InviteService(clock=clock, policy=policy), clock)  # type: ignore[arg-type]


def send_bob(world: World, role: Role, inviter_id: str | None = None) -> None:
    world.service.send(
        inviter_id or world.admin.id,
        user_id=world.bob.id,
        business_id=world.acme.id,
        app_id=world.crm.id,
        subscription_id=world.team.id,
        role_id=role.id,
    )


class NoManagers:
    """Nobody grants the manager role; everything else is the default rule."""

    def __init__(self) -> None:
        self.asked: list[InviterRights] = []

    def may_invite(self, rights: InviterRights) -> bool | None:
        self.asked.append(rights)
        return None

    def may_grant(self, rights: InviterRights, role: Role) -> bool | None:
        return False if role.key == "manager" else None


def test_a_policy_narrows_the_default_rule() -> None:
    policy = NoManagers()
    w = policy_world(policy)
    with pytest.raises(RoleNotAssignableError) as e:
        send_bob(w, w.manager)
    assert e.value.code == "ROLE_NOT_ASSIGNABLE"
    send_bob(w, w.member)  # `None`: the default rule lets an admin grant it
    [option] = w.service.businesses_for_inviter(w.admin.id)
    assert [r.key for r in w.service.grantable_roles(w.admin.id, w.acme.id, w.crm.id)] == ["member"]
    rights = policy.asked[0]
    assert (rights.user_id, rights.business_id, rights.app_id) == (w.admin.id, w.acme.id, w.crm.id)
    assert rights.is_business_admin and rights.roles == []
    assert rights.to_dict()["is_business_admin"] is True
    assert option.business.id == w.acme.id


def test_a_policy_widens_the_default_rule_and_is_asked_again_at_accept() -> None:
    class SupportDesk:
        """Bob (no role anywhere) may invite members while the desk is open."""

        open = True

        def may_invite(self, rights: InviterRights) -> bool | None:
            return self.open if rights.user_id == bob_id else None

        def may_grant(self, rights: InviterRights, role: Role) -> bool | None:
            return self.open and role.key == "member" if rights.user_id == bob_id else None

    desk = SupportDesk()
    w = policy_world(desk)
    bob_id = w.bob.id
    sent = w.service.send(
        bob_id, first_name="Ada", last_name="Lovelace", email="ada@example.com",
        business_id=w.acme.id, app_id=w.crm.id, subscription_id=w.team.id, role_id=w.member.id,
    )
    with pytest.raises(RoleNotAssignableError):
        send_bob(w, w.manager, inviter_id=bob_id)
    desk.open = False
    with pytest.raises(RoleNotAssignableError):  # the inviter's rights at accept time
        w.service.accept(sent.token)
    desk.open = True
    assert w.service.accept(sent.token).user_created


def test_one_method_is_enough_and_the_other_is_the_default() -> None:
    class AdminsOnly:
        def may_invite(self, rights: InviterRights) -> bool:
            return rights.is_business_admin

    w = policy_world(AdminsOnly())
    send_bob(w, w.manager)  # may_grant: the default rule (an admin grants anything)
    lead = w.service.create_user("Lead", "Manager", "lead@example.com")
    w.service.add_membership(w.acme.id, w.team.id, lead.id, w.manager.id)
    with pytest.raises(PermissionDeniedError):  # the default rule would have let them
        w.service.send(
            lead.id, first_name="Ada", last_name="Lovelace", email="ada@example.com",
            business_id=w.acme.id, app_id=w.crm.id, subscription_id=w.team.id,
            role_id=w.member.id,
        )


@pytest.mark.parametrize("answer", ["raise", 1, "yes"])
def test_a_failing_policy_denies_and_is_logged(
    answer: object, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken:
        def may_invite(self, rights: InviterRights) -> object:
            if answer == "raise":
                raise LookupError("directory unreachable")
            return answer

        def may_grant(self, rights: InviterRights, role: Role) -> bool:
            return True

    w = policy_world(Broken())
    with caplog.at_level(logging.ERROR, logger="invite_core"):
        with pytest.raises(PermissionDeniedError):
            send_bob(w, w.member)
    [record] = [r for r in caplog.records if r.name == "invite_core"][:1]
    assert record.exc_info is not None
    assert record.exc_info[0] is (LookupError if answer == "raise" else TypeError)
    assert w.service.list_invitations(w.acme.id).items == []


@pytest.mark.parametrize("failure", [RuntimeError, KeyboardInterrupt])
def test_a_method_that_cannot_be_looked_up_denies(
    failure: type[BaseException], caplog: pytest.LogCaptureFixture
) -> None:
    class FromConfig:
        """`may_grant` comes from a configuration store that can be down."""

        down = False

        @property
        def may_grant(self) -> object:
            if self.down:
                raise failure("configuration store down")
            return lambda rights, role: False  # nobody grants anything

    policy = FromConfig()
    w = policy_world(policy)
    with pytest.raises(RoleNotAssignableError):
        send_bob(w, w.member)
    policy.down = True
    with caplog.at_level(logging.ERROR, logger="invite_core"):
        if failure is KeyboardInterrupt:
            # The interrupt is raised once the refused send returns, as for hooks.
            with pytest.raises(KeyboardInterrupt):
                send_bob(w, w.member)
        else:
            with pytest.raises(RoleNotAssignableError) as e:
                send_bob(w, w.member)
            assert e.value.code == "ROLE_NOT_ASSIGNABLE"
            errors = [r.exc_info[0] for r in caplog.records if r.exc_info]
            assert RuntimeError in errors
    assert w.service.list_invitations(w.acme.id).items == []


def test_a_policy_whose_lookup_fails_at_construction_is_refused() -> None:
    class Broken:
        def may_invite(self, rights: InviterRights) -> bool:
            return True

        @property
        def may_grant(self) -> object:
            raise LookupError("configuration store down")

    with pytest.raises(LookupError):
        InviteService(policy=Broken())  # type: ignore[arg-type]


def test_a_policy_that_calls_the_service_denies(caplog: pytest.LogCaptureFixture) -> None:
    class Reentrant:
        service: InviteService

        def may_invite(self, rights: InviterRights) -> bool:
            return self.service.get_user(rights.user_id) is not None

        def may_grant(self, rights: InviterRights, role: Role) -> None:
            return None

    policy = Reentrant()
    w = policy_world(policy)
    policy.service = w.service
    with caplog.at_level(logging.ERROR, logger="invite_core"):
        with pytest.raises(PermissionDeniedError):
            send_bob(w, w.member)
    errors = [r.exc_info[0] for r in caplog.records if r.exc_info]
    assert RuntimeError in errors
    w.service.get_user(w.bob.id)  # outside the policy the service answers as ever


def test_a_policy_needs_a_plain_method() -> None:
    class Nothing:
        pass

    class Async:
        async def may_invite(self, rights: InviterRights) -> bool:
            return True

    for policy in (Nothing(), Async(), "admins"):
        with pytest.raises(TypeError):
            InviteService(policy=policy)  # type: ignore[arg-type]


def test_the_protocol_accepts_a_full_policy() -> None:
    policy: AuthorizationPolicy = NoManagers()
    assert InviteService(policy=policy).store_kind == "memory"


def test_rights_come_only_from_active_subscriptions() -> None:
    """A manager whose only membership is in a suspended subscription may not invite
    through another one, and a policy sees no roles in their rights."""
    policy = NoManagers()
    w = policy_world(policy)
    s = w.service
    legacy = s.create_subscription(w.acme.id, w.crm.id, plan="Legacy", seats=None)
    carol = s.create_user("Carol", "Keen", "carol@example.com")
    s.add_membership(w.acme.id, legacy.id, carol.id, w.manager.id)
    send_bob(w, w.member, inviter_id=carol.id)
    assert [r.key for r in policy.asked[-1].roles] == ["manager"]

    s.update_subscription(w.acme.id, legacy.id, status="suspended")
    with pytest.raises(PermissionDeniedError) as e:
        w.send_new("ada@example.com", inviter_id=carol.id)
    assert e.value.code == "PERMISSION_DENIED"
    assert policy.asked[-1].user_id == carol.id and policy.asked[-1].roles == []
    assert s.grantable_roles(carol.id, w.acme.id, w.crm.id) == []

    s.update_subscription(w.acme.id, legacy.id, status="active")
    w.send_new("ada@example.com", inviter_id=carol.id)
