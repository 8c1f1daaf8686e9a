"""GET /api/v1/users?status=blocked at 1,000,000 users, next to the raw SQL it runs.

Run: .venv/bin/python -m bench.bench_users_api [--users 1000000] [--database-url URL]
     [--runs 200]
Given a --database-url that an earlier run seeded, it measures again without reseeding.

Seeds a fresh database (a temporary SQLite file unless --database-url names an
empty PostgreSQL database) with one workspace of N users in `seed.DIRECTORY`'s mix
(78% Active, 16% Inactive, 6% Blocked; bench/seed.py). Then, in one run on the same
database, it times:
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
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select
from starlette.types import ASGIApp

from bench import asgi, seed
from roster.adapters import credential_store
from roster.adapters.tables import users
from roster.domain.filters import UserFilter
from roster.domain.vocabulary import Status
from roster.entrypoints.web.app import create_app
from roster.services import queries
from roster.services.cursors import encode_cursor


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
    container = seed.container(args.database_url)
    engine = container.engine
    ws = seed.workspace(container, args.users, seed.DIRECTORY, slug="bench-api", reuse=True)
    workspace_id, token, args.users = ws.id, seed.token(container, ws), ws.users
    print(ws.said(container))

    blocked = UserFilter(status=(Status.BLOCKED,))
    with engine.connect() as conn:  # a cursor halfway through the blocked users
        middle = None
        for _ in range(max(1, int(args.users * 0.06 / 2 / 500))):
            middle = queries.page_users(
                conn, workspace_id, where=blocked, after=middle, limit=500
            ).next
    assert middle is not None
    cursor = encode_cursor("id", middle.value, middle.id)

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
