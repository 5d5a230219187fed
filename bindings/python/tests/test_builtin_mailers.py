"""The built-in mailers configured from Python: FileMailer end to end, SmtpMailer's
configuration (no server needed), and a built-in dispatch releasing the GIL.

SMTP delivery against real servers is in test_smtp.py.
"""

from __future__ import annotations

import pickle
import socket
import threading
from collections.abc import Callable
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest

from invite_core import (
    FileMailer,
    InvalidConfigError,
    InvitationEmail,
    InviteError,
    NotFoundError,
    SmtpMailer,
)

from .conftest import RecordingRenderer, World, delivery_world, run_beside_python

SECRET = "hunter2-very-secret"
FROM = "invites@acme.example"


def parse_eml(path: Path) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert isinstance(message, EmailMessage)
    return message


def message_ids(world: World, invitation_id: str) -> list[str]:
    return [m.id for m in world.service.invitation_messages(world.acme.id, invitation_id)]


# --- FileMailer ---------------------------------------------------------------------


def test_the_file_mailer_writes_each_email_under_its_message_id(tmp_path: Path) -> None:
    renderer = RecordingRenderer()
    world = delivery_world(renderer)
    ada = world.send_new("ada@example.com")
    alan = world.send_new("alan@example.com")
    mailbox = FileMailer(tmp_path / "mail")
    assert mailbox.directory == tmp_path / "mail"

    report = world.service.dispatch_outbox(mailbox)
    assert (report.delivered, report.retrying, report.failed) == (2, 0, 0)

    [ada_id] = message_ids(world, ada.invitation.id)
    [alan_id] = message_ids(world, alan.invitation.id)
    assert sorted(p.name for p in (tmp_path / "mail").iterdir()) == sorted(
        f"{m}.{ext}" for m in (ada_id, alan_id) for ext in ("eml", "json")
    )
    for message_id, sent in ((ada_id, ada), (alan_id, alan)):
        stored = mailbox.read(message_id)
        assert stored is not None
        assert stored.message_id == message_id
        assert stored.invitation_id == sent.invitation.id
        assert stored.to == sent.invitation.email
        assert stored.subject == renderer.subjects[sent.accept_link]
        assert stored.accept_link == sent.accept_link
        assert mailbox.json_path(message_id) == tmp_path / "mail" / f"{message_id}.json"
        eml = parse_eml(mailbox.eml_path(message_id))
        assert eml["To"] == sent.invitation.email
        assert eml["Subject"] == stored.subject
        assert str(eml["Message-ID"]).startswith(f"<{message_id}@")
        assert eml["From"].addresses[0].addr_spec == "invitations@localhost"
    assert [e.message_id for e in mailbox.read_all()] == sorted([ada_id, alan_id])
    inv = world.service.get_invitation(world.acme.id, ada.invitation.id)
    assert inv.delivery.state == "sent" and inv.delivery.last_error is None


def test_a_redelivery_after_the_lease_expired_overwrites_the_same_files(
    world: World, tmp_path: Path
) -> None:
    """A dispatcher stalls past its lease; a second one re-claims and delivers; the first
    then delivers too. Both used the same message id: one pair of files, not two."""
    mailbox = FileMailer(tmp_path)
    sent = world.send_new("ada@example.com")
    entered, release = threading.Event(), threading.Event()

    class Stalling:
        def send(self, email: InvitationEmail) -> None:
            entered.set()
            assert release.wait(30)
            mailbox.send(email)  # the stale dispatcher's late delivery

    stale: list[Any] = []
    worker = threading.Thread(target=lambda: stale.append(world.service.dispatch_outbox(Stalling())))
    worker.start()
    try:
        assert entered.wait(30)
        world.clock.advance(world.service.config.delivery.lease + timedelta(seconds=1))
        assert world.service.dispatch_outbox(mailbox).delivered == 1  # re-claimed
        [first] = mailbox.read_all()
    finally:
        release.set()
        worker.join(30)
    assert len(stale) == 1

    [message] = world.service.invitation_messages(world.acme.id, sent.invitation.id)
    assert message.attempts == 2 and message.id == first.message_id
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"{message.id}.eml", f"{message.id}.json",
    ]
    [again] = mailbox.read_all()
    assert again == first


def test_a_file_mailer_that_cannot_write_is_a_retried_delivery(world: World, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the mailbox should be")
    broken = FileMailer(blocker / "mail")
    sent = world.send_new("ada@example.com")
    report = world.service.dispatch_outbox(broken)
    assert (report.delivered, report.retrying, report.failed) == (0, 1, 0)
    inv = world.service.get_invitation(world.acme.id, sent.invitation.id)
    assert inv.delivery.state == "queued" and inv.delivery.last_error

    # Called directly (from a mailer written in Python), the failure is an OSError.
    raised: list[OSError] = []

    class Wrapping:
        def send(self, email: InvitationEmail) -> None:
            try:
                broken.send(email)
            except OSError as e:
                raised.append(e)
                raise

    world.clock.advance(timedelta(hours=1))
    assert world.service.dispatch_outbox(Wrapping()).retrying == 1
    assert len(raised) == 1
    good = FileMailer(tmp_path / "mail")
    world.clock.advance(timedelta(hours=1))
    assert world.service.dispatch_outbox(good).delivered == 1
    assert len(good.read_all()) == 1


def test_the_file_mailer_sender_ids_and_empty_mailbox(world: World, tmp_path: Path) -> None:
    mailbox = FileMailer(str(tmp_path), from_address=FROM, from_name="Acme Invitations")
    assert (mailbox.from_address, mailbox.from_name) == (FROM, "Acme Invitations")
    assert mailbox.read_all() == []
    assert FileMailer(tmp_path / "missing").read_all() == []
    assert mailbox.read("0190a7c4-0000-7000-8000-000000000000") is None
    with pytest.raises(NotFoundError) as e:
        mailbox.read("../../etc/passwd")
    assert e.value.code == "NOT_FOUND"
    with pytest.raises(NotFoundError):
        mailbox.json_path("../escape")

    sent = world.send_new("ada@example.com")
    assert world.service.dispatch_outbox(mailbox).delivered == 1
    [message_id] = message_ids(world, sent.invitation.id)
    sender = parse_eml(mailbox.eml_path(message_id))["From"]
    assert sender.addresses[0].addr_spec == FROM
    assert sender.addresses[0].display_name == "Acme Invitations"
    assert repr(mailbox) == f"FileMailer({str(tmp_path)!r}, from_address={FROM!r})"


# --- configuration ------------------------------------------------------------------


def smtp(**overrides: Any) -> SmtpMailer:
    settings: dict[str, Any] = {"from_address": FROM}
    settings.update(overrides)
    host = settings.pop("host", "smtp.example.com")
    return SmtpMailer(host, **settings)


INVALID: dict[str, Callable[[Path], object]] = {
    "file: empty directory": lambda _: FileMailer(""),
    "file: from_name without from_address": lambda d: FileMailer(d, from_name="Acme"),
    "file: bad from_address": lambda d: FileMailer(d, from_address="not an address"),
    "smtp: empty host": lambda _: smtp(host=""),
    "smtp: host with a space": lambda _: smtp(host="smtp example.com"),
    "smtp: port 0": lambda _: smtp(port=0),
    "smtp: port 65536": lambda _: smtp(port=65536),
    "smtp: negative port": lambda _: smtp(port=-25),
    "smtp: unknown tls": lambda _: smtp(tls="ssl"),
    "smtp: username without password": lambda _: smtp(username="bob"),
    "smtp: password without username": lambda _: smtp(password=SECRET),
    "smtp: zero timeout": lambda _: smtp(timeout=timedelta(0)),
    "smtp: negative timeout": lambda _: smtp(timeout=timedelta(seconds=-1)),
    "smtp: bad from_address": lambda _: smtp(from_address="invites"),
    "smtp: hello name that writes a command": lambda _: smtp(
        hello_name="app.example\r\nRCPT TO:<attacker@evil.test>"
    ),
    "smtp: hello name with a space": lambda _: smtp(hello_name="app example"),
    "smtp: bad certificate": lambda _: smtp(extra_root_certificate_pem="not a certificate"),
    "smtp: bad certificate, password set": lambda _: smtp(
        username="bob", password=SECRET, extra_root_certificate_pem="-----BEGIN CERTIFICATE-----"
    ),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_mailer_configuration_is_invalid_config(case: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidConfigError) as e:
        INVALID[case](tmp_path)
    assert isinstance(e.value, InviteError)
    assert e.value.code == "INVALID_CONFIG" and e.value.kind == "invalid_input"
    assert SECRET not in str(e.value) and SECRET not in repr(e.value)


def test_wrong_argument_types_are_type_errors() -> None:
    with pytest.raises(TypeError):
        SmtpMailer("smtp.example.com", "587", from_address=FROM)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        SmtpMailer("smtp.example.com")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        FileMailer(42)  # type: ignore[arg-type]


def test_the_smtp_mailer_shows_its_settings_but_never_the_password() -> None:
    mailer = smtp(username="bob", password=SECRET, from_name="Acme", hello_name="app.example")
    assert SECRET not in repr(mailer) and SECRET not in str(mailer)
    assert repr(mailer) == (
        "SmtpMailer('smtp.example.com', 587, tls='starttls', username='bob', "
        f"password='<redacted>', from_address={FROM!r})"
    )
    assert not hasattr(mailer, "password")
    with pytest.raises(TypeError):
        pickle.dumps(mailer)
    # The defaults are the core's: STARTTLS on 587, 30 seconds.
    assert (mailer.host, mailer.port, mailer.tls) == ("smtp.example.com", 587, "starttls")
    assert mailer.timeout == timedelta(seconds=30)
    assert (mailer.username, mailer.from_address, mailer.from_name) == ("bob", FROM, "Acme")
    assert mailer.hello_name == "app.example"
    assert mailer.sender == f"Acme <{FROM}>"
    plain = smtp(port=25, tls="none")
    assert (plain.port, plain.tls, plain.username) == (25, "none", None)
    assert repr(plain) == f"SmtpMailer('smtp.example.com', 25, tls='none', from_address={FROM!r})"
    assert smtp(tls="tls", port=465).tls == "tls"


# --- the GIL ------------------------------------------------------------------------


def test_a_builtin_dispatch_releases_the_gil_and_times_out() -> None:
    """An SMTP server that accepts the connection and never greets: the dispatch waits
    for the timeout in Rust, and the main thread runs meanwhile (with a 10 s switch
    interval it could not take the GIL from a thread holding it)."""
    world = delivery_world()
    sent = world.send_new("ada@example.com")
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        port = silent.getsockname()[1]
        mailer = SmtpMailer(
            "127.0.0.1", port, tls="none", from_address=FROM, timeout=timedelta(seconds=0.5)
        )
        report, took, inside = run_beside_python(lambda: world.service.dispatch_outbox(mailer))
    assert took >= 0.4, "the dispatch did not wait for the server"
    assert inside, "no Python ran during the dispatch"
    assert (report.delivered, report.retrying, report.failed) == (0, 1, 0)
    inv = world.service.get_invitation(world.acme.id, sent.invitation.id)
    assert inv.delivery.state == "queued" and inv.delivery.last_error
