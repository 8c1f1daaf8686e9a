"""`roster users import` of 1,000,000 rows on a fresh SQLite file and a fresh
PostgreSQL database, next to raw SQL doing the same writes.

Run: .venv/bin/python -m bench.bench_import [--rows 1000000] [--databases sqlite,postgresql]

Each contender runs in a process of its own (spawned) on a database of its own,
created empty and migrated as `roster init` leaves it (PostgreSQL: never analyzed,
so the planner starts without statistics, as on a new install), so the peak RSS it
reports (getrusage) is its own. The import reads one CSV file written beforehand
(email,name,role,status; 8 in 10 active). The baseline inserts the same users and
their creation audit rows with executemany, in chunks of the import's size, one
transaction each, analyzing the tables after the first chunk as a careful loader
would. Printed per database: time, the time of the first and of the last tenth of
the rows (about equal when the time is linear), peak RSS, and the ratios. Target:
the import's peak RSS <= 200 MB at 1,000,000 rows.
"""

import argparse
import multiprocessing as mp
import resource
import secrets
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bench import seed
from bench.access_servers import scratch_database
from roster.adapters.tables import audit_events, users
from roster.domain.ids import new_id
from roster.domain.users import Actor
from roster.services.imports import CHUNK, check_file, import_file

RSS_TARGET_MB = 200


def write_csv(path: Path, rows: int) -> None:
    statuses = ["active"] * 8 + ["inactive"] * 2
    with path.open("w") as f:
        f.write("email,name,role,status\n")
        for i in range(rows):
            f.write(f"user{i}@bench.example,User {i},member,{statuses[i % 10]}\n")


class Tenths:
    """The time each tenth of the rows took, from a progress callback."""

    def __init__(self, rows: int) -> None:
        self.rows, self.done, self.marks = rows, 0, [time.perf_counter()]

    def __call__(self, n: int) -> None:
        self.done += n
        while len(self.marks) <= 10 and self.done >= self.rows * len(self.marks) / 10:
            self.marks.append(time.perf_counter())

    def first_last(self) -> tuple[float, float]:
        m = self.marks
        return (m[1] - m[0], m[-1] - m[-2]) if len(m) > 2 else (0.0, 0.0)


def roster_import(url: str, rows: int, csv_path: str) -> dict[str, float]:
    c = seed.container(url)
    ws = seed.workspace(c, 0, slug=f"imp-{secrets.token_hex(3)}").id
    tenths = Tenths(rows)
    started = time.perf_counter()
    checked = check_file(Path(csv_path))
    tenths.marks = [time.perf_counter()]
    import_file(
        c.uow,
        workspace_id=ws,
        file=checked,
        actor=Actor(None, "bench"),
        now=c.clock(),
        progress=tenths,
    )
    return _figures(started, tenths)


def raw_baseline(url: str, rows: int, csv_path: str) -> dict[str, float]:
    c = seed.container(url)
    ws = seed.workspace(c, 0, slug=f"raw-{secrets.token_hex(3)}").id
    now = datetime.now(UTC)
    tenths = Tenths(rows)
    started = time.perf_counter()
    for start in range(0, rows, CHUNK):
        batch = range(start, min(rows, start + CHUNK))
        ids = [new_id("usr") for _ in batch]
        pairs = list(zip(ids, batch, strict=True))
        with c.engine.begin() as conn:
            conn.execute(insert(users), [_user(ws, uid, i, now) for uid, i in pairs])
            conn.execute(insert(audit_events), [_event(ws, uid, i, now) for uid, i in pairs])
            if start == 0 and conn.dialect.name == "postgresql":
                conn.exec_driver_sql("ANALYZE users, audit_events")
        tenths(len(batch))
    return _figures(started, tenths)


def _user(ws: str, uid: str, i: int, now: datetime) -> dict[str, Any]:
    return {
        "workspace_id": ws,
        "id": uid,
        "email": f"user{i}@bench.example",
        "name": f"User {i}",
        "role": "member",
        "status": "active" if i % 10 < 8 else "inactive",
        "created_at": now,
        "version": 1,
        "status_changed_at": now,
        "status_changed_by": "bench",
    }


def _event(ws: str, uid: str, i: int, now: datetime) -> dict[str, Any]:
    return {
        "workspace_id": ws,
        "id": new_id("evt"),
        "seq": i + 2,
        "user_id": uid,
        "to_status": "active" if i % 10 < 8 else "inactive",
        "route": "bulk",
        "actor_name": "bench",
        "at": now,
        "outcome": "applied",
        "hash": "",
    }


def _figures(started: float, tenths: Tenths) -> dict[str, float]:
    first, last = tenths.first_last()
    return {
        "seconds": time.perf_counter() - started,
        "first_tenth": first,
        "last_tenth": last,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def in_own_process(
    run: Callable[[str, int, str], dict[str, float]], backend: str, rows: int, csv_path: str
) -> dict[str, float]:
    """`run` in a spawned process on a scratch database of `backend`."""
    with scratch_database(backend) as url, mp.get_context("spawn").Pool(1) as pool:
        return pool.apply(run, (url, rows, csv_path))


def line(name: str, f: dict[str, float]) -> str:
    return (
        f"{name} {f['seconds']:.1f} s (first tenth {f['first_tenth']:.1f} s, last tenth "
        f"{f['last_tenth']:.1f} s), peak RSS {f['rss_mb']:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        csv_path = str(Path(folder) / "users.csv")
        write_csv(Path(csv_path), args.rows)
        for backend in args.databases.split(","):
            ours = in_own_process(roster_import, backend, args.rows, csv_path)
            base = in_own_process(raw_baseline, backend, args.rows, csv_path)
            verdict = "met" if ours["rss_mb"] <= RSS_TARGET_MB else "MISSED"
            print(
                f"{backend}, {args.rows} rows: {line('import', ours)}; "
                f"{line('raw SQL', base)}; ratio {ours['seconds'] / base['seconds']:.2f}x time, "
                f"{ours['rss_mb'] / base['rss_mb']:.2f}x RSS; RSS target "
                f"<= {RSS_TARGET_MB} MB {verdict}",
                flush=True,
            )


if __name__ == "__main__":
    main()
