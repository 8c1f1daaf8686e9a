"""GET /api/v1/users?status=blocked at 1,000,000 users, next to the raw SQL it runs.

Run: .venv/bin/python -m bench.bench_users_api [--users 1000000] [--database-url URL]
     [--runs 200]
Given a --database-url that an earlier run seeded, it measures again without reseeding.

Seeds a fresh database (a temporary SQLite file unless --database-url names an
empty PostgreSQL database) with one workspace of N users (78% Active, 16% Inactive,
6% Blocked) straight into the table (executemany on SQLite, COPY on PostgreSQL) and
sets its counter row to match. Then, in one run on the same database, it times:
- the API: the request called straight into the whole ASGI app in-process
  (bench.asgi: middleware, routing, the bearer check, the keyset page, the users
  with allowed_transitions, JSON), with an admin's personal token; no socket and
  no HTTP client, so the figure is the app's own time;
- the baseline: the queries the API runs (the one-query credential check and the
  page select), executed and fetched directly.
The two are timed alternately, one of each per round, so load from other work on
the machine falls on both alike. It prints p50/p95 of each, the ratio of the
p95s and the load average. Target: p95 <= 200 ms and <= 2x.
"""

import argparse
import asyncio
import json
import os
import random
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert, select, text, update
from starlette.types import ASGIApp

from bench import asgi
from roster.adapters import credential_store
from roster.adapters.database import make_engine
from roster.adapters.migrator import upgrade
from roster.adapters.tables import user_counts, users, workspaces
from roster.bootstrap import Container
from roster.config import Settings
from roster.domain.credentials import CredentialKind
from roster.domain.users import Actor
from roster.domain.vocabulary import Route, Status
from roster.entrypoints.web.app import create_app
from roster.services import queries
from roster.services.access import create_token
from roster.services.users import NewUser
from roster.services.workspaces import create_workspace

CHUNK = 50_000
COLUMNS = ["workspace_id", "id", "email", "name", "role", "status", "status_reason",
           "status_changed_at", "status_changed_by", "last_seen_at", "created_at",
           "version"]  # fmt: skip


def _people(workspace_id: str, n: int, now: datetime) -> Iterator[list[tuple[object, ...]]]:
    rng = random.Random(4)
    batch: list[tuple[object, ...]] = []
    for i in range(n):
        status = rng.choices(("active", "inactive", "blocked"), weights=(78, 16, 6))[0]
        reason = "needs_review" if status == "blocked" else None
        seen = now - timedelta(minutes=rng.randrange(200_000))
        uid = f"usr_{i:012x}{rng.getrandbits(64):016x}"  # the shape of new_id, in order
        batch.append((workspace_id, uid, f"person{i}@bench.example", f"Person {i}", "member",
                      status, reason, now, "bench", seen, now, 1))  # fmt: skip
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def seed(container: Container, n: int) -> tuple[str, str]:
    """A workspace with an owner and n members; its id and the owner's personal token."""
    now = container.clock()
    workspace, owner = create_workspace(
        container.uow(),
        slug="bench-api",
        name="Bench",
        route=Route.CLI,
        actor=Actor(None, "bench"),
        now=now,
        owner=NewUser("owner@bench.example", "Bench Owner"),
    )
    counts = {"active": 0, "inactive": 0, "blocked": 0}
    for batch in _people(workspace.id, n, now):
        for row in batch:
            counts[str(row[5])] += 1
        _insert(container.engine, batch)
    with container.engine.begin() as conn:
        c = user_counts.c
        conn.execute(
            update(user_counts)
            .where(c.workspace_id == workspace.id)
            .values(**{k: getattr(c, k) + v for k, v in counts.items()})
        )
        conn.execute(text("ANALYZE users" if conn.dialect.name == "postgresql" else "ANALYZE"))
    _, token = create_token(
        container.uow(),
        workspace_id=workspace.id,
        kind=CredentialKind.PERSONAL,
        name="bench",
        user_id=owner.id,
        now=now,
        route=Route.CLI,
        actor=Actor(None, "bench"),
    )
    return workspace.id, token


def _reuse(container: Container, workspace_id: str) -> tuple[str, str]:
    """An earlier run's workspace: its id and a new personal token for its owner."""
    with container.engine.connect() as conn:
        owner = conn.execute(
            select(users.c.id).where(
                users.c.workspace_id == workspace_id, users.c.email == "owner@bench.example"
            )
        ).scalar_one()
    _, token = create_token(
        container.uow(),
        workspace_id=workspace_id,
        kind=CredentialKind.PERSONAL,
        name="bench",
        user_id=owner,
        now=container.clock(),
        route=Route.CLI,
        actor=Actor(None, "bench"),
    )
    return workspace_id, token


def _insert(engine: Engine, batch: list[tuple[object, ...]]) -> None:
    if engine.dialect.name != "postgresql":
        with engine.begin() as conn:
            conn.execute(insert(users), [dict(zip(COLUMNS, row, strict=True)) for row in batch])
        return
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        with cur.copy(f"COPY users ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in batch:
                copy.write_row(row)
        raw.commit()
    finally:
        raw.close()


async def measure(
    baseline: Callable[[], object], app: ASGIApp, path: str, headers: dict[str, str], runs: int
) -> tuple[asgi.Timings, asgi.Timings]:
    """The raw queries and the request through the whole ASGI app in-process (no
    socket, no client), alternately, one of each per round: a burst of load on the
    shared machine falls on both alike. (raw, app)."""

    def check(answer: tuple[int, bytes]) -> None:
        # Outside the timed part: reading the JSON is the client's work, not the app's.
        status, body = answer
        assert status == 200, body[:300]
        assert len(json.loads(body)["items"]) == 50

    for _ in range(5):  # warm caches and the connection pool
        baseline()
        check(await asgi.get(app, path, headers))
    raw, full = asgi.Timings(), asgi.Timings()
    for _ in range(runs):
        with raw.sample():
            baseline()
        with full.sample():
            answer = await asgi.get(app, path, headers)
        check(answer)
    return raw, full


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    engine = make_engine(url)
    upgrade(engine)
    container = Container(Settings(database_url=url), engine)
    with engine.connect() as conn:
        seeded = conn.execute(
            select(workspaces.c.id).where(workspaces.c.slug == "bench-api")
        ).first()
    if seeded is None:
        started = time.perf_counter()
        workspace_id, token = seed(container, args.users)
        print(f"{engine.dialect.name}: seeded {args.users:,} users in "
              f"{time.perf_counter() - started:.0f} s into {url}")  # fmt: skip
    else:  # a database seeded by an earlier run: measure again without reseeding
        workspace_id, token = _reuse(container, seeded.id)
        with engine.connect() as conn:
            counts = queries.user_counts_of(conn, workspace_id)
        args.users = sum(counts.of(s) for s in Status) - 1  # less the owner
        print(f"{engine.dialect.name}: reusing {args.users:,} users in {url}")

    blocked = queries.UserFilter(status=(Status.BLOCKED,))
    with engine.connect() as conn:  # a cursor halfway through the blocked users
        middle = None
        for _ in range(max(1, int(args.users * 0.06 / 2 / 500))):
            middle = queries.page_users(
                conn, workspace_id, where=blocked, after=middle, limit=500
            ).next
    assert middle is not None
    cursor = queries.encode_cursor("id", middle)

    def raw(status: str | None, after: queries.Keyset | None) -> Callable[[], object]:
        """The SQL the API runs, without the app: the credential check and the page."""
        query = select(users).where(users.c.workspace_id == workspace_id)
        if status:
            query = query.where(users.c.status == status)
        if after:
            query = query.where(users.c.id > after.id)
        query = query.order_by(users.c.id).limit(51)

        def run() -> object:
            with engine.connect() as conn:
                credential_store.check(conn, token, datetime.now(UTC))
                return conn.execute(query).fetchall()

        return run

    app = create_app(container)
    bearer = {"authorization": f"Bearer {token}"}
    scenarios = [
        ("status=blocked", "/api/v1/users?status=blocked", raw("blocked", None)),
        ("blocked, mid cursor", f"/api/v1/users?status=blocked&cursor={cursor}",
         raw("blocked", middle)),
        ("first page", "/api/v1/users", raw(None, None)),
    ]  # fmt: skip
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(asgi.header("api"))
    for name, path, baseline in scenarios:
        base, full = asyncio.run(measure(baseline, app, path, bearer, args.runs))
        print(asgi.line(name, full, base))
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
