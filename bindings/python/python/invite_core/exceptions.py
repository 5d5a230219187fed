"""Exceptions raised by invite_core.

Every error is an :class:`InviteError` with a stable ``code`` (the same string in Rust,
Python and Node), its ``kind``, a ``details`` dict and, for validation, ``errors``: one
``{"field", "code", "message"}`` dict per problem. There is one class per kind (catch
``LimitExceededError``) and one per code a caller would catch (``SeatLimitError``).
Match on ``code``, never on message text. Every exception pickles.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Optional, Sequence, TypedDict

if TYPE_CHECKING:
    from ._native import ErrorCode, ErrorKind, FieldCode


class FieldErrorDict(TypedDict):
    """One problem with one field: ``{"field": "email", "code": "REQUIRED", ...}``."""

    field: str
    code: FieldCode
    message: str


class InviteError(Exception):
    """Base of every invite_core error.

    Attributes:
        message: Lowercase human message (do not match on it; match on ``code``).
        code: The stable error code, such as ``"SEAT_LIMIT_REACHED"``.
        kind: The code's kind, such as ``"limit_exceeded"``.
        errors: Field problems (``ValidationError``); empty otherwise.
        help: An extra hint for the user, if any.
        retry_after: Seconds to wait before retrying (``RateLimitedError``), if known.
    """

    #: The code of a class that stands for one code; ``None`` where ``code`` is required.
    default_code: ClassVar[Optional[ErrorCode]] = None
    default_kind: ClassVar[ErrorKind] = "internal"

    message: str
    code: ErrorCode
    kind: ErrorKind
    errors: list[FieldErrorDict]
    help: Optional[str]
    retry_after: Optional[float]

    def __init__(
        self,
        message: str,
        code: Optional[ErrorCode] = None,
        kind: Optional[ErrorKind] = None,
        errors: Optional[Sequence[FieldErrorDict]] = None,
        help: Optional[str] = None,
        retry_after: Optional[float] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        code = code if code is not None else type(self).default_code
        if code is None:
            raise TypeError(f"{type(self).__name__}() needs a code")
        self.code = code
        self.kind = kind if kind is not None else type(self).default_kind
        self.errors = [FieldErrorDict(**e) for e in errors] if errors else []
        self.help = help
        self.retry_after = retry_after

    @property
    def details(self) -> dict[str, Any]:
        """Everything beyond code and message: ``help``, ``errors``, ``retry_after``."""
        out: dict[str, Any] = {}
        if self.help is not None:
            out["help"] = self.help
        if self.errors:
            out["errors"] = [dict(e) for e in self.errors]
        if self.retry_after is not None:
            out["retry_after"] = self.retry_after
        return out

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            type(self),
            (self.message, self.code, self.kind, self.errors, self.help, self.retry_after),
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


# --- one class per kind -------------------------------------------------------------


class InvalidInputError(InviteError):
    """The caller sent something malformed or incomplete (kind ``invalid_input``)."""

    default_kind = "invalid_input"


class NotFoundError(InviteError):
    """The record does not exist, or belongs to another business (``NOT_FOUND``)."""

    default_code: ClassVar[Optional[ErrorCode]] = "NOT_FOUND"
    default_kind = "not_found"


class AlreadyExistsError(InviteError):
    """A record with the same unique key exists already (kind ``already_exists``)."""

    default_code: ClassVar[Optional[ErrorCode]] = "ALREADY_EXISTS"
    default_kind = "already_exists"


class ConflictError(InviteError):
    """The request conflicts with the current state (kind ``conflict``)."""

    default_kind = "conflict"


class LimitExceededError(InviteError):
    """A limit (seats, rate) would be exceeded (kind ``limit_exceeded``)."""

    default_kind = "limit_exceeded"


class PermissionDeniedError(InviteError):
    """The actor may not do this (kind ``permission_denied``)."""

    default_code: ClassVar[Optional[ErrorCode]] = "PERMISSION_DENIED"
    default_kind = "permission_denied"


class StorageError(InviteError):
    """The storage backend failed or is unavailable (kind ``storage``)."""

    default_kind = "storage"


class InternalError(InviteError):
    """A bug or an unexpected condition (kind ``internal``)."""

    default_code: ClassVar[Optional[ErrorCode]] = "INTERNAL"
    default_kind = "internal"


# --- one class per code a caller catches --------------------------------------------


class ValidationError(InvalidInputError):
    """``VALIDATION_FAILED``: ``errors`` lists every field problem at once."""

    default_code = "VALIDATION_FAILED"


class InvalidConfigError(InvalidInputError):
    """``INVALID_CONFIG``: the configuration passed by the host is invalid."""

    default_code = "INVALID_CONFIG"


class InvalidTokenError(InvalidInputError):
    """``INVALID_TOKEN``: the link is malformed, unknown, used or revoked."""

    default_code = "INVALID_TOKEN"


class AlreadyMemberError(AlreadyExistsError):
    """``ALREADY_MEMBER``: the invitee holds a seat in the subscription already."""

    default_code = "ALREADY_MEMBER"


class AlreadyInvitedError(AlreadyExistsError):
    """``ALREADY_INVITED``: a pending invitation exists; resend it instead."""

    default_code = "ALREADY_INVITED"


class AppNotEnabledError(ConflictError):
    """``APP_NOT_ENABLED``: the app is not enabled for the business."""

    default_code = "APP_NOT_ENABLED"


class SubscriptionInactiveError(ConflictError):
    """``SUBSCRIPTION_INACTIVE``: suspended, expired or outside its validity window."""

    default_code = "SUBSCRIPTION_INACTIVE"


class InvitationExpiredError(ConflictError):
    """``INVITATION_EXPIRED``: ask the inviter to resend it."""

    default_code = "INVITATION_EXPIRED"


class InvitationNotPendingError(ConflictError):
    """``INVITATION_NOT_PENDING``: the invitation left ``pending`` (accepted, declined,
    revoked or expired), or ``retry_delivery`` found no failed email to retry."""

    default_code = "INVITATION_NOT_PENDING"


class IdempotencyConflictError(ConflictError):
    """``IDEMPOTENCY_CONFLICT``: the key was used with different parameters."""

    default_code = "IDEMPOTENCY_CONFLICT"


class SeatLimitError(LimitExceededError):
    """``SEAT_LIMIT_REACHED``: the subscription has no free seat."""

    default_code = "SEAT_LIMIT_REACHED"


class RateLimitedError(LimitExceededError):
    """``RATE_LIMITED``: retry after ``retry_after`` seconds."""

    default_code = "RATE_LIMITED"


class RoleNotAssignableError(PermissionDeniedError):
    """``ROLE_NOT_ASSIGNABLE``: the role is not of the app, or may not be granted."""

    default_code = "ROLE_NOT_ASSIGNABLE"


class EmailMismatchError(PermissionDeniedError):
    """``EMAIL_MISMATCH``: the accepting identity is not the invited email."""

    default_code = "EMAIL_MISMATCH"


class StorageConflictError(StorageError):
    """``STORAGE_CONFLICT``: a concurrent write conflicted; retrying may succeed."""

    default_code = "STORAGE_CONFLICT"


class StorageUnavailableError(StorageError):
    """``STORAGE_UNAVAILABLE``: the store cannot be reached or failed."""

    default_code = "STORAGE_UNAVAILABLE"


class SchemaVersionUnsupportedError(StorageError):
    """``SCHEMA_VERSION_UNSUPPORTED``: the store's schema is newer than this library."""

    default_code = "SCHEMA_VERSION_UNSUPPORTED"


class NotSupportedError(InternalError):
    """``NOT_SUPPORTED``: an optional feature this build lacks (reserved in Python)."""

    default_code = "NOT_SUPPORTED"


__all__ = [
    "AlreadyExistsError",
    "AlreadyInvitedError",
    "AlreadyMemberError",
    "AppNotEnabledError",
    "ConflictError",
    "EmailMismatchError",
    "FieldErrorDict",
    "IdempotencyConflictError",
    "InternalError",
    "InvalidConfigError",
    "InvalidInputError",
    "InvalidTokenError",
    "InvitationExpiredError",
    "InvitationNotPendingError",
    "InviteError",
    "LimitExceededError",
    "NotFoundError",
    "NotSupportedError",
    "PermissionDeniedError",
    "RateLimitedError",
    "RoleNotAssignableError",
    "SchemaVersionUnsupportedError",
    "SeatLimitError",
    "StorageConflictError",
    "StorageError",
    "StorageUnavailableError",
    "SubscriptionInactiveError",
    "ValidationError",
]
