"""Authenticated GET /api/v1/me per second over rotating personal tokens, next to a
bare Starlette endpoint doing the same indexed credential lookup with the standard
library's `sqlite3`, in one run, on one SQLite file.

Run: .venv/bin/python -m bench.bench_me [--seconds 8] [--connections 8] [--tokens 200]
Needs `wrk` (apt-get install wrk). Both servers are one uvicorn worker on
127.0.0.1; `wrk` cycles through the tokens (one admin each), so no answer is
served from a warm row alone. Each side is measured twice, alternating, and the
better run counts. Target (the floor of the one-door step): ratio >= 0.07.
"""

import argparse
import json
import os
import sqlite3
import threading
from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route as Path_

from bench import seed
from bench.access_servers import scratch_database, server, wrk
from roster.adapters.tokens import same_hash, token_hash, workspace_of
from roster.domain.vocabulary import Role

ROSTER = "roster.entrypoints.web.app:create_app"
BARE = "bench.bench_me:create_bare"
TARGET = 0.07

# The credential check Roster runs, as plain SQL: the live credential by its
# workspace and hash, with its Active user.
LOOKUP = """
SELECT c.token_hash, u.id, u.email, u.name, u.role, u.status
FROM credentials c JOIN users u ON u.workspace_id = c.workspace_id AND u.id = c.user_id
WHERE c.workspace_id = ? AND c.token_hash = ? AND c.revoked_at IS NULL
  AND (c.expires_at IS NULL OR c.expires_at > ?) AND u.status = 'active'
"""


def seed_tokens(url: str, count: int) -> list[str]:
    """Workspace `bench` with `count` Active admins (its owner and count - 1 more),
    each with a personal token."""
    c = seed.container(url)
    ws = seed.workspace(c, count - 1, seed.Mix(roles={Role.ADMIN: 1}), slug="bench")
    admins = [ws.owner_id, *(seed.user_id(i) for i in range(count - 1))]
    tokens = [seed.token(c, ws, user=admin) for admin in admins]
    seed.settle(c.engine)  # statistics with the tokens in
    return tokens


def rotating(tokens: list[str]) -> str:
    """A wrk script that sends each request with the next token."""
    return (
        f"tokens = {json.dumps(tokens).replace('[', '{').replace(']', '}')}\n"
        "i = 0\n"
        "request = function()\n"
        "  i = i % #tokens + 1\n"
        '  return wrk.format("GET", nil, {["Authorization"] = "Bearer " .. tokens[i]})\n'
        "end\n"
    )


def create_bare() -> Starlette:
    """The baseline: one endpoint, the same lookup through `sqlite3`, JSON out."""
    path = os.environ["ROSTER_DATABASE_URL"].removeprefix("sqlite:///")
    local = threading.local()

    def connection() -> sqlite3.Connection:
        if not hasattr(local, "conn"):
            local.conn = sqlite3.connect(path, check_same_thread=False)
        conn: sqlite3.Connection = local.conn
        return conn

    async def me(request: Request) -> JSONResponse:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        workspace_id, digest = workspace_of(token), token_hash(token)
        now = datetime.now(UTC).isoformat(sep=" ")
        row = connection().execute(LOOKUP, (workspace_id, digest, now)).fetchone()
        if row is None or not same_hash(row[0], digest):
            return JSONResponse({"code": "unauthenticated"}, 401)
        keys = ("id", "email", "name", "role", "status")
        return JSONResponse(dict(zip(keys, row[1:], strict=True)))

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Path_("/me", me), Path_("/healthz", healthz)])


def measure(seconds: int, connections: int, count: int) -> tuple[float, float]:
    with scratch_database("sqlite") as url:
        script = rotating(seed_tokens(url, count))
        best = {"roster": 0.0, "bare": 0.0}
        for _ in range(2):
            for name, app, path, port in (
                ("bare", BARE, "/me", 8931),
                ("roster", ROSTER, "/api/v1/me", 8932),
            ):
                with server(app, url, port) as base:
                    rate = wrk(base + path, seconds=seconds, connections=connections, script=script)
                    best[name] = max(best[name], rate)
        return best["roster"], best["bare"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--tokens", type=int, default=200)
    args = parser.parse_args()
    roster, bare = measure(args.seconds, args.connections, args.tokens)
    ratio = roster / bare
    verdict = "meets" if ratio >= TARGET else "MISSES"
    print(
        f"sqlite  GET /api/v1/me {roster:8.0f} req/s   bare Starlette + sqlite3 {bare:8.0f} req/s"
        f"   ratio {ratio:.3f}x  ({verdict} the {TARGET}x floor)"
    )


if __name__ == "__main__":
    main()
