"""The dashboard's users page at 1,000,000 users, next to the raw SQL it runs.

Run: .venv/bin/python -m bench.bench_users_page [--users 1000000] [--database-url URL]
     [--runs 200]
Given a --database-url that an earlier run seeded, it measures again without reseeding.

Seeds one workspace with N users in `seed.DIRECTORY`'s mix (78% Active, 16% Inactive,
6% Blocked; bench/seed.py), signs its owner in, then times, in one run on the same
database:
- the page: GET /admin/users (by name) [?status=blocked | ?after=<a cursor at the
  middle> | ?sort=-last_seen_at | ?sort=email&after=<middle>] called straight
  into the whole ASGI app in-process (bench.asgi: middleware, routing, the cookie
  check, the counter, the keyset page, Jinja2 rendering; the view's work runs in
  the threadpool as under uvicorn); no socket and no HTTP client, so the figure is
  the app's own time;
- the baseline: the same three queries the page runs (the one-query credential
  check, the counter row, the keyset select of the listed columns in the page's
  sort order, written out by hand), executed and fetched directly.
The two are timed alternately, one of each per round, so load from other work on
the machine falls on both alike. It prints p50/p95 for each, the ratio of the
p95s and the load average. Target: p95 <= 200 ms, <= 2x.
"""

import argparse
import asyncio
import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, select, tuple_
from starlette.types import ASGIApp

from bench import asgi, seed
from roster.adapters import credential_store
from roster.adapters.tables import users
from roster.entrypoints.web.app import create_app
from roster.services.admin_queries import ListedUser
from roster.services.cursors import user_cursor
from roster.services.queries import Keyset, user_counts_of

PASSWORD = "bench-admin-password"  # noqa: S105 - a throwaway bench account


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
    container = seed.container(args.database_url)
    engine = container.engine
    ws = seed.workspace(
        container, args.users, seed.DIRECTORY, slug="bench", password=PASSWORD, reuse=True
    )
    workspace_id, args.users = ws.id, ws.users
    print(ws.said(container))
    session = seed.session(container, ws, PASSWORD)
    with engine.connect() as conn:
        middle = conn.execute(
            select(users.c.name, users.c.email, users.c.id)
            .where(users.c.workspace_id == workspace_id)
            .order_by(users.c.name, users.c.id)
            .offset(args.users // 2)
            .limit(1)
        ).one()
    by_name = user_cursor("name", Keyset(middle.name, middle.id))
    by_email = user_cursor("email", Keyset(middle.email, middle.id))
    app = create_app(container)
    cookie = f"roster_session={session}"

    c = users.c

    def raw(
        order: list[Any],
        status: str | None = None,
        after: ColumnElement[bool] | None = None,
    ) -> Callable[[], object]:
        listed = [c[name] for name in ListedUser._fields]
        query = select(*listed).where(c.workspace_id == workspace_id)
        if status:
            query = query.where(c.status == status)
        if after is not None:
            query = query.where(after)
        query = query.order_by(*order).limit(51)

        def run() -> object:
            with engine.connect() as conn:
                credential_store.check(conn, session, datetime.now(UTC))
                user_counts_of(conn, workspace_id)
                return conn.execute(query).fetchall()

        return run

    by_name_order = [c.name, c.id]
    scenarios = [
        ("first page", "/admin/users", raw(by_name_order)),
        ("status=blocked", "/admin/users?status=blocked", raw(by_name_order, "blocked")),
        (
            "page at the middle",
            f"/admin/users?after={by_name}",
            raw(by_name_order, after=tuple_(c.name, c.id) > (middle.name, middle.id)),
        ),
        (
            "sort=-last_seen_at",
            "/admin/users?sort=-last_seen_at",
            raw([c.last_seen_at.desc().nulls_last(), c.id.desc()]),
        ),
        (
            "sort=email, middle",
            f"/admin/users?sort=email&after={by_email}",
            raw([c.email], after=c.email > middle.email),
        ),
    ]
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(asgi.header("page"))
    for name, path, baseline in scenarios:
        base, full = asyncio.run(measure(baseline, app, path, {"cookie": cookie}, args.runs))
        print(asgi.line(name, full, base))
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
