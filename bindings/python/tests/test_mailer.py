"""Outbox dispatch through mailers written in Python."""

from __future__ import annotations

import gc
import warnings
from datetime import timedelta

import pytest

from invite_core import Config, DeliveryConfig, InvitationEmail, InviteService, Limits

from .conftest import BASE_URL, CapturingMailer, World, build_world


class FlakyMailer:
    """Raises for the first `failures` emails, then delivers."""

    def __init__(self, failures: int, exc: BaseException | None = None) -> None:
        self.failures = failures
        self.exc = exc or ConnectionError("smtp server said 451 try again later")
        self.delivered: list[InvitationEmail] = []

    def send(self, email: InvitationEmail) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise self.exc
        self.delivered.append(email)


def test_dispatch_hands_each_email_to_the_python_mailer(world: World, mailer: CapturingMailer) -> None:
    sent = world.send_new("ada@example.com")
    report = world.service.dispatch_outbox(mailer)
    assert (report.delivered, report.retrying, report.failed) == (1, 0, 0)
    [email] = mailer.sent
    assert email.to == "ada@example.com"
    assert email.invitation_id == sent.invitation.id
    assert email.accept_link == sent.accept_link
    assert "Grace Hopper" in email.subject and sent.accept_link in email.text
    assert email.expires_at == sent.invitation.expires_at
    inv = world.service.get_invitation(world.acme.id, sent.invitation.id)
    assert inv.delivery.state == "sent" and inv.delivery.delivered_at == world.clock.now()
    assert world.service.dispatch_outbox(mailer).delivered == 0  # nothing left


def test_a_python_exception_becomes_a_delivery_failure(world: World) -> None:
    s = world.service
    sent = world.send_new("ada@example.com")
    flaky = FlakyMailer(failures=1)
    report = s.dispatch_outbox(flaky)
    assert (report.delivered, report.retrying, report.failed) == (0, 1, 0)
    inv = s.get_invitation(world.acme.id, sent.invitation.id)
    assert inv.delivery.state == "queued"
    assert inv.delivery.last_error == "smtp server said 451 try again later"
    events = s.list_events(world.acme.id, invitation_id=sent.invitation.id).items
    assert events[-1].kind == "delivery_failed"
    assert events[-1].detail == "smtp server said 451 try again later"
    [message] = s.invitation_messages(world.acme.id, sent.invitation.id)
    assert (message.state, message.attempts) == ("queued", 1)
    world.clock.advance(timedelta(minutes=5))  # past the backoff
    assert s.dispatch_outbox(flaky).delivered == 1
    assert s.get_invitation(world.acme.id, sent.invitation.id).delivery.state == "sent"


def test_a_refusal_quoting_the_link_is_recorded_without_the_token(world: World) -> None:
    s = world.service
    sent = world.send_new("ada@example.com")

    class Refusing:
        def send(self, email: InvitationEmail) -> None:
            raise RuntimeError(f"554 rejected: {email.accept_link} is listed")

    assert s.dispatch_outbox(Refusing()).retrying == 1
    inv = s.get_invitation(world.acme.id, sent.invitation.id)
    [message] = s.invitation_messages(world.acme.id, sent.invitation.id)
    event = s.list_events(world.acme.id, invitation_id=sent.invitation.id).items[-1]
    for text in [inv.delivery.last_error, message.last_error, event.detail]:
        assert text is not None and sent.token not in text
        assert text.endswith("?token=<redacted> is listed")


def test_a_failure_in_a_batch_fails_only_that_email(world: World) -> None:
    s = world.service
    addresses = ["ada@example.com", "cy@example.com", "di@example.com"]
    sent = [world.send_new(a) for a in addresses]
    flaky = FlakyMailer(failures=1)  # the batch's first email fails, the others go
    report = s.dispatch_outbox(flaky)
    assert (report.delivered, report.retrying, report.failed) == (2, 1, 0)
    assert [e.to for e in flaky.delivered] == addresses[1:]  # outbox order
    states = [s.get_invitation(world.acme.id, x.invitation.id).delivery.state for x in sent]
    assert states == ["queued", "sent", "sent"]


def test_an_exception_without_a_message_records_its_class() -> None:
    world = make_world(max_attempts=1)
    sent = world.send_new("ada@example.com")
    report = world.service.dispatch_outbox(FlakyMailer(failures=1, exc=RuntimeError()))
    assert report.failed == 1
    inv = world.service.get_invitation(world.acme.id, sent.invitation.id)
    assert (inv.delivery.state, inv.delivery.last_error) == ("failed", "RuntimeError")
    world.service.retry_delivery(world.acme.id, sent.invitation.id, world.admin.id)
    assert world.service.dispatch_outbox(CapturingMailer()).delivered == 1


def test_keyboard_interrupt_in_the_mailer_is_reraised_after_bookkeeping(world: World) -> None:
    for i in range(3):
        world.send_new(f"p{i}@example.com")
    with pytest.raises(KeyboardInterrupt):
        world.service.dispatch_outbox(FlakyMailer(failures=1, exc=KeyboardInterrupt()))
    pending = world.service.list_invitations(world.acme.id).items
    assert {i.delivery.state for i in pending} == {"queued"}
    # The interrupted email is a failed attempt; the two never handed over are not.
    attempted = [i for i in pending if i.delivery.last_error]
    assert len(attempted) == 1 and attempted[0].delivery.attempts == 1
    assert sorted(i.delivery.attempts for i in pending) == [0, 0, 1]
    assert world.service.dispatch_outbox(CapturingMailer()).delivered == 2  # due at once
    world.clock.advance(timedelta(hours=1))
    assert world.service.dispatch_outbox(CapturingMailer()).delivered == 1


def test_an_interrupt_ends_the_run_and_costs_no_other_email_an_attempt() -> None:
    world = make_world(max_attempts=1)  # one attempt each: a counted attempt is final
    big = world.service.create_subscription(world.acme.id, world.crm.id, plan="Big")
    for i in range(250):  # more than one claimed batch
        world.send_new(f"p{i}@example.com", subscription_id=big.id)
    calls = 0

    class Interrupting:
        def send(self, email: InvitationEmail) -> None:
            nonlocal calls
            calls += 1
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        world.service.dispatch_outbox(Interrupting())
    assert calls == 1
    states = [i.delivery.state for i in world.service.list_invitations(world.acme.id, limit=500).items]
    assert (states.count("failed"), states.count("queued")) == (1, 249)
    assert world.service.dispatch_outbox(CapturingMailer()).delivered == 249


def test_a_mailer_must_have_send(world: World) -> None:
    with pytest.raises(TypeError):
        world.service.dispatch_outbox(object())  # type: ignore[arg-type]


def test_an_async_mailer_is_refused_before_anything_is_claimed(world: World) -> None:
    class AsyncMailer:
        async def send(self, email: InvitationEmail) -> None: ...

    sent = world.send_new("ada@example.com")
    with pytest.raises(TypeError):
        world.service.dispatch_outbox(AsyncMailer())
    [message] = world.service.invitation_messages(world.acme.id, sent.invitation.id)
    assert (message.state, message.attempts) == ("queued", 0)


def test_a_send_that_returns_an_awaitable_is_a_failed_delivery(world: World) -> None:
    async def deliver(email: InvitationEmail) -> None: ...

    class Sneaky:  # not `async def`, but hands back a coroutine that would never run
        def send(self, email: InvitationEmail) -> object:
            return deliver(email)

    sent = world.send_new("ada@example.com")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "coroutine was never awaited" would fail here
        report = world.service.dispatch_outbox(Sneaky())
        gc.collect()
    assert (report.delivered, report.retrying, report.failed) == (0, 1, 0)
    inv = world.service.get_invitation(world.acme.id, sent.invitation.id)
    assert inv.delivery.state == "queued" and inv.delivery.last_error


def test_a_lambda_mailer_works(world: World) -> None:
    seen: list[str] = []

    class Inline:
        send = staticmethod(lambda email: seen.append(email.to))

    world.send_new("ada@example.com")
    assert world.service.dispatch_outbox(Inline()).delivered == 1
    assert seen == ["ada@example.com"]


def make_world(max_attempts: int) -> World:
    from invite_core import ManualClock

    from .conftest import START

    clock = ManualClock(START)
    config = Config(
        BASE_URL, limits=Limits.unlimited(), delivery=DeliveryConfig(max_attempts=max_attempts)
    )
    return build_world(InviteService(config=config, clock=clock), clock)


def test_services_sharing_a_store_send_each_others_emails() -> None:
    """A web handler and a dispatch worker of one process, on one `Store`, no key given."""
    from invite_core import ManualClock, Store

    from .conftest import START

    store = Store("memory:")
    clock = ManualClock(START)
    config = Config(BASE_URL, limits=Limits.unlimited())
    web = build_world(InviteService(store, config=config, clock=clock), clock)
    worker = InviteService(store, config=config, clock=clock)
    sent = web.send_new("ada@example.com")
    mailer = CapturingMailer()
    assert worker.dispatch_outbox(mailer).delivered == 1
    assert mailer.sent[0].accept_link == sent.accept_link
