"""Shared by the access benchmarks: scratch databases (empty: bench/seed.py migrates
and fills them), uvicorn servers on 127.0.0.1, and `wrk` (Debian package `wrk`) as the
bounded client.

Also the bare Starlette baseline app: `create_bare()` answers GET /me with the
very credential query Roster runs (credential_store.check, one indexed lookup
joined to the user), and nothing else: no dependencies, no problem details, no
pydantic, one thread-pool hop.
"""

import contextlib
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route as Path_

from roster.adapters import credential_store
from roster.adapters.database import make_engine

PG_ADMIN = os.environ.get(
    "ROSTER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PASSWORD = "bench password, long enough"  # noqa: S105 - a throwaway benchmark account
PYTHON = sys.executable


@contextlib.contextmanager
def scratch_database(backend: str) -> Iterator[str]:
    """A fresh, empty database URL for `backend` (`seed.container` migrates it),
    removed afterwards."""
    if backend == "sqlite":
        folder = tempfile.mkdtemp(prefix="roster-bench-")
        url = f"sqlite:///{folder}/bench.db"
        try:
            yield url
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"roster_bench_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def server(app: str, url: str, port: int) -> Iterator[str]:
    """`uvicorn --factory app` on 127.0.0.1:port (one worker), until the block ends."""
    env = os.environ | {"ROSTER_DATABASE_URL": url}
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [
            PYTHON,
            "-m",
            "uvicorn",
            "--factory",
            app,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _wait(base: str) -> None:
    for _ in range(200):
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"server at {base} did not start")


def wrk(
    url: str,
    *,
    seconds: int,
    connections: int,
    headers: dict[str, str] | None = None,
    script: str | None = None,
) -> float:
    """Requests per second that `wrk` measured; fails if any answer was not 2xx."""
    args = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for k, v in (headers or {}).items():
        args += ["-H", f"{k}: {v}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script or "")
    args += ["-s", lua.name, url]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout  # noqa: S603
    Path(lua.name).unlink()
    if "Non-2xx" in out:
        raise RuntimeError(f"non-2xx answers from {url}:\n{out}")
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not found:
        raise RuntimeError(out)
    return float(found.group(1))


def create_bare() -> Starlette:
    """The baseline: one endpoint, the same credential query, JSON out."""
    engine = make_engine(os.environ["ROSTER_DATABASE_URL"])

    def lookup(token: str) -> dict[str, str] | None:
        with engine.connect() as conn:
            principal = credential_store.check(conn, token, datetime.now(UTC))
        if principal is None or principal.user is None:
            return None
        u = principal.user
        return {"id": u.id, "email": u.email, "name": u.name, "status": u.status.value}

    async def me(request: Request) -> JSONResponse:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        user = await run_in_threadpool(lookup, token)
        return JSONResponse(user) if user else JSONResponse({"code": "unauthenticated"}, 401)

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Path_("/me", me), Path_("/healthz", healthz)])
