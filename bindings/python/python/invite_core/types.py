"""Types a host implements or receives: the mailer protocol and plain-dict shapes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, TypedDict

if TYPE_CHECKING:
    from ._native import HintCode, InvitationEmail


class Mailer(Protocol):
    """Delivers invitation emails: anything with a ``send(email)`` method.

    ``send`` is called outside any store transaction, at least once per email (the same
    ``email.message_id`` may arrive again after a crash). Raising an exception marks
    the attempt failed with the exception's message; it is retried with backoff.
    """

    def send(self, email: InvitationEmail, /) -> object: ...


class HintDict(TypedDict):
    """A troubleshooting hint of the form model: ``{"code", "field", "message"}``."""

    code: HintCode
    field: str
    message: str


__all__ = ["HintDict", "Mailer"]
