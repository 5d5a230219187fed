"""Shared fixtures: a catalog like the one the user guide describes."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TypeVar

import pytest

from invite_core import (
    App,
    Business,
    Config,
    DeliveryConfig,
    EmailContext,
    InvitationEmail,
    InviteError,
    InviteService,
    Limits,
    ManualClock,
    RenderedEmail,
    Role,
    SeatLimitError,
    SentInvitation,
    Subscription,
    User,
    render_default_email,
)

BASE_URL = "https://app.example.com/invitations/accept"
START = datetime(2030, 1, 6, 9, 0, tzinfo=timezone.utc)


@dataclass
class World:
    """Acme with CRM enabled, a 3-seat Team subscription, an admin and a directory user."""

    service: InviteService
    clock: ManualClock
    acme: Business
    crm: App
    team: Subscription
    member: Role
    manager: Role
    admin: User
    bob: User

    def send_new(
        self,
        email: str,
        *,
        subscription_id: str | None = None,
        role_id: str | None = None,
        inviter_id: str | None = None,
    ) -> SentInvitation:
        """Invites a new user (Ada Lovelace at `email`) into Team as a member."""
        return self.service.send(
            inviter_id or self.admin.id,
            first_name="Ada",
            last_name="Lovelace",
            email=email,
            business_id=self.acme.id,
            app_id=self.crm.id,
            subscription_id=subscription_id or self.team.id,
            role_id=role_id or self.member.id,
        )


class CapturingMailer:
    """A mailer written in Python: keeps every email it is given."""

    def __init__(self) -> None:
        self.sent: list[InvitationEmail] = []

    def send(self, email: InvitationEmail) -> None:
        self.sent.append(email)


class RecordingRenderer:
    """The built-in templates, keeping each email's subject by its accept link."""

    def __init__(self) -> None:
        self.subjects: dict[str, str] = {}

    def render(self, context: EmailContext) -> RenderedEmail:
        rendered = render_default_email(context)
        self.subjects[context.accept_link] = rendered["subject"]
        return rendered


def delivery_world(renderer: RecordingRenderer | None = None, max_attempts: int = 5) -> World:
    """A world on its own clock with `max_attempts` deliveries per email."""
    clock = ManualClock(START)
    config = Config(
        BASE_URL, limits=Limits.unlimited(), delivery=DeliveryConfig(max_attempts=max_attempts)
    )
    service = InviteService(config=config, clock=clock, renderer=renderer)
    return build_world(service, clock)


def build_world(service: InviteService, clock: ManualClock, seats: int | None = 3) -> World:
    acme = service.create_business("Acme")
    crm = service.create_app("CRM")
    service.set_app_enabled(acme.id, crm.id)
    team = service.create_subscription(acme.id, crm.id, plan="Team", seats=seats)
    member = service.create_role(crm.id, "member", "Member", ["records.read"])
    manager = service.create_role(
        crm.id, "manager", "Manager", ["records.read", "records.write", "invitations.send"]
    )
    admin = service.create_user("Grace", "Hopper", "grace@acme.example")
    service.set_business_admin(acme.id, admin.id)
    bob = service.create_user("Bob", "Builder", "bob@example.com")
    return World(service, clock, acme, crm, team, member, manager, admin, bob)


T = TypeVar("T")


def run_beside_python(call: Callable[[], T]) -> tuple[T, float, list[float]]:
    """Runs `call` on another thread while this one keeps ticking; returns its result,
    how long it took, and the ticks taken while it ran. With a 10 s switch interval the
    interpreter never takes the GIL from a thread holding it, so there are ticks only if
    `call` released the GIL."""
    window: list[float] = []
    results: list[T] = []
    ticks: list[float] = []
    done = threading.Event()

    def work() -> None:
        start = time.perf_counter()
        try:
            results.append(call())
        finally:
            window.extend([start, time.perf_counter()])
            done.set()

    interval = sys.getswitchinterval()
    sys.setswitchinterval(10.0)
    try:
        worker = threading.Thread(target=work)
        worker.start()
        while not done.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0)
        worker.join()
    finally:
        sys.setswitchinterval(interval)
    start, end = window
    assert results, "the call raised"
    return results[0], end - start, [t for t in ticks if start < t < end]


def race_for_seats(world: World, services: list[InviteService]) -> list[str]:
    """8 threads, alternating over `services` (one store), each sending 3 invitations
    into `world.team` at once; returns each send's outcome: `sent`, `full` (no seat
    left) or another error's code."""
    barrier = threading.Barrier(8)
    outcomes: list[str] = []
    lock = threading.Lock()

    def invite(worker: int) -> None:
        service = services[worker % len(services)]
        barrier.wait()
        for n in range(3):
            try:
                service.send(
                    world.admin.id, first_name="P", last_name=str(worker),
                    email=f"w{worker}-{n}@example.com", business_id=world.acme.id,
                    app_id=world.crm.id, subscription_id=world.team.id, role_id=world.member.id,
                )
                result = "sent"
            except SeatLimitError:
                result = "full"
            except InviteError as e:
                result = e.code
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=invite, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def world(clock: ManualClock) -> World:
    config = Config(BASE_URL, limits=Limits.unlimited())
    service = InviteService("memory:", config=config, clock=clock, random_seed=7)
    return build_world(service, clock)


@pytest.fixture
def mailer() -> CapturingMailer:
    return CapturingMailer()
