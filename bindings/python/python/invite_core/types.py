"""Types a host implements or receives: the mailer, renderer and policy protocols, plain-dict
shapes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Protocol, TypedDict

if TYPE_CHECKING:
    from ._native import EmailContext, Event, HintCode, InvitationEmail, InviterRights, Role


class Mailer(Protocol):
    """Delivers invitation emails: anything with a ``send(email)`` method.

    ``send`` is called outside any store transaction, at least once per email (the same
    ``email.message_id`` may arrive again after a crash). Raising an exception marks
    the attempt failed with the exception's message; it is retried with backoff.
    The built-in :class:`~invite_core.SmtpMailer` and :class:`~invite_core.FileMailer`
    have ``send`` too, so a Python mailer can wrap one.
    """

    def send(self, email: InvitationEmail, /) -> object: ...


class _RenderedEmailBody(TypedDict):
    subject: str
    text: str
    html: str


class RenderedEmail(_RenderedEmailBody, total=False):
    """What a renderer returns: ``{"subject", "text", "html"}`` and optionally
    ``"locale"`` (the language actually used; default: the requested locale, else
    ``"en"``). Values go out as given: escape context values in ``html``."""

    locale: str


class EmailRenderer(Protocol):
    """Renders invitation emails: anything with a ``render(context)`` method.

    Called once per email a dispatch claimed, after the claim committed (outside any
    store transaction: it may call the service). If it raises or returns something
    else than a :class:`RenderedEmail`, the failure is logged (logger ``invite_core``)
    and the built-in templates render that email instead.
    """

    def render(self, context: EmailContext, /) -> RenderedEmail: ...


class AuthorizationPolicy(Protocol):
    """Replaces the authorization rule: who may invite into a business and app
    (``may_invite``) and which roles they may grant (``may_grant``).

    Each method answers ``True`` (allow), ``False`` (deny) or ``None`` (the default
    rule decides: business admins may do anything, members whose role carries
    ``invitations.send`` may grant roles whose permissions are a subset of theirs). At
    run time a method the object lacks is the default rule too. The methods run inside
    the store transaction: keep them quick and do not call the service from them
    (``RuntimeError``). Raising, or any other answer, denies, and is logged (logger
    ``invite_core``).
    """

    def may_invite(self, rights: InviterRights, /) -> bool | None: ...

    def may_grant(self, rights: InviterRights, role: Role, /) -> bool | None: ...


EventHook = Callable[["list[Event]"], object]
"""Called after each commit with the committed events, oldest first. An exception it
raises is logged (logger ``invite_core``) and ignored: the events stay committed."""


class HintDict(TypedDict):
    """A troubleshooting hint of the form model: ``{"code", "field", "message"}``."""

    code: HintCode
    field: str
    message: str


__all__ = [
    "AuthorizationPolicy",
    "EmailRenderer",
    "EventHook",
    "HintDict",
    "Mailer",
    "RenderedEmail",
]
