"""What a commit that changes k B-trees costs against PERF.md's floor, whatever the store.

PERF.md's floor is one bare single-row INSERT per transaction: one B-tree changed per
commit. A send must change more: at least its invitation row and the B-tree its token
hash is looked up by at accept (the two cannot be one: a resend changes the token, not
the id), and in invite-core also its audit events, outbox row and seat counter. This
script measures, with Python's `sqlite3` module and no invite-core code at all,
transactions that each add one entry to k B-trees: one INSERT (as the floor) of a row
into a `WITHOUT ROWID` table with k - 1 indexes, every key a time-ordered 16-byte id
(every entry lands at the right edge of its B-tree, the cheapest case there is), in the
same file setup as the store (2 KiB pages; `wal` with `synchronous=NORMAL`, or SQLite's
defaults), against the floor in the same run. It is what any schema that changes k
B-trees per operation costs at least, before any of its statements' own work.

    python3 benches/python/lower_bound.py [--n 2000] [--runs 3] [--modes wal,default]

Prints one JSON line per mode and k (medians over the runs) with the ratio to the floor.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import tempfile
import time

TREES = (1, 2, 4, 8, 16, 24)


def connect(path: str, mode: str) -> sqlite3.Connection:
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            os.remove(path + suffix)
        except FileNotFoundError:
            pass
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA page_size = 2048")
    if mode == "wal":
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA wal_autocheckpoint = 10000")
    return conn


def floor_inserts(conn: sqlite3.Connection, n: int) -> float:
    """PERF.md's floor on an autocommit connection: creates its table, then times N bare
    single-row INSERTs, each its own (implicit) transaction. Returns the seconds taken.
    `workload.py`'s floor runs the same."""
    conn.execute(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, email TEXT NOT NULL, status TEXT NOT NULL)"
    )
    started = time.perf_counter()
    for i in range(n):
        conn.execute(
            "INSERT INTO t (id, email, status) VALUES (?, ?, 'pending')",
            (i, f"user{i}@example.com"),
        )
    return time.perf_counter() - started


def floor(path: str, mode: str, n: int) -> float:
    """The floor's commits per second on a fresh file in `mode`."""
    conn = connect(path, mode)
    elapsed = floor_inserts(conn, n)
    conn.close()
    return n / elapsed


def k_trees(path: str, mode: str, n: int, k: int) -> float:
    """N single-statement transactions, each adding one entry to each of k B-trees: a
    row of a table with k - 1 indexes, so that statement and transaction overheads are
    the floor's and only the B-trees differ."""
    conn = connect(path, mode)
    columns = "".join(f", c{i} BLOB NOT NULL" for i in range(1, k))
    conn.execute(f"CREATE TABLE b (id BLOB PRIMARY KEY{columns}) WITHOUT ROWID")
    for i in range(1, k):
        conn.execute(f"CREATE INDEX b_c{i} ON b (c{i})")
    insert = f"INSERT INTO b VALUES ({', '.join('?' * k)})"
    rows = [(i.to_bytes(8, "big") + os.urandom(8),) * k for i in range(n)]
    started = time.perf_counter()
    for row in rows:
        conn.execute(insert, row)
    elapsed = time.perf_counter() - started
    conn.close()
    return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--modes", default="wal,default")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="invite-lower-bound-") as tmp:
        path = os.path.join(tmp, "bound.sqlite")
        for mode in args.modes.split(","):
            if mode not in ("wal", "default"):
                parser.error(f"unknown mode `{mode}`")
            n = args.n if mode == "wal" else max(1, args.n // 4)
            floors: list[float] = []
            per_k: dict[int, list[float]] = {k: [] for k in TREES}
            for _ in range(args.runs):
                # Interleaved, so that a swing of the disk hits every variant alike.
                floors.append(floor(path, mode, n))
                for k in TREES:
                    per_k[k].append(k_trees(path, mode, n, k))
            floor_rate = statistics.median(floors)
            print(json.dumps({"mode": mode, "n": n, "floor_per_s": round(floor_rate)}))
            for k in TREES:
                rate = statistics.median(per_k[k])
                print(
                    json.dumps(
                        {
                            "mode": mode,
                            "n": n,
                            "b_trees_per_commit": k,
                            "commits_per_s": round(rate),
                            "floor_time_ratio": round(floor_rate / rate, 2),
                        }
                    ),
                    flush=True,
                )


if __name__ == "__main__":
    main()
