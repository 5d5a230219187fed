#!/usr/bin/env python3
"""PERF.md's invite/accept workload through the Python API, with its floor.

Setup (untimed): one business, one app enabled for it, one subscription with N + 1
seats, one role ``member``, one business admin. Then, timed:

1. invite: N ``service.send`` calls, each to a new user (``user{i}@example.com``), then
   ``service.dispatch_outbox`` into a mailer written in Python that keeps every email;
2. accept: N ``service.accept(token)`` calls, each creating the invited user.

The floor, measured in the same run with Python's ``sqlite3`` module: N bare
single-row INSERTs, each in its own transaction, on a fresh file in the same mode, then
N UPDATEs (for the memory store: the same on ``:memory:``).

Stores: ``memory``, ``sqlite-default`` (``journal_mode=delete&synchronous=full``) and
``sqlite-wal`` (``journal_mode=wal&synchronous=normal``). Each measurement runs in a
fresh child process (so ``peak_rss_mb`` is its own), a store's run followed by its floor,
``--runs`` times round-robin. One JSON line per measurement on stdout (PERF.md's shape,
as the Rust runner prints it); the medians go to stderr.

    .venv/bin/python benches/python/workload.py                  # 3 runs, N = 2000, all stores
    .venv/bin/python benches/python/workload.py --stores sqlite-wal --runs 5 --n 5000

Needs a release build of the package (``MATURIN_RELEASE=1 scripts/test-python``, or
``maturin develop --release`` into the workspace ``.venv``); a debug build is refused
unless ``--allow-debug`` is given.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import invite_core
from invite_core import Config, InvitationEmail, InviteService, Limits
from lower_bound import floor_inserts  # benches/python: the floor, shared

STORES = ("memory", "sqlite-default", "sqlite-wal")
# Per mode: the store URL's query, and the pragmas PERF.md's mode means.
MODES = {
    "sqlite-default": ("journal_mode=delete&synchronous=full", "delete", "full"),
    "sqlite-wal": ("journal_mode=wal&synchronous=normal", "wal", "normal"),
}
BASE_URL = "https://app.example.com/accept"


@dataclass
class Figures:
    invite_per_s: float
    accept_per_s: float


class KeepingMailer:
    """The in-memory mailer: keeps every email it is handed."""

    def __init__(self) -> None:
        self.sent: list[InvitationEmail] = []

    def send(self, email: InvitationEmail) -> None:
        self.sent.append(email)


def peak_rss_mb() -> float:
    """Peak resident set size of this process (``VmHWM``), in MiB."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def run_workload(store_url: str, n: int) -> Figures:
    config = Config(BASE_URL, limits=Limits.unlimited())
    service = InviteService(store_url, config=config)
    business = service.create_business("Bench Co")
    app = service.create_app("Bench App")
    service.set_app_enabled(business.id, app.id)
    sub = service.create_subscription(business.id, app.id, plan="Bench", seats=n + 1)
    role = service.create_role(app.id, "member", "Member", ["app.use"])
    admin = service.create_user("Ada", "Admin", "admin@example.com")
    service.set_business_admin(business.id, admin.id)
    people = [(f"First{i}", f"Last{i}", f"user{i}@example.com") for i in range(n)]
    send = service.send
    mailer = KeepingMailer()

    started = time.perf_counter()
    tokens = [
        send(
            admin.id, first_name=first, last_name=last, email=email, business_id=business.id,
            app_id=app.id, subscription_id=sub.id, role_id=role.id,
        ).token
        for first, last, email in people
    ]
    report = service.dispatch_outbox(mailer)
    invite_secs = time.perf_counter() - started
    assert report.delivered == n == len(mailer.sent), "every invitation is mailed"

    accept = service.accept
    started = time.perf_counter()
    created = sum(accept(token).user_created for token in tokens)
    accept_secs = time.perf_counter() - started
    assert created == n, "every accept creates its user"
    assert service.seat_usage(business.id, sub.id).used == n, "every invitee holds a seat"
    return Figures(n / invite_secs, n / accept_secs)


SYNCHRONOUS = {0: "off", 1: "normal", 2: "full", 3: "extra"}


def run_floor(path: str, journal_mode: str, synchronous: str, n: int) -> tuple[Figures, dict[str, str]]:
    """The floor's figures, and the pragmas in force while it ran (read back)."""
    conn = sqlite3.connect(path, isolation_level=None)  # autocommit: one transaction each
    try:
        if path != ":memory:":
            conn.execute(f"PRAGMA journal_mode = {journal_mode}")
            conn.execute(f"PRAGMA synchronous = {synchronous}")
        modes = {
            "journal_mode": str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower(),
            "synchronous": SYNCHRONOUS[int(conn.execute("PRAGMA synchronous").fetchone()[0])],
        }
        insert_secs = floor_inserts(conn, n)
        started = time.perf_counter()
        for i in range(n):
            conn.execute("UPDATE t SET status = 'accepted' WHERE id = ?", (i,))
        update_secs = time.perf_counter() - started
    finally:
        conn.close()
    return Figures(n / insert_secs, n / update_secs), modes


def journal_mode_of(path: Path) -> str:
    """The journal mode a file was left in (WAL is persistent; checked, not assumed)."""
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()
    finally:
        conn.close()


def measure(target: str, n: int) -> dict[str, Any]:
    """One measurement in this process: `STORE` or `floor:STORE`."""
    floor = target.startswith("floor:")
    store = target.removeprefix("floor:")
    scratch = Path(tempfile.mkdtemp(prefix="invite-bench-py-"))
    try:
        modes: dict[str, str] | None = None
        if store == "memory":
            if floor:
                figures, modes = run_floor(":memory:", "memory", "full", n)
            else:
                figures = run_workload("memory:", n)
        else:
            query, journal_mode, synchronous = MODES[store]
            if floor:
                figures, modes = run_floor(str(scratch / "floor.sqlite"), journal_mode, synchronous, n)
            else:
                path = scratch / "bench.sqlite"
                figures = run_workload(f"sqlite:{path}?{query}", n)
                modes = {"journal_mode": journal_mode, "synchronous": synchronous}
                found = journal_mode_of(path)  # the store's own setting, checked on the file
                assert found == journal_mode, f"{path} is in journal mode {found}, not {journal_mode}"
            assert modes == {"journal_mode": journal_mode, "synchronous": synchronous}, modes
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    kind = "sqlite" if store.startswith("sqlite") else store
    line: dict[str, Any] = {
        "impl": "floor/python" if floor else f"invite-core/python/{kind}",
        "n": n,
        "invite_per_s": round(figures.invite_per_s, 1),
        "accept_per_s": round(figures.accept_per_s, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
    if modes is not None:
        line["sqlite"] = modes
    return line


def child(target: str, n: int) -> dict[str, Any]:
    """Runs one measurement in a fresh interpreter and returns its JSON line."""
    done = subprocess.run(
        [sys.executable, __file__, "--one", target, "--n", str(n), "--allow-debug"],
        capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"workload: the {target} measurement failed")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def label(line: dict[str, Any]) -> str:
    modes = line.get("sqlite")
    return f"{line['impl']} ({modes['journal_mode']})" if modes else str(line["impl"])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="invitations per run (2000)")
    parser.add_argument("--runs", type=int, default=3, help="runs per store (3)")
    parser.add_argument(
        "--stores", default=",".join(STORES), help=f"comma-separated, of {', '.join(STORES)}"
    )
    parser.add_argument("--allow-debug", action="store_true", help="measure a debug build")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # child mode: one measurement
    args = parser.parse_args()

    if invite_core._native._debug_build and not args.allow_debug:
        raise SystemExit(
            "workload: invite_core is a debug build; rebuild with "
            "`MATURIN_RELEASE=1 scripts/test-python` (or pass --allow-debug)"
        )
    if args.one:
        print(json.dumps(measure(args.one, args.n)), flush=True)
        return

    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    unknown = sorted(set(stores) - set(STORES))
    if unknown:
        parser.error(f"unknown store(s): {', '.join(unknown)}")
    if invite_core._native._debug_build:
        print("workload: WARNING: debug build, figures are not meaningful", file=sys.stderr)
    results: dict[str, list[dict[str, Any]]] = {}
    for _ in range(args.runs):
        for store in stores:
            for target in (store, f"floor:{store}"):  # the floor right after, same mode
                line = child(target, args.n)
                print(json.dumps(line), flush=True)
                results.setdefault(label(line), []).append(line)

    print(f"\nmedians of {args.runs} run(s), n = {args.n}:", file=sys.stderr)
    for name, lines in results.items():
        median = {
            key: statistics.median(float(line[key]) for line in lines)
            for key in ("invite_per_s", "accept_per_s", "peak_rss_mb")
        }
        print(
            f"  {name:<38} invites/s {median['invite_per_s']:>10,.0f}   "
            f"accepts/s {median['accept_per_s']:>10,.0f}   "
            f"peak RSS {median['peak_rss_mb']:>6.1f} MB",
            file=sys.stderr,
        )
    print(
        f"(python {sys.version.split()[0]}, sqlite3 module on SQLite {sqlite3.sqlite_version}, "
        f"pid {os.getpid()})",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
