"""The PostgreSQL store by URL, from Python.

Runs when ``INVITE_TEST_POSTGRES_URL`` names a database (``scripts/with-postgres
scripts/test-python`` starts a throwaway server and sets it); skipped loudly otherwise.

The server is shared with the Rust tests, so each test works in a fresh schema of its
own: the store URL carries ``?options=-csearch_path%3D<schema>``. A store opened by URL
creates its tables but not a schema named only in ``search_path``, so the schema is
created first with ``psql`` (and dropped afterwards).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from glob import glob
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import pytest

from invite_core import (
    Config,
    InvalidConfigError,
    InvitationStatus,
    InviteService,
    Limits,
    ManualClock,
    Store,
)

from .conftest import BASE_URL, START, CapturingMailer, build_world, race_for_seats

URL_VAR = "INVITE_TEST_POSTGRES_URL"
SERVER = os.environ.get(URL_VAR, "").strip()
KEY = bytes(range(32))

SKIPPED = (
    f"POSTGRESQL TESTS SKIPPED: {URL_VAR} is not set "
    "(run `scripts/with-postgres scripts/test-python`)"
)


def psql() -> str:
    """The psql client: on PATH, in `pg_config --bindir`, or in a Debian server dir."""
    found = shutil.which("psql")
    if found:
        return found
    if shutil.which("pg_config"):
        bindir = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if os.access(os.path.join(bindir, "psql"), os.X_OK):
            return os.path.join(bindir, "psql")
    candidates = sorted(glob("/usr/lib/postgresql/*/bin/psql"))
    if candidates:
        return candidates[-1]
    pytest.fail(f"{URL_VAR} is set but no psql client was found to create a test schema")


def run_sql(sql: str) -> None:
    subprocess.run(
        [psql(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", SERVER, "-c", sql],
        check=True, capture_output=True, text=True, timeout=60,
    )


def with_search_path(url: str, schema: str) -> str:
    """`url` with `options=-csearch_path=<schema>` added to its query."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query.append(("options", f"-csearch_path={schema}"))
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A store URL on a fresh schema, dropped afterwards."""
    if not SERVER:
        pytest.skip(SKIPPED)
    schema = f"py_{secrets.token_hex(8)}"
    run_sql(f"CREATE SCHEMA {schema}")
    try:
        yield with_search_path(SERVER, schema)
    finally:
        run_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def open_service(url: str, clock: ManualClock) -> InviteService:
    config = Config(BASE_URL, limits=Limits.unlimited())
    return InviteService(url, config=config, clock=clock, outbox_key=KEY)


def test_a_postgres_service_needs_the_shared_outbox_key(pg_url: str) -> None:
    config = Config(BASE_URL, limits=Limits.unlimited())
    with pytest.raises(InvalidConfigError) as refused:
        InviteService(pg_url, config=config)
    assert refused.value.code == "INVALID_CONFIG"
    assert InviteService(pg_url, config=config, outbox_key=KEY).store_kind == "postgres"


def test_the_search_path_option_is_encoded() -> None:
    url = with_search_path("postgres://u@h:5/db?sslmode=disable", "py_ab")
    assert url == "postgres://u@h:5/db?sslmode=disable&options=-csearch_path%3Dpy_ab"


def test_invite_dispatch_accept_on_postgres(pg_url: str) -> None:
    clock = ManualClock(START)
    first = open_service(pg_url, clock)
    assert first.store_kind == "postgres"
    world = build_world(first, clock)
    sent = world.send_new("ada@example.com")
    result = first.bulk_send(
        world.admin.id,
        [{"user_id": world.bob.id}, {"user_id": "not-a-uuid"}],
        business_id=world.acme.id, app_id=world.crm.id,
        subscription_id=world.team.id, role_id=world.member.id,
    )
    assert [r.ok for r in result.rows] == [True, False]
    del first
    # A restart takes time (and event ids are ordered by time, then by a per-process
    # sequence: two services at one frozen instant would interleave).
    clock.advance(timedelta(minutes=1))

    again = open_service(pg_url, clock)  # another process would do the same
    assert again.get_invitation(world.acme.id, sent.invitation.id).status == "pending"
    mailer = CapturingMailer()
    assert again.dispatch_outbox(mailer).delivered == 2  # the sealed tokens survived
    assert sent.accept_link in {m.accept_link for m in mailer.sent}
    accepted = again.accept(sent.token)
    assert accepted.user_created and accepted.user.display_name == "Ada Lovelace"
    usage = again.seat_usage(world.acme.id, world.team.id)
    assert (usage.used, usage.reserved) == (1, 1)
    kinds = [e.kind for e in again.list_events(world.acme.id, invitation_id=sent.invitation.id)]
    assert kinds == ["created", "sent", "delivered", "accepted"]

    # Each status filter has a statement of its own on PostgreSQL.
    def listed(status: InvitationStatus) -> list[str]:
        return [i.id for i in again.list_invitations(world.acme.id, status=status).items]

    bulk_sent = result.rows[0].sent
    assert bulk_sent is not None
    assert listed("accepted") == [sent.invitation.id]
    assert listed("pending") == [bulk_sent.invitation.id]
    assert listed("expired") == []
    clock.advance(timedelta(days=8))  # past the expiry; no sweep yet
    assert listed("pending") == []
    assert listed("expired") == [bulk_sent.invitation.id]


def test_two_services_on_one_database_never_oversell(pg_url: str) -> None:
    clock = ManualClock(START)
    a = open_service(pg_url, clock)
    world = build_world(a, clock, seats=4)
    other = InviteService(Store(pg_url), config=a.config, clock=clock, outbox_key=KEY)
    services = [a, other]
    outcomes = race_for_seats(world, services)
    assert outcomes.count("sent") == 4
    assert outcomes.count("full") == 20
    counted = a.recount_seats(world.acme.id, world.team.id)
    assert (counted.used, counted.reserved) == (0, 4)
