"""`roster users import` of 100,000 rows, next to raw SQL doing the same writes.

Run: .venv/bin/python -m bench.bench_import [--rows 100000] [--database-url URL]
The baseline inserts the same users and creation audit rows with executemany in
chunks of the same size, in one run, on the same database.
"""

import argparse
import secrets
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from bench import seed
from roster.adapters.tables import audit_events, users
from roster.bootstrap import Container
from roster.domain.ids import new_id
from roster.domain.users import Actor
from roster.services.imports import CHUNK, check_file, import_file


def make_csv(rows: int, tag: str) -> str:
    lines = ["email,name,role,status"]
    statuses = ["active"] * 8 + ["inactive"] * 2
    lines += [f"user{i}@{tag}.example,User {i},member,{statuses[i % 10]}" for i in range(rows)]
    return "\n".join(lines) + "\n"


def fresh_sessions(c: Container) -> None:
    """PostgreSQL caches the plans of its foreign-key checks per session; a plan
    made while a table was empty stays a sequential scan until the table is
    analyzed. Autovacuum does that in production, but it is off on this machine,
    so analyze and start new sessions before each measured phase."""
    if c.engine.dialect.name == "postgresql":
        with c.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    c.engine.dispose()


def raw_baseline(c: Container, rows: int) -> float:
    ws = seed.workspace(c, 0, slug=f"raw-{secrets.token_hex(3)}").id
    fresh_sessions(c)
    now = datetime.now(UTC)
    started = time.perf_counter()
    for start in range(0, rows, CHUNK):
        batch = range(start, min(rows, start + CHUNK))
        ids = [new_id("usr") for _ in batch]
        with c.engine.begin() as conn:
            conn.execute(
                insert(users),
                [
                    {
                        "workspace_id": ws,
                        "id": uid,
                        "email": f"u{i}@raw.example",
                        "name": f"U {i}",
                        "role": "member",
                        "status": "active",
                        "created_at": now,
                        "version": 1,
                        "status_changed_at": now,
                        "status_changed_by": "bench",
                    }
                    for uid, i in zip(ids, batch, strict=True)
                ],
            )
            conn.execute(
                insert(audit_events),
                [
                    {
                        "workspace_id": ws,
                        "id": new_id("evt"),
                        "seq": i + 2,
                        "user_id": uid,
                        "to_status": "active",
                        "route": "bulk",
                        "actor_name": "bench",
                        "at": now,
                        "outcome": "applied",
                        "hash": "",
                    }
                    for uid, i in zip(ids, batch, strict=True)
                ],
            )
    return time.perf_counter() - started


def roster_import(c: Container, rows: int) -> float:
    tag = f"imp-{secrets.token_hex(3)}"
    ws = seed.workspace(c, 0, slug=tag).id
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "users.csv"
        path.write_text(make_csv(rows, tag))
        fresh_sessions(c)
        started = time.perf_counter()
        checked = check_file(path)
        import_file(c.uow, workspace_id=ws, file=checked, actor=Actor(None, "bench"), now=c.clock())
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    c = seed.container(args.database_url)
    engine = c.engine
    base = raw_baseline(c, args.rows)
    ours = roster_import(c, args.rows)
    print(
        f"{engine.dialect.name}: import {args.rows} rows {ours:.2f} s; raw SQL same writes "
        f"{base:.2f} s; ratio {ours / base:.2f}x"
    )


if __name__ == "__main__":
    main()
