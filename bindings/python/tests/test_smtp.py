"""SmtpMailer against real SMTP servers on loopback.

Runs when ``INVITE_TEST_SMTP`` is set: ``scripts/with-smtp`` starts aiosmtpd servers
(plain, refusing, STARTTLS + AUTH, implicit TLS) and exports their addresses, and
``scripts/test-python`` runs pytest under it. Skipped loudly otherwise; the TLS tests
also skip when the servers have no certificate (no ``openssl``).

Every server shares one directory of received messages, so each test invites a fresh
address and finds its messages by their ``Message-ID``.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest

from invite_core import InvitationEmail, SentInvitation, SmtpMailer

from .conftest import RecordingRenderer, World, delivery_world

FROM = "invites@acme.example"
SKIPPED = "SMTP TESTS SKIPPED: {var} is not set (run `scripts/with-smtp scripts/test-python`)"


def server(var: str) -> tuple[str, int]:
    """`(host, port)` of a test server, or skip the test saying why."""
    address = os.environ.get(var, "").strip()
    if not address:
        pytest.skip(SKIPPED.format(var=var))
    host, port = address.rsplit(":", 1)
    return host, int(port)


def tls_settings() -> dict[str, Any]:
    """The test CA and the AUTH account of the TLS servers."""
    ca = os.environ.get("INVITE_TEST_SMTP_CA", "")
    if not ca:
        pytest.skip(SKIPPED.format(var="INVITE_TEST_SMTP_CA"))
    return {
        "extra_root_certificate_pem": Path(ca).read_text(),
        "username": os.environ["INVITE_TEST_SMTP_USER"],
        "password": os.environ["INVITE_TEST_SMTP_PASSWORD"],
    }


@dataclass
class Received:
    meta: dict[str, Any]
    message: EmailMessage


def received(message_id: str) -> list[Received]:
    """Every message the servers stored under this message id, oldest first."""
    directory = Path(os.environ["INVITE_TEST_SMTP_DIR"])
    found = []
    for eml in sorted(directory.glob("*.eml")):
        message = BytesParser(policy=policy.default).parsebytes(eml.read_bytes())
        assert isinstance(message, EmailMessage)
        if str(message.get("Message-ID", "")).startswith(f"<{message_id}@"):
            meta = json.loads(eml.with_suffix(".json").read_text())
            found.append(Received(meta, message))
    return found


def mailer(var: str, **settings: Any) -> SmtpMailer:
    host, port = server(var)
    settings.setdefault("tls", "none")
    settings.setdefault("timeout", timedelta(seconds=10))
    return SmtpMailer(host, port, from_address=FROM, from_name="Acme Invitations", **settings)


def invite(world: World) -> tuple[SentInvitation, str]:
    """Invites a fresh address; returns the invitation and its message id."""
    sent = world.send_new(f"ada.{secrets.token_hex(6)}@example.com")
    [message] = world.service.invitation_messages(world.acme.id, sent.invitation.id)
    return sent, message.id


def delivered_once(var: str, **settings: Any) -> tuple[Received, SentInvitation, str]:
    """Sends one invitation through the server `var`; checks what arrived."""
    renderer = RecordingRenderer()
    world = delivery_world(renderer)
    smtp = mailer(var, **settings)
    sent, message_id = invite(world)
    report = world.service.dispatch_outbox(smtp)
    assert (report.delivered, report.retrying, report.failed) == (1, 0, 0)
    assert world.service.get_invitation(world.acme.id, sent.invitation.id).delivery.state == "sent"
    [got] = received(message_id)
    assert got.meta["rcpt_tos"] == [sent.invitation.email]
    assert got.meta["mail_from"] == FROM
    assert got.message["To"] == sent.invitation.email
    assert got.message["Subject"] == renderer.subjects[sent.accept_link]
    assert got.message["From"].addresses[0].addr_spec == FROM
    text = got.message.get_body(("plain",))
    assert text is not None and sent.accept_link in text.get_content()
    return got, sent, message_id


def test_plain_smtp_delivers_the_invitation() -> None:
    got, _, _ = delivered_once("INVITE_TEST_SMTP")
    assert got.meta["server"] == "plain" and got.meta["tls"] is False


def test_starttls_with_auth_delivers() -> None:
    got, _, _ = delivered_once("INVITE_TEST_SMTP_STARTTLS", tls="starttls", **tls_settings())
    assert got.meta["server"] == "starttls"
    assert got.meta["tls"] is True and got.meta["auth"] is True


def test_implicit_tls_delivers() -> None:
    settings = tls_settings()
    got, _, _ = delivered_once(
        "INVITE_TEST_SMTP_TLS", tls="tls",
        extra_root_certificate_pem=settings["extra_root_certificate_pem"],
    )
    assert got.meta["server"] == "tls" and got.meta["tls"] is True


def test_a_refusing_server_retries_then_fails() -> None:
    world = delivery_world(max_attempts=2)
    smtp = mailer("INVITE_TEST_SMTP_REFUSE")
    sent, message_id = invite(world)
    s, acme = world.service, world.acme.id

    report = s.dispatch_outbox(smtp)
    assert (report.delivered, report.retrying, report.failed) == (0, 1, 0)
    delivery = s.get_invitation(acme, sent.invitation.id).delivery
    assert delivery.state == "queued" and delivery.last_error and delivery.attempts == 1
    assert s.list_events(acme, invitation_id=sent.invitation.id).items[-1].kind == "delivery_failed"

    assert s.dispatch_outbox(smtp).retrying == 0  # backing off: nothing due yet
    world.clock.advance(timedelta(hours=1))
    report = s.dispatch_outbox(smtp)
    assert (report.delivered, report.retrying, report.failed) == (0, 0, 1)
    delivery = s.get_invitation(acme, sent.invitation.id).delivery
    assert delivery.state == "failed" and delivery.last_error and delivery.attempts == 2
    assert received(message_id) == []


@pytest.mark.parametrize("problem", ["unknown certificate authority", "wrong password"])
def test_an_unverifiable_or_unauthenticated_server_gets_nothing(problem: str) -> None:
    settings = tls_settings()
    if problem == "unknown certificate authority":
        del settings["extra_root_certificate_pem"]
    else:
        settings["password"] = "not-the-password"
    # The test server stalls after a refused AUTH: the timeout ends the attempt.
    settings["timeout"] = timedelta(seconds=2)
    world = delivery_world()
    smtp = mailer("INVITE_TEST_SMTP_STARTTLS", tls="starttls", **settings)
    sent, message_id = invite(world)
    report = world.service.dispatch_outbox(smtp)
    assert (report.delivered, report.retrying, report.failed) == (0, 1, 0)
    delivery = world.service.get_invitation(world.acme.id, sent.invitation.id).delivery
    assert delivery.state == "queued" and delivery.last_error
    assert "not-the-password" not in delivery.last_error
    assert received(message_id) == []


def test_a_python_mailer_can_wrap_the_smtp_mailer() -> None:
    smtp = mailer("INVITE_TEST_SMTP")
    refusing = mailer("INVITE_TEST_SMTP_REFUSE")
    log: list[str] = []

    class Logged:
        def __init__(self, inner: SmtpMailer) -> None:
            self.inner = inner

        def send(self, email: InvitationEmail) -> None:
            try:
                self.inner.send(email)
            except OSError:
                log.append(f"failed {email.message_id}")
                raise
            log.append(f"sent {email.message_id}")

    world = delivery_world()
    sent, message_id = invite(world)
    assert world.service.dispatch_outbox(Logged(refusing)).retrying == 1
    world.clock.advance(timedelta(hours=1))
    assert world.service.dispatch_outbox(Logged(smtp)).delivered == 1
    assert log == [f"failed {message_id}", f"sent {message_id}"]
    [got] = received(message_id)
    assert got.meta["rcpt_tos"] == [sent.invitation.email]
