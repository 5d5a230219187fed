"""The README's Python quickstart and the CSV example run as documented."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from invite_core import InviteService

from .conftest import CapturingMailer

PACKAGE = Path(__file__).resolve().parents[1]
EXAMPLE = PACKAGE.parents[1] / "examples" / "python" / "invite_from_csv.py"


def quickstart() -> str:
    readme = (PACKAGE / "README.md").read_text()
    match = re.search(r"## Python quickstart\n\n```python\n(.*?)```", readme, re.S)
    assert match, "README.md has no Python quickstart block"
    return match.group(1)


def test_readme_quickstart_runs(capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(quickstart(), "README.md quickstart", "exec"), {"__name__": "__quickstart__"})
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "SeatUsage(total=1, used=0, reserved=0, available=1)"
    assert "SEAT_LIMIT_REACHED" in out
    assert out[-3:] == [
        "Ada Lovelace accepted", "1", "['created', 'sent', 'delivered', 'accepted']",
    ]


def test_csv_example_invites_with_per_row_results(tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_text(
        "First name,Last name,Email\n"
        "Ada,Lovelace,ada@example.com\n"
        "Alan,Turing,not-an-email\n"
        "\n"
        "Edsger,Dijkstra,edsger@example.com\n"
        "Ada,Again,ADA@example.com\n"
        "Barbara,Liskov,barbara@example.com\n"
    )
    run = subprocess.run(
        [sys.executable, str(EXAMPLE), str(people), "--demo", "--seats", "2"],
        capture_output=True, text=True, timeout=60,
    )
    lines = run.stdout.splitlines()
    assert run.returncode == 2, run.stderr
    assert lines[0].startswith("inviting 5 people into Acme / CRM / Team as Member (2 seats free)")
    assert lines[1].startswith("row 1: ada@example.com: sent, link https://")
    assert lines[2] == "row 2: not-an-email: VALIDATION_FAILED email INVALID_EMAIL"
    assert lines[3].startswith("row 3: edsger@example.com: sent")
    assert lines[4].startswith("row 4: ADA@example.com: ALREADY_INVITED")
    assert lines[5].startswith("row 5: barbara@example.com: SEAT_LIMIT_REACHED")
    assert lines[-1] == "2 sent, 3 failed"


def test_csv_example_queues_emails_another_process_delivers_with_the_same_key(
    tmp_path: Path,
) -> None:
    people = tmp_path / "people.csv"
    people.write_text("Ada,Lovelace,ada@example.com\n")
    store = f"sqlite:{tmp_path / 'invites.db'}"
    key = "ab" * 32
    run = subprocess.run(
        [sys.executable, str(EXAMPLE), str(people), "--demo", "--store", store,
         "--outbox-key", key],
        capture_output=True, text=True, timeout=60,
    )
    assert run.returncode == 0, run.stderr
    # The app server: another process, the same store and key, delivers the email.
    server = InviteService(store, outbox_key=bytes.fromhex(key))
    mailer = CapturingMailer()
    assert server.dispatch_outbox(mailer).delivered == 1
    assert [e.to for e in mailer.sent] == ["ada@example.com"]
    bad = subprocess.run(
        [sys.executable, str(EXAMPLE), str(people), "--outbox-key", "nothex"],
        capture_output=True, text=True, timeout=60,
    )
    assert bad.returncode == 2 and "--outbox-key" in bad.stderr
