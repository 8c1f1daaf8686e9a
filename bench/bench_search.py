"""Finding a user by text (`GET /api/v1/users?q=…`) at 1,000,000 users, next to the
same user read by primary key (`GET /api/v1/users/{id}`) in the same run.

Run: .venv/bin/python -m bench.bench_search [--users 1000000] [--database-url URL]
     [--runs 200]
Given a --database-url that an earlier run (of this or of bench_users_api: the same
workspace, `bench-api`) seeded, it measures again without reseeding.

Seeds as bench_users_api does (bench/seed.py: one workspace, N users named
`User i`, emails `user{i}@bench-api.example`). Then, through the whole ASGI app
in-process with an admin's personal token (bench.asgi), it times, alternately, one
of each per round:
- the search: `?q=` an exact email, and `?q=` a part of one (a few digits, found in
  a handful of emails and names), each through the one users filter and the search
  index of migration 0017_user_search;
- the baseline: `GET /api/v1/users/{id}` of the user the exact email names.
It prints p50/p95 of each, the ratio of the p95s and the load average.
Target: the search's p95 <= 200 ms.
"""

import argparse
import asyncio
import json
import os
from urllib.parse import quote

from starlette.types import ASGIApp

from bench import asgi, seed
from roster.entrypoints.web.app import create_app


async def measure(
    app: ASGIApp, search: str, by_id: str, headers: dict[str, str], found: int, runs: int
) -> tuple[asgi.Timings, asgi.Timings]:
    """(by primary key, search), alternately; each answer checked outside the timing."""

    def check(answer: tuple[int, bytes], items: int | None) -> None:
        status, body = answer
        assert status == 200, body[:300]
        if items is not None:
            assert len(json.loads(body)["items"]) == items, body[:300]

    for _ in range(5):  # warm caches and the connection pool
        check(await asgi.get(app, by_id, headers), None)
        check(await asgi.get(app, search, headers), found)
    base, full = asgi.Timings(), asgi.Timings()
    for _ in range(runs):
        with base.sample():
            answer = await asgi.get(app, by_id, headers)
        check(answer, None)
        with full.sample():
            answer = await asgi.get(app, search, headers)
        check(answer, found)
    return base, full


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    container = seed.container(args.database_url)
    ws = seed.workspace(container, args.users, seed.DIRECTORY, slug="bench-api", reuse=True)
    token, n = seed.token(container, ws), ws.users
    print(ws.said(container))

    i = n // 2 + 4321  # a member in the middle of the table
    exact, part = seed.email(ws.slug, i), str(i)[-5:]
    # The members whose email or name holds `part` (their number does), within a page.
    holding = sum(part in str(k) for k in range(n))
    app = create_app(container)
    bearer = {"authorization": f"Bearer {token}"}
    by_id = f"/api/v1/users/{seed.user_id(i)}"
    scenarios = [
        ("q=exact email", f"/api/v1/users?q={quote(exact)}", 1),
        (f"q={part}", f"/api/v1/users?q={part}", min(holding, 50)),
    ]
    print(f"exact email {exact!r}; part {part!r} in {holding} members")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(asgi.header("q").replace("raw", "pk "))
    for name, path, found in scenarios:
        base, full = asyncio.run(measure(app, path, by_id, bearer, found, args.runs))
        print(asgi.line(name, full, base))
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
