"""The SQLite store by URL: durable across services, safe across threads."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from invite_core import (
    Config,
    InvalidConfigError,
    InviteService,
    Limits,
    ManualClock,
    Store,
)

from .conftest import BASE_URL, START, CapturingMailer, build_world, race_for_seats

KEY = bytes(range(32))


def open_service(path: Path, clock: ManualClock) -> InviteService:
    config = Config(BASE_URL, limits=Limits.unlimited())
    return InviteService(f"sqlite:{path}", config=config, clock=clock, outbox_key=KEY)


def test_page_size_shapes_a_new_file_and_a_bad_one_is_invalid_config(tmp_path: Path) -> None:
    for bytes_ in ["3000", "256", "131072", "big"]:
        with pytest.raises(InvalidConfigError) as refused:
            Store(f"sqlite:{tmp_path / 'never.db'}?page_size={bytes_}")
        assert refused.value.code == "INVALID_CONFIG"
    assert not (tmp_path / "never.db").exists()

    def page_size(name: str) -> int:
        with closing(sqlite3.connect(tmp_path / name)) as conn:
            return int(conn.execute("PRAGMA page_size").fetchone()[0])

    Store(f"sqlite:{tmp_path / 'default.db'}")
    assert page_size("default.db") == 2048
    Store(f"sqlite:{tmp_path / 'big.db'}?page_size=8192")
    assert page_size("big.db") == 8192


def test_sqlite_file_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "invites.db"
    clock = ManualClock(START)
    first = open_service(path, clock)
    assert first.store_kind == "sqlite"
    clock_world = build_world(first, clock)
    sent = clock_world.send_new("ada@example.com")
    del first

    again = open_service(path, clock)  # a new process would do the same
    assert again.get_invitation(clock_world.acme.id, sent.invitation.id).status == "pending"
    mailer = CapturingMailer()
    assert again.dispatch_outbox(mailer).delivered == 1  # the sealed token survived
    assert mailer.sent[0].accept_link == sent.accept_link
    accepted = again.accept(sent.token)
    assert accepted.user_created
    usage = again.seat_usage(clock_world.acme.id, clock_world.team.id)
    assert (usage.used, usage.reserved) == (1, 0)


def test_two_services_on_one_file_never_oversell(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    clock = ManualClock(START)
    a = open_service(path, clock)
    world = build_world(a, clock, seats=4)
    other = InviteService(Store(f"sqlite:{path}"), config=a.config, clock=clock, outbox_key=KEY)
    services = [a, other]  # one clock: two processes agree on the time
    outcomes = race_for_seats(world, services)
    assert outcomes.count("sent") == 4
    assert outcomes.count("full") == 20
    counted = a.recount_seats(world.acme.id, world.team.id)
    assert (counted.used, counted.reserved) == (0, 4)
