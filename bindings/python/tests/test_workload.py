"""benches/python/workload.py runs and prints PERF.md's JSON lines (tiny N, any build)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

WORKLOAD = Path(__file__).resolve().parents[3] / "benches" / "python" / "workload.py"


def test_the_workload_prints_one_line_per_store_and_floor() -> None:
    run = subprocess.run(
        [sys.executable, str(WORKLOAD), "--n", "20", "--runs", "1", "--allow-debug"],
        capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert [(line["impl"], line.get("sqlite", {}).get("journal_mode")) for line in lines] == [
        ("invite-core/python/memory", None),
        ("floor/python", "memory"),
        ("invite-core/python/sqlite", "delete"),
        ("floor/python", "delete"),
        ("invite-core/python/sqlite", "wal"),
        ("floor/python", "wal"),
    ]
    for line in lines:
        assert set(line) - {"sqlite"} == {"impl", "n", "invite_per_s", "accept_per_s", "peak_rss_mb"}
        assert line["n"] == 20 and line["invite_per_s"] > 0 and line["accept_per_s"] > 0
        assert line["peak_rss_mb"] > 0
    assert lines[2]["sqlite"] == {"journal_mode": "delete", "synchronous": "full"}
    assert lines[5]["sqlite"] == {"journal_mode": "wal", "synchronous": "normal"}
    assert "medians of 1 run(s)" in run.stderr
