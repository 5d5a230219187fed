"""Concurrency from Python threads: seats never oversell; the GIL is released."""

from __future__ import annotations

import os
import sys
import threading
import warnings
from datetime import timedelta
from pathlib import Path

import pytest

from invite_core import Config, InviteError, InviteForm, InviteService, ManualClock, SeatLimitError

from .conftest import BASE_URL, START, World, build_world, run_beside_python

THREADS = 8


def test_eight_threads_never_oversell(world: World) -> None:
    s = world.service
    seats = 5
    sub = s.create_subscription(world.acme.id, world.crm.id, plan="Small", seats=seats)
    barrier = threading.Barrier(THREADS)
    sent: list[str] = []
    refused: list[InviteError] = []
    lock = threading.Lock()

    def invite(worker: int) -> None:
        barrier.wait()
        for n in range(4):
            try:
                result = world.send_new(f"w{worker}-{n}@example.com", subscription_id=sub.id)
                with lock:
                    sent.append(result.invitation.id)
            except InviteError as e:
                with lock:
                    refused.append(e)

    threads = [threading.Thread(target=invite, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(sent) == seats
    assert len(refused) == THREADS * 4 - seats
    assert all(isinstance(e, SeatLimitError) for e in refused)
    usage = s.seat_usage(world.acme.id, sub.id)
    assert (usage.used, usage.reserved, usage.available) == (0, seats, 0)
    counted = s.recount_seats(world.acme.id, sub.id)
    assert (counted.used, counted.reserved) == (0, seats)


def test_store_work_releases_the_gil(world: World) -> None:
    """Another Python thread runs while a call works in Rust.

    With a 10 s switch interval the interpreter never takes the GIL from a thread that
    holds it, so the main thread can tick between `start` and `end` only if the call
    released the GIL.
    """
    s = world.service
    big = s.create_subscription(world.acme.id, world.crm.id, plan="Big")
    for i in range(500):
        world.send_new(f"bulk{i}@example.com", subscription_id=big.id)
    world.clock.advance(timedelta(days=8))
    swept, took, inside = run_beside_python(s.expire_overdue)
    assert swept == 500
    assert inside, f"no Python ran during a {took:.4f}s call"


def test_a_form_can_be_edited_while_another_thread_views_it(world: World) -> None:
    """`view` and `submit` work on a copy of the form: while they run (the GIL
    released), another thread's setters go through instead of failing with
    "Already borrowed"."""
    form = InviteForm()
    form.select_business(world.acme.id)
    stop = threading.Event()
    viewing_errors: list[BaseException] = []

    def view_in_a_loop() -> None:
        try:
            while not stop.is_set():
                form.view(world.service, world.admin.id)
        except BaseException as e:  # noqa: BLE001 - reported by the assertion below
            viewing_errors.append(e)

    viewer = threading.Thread(target=view_in_a_loop)
    viewer.start()
    try:
        for i in range(300):
            form.set_email(f"person{i}@example.com")
    finally:
        stop.set()
        viewer.join()
    assert viewing_errors == []
    assert form.email == "person299@example.com"


def test_changes_of_different_fields_from_two_threads_both_stick(tmp_path: Path) -> None:
    """`update_subscription(**changes)` changes only its keywords, in one transaction:
    a concurrent change of another field is never undone (on a file, where each call
    waits for the write lock, a read-then-write would undo it now and then)."""
    clock = ManualClock(START)
    service = InviteService(f"sqlite:{tmp_path / 'changes.db'}", config=Config(BASE_URL), clock=clock)
    world = build_world(service, clock)
    s, acme, team = world.service, world.acme.id, world.team.id
    for round_ in range(50):
        start = threading.Barrier(2)

        def rename(r: int = round_) -> None:
            start.wait()
            for i in range(20):
                s.update_subscription(acme, team, plan=f"Plan {r}.{i}")

        renamer = threading.Thread(target=rename)
        renamer.start()
        start.wait()
        s.update_subscription(acme, team, status="suspended")
        renamer.join()
        after = s.get_subscription(acme, team)
        assert (after.status, after.plan) == ("suspended", f"Plan {round_}.19"), round_
        s.update_subscription(acme, team, status="active")


@pytest.mark.skipif(sys.platform == "win32", reason="no fork on Windows")
def test_a_forked_child_mints_ids_apart_from_its_parent(world: World) -> None:
    """Ids stay unique across a `fork`: the child draws its own random bits.

    The parent has drawn a block of random bits for its ids; the child inherits it. On
    the world's manual clock both mint in the same millisecond with the same sequence
    number, so a child minting from the inherited block would repeat the parent's id.
    """
    s = world.service
    s.create_business("Before the fork")  # the parent draws its block
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12+ warns about forking a process that has threads.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: report its new business's id, then leave at once
        try:
            os.write(write_end, s.create_business("Child").id.encode())
        finally:
            os._exit(0)
    os.close(write_end)
    parent_id = s.create_business("Parent").id
    with os.fdopen(read_end, "rb") as child_end:
        child_id = child_end.read().decode()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert child_id, "the child created its business"
    assert child_id != parent_id
