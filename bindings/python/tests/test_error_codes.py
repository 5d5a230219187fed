"""Error codes: drift against Rust and the stub, every code raised with its class, pickling."""

from __future__ import annotations

import ast
import pickle
import sqlite3
import tempfile
import typing
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

import invite_core
from invite_core import (
    Config,
    InviteError,
    InviteService,
    ManualClock,
    Store,
    _native,
    error_codes,
    error_kinds,
    field_codes,
)

from .conftest import BASE_URL, START, World, build_world

STUB = Path(invite_core.__file__).with_name("_native.pyi")

# The class each code raises, and the class of each kind (DESIGN.md: one per kind, and
# one per code a user catches). Written out here so the Rust mapping is checked, not copied.
CLASS_OF_CODE = {
    "VALIDATION_FAILED": "ValidationError",
    "INVALID_CONFIG": "InvalidConfigError",
    "NOT_FOUND": "NotFoundError",
    "ALREADY_EXISTS": "AlreadyExistsError",
    "PERMISSION_DENIED": "PermissionDeniedError",
    "ROLE_NOT_ASSIGNABLE": "RoleNotAssignableError",
    "APP_NOT_ENABLED": "AppNotEnabledError",
    "SEAT_LIMIT_REACHED": "SeatLimitError",
    "SUBSCRIPTION_INACTIVE": "SubscriptionInactiveError",
    "ALREADY_MEMBER": "AlreadyMemberError",
    "ALREADY_INVITED": "AlreadyInvitedError",
    "INVITATION_EXPIRED": "InvitationExpiredError",
    "INVITATION_NOT_PENDING": "InvitationNotPendingError",
    "INVALID_TOKEN": "InvalidTokenError",
    "EMAIL_MISMATCH": "EmailMismatchError",
    "RATE_LIMITED": "RateLimitedError",
    "IDEMPOTENCY_CONFLICT": "IdempotencyConflictError",
    "STORAGE_CONFLICT": "StorageConflictError",
    "STORAGE_UNAVAILABLE": "StorageUnavailableError",
    "SCHEMA_VERSION_UNSUPPORTED": "SchemaVersionUnsupportedError",
    "NOT_SUPPORTED": "NotSupportedError",
    "INTERNAL": "InternalError",
}
CLASS_OF_KIND = {
    "invalid_input": invite_core.InvalidInputError,
    "not_found": invite_core.NotFoundError,
    "already_exists": invite_core.AlreadyExistsError,
    "conflict": invite_core.ConflictError,
    "limit_exceeded": invite_core.LimitExceededError,
    "permission_denied": invite_core.PermissionDeniedError,
    "storage": invite_core.StorageError,
    "internal": invite_core.InternalError,
}

# Codes no Python call can reach: a conflict the core does not retry away, an adapter
# without an optional capability, a broken invariant. They are covered through the
# `_error_for_code` test hook (the same conversion path every real error takes).
HOOK_ONLY = {
    "STORAGE_CONFLICT",
    "NOT_SUPPORTED",
    "INTERNAL",
}


def stub_literal(name: str) -> list[str]:
    """The values of `name: TypeAlias = Literal[...]` in the stub, in order."""
    tree = ast.parse(STUB.read_text())
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            if node.target.id == name and isinstance(node.value, ast.Subscript):
                elts = node.value.slice
                assert isinstance(elts, ast.Tuple)
                return [e.value for e in elts.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    raise AssertionError(f"{name} not found in {STUB}")


# --- drift --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alias", "native"),
    [("ErrorCode", error_codes), ("ErrorKind", error_kinds), ("FieldCode", field_codes)],
)
def test_codes_python_knows_match_rust_and_the_stub(
    alias: str, native: Callable[[], list[str]]
) -> None:
    rust = native()
    assert len(rust) == len(set(rust))
    assert list(typing.get_args(getattr(_native, alias))) == rust
    assert stub_literal(alias) == rust


@pytest.mark.parametrize(
    "alias",
    ["InvitationStatus", "SubscriptionStatus", "DeliveryState", "OutboxState", "EventKind", "HintCode", "UserMode"],
)
def test_status_literals_match_the_stub(alias: str) -> None:
    assert stub_literal(alias) == list(typing.get_args(getattr(_native, alias)))


def test_every_code_has_its_class() -> None:
    assert set(CLASS_OF_CODE) == set(error_codes())
    assert set(CLASS_OF_KIND) == set(error_kinds())
    for code, name in CLASS_OF_CODE.items():
        assert _native.error_class_name(code) == name
        cls = getattr(invite_core, name)
        assert issubclass(cls, InviteError)
        assert name in invite_core.__all__


# --- every code raised, with its class ---------------------------------------------


def world_with(**config: typing.Any) -> World:
    clock = ManualClock(START)
    service = InviteService(config=Config(BASE_URL, **config), clock=clock)
    return build_world(service, clock)


def validation_failed(w: World) -> object:
    return w.service.send(w.admin.id)


def invalid_config(w: World) -> object:
    return InviteService(config=Config("javascript:alert(1)"))


def not_found(w: World) -> object:
    return w.service.get_business("0190a0a0-0000-7000-8000-000000000000")


def already_exists(w: World) -> object:
    return w.service.create_user("Bob", "Again", "BOB@example.com")


def permission_denied(w: World) -> object:
    # A member without the right to invite (to an outsider, the business is unknown).
    w.service.add_membership(w.acme.id, w.team.id, w.bob.id, w.member.id)
    return w.send_new("ada@example.com", inviter_id=w.bob.id)


def role_not_assignable(w: World) -> object:
    other = w.service.create_role(w.service.create_app("Other").id, "x", "X")
    return w.send_new("ada@example.com", role_id=other.id)


def app_not_enabled(w: World) -> object:
    w.service.set_app_enabled(w.acme.id, w.crm.id, False)
    return w.send_new("ada@example.com")


def seat_limit_reached(w: World) -> object:
    for i in range(4):
        w.send_new(f"p{i}@example.com")
    return None


def subscription_inactive(w: World) -> object:
    w.service.update_subscription(w.acme.id, w.team.id, status="suspended")
    return w.send_new("ada@example.com")


def already_member(w: World) -> object:
    w.service.add_membership(w.acme.id, w.team.id, w.bob.id, w.member.id)
    return w.service.send(
        w.admin.id, user_id=w.bob.id, business_id=w.acme.id, app_id=w.crm.id,
        subscription_id=w.team.id, role_id=w.member.id,
    )


def already_invited(w: World) -> object:
    w.send_new("ada@example.com")
    return w.send_new("ADA@example.com")


def invitation_expired(w: World) -> object:
    sent = w.send_new("ada@example.com")
    w.clock.advance(timedelta(days=30))
    return w.service.accept(sent.token)


def invitation_not_pending(w: World) -> object:
    sent = w.send_new("ada@example.com")
    w.service.accept(sent.token)
    return w.service.revoke(w.acme.id, sent.invitation.id, w.admin.id)


def invalid_token(w: World) -> object:
    return w.service.peek("not-a-token")


def email_mismatch(w: World) -> object:
    sent = w.send_new("ada@example.com")
    return w.service.accept(sent.token, email="someone.else@example.com")


def rate_limited(w: World) -> object:
    sent = w.send_new("ada@example.com")
    return w.service.resend(w.acme.id, sent.invitation.id, w.admin.id)  # 60 s cooldown


def idempotency_conflict(w: World) -> object:
    w.service.send(w.admin.id, user_id=w.bob.id, business_id=w.acme.id, app_id=w.crm.id,
                   subscription_id=w.team.id, role_id=w.member.id, idempotency_key="k1")
    return w.service.send(w.admin.id, user_id=w.bob.id, business_id=w.acme.id, app_id=w.crm.id,
                          subscription_id=w.team.id, role_id=w.manager.id, idempotency_key="k1")


def storage_unavailable(w: World) -> object:
    with tempfile.TemporaryDirectory() as d:
        return Store(f"sqlite:{d}")  # a directory is no database file


def schema_version_unsupported(w: World) -> object:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "future.db"
        db = sqlite3.connect(path)
        db.execute("PRAGMA user_version = 999")
        db.commit()
        db.close()
        return Store(f"sqlite:{path}")


TRIGGERS: dict[str, Callable[[World], object]] = {
    "VALIDATION_FAILED": validation_failed,
    "INVALID_CONFIG": invalid_config,
    "NOT_FOUND": not_found,
    "ALREADY_EXISTS": already_exists,
    "PERMISSION_DENIED": permission_denied,
    "ROLE_NOT_ASSIGNABLE": role_not_assignable,
    "APP_NOT_ENABLED": app_not_enabled,
    "SEAT_LIMIT_REACHED": seat_limit_reached,
    "SUBSCRIPTION_INACTIVE": subscription_inactive,
    "ALREADY_MEMBER": already_member,
    "ALREADY_INVITED": already_invited,
    "INVITATION_EXPIRED": invitation_expired,
    "INVITATION_NOT_PENDING": invitation_not_pending,
    "INVALID_TOKEN": invalid_token,
    "EMAIL_MISMATCH": email_mismatch,
    "RATE_LIMITED": rate_limited,
    "IDEMPOTENCY_CONFLICT": idempotency_conflict,
    "STORAGE_UNAVAILABLE": storage_unavailable,
    "SCHEMA_VERSION_UNSUPPORTED": schema_version_unsupported,
}


def test_every_code_is_covered_once() -> None:
    assert set(TRIGGERS).isdisjoint(HOOK_ONLY)
    assert set(TRIGGERS) | HOOK_ONLY == set(error_codes())


def check_class(error: InviteError, code: str) -> None:
    assert error.code == code
    assert type(error).__name__ == CLASS_OF_CODE[code]
    assert isinstance(error, CLASS_OF_KIND[error.kind])
    assert error.kind in error_kinds()
    assert str(error) == error.message and error.message


@pytest.mark.parametrize("code", sorted(TRIGGERS))
def test_code_is_raised_with_its_class(code: str) -> None:
    w = world_with()
    with pytest.raises(InviteError) as e:
        TRIGGERS[code](w)
    check_class(e.value, code)


@pytest.mark.parametrize("code", sorted(HOOK_ONLY))
def test_storage_only_codes_map_to_their_class(code: str) -> None:
    error = _native._error_for_code(code, "storage failed: disk full", "disk full")
    check_class(error, code)


def test_cause_is_kept() -> None:
    error = _native._error_for_code("STORAGE_CONFLICT", "storage conflict", "deadlock detected")
    assert isinstance(error.__cause__, Exception)
    assert str(error.__cause__) == "deadlock detected"
    with pytest.raises(invite_core.StorageUnavailableError) as e:
        storage_unavailable(world_with())
    assert isinstance(e.value.__cause__, Exception)


def test_unsupported_store_url_is_invalid_config() -> None:
    with pytest.raises(invite_core.InvalidConfigError):
        Store("mongodb://nowhere")


def test_rate_limited_says_when_to_retry() -> None:
    w = world_with()
    with pytest.raises(invite_core.RateLimitedError) as e:
        rate_limited(w)
    assert e.value.retry_after is not None and 0 < e.value.retry_after <= 60
    assert e.value.details["retry_after"] == e.value.retry_after


def test_errors_pickle() -> None:
    w = world_with()
    with pytest.raises(invite_core.ValidationError) as e:
        w.service.send(w.admin.id, email="nope")
    with pytest.raises(invite_core.SchemaVersionUnsupportedError) as storage:
        schema_version_unsupported(w)
    for error in [e.value, storage.value, _native._error_for_code("STORAGE_CONFLICT")]:
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error)
        assert (copy.code, copy.kind, copy.message, copy.errors, copy.help, copy.retry_after) == (
            error.code, error.kind, error.message, error.errors, error.help, error.retry_after
        )
        assert copy.details == error.details and str(copy) == str(error)


def test_exceptions_can_be_raised_by_hand() -> None:
    error = invite_core.SeatLimitError("no seat left")
    assert (error.code, error.kind, error.errors) == ("SEAT_LIMIT_REACHED", "limit_exceeded", [])
    with pytest.raises(TypeError):
        invite_core.ConflictError("which conflict?")  # a kind class needs a code
    assert invite_core.ConflictError("x", code="APP_NOT_ENABLED").kind == "conflict"
