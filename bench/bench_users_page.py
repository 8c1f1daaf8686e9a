"""The dashboard's users page at 1,000,000 users, next to the raw SQL it runs.

Run: .venv/bin/python -m bench.bench_users_page [--users 1000000] [--database-url URL]
     [--runs 200]
Given a --database-url that an earlier run seeded, it measures again without reseeding.

Seeds one workspace with N users (78% Active, 16% Inactive, 6% Blocked) straight
into the tables (executemany on SQLite, COPY on PostgreSQL) and sets its counter row
to match, signs an admin in, then times, in one run on the same database:
- the page: GET /admin/users[?status=blocked | ?after=<middle id>] called straight
  into the whole ASGI app in-process (bench.asgi: middleware, routing, the cookie
  check, the counter, the keyset page, Jinja2 rendering; the view's work runs in
  the threadpool as under uvicorn); no socket and no HTTP client, so the figure is
  the app's own time;
- the baseline: the same three queries the page runs (the one-query credential
  check, the counter row, the keyset select of the listed columns), executed and
  fetched directly.
The two are timed alternately, one of each per round, so load from other work on
the machine falls on both alike. It prints p50/p95 for each, the ratio of the
p95s and the load average. Target: p95 <= 200 ms, <= 2x.
"""

import argparse
import asyncio
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
from roster.adapters.passwords import hash_password
from roster.adapters.tables import user_counts, users, workspaces
from roster.bootstrap import Container
from roster.config import Settings
from roster.domain.credentials import CredentialKind
from roster.domain.users import Actor
from roster.domain.vocabulary import Route, Status
from roster.entrypoints.web.app import create_app
from roster.services.access import sign_in
from roster.services.admin_queries import ListedUser
from roster.services.queries import user_counts_of
from roster.services.users import NewUser
from roster.services.workspaces import create_workspace

PASSWORD = "bench-admin-password"  # noqa: S105 - a throwaway bench account
CHUNK = 50_000
COLUMNS = [
    *("workspace_id", "id", "email", "name", "role", "status", "status_reason"),
    *("status_changed_at", "status_changed_by", "last_seen_at", "created_at", "version"),
]


def _people(workspace_id: str, n: int, now: datetime) -> Iterator[list[tuple[object, ...]]]:
    rng = random.Random(7)
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


def seed(container: Container, n: int) -> str:
    """A workspace with an admin (the owner) and n members; returns the workspace id."""
    now = container.clock()
    workspace, _ = create_workspace(
        container.uow(),
        slug="bench",
        name="Bench",
        route=Route.CLI,
        actor=Actor(None, "bench"),
        now=now,
        owner=NewUser("owner@bench.example", "Bench Owner", password_hash=hash_password(PASSWORD)),
    )
    engine = container.engine
    counts = {"active": 0, "inactive": 0, "blocked": 0}
    for batch in _people(workspace.id, n, now):
        for row in batch:
            counts[str(row[5])] += 1
        _insert(engine, batch)
    with engine.begin() as conn:
        conn.execute(
            update(user_counts)
            .where(user_counts.c.workspace_id == workspace.id)
            .values(
                active=user_counts.c.active + counts["active"],
                inactive=user_counts.c.inactive + counts["inactive"],
                blocked=user_counts.c.blocked + counts["blocked"],
            )
        )
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE users"))
        else:
            conn.execute(text("ANALYZE"))
    return workspace.id


def _insert(engine: Engine, batch: list[tuple[object, ...]]) -> None:
    if engine.dialect.name != "postgresql":
        with engine.begin() as conn:
            conn.execute(insert(users), [dict(zip(COLUMNS, row, strict=True)) for row in batch])
        return
    raw = engine.raw_connection()
    try:
        sql = f"COPY users ({', '.join(COLUMNS)}) FROM STDIN"
        with raw.cursor() as cur, cur.copy(sql) as copy:  # type: ignore[attr-defined]
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

    async def request() -> None:
        status, body = await asgi.get(app, path, headers)
        assert status == 200, body[:300]

    for _ in range(5):  # warm caches and the connection pool
        baseline()
        await request()
    raw, full = asgi.Timings(), asgi.Timings()
    for _ in range(runs):
        with raw.sample():
            baseline()
        with full.sample():
            answer = await asgi.get(app, path, headers)
        assert answer[0] == 200, answer[1][:300]
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
        seeded = conn.execute(select(workspaces.c.id).where(workspaces.c.slug == "bench")).first()
    if seeded is None:
        started = time.perf_counter()
        workspace_id = seed(container, args.users)
        print(f"{engine.dialect.name}: seeded {args.users:,} users in "
              f"{time.perf_counter() - started:.0f} s into {url}")  # fmt: skip
    else:  # a database seeded by an earlier run: measure again without reseeding
        workspace_id = seeded.id
        with engine.connect() as conn:
            counts = user_counts_of(conn, workspace_id)
        args.users = sum(counts.of(s) for s in Status) - 1  # less the owner
        print(f"{engine.dialect.name}: reusing {args.users:,} users in {url}")
    session = sign_in(
        engine,
        workspace="bench",
        email="owner@bench.example",
        password=PASSWORD,
        now=datetime.now(UTC),
        kind=CredentialKind.SESSION,
    )
    with engine.connect() as conn:
        ids = conn.execute(
            select(users.c.id)
            .where(users.c.workspace_id == workspace_id)
            .order_by(users.c.id)
            .offset(args.users // 2)
            .limit(1)
        ).scalar_one()
    app = create_app(container)
    cookie = f"roster_session={session.token}"

    def raw(status: str | None, after: str | None) -> Callable[[], object]:
        listed = [users.c[name] for name in ListedUser._fields]
        query = select(*listed).where(users.c.workspace_id == workspace_id)
        if status:
            query = query.where(users.c.status == status)
        if after:
            query = query.where(users.c.id > after)
        query = query.order_by(users.c.id).limit(51)

        def run() -> object:
            with engine.connect() as conn:
                credential_store.check(conn, session.token, datetime.now(UTC))
                user_counts_of(conn, workspace_id)
                return conn.execute(query).fetchall()

        return run

    scenarios = [
        ("first page", "/admin/users", raw(None, None)),
        ("status=blocked", "/admin/users?status=blocked", raw("blocked", None)),
        ("page at the middle", f"/admin/users?after={ids}", raw(None, ids)),
    ]
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(asgi.header("page"))
    for name, path, baseline in scenarios:
        base, full = asyncio.run(measure(baseline, app, path, {"cookie": cookie}, args.runs))
        print(asgi.line(name, full, base))
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
