"""The event hook and the email renderer written in Python.

- The hook is called after each commit with the committed events; an exception in it is
  logged (logger ``invite_core``) and ignored, the events stay committed.
- A failing renderer (an exception, or an answer of the wrong shape) is logged and the
  built-in templates render the email instead: delivery never depends on a template.
- ``KeyboardInterrupt`` in either is re-raised when the call returns.
"""

from __future__ import annotations

import gc
import logging
import warnings
import weakref
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest

from invite_core import (
    Config,
    EmailContext,
    Event,
    InviteService,
    Limits,
    ManualClock,
    RenderedEmail,
    ValidationError,
    render_default_email,
)

from .conftest import BASE_URL, START, CapturingMailer, World, build_world


def make_world(
    *,
    event_hook: Callable[[list[Event]], object] | None = None,
    renderer: object | None = None,
) -> World:
    clock = ManualClock(START)
    service = InviteService(
        config=Config(BASE_URL, limits=Limits.unlimited()),
        clock=clock,
        event_hook=event_hook,
        renderer=renderer,  # type: ignore[arg-type]
    )
    return build_world(service, clock)


def failures(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "invite_core" and r.levelno == logging.ERROR]


# --- the event hook --------------------------------------------------------------------


def test_the_hook_sees_each_commit_s_events(mailer: CapturingMailer) -> None:
    batches: list[list[Event]] = []
    world = make_world(event_hook=batches.append)
    batches.clear()  # the catalog set-up records no invitation events anyway
    sent = world.send_new("ada@example.com")
    assert [[e.kind for e in batch] for batch in batches] == [["created", "sent"]]
    assert all(isinstance(e, Event) for e in batches[0])
    assert {e.invitation_id for e in batches[0]} == {sent.invitation.id}
    assert batches[0][0].actor_id == world.admin.id

    with pytest.raises(ValidationError):
        world.send_new("not-an-email")
    assert len(batches) == 1, "a refused call commits nothing and reports nothing"

    world.service.dispatch_outbox(mailer)
    world.service.accept(sent.token)
    assert [e.kind for batch in batches[1:] for e in batch] == ["delivered", "accepted"]
    listed = world.service.list_events(world.acme.id, invitation_id=sent.invitation.id).items
    assert [e for batch in batches for e in batch] == listed


def test_an_exception_in_the_hook_is_logged_and_the_call_succeeds(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def hook(events: list[Event]) -> None:
        raise ValueError("audit sink is down")

    world = make_world(event_hook=hook)
    with caplog.at_level(logging.ERROR, logger="invite_core"):
        sent = world.send_new("ada@example.com")
    assert sent.invitation.status == "pending"
    assert world.service.get_invitation(world.acme.id, sent.invitation.id) == sent.invitation
    [record] = failures(caplog)
    assert record.exc_info is not None and record.exc_info[0] is ValueError
    # The traceback reaches the log: it points at the hook's own line.
    traceback = record.exc_info[2]
    assert traceback is not None
    while traceback.tb_next is not None:
        traceback = traceback.tb_next
    assert traceback.tb_frame.f_code.co_name == "hook"


def test_keyboard_interrupt_in_the_hook_is_reraised_after_the_commit() -> None:
    calls: list[int] = []

    def hook(events: list[Event]) -> None:
        calls.append(len(events))
        raise KeyboardInterrupt

    world = make_world(event_hook=hook)
    with pytest.raises(KeyboardInterrupt):
        world.send_new("ada@example.com")
    [pending] = world.service.list_invitations(world.acme.id).items  # committed all the same
    assert pending.email == "ada@example.com"
    with pytest.raises(KeyboardInterrupt):  # the next call starts afresh
        world.send_new("alan@example.com")
    assert calls == [2, 2]


def test_the_hook_may_call_the_service(mailer: CapturingMailer) -> None:
    seen: list[str] = []
    holder: list[InviteService] = []

    def hook(events: list[Event]) -> None:
        [service] = holder
        for event in events:  # runs after the commit: the change is visible
            seen.append(service.get_invitation(event.business_id, event.invitation_id).status)

    world = make_world(event_hook=hook)
    holder.append(world.service)
    sent = world.send_new("ada@example.com")
    world.service.dispatch_outbox(mailer)
    world.service.accept(sent.token)
    assert seen == ["pending", "pending", "pending", "accepted"]


def test_the_hook_must_be_callable() -> None:
    with pytest.raises(TypeError):
        InviteService(event_hook="print")  # type: ignore[arg-type]


def test_a_hook_that_is_a_bound_method_of_the_service_s_owner_is_collected() -> None:
    class App:
        def __init__(self) -> None:
            self.seen = 0
            self.service = InviteService(event_hook=self.on_events)

        def on_events(self, events: list[Event]) -> None:
            self.seen += len(events)

    app = App()
    alive = weakref.ref(app)
    del app
    gc.collect()
    assert alive() is None, "the cycle app -> service -> hook -> app was not collected"


# --- the renderer ----------------------------------------------------------------------


class Branded:
    """A renderer that keeps every context it is given."""

    def __init__(self, locale: str | None = None) -> None:
        self.contexts: list[EmailContext] = []
        self.locale = locale

    def render(self, context: EmailContext) -> RenderedEmail:
        self.contexts.append(context)
        out: RenderedEmail = {
            "subject": f"Join {context.business_name} on {context.app_name}",
            "text": f"{context.inviter_name} invites you: {context.accept_link}",
            "html": f'<a href="{context.accept_link}">join</a>',
        }
        if self.locale is not None:
            out["locale"] = self.locale
        return out


def test_the_renderer_writes_every_email(mailer: CapturingMailer) -> None:
    renderer = Branded()
    world = make_world(renderer=renderer)
    sent = world.send_new("ada@example.com")
    assert world.service.dispatch_outbox(mailer).delivered == 1
    [email] = mailer.sent
    assert email.subject == "Join Acme on CRM"
    assert email.text == f"Grace Hopper invites you: {sent.accept_link}"
    assert email.html == f'<a href="{sent.accept_link}">join</a>'
    assert email.locale == "en"  # none requested, none returned: the default
    [context] = renderer.contexts
    assert (context.inviter_name, context.invitee_name) == ("Grace Hopper", "Ada Lovelace")
    assert (context.business_name, context.app_name, context.role_name) == ("Acme", "CRM", "Member")
    assert context.accept_link == sent.accept_link and context.locale is None
    assert context.expires_at == sent.invitation.expires_at


def test_the_email_locale_is_the_renderer_s_or_the_requested_one(mailer: CapturingMailer) -> None:
    world = make_world(renderer=Branded())
    world.service.send(
        world.admin.id, user_id=world.bob.id, business_id=world.acme.id, app_id=world.crm.id,
        subscription_id=world.team.id, role_id=world.member.id, locale="pt-BR",
    )
    world.service.dispatch_outbox(mailer)
    assert mailer.sent[-1].locale == "pt-BR"

    world = make_world(renderer=Branded(locale="pt"))
    world.send_new("ada@example.com")
    world.service.dispatch_outbox(mailer)
    assert mailer.sent[-1].locale == "pt"


class Raising:
    def render(self, context: EmailContext) -> RenderedEmail:
        raise RuntimeError("template not found")


class MissingHtml:
    def render(self, context: EmailContext) -> dict[str, str]:
        return {"subject": "s", "text": "t"}


class NotAMapping:
    def render(self, context: EmailContext) -> str:
        return "Hello"


@pytest.mark.parametrize(
    ("renderer", "error"),
    [
        (Raising(), RuntimeError),
        (MissingHtml(), KeyError),
        (NotAMapping(), TypeError),
    ],
)
def test_a_failing_renderer_falls_back_to_the_built_in_templates(
    renderer: object,
    error: type[BaseException],
    caplog: pytest.LogCaptureFixture,
    mailer: CapturingMailer,
) -> None:
    world = make_world(renderer=renderer)
    world.send_new("ada@example.com")
    with caplog.at_level(logging.ERROR, logger="invite_core"):
        report = world.service.dispatch_outbox(mailer)
    assert (report.delivered, report.failed) == (1, 0)
    [email] = mailer.sent
    inv = world.service.list_invitations(world.acme.id).items[0]
    default = render_default_email(
        EmailContext(
            inviter_name="Grace Hopper", invitee_name="Ada Lovelace", business_name="Acme",
            app_name="CRM", role_name="Member", expires_at=inv.expires_at,
            accept_link=email.accept_link,
        )
    )
    assert (email.subject, email.text, email.html, email.locale) == (
        default["subject"], default["text"], default["html"], default.get("locale"),
    )
    [record] = failures(caplog)
    assert record.exc_info is not None and record.exc_info[0] is error


def test_keyboard_interrupt_in_the_renderer_is_reraised_after_bookkeeping() -> None:
    class Interrupting:
        def render(self, context: EmailContext) -> RenderedEmail:
            raise KeyboardInterrupt

    world = make_world(renderer=Interrupting())
    world.send_new("ada@example.com")
    mailer = CapturingMailer()
    with pytest.raises(KeyboardInterrupt):
        world.service.dispatch_outbox(mailer)
    assert mailer.sent == []  # no mailer call once interrupted
    [inv] = world.service.list_invitations(world.acme.id).items
    assert (inv.delivery.state, inv.delivery.attempts) == ("queued", 0)  # not attempted
    world.clock.advance(timedelta(hours=1))
    with pytest.raises(KeyboardInterrupt):  # the renderer still interrupts the next run
        world.service.dispatch_outbox(mailer)


def test_the_renderer_must_have_render() -> None:
    with pytest.raises(TypeError):
        InviteService(renderer=object())  # type: ignore[arg-type]


def test_a_renderer_may_call_the_service(caplog: pytest.LogCaptureFixture, mailer: CapturingMailer) -> None:
    class CallsTheService:
        service: InviteService | None = None

        def render(self, context: EmailContext) -> RenderedEmail:
            assert self.service is not None
            names = sorted(b.name for b in self.service.list_businesses())
            return {"subject": " / ".join(names), "text": context.accept_link, "html": "h"}

    renderer = CallsTheService()
    world = make_world(renderer=renderer)
    renderer.service = world.service
    world.send_new("ada@example.com")
    with caplog.at_level(logging.ERROR, logger="invite_core"):
        assert world.service.dispatch_outbox(mailer).delivered == 1
    assert failures(caplog) == []
    [email] = mailer.sent
    assert email.subject == " / ".join(sorted(b.name for b in world.service.list_businesses()))


def test_async_callbacks_are_refused_when_the_service_is_built() -> None:
    async def hook(events: list[Event]) -> None: ...

    class AsyncRenderer:
        async def render(self, context: EmailContext) -> RenderedEmail:
            raise NotImplementedError

    with pytest.raises(TypeError):
        InviteService(event_hook=hook)
    with pytest.raises(TypeError):
        InviteService(renderer=AsyncRenderer())  # type: ignore[arg-type]


def test_a_hook_returning_an_awaitable_is_logged_and_never_warns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def later(events: list[Event]) -> None: ...

    class AsyncCall:  # an async __call__ hides from iscoroutinefunction
        def __call__(self, events: list[Event]) -> object:
            return later(events)

    world = make_world(event_hook=AsyncCall())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "coroutine was never awaited" would fail here
        with caplog.at_level(logging.ERROR, logger="invite_core"):
            sent = world.send_new("ada@example.com")
        gc.collect()
    assert sent.invitation.status == "pending"  # committed whatever the hook did
    [record] = failures(caplog)
    assert record.exc_info is not None and record.exc_info[0] is TypeError


def test_render_default_email_speaks_the_built_in_languages() -> None:
    expires = datetime(2030, 1, 13, 9, 0, tzinfo=timezone.utc)
    context = EmailContext(
        inviter_name="Grace Hopper", business_name="Acme", app_name="CRM", role_name="Member",
        expires_at=expires, accept_link="https://app.example.com/a?token=t", locale="fr-CA",
    )
    assert context.invitee_name is None and context.expires_at == expires
    assert context.to_dict()["locale"] == "fr-CA"
    email = render_default_email(context)
    assert email.get("locale") == "fr"
    assert "https://app.example.com/a?token=t" in email["text"]
    with pytest.raises(TypeError):  # naive datetimes are refused, as everywhere
        EmailContext(
            inviter_name="G", business_name="A", app_name="C", role_name="M",
            expires_at=datetime(2030, 1, 1), accept_link="https://x.example",
        )
