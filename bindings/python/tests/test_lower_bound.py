"""benches/python/lower_bound.py runs and prints one JSON line per mode and B-tree count."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

LOWER_BOUND = Path(__file__).resolve().parents[3] / "benches" / "python" / "lower_bound.py"


def test_the_lower_bound_prints_the_floor_then_each_b_tree_count() -> None:
    run = subprocess.run(
        [sys.executable, str(LOWER_BOUND), "--n", "40", "--runs", "1"],
        capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    for mode, n in (("wal", 40), ("default", 10)):
        of_mode = [line for line in lines if line["mode"] == mode]
        assert of_mode[0] == {"mode": mode, "n": n, "floor_per_s": of_mode[0]["floor_per_s"]}
        assert of_mode[0]["floor_per_s"] > 0
        assert [line["b_trees_per_commit"] for line in of_mode[1:]] == [1, 2, 4, 8, 16, 24]
        for line in of_mode[1:]:
            assert line["n"] == n and line["commits_per_s"] > 0 and line["floor_time_ratio"] > 0


def test_an_unknown_mode_is_refused() -> None:
    run = subprocess.run(
        [sys.executable, str(LOWER_BOUND), "--n", "4", "--runs", "1", "--modes", "memory"],
        capture_output=True, text=True, timeout=60,
    )
    assert run.returncode == 2 and run.stdout == ""


def test_each_commit_adds_one_entry_to_each_of_k_b_trees(tmp_path: Path) -> None:
    sys.path.insert(0, str(LOWER_BOUND.parent))
    try:
        import lower_bound
    finally:
        sys.path.remove(str(LOWER_BOUND.parent))
    path = str(tmp_path / "bound.sqlite")
    assert lower_bound.k_trees(path, "wal", 7, 4) > 0
    conn = sqlite3.connect(path)
    try:
        trees = conn.execute(
            "SELECT count(*) FROM sqlite_schema WHERE tbl_name = 'b' AND type IN ('table', 'index')"
        ).fetchone()[0]
        assert trees == 4
        assert conn.execute("PRAGMA page_size").fetchone()[0] == 2048
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        for i in (1, 2, 3):
            rows = conn.execute(f"SELECT count(*) FROM b INDEXED BY b_c{i} WHERE c{i} > x''")
            assert rows.fetchone()[0] == 7
    finally:
        conn.close()
