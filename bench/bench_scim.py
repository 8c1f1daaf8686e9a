"""SCIM requests per second next to a bare Starlette app running the same SQL raw,
both over HTTP under the same load, in one run, on one database.

Run: .venv/bin/python -m bench.bench_scim [--users 20000] [--seconds 8]
         [--connections 8] [--backends sqlite postgresql]
Needs `wrk` (apt-get install wrk). Both servers are one uvicorn worker on
127.0.0.1 (bench/access_servers.py); each is measured twice, alternating, and
the better run counts. Target: ratio >= 0.5.

Two requests an identity provider sends all day:
- `GET /scim/v2/Users?filter=userName eq "…"` (Entra's and Okta's matching query).
  The baseline endpoint runs the token lookup and the userName lookup joined with
  the SCIM attributes (by email, then by userName key) and answers small JSON.
- `PATCH /scim/v2/Users/{id}` with `active` (false, then true, round after round).
  The baseline endpoint runs one transaction with the token lookup, the workspace
  lock, the user row, the status update, the audit append (sequence reservation +
  insert) and the counter, and answers small JSON.

The token check is built once with bound parameters in both baselines, as
Roster's credential check is. A second baseline (`create_bare_prebuilt`) builds
every statement once, as Roster builds its status change's: the strongest fair
baseline, the headline ratio. The same statements run in-process, without HTTP,
are printed too, for information.
"""

import argparse
import json
import os
import re
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, bindparam, insert, select, update
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route as Path_

from bench import seed
from bench.access_servers import scratch_database, server, wrk
from roster.adapters.database import WRITE, make_engine
from roster.adapters.tables import audit_events, credentials, scim_attributes, user_counts, users
from roster.adapters.tokens import token_hash
from roster.domain.credentials import CredentialKind
from roster.domain.ids import new_id

ROSTER = "roster.entrypoints.web.app:create_app"
BARE = "bench.bench_scim:create_bare"
PREBUILT = "bench.bench_scim:create_bare_prebuilt"
PATCH_SLICE = 200  # users each PATCH run toggles, a fresh slice per run


def seed_scim(url: str, count: int) -> tuple[str, str, list[str], list[str]]:
    """A workspace of `count` users and a scim token: (workspace, token, ids, emails)."""
    c = seed.container(url)
    ws = seed.workspace(c, count)
    token = seed.token(c, ws, CredentialKind.SCIM)
    seed.settle(c.engine)  # statistics with the token in
    return (
        ws.id,
        token,
        [seed.user_id(i) for i in range(count)],
        [seed.email(ws.slug, i) for i in range(count)],
    )


# The baseline's SQL: what a SCIM list and a SCIM PATCH need, nothing else.


def raw_list(conn: Connection, ws: str, email: str) -> list[dict[str, object]]:
    a = scim_attributes.c
    joined = (
        select(users, scim_attributes)
        .outerjoin(
            scim_attributes,
            (a.workspace_id == users.c.workspace_id) & (a.user_id == users.c.id),
        )
        .where(users.c.workspace_id == ws)
    )
    found = list(conn.execute(joined.where(users.c.email == email)))
    found += conn.execute(joined.where(a.user_name_key == email))
    return [{"id": r.id, "userName": r.email, "active": r.status == "active"} for r in found]


def raw_patch(conn: Connection, ws: str, user_id: str, active: bool) -> None:
    """One transaction: lock, user row, status, audit (seq + insert), counter."""
    c = user_counts.c
    to = "active" if active else "inactive"
    now = datetime.now(UTC)
    with conn.begin():
        conn.execute(select(c.active).where(c.workspace_id == ws)).first()
        conn.execute(select(users).where(users.c.workspace_id == ws, users.c.id == user_id)).first()
        conn.execute(
            update(users)
            .where(users.c.workspace_id == ws, users.c.id == user_id)
            .values(status=to, version=users.c.version + 1, status_changed_at=now)
        )
        seq = conn.execute(
            update(user_counts)
            .where(c.workspace_id == ws)
            .values(audit_seq=c.audit_seq + 1)
            .returning(c.audit_seq)
        ).scalar_one()
        conn.execute(
            insert(audit_events).values(
                workspace_id=ws,
                id=new_id("evt"),
                seq=seq,
                user_id=user_id,
                from_status="inactive" if active else "active",
                to_status=to,
                route="scim",
                actor_name="bench",
                at=now,
                outcome="applied",
                hash="",
            )
        )
        conn.execute(
            update(user_counts)
            .where(c.workspace_id == ws)
            .values(active=c.active + (1 if active else -1))
        )


# The same statements built once, with bound parameters (`create_bare_prebuilt`),
# as Roster builds its own once. The token check is built once in both baselines,
# as Roster's credential check is: the best raw SQL for it.

_TOKEN = (
    select(credentials, users.c.status)
    .outerjoin(
        users,
        (users.c.workspace_id == credentials.c.workspace_id)
        & (users.c.id == credentials.c.user_id),
    )
    .where(credentials.c.token_hash == bindparam("digest"), credentials.c.revoked_at.is_(None))
)
_JOINED = (
    select(users, scim_attributes)
    .outerjoin(
        scim_attributes,
        (scim_attributes.c.workspace_id == users.c.workspace_id)
        & (scim_attributes.c.user_id == users.c.id),
    )
    .where(users.c.workspace_id == bindparam("ws"))
)
_BY_EMAIL = _JOINED.where(users.c.email == bindparam("email"))
_BY_KEY = _JOINED.where(scim_attributes.c.user_name_key == bindparam("email"))
_C = user_counts.c
_AUDITED = "workspace_id id seq user_id from_status to_status route actor_name at outcome hash"
_THE_USER = (users.c.workspace_id == bindparam("ws"), users.c.id == bindparam("uid"))
_PATCH = (
    select(_C.active).where(_C.workspace_id == bindparam("ws")),
    select(users).where(*_THE_USER),
    update(users)
    .where(*_THE_USER)
    .values(
        status=bindparam("to"), version=users.c.version + 1, status_changed_at=bindparam("now")
    ),
    update(user_counts)
    .where(_C.workspace_id == bindparam("ws"))
    .values(audit_seq=_C.audit_seq + 1)
    .returning(_C.audit_seq),
    insert(audit_events).values(
        {c: bindparam(f"a_{c}", type_=audit_events.c[c].type) for c in _AUDITED.split()}
    ),
    update(user_counts)
    .where(_C.workspace_id == bindparam("ws"))
    .values(active=_C.active + bindparam("delta")),
)


def prebuilt_token_check(conn: Connection, token: str) -> str | None:
    row = conn.execute(_TOKEN, {"digest": token_hash(token)}).first()
    return None if row is None else str(row.workspace_id)


def prebuilt_list(conn: Connection, ws: str, email: str) -> list[dict[str, object]]:
    found = [*conn.execute(_BY_EMAIL, {"ws": ws, "email": email})]
    found += conn.execute(_BY_KEY, {"ws": ws, "email": email})
    return [{"id": r.id, "userName": r.email, "active": r.status == "active"} for r in found]


def prebuilt_patch(conn: Connection, ws: str, user_id: str, active: bool) -> None:
    lock, user, status, seq, audit, counter = _PATCH
    to, now = ("active" if active else "inactive"), datetime.now(UTC)
    the_user = {"ws": ws, "uid": user_id}
    with conn.begin():
        conn.execute(lock, {"ws": ws}).first()
        conn.execute(user, the_user).first()
        conn.execute(status, the_user | {"to": to, "now": now})
        number = conn.execute(seq, {"ws": ws}).scalar_one()
        row = {"workspace_id": ws, "id": new_id("evt"), "seq": number, "user_id": user_id}
        row |= {"from_status": "inactive" if active else "active", "to_status": to}
        row |= {"route": "scim", "actor_name": "bench", "at": now, "outcome": "applied"}
        conn.execute(audit, {f"a_{k}": v for k, v in (row | {"hash": ""}).items()})
        conn.execute(counter, {"ws": ws, "delta": 1 if active else -1})


_USER_NAME_EQ = re.compile(r'(?i)^\s*userName\s+eq\s+"([^"]*)"\s*$')


def create_bare_prebuilt() -> Starlette:
    """The baseline with its statements built once: for information."""
    return create_bare(prebuilt_token_check, prebuilt_list, prebuilt_patch)


def create_bare(
    check: Callable[[Connection, str], str | None] = prebuilt_token_check,
    listing: Callable[[Connection, str, str], list[dict[str, object]]] = raw_list,
    patching: Callable[[Connection, str, str, bool], None] = raw_patch,
) -> Starlette:
    """The baseline: the two endpoints above, each the same SQL, small JSON out."""
    engine = make_engine(os.environ["ROSTER_DATABASE_URL"])
    writer = engine.execution_options(**WRITE)

    def bearer(request: Request) -> str:
        return request.headers.get("authorization", "").removeprefix("Bearer ")

    def do_list(token: str, email: str) -> dict[str, object] | None:
        with engine.connect() as conn:
            ws = check(conn, token)
            if ws is None:
                return None
            found = listing(conn, ws, email)
        return {"totalResults": len(found), "Resources": found}

    async def list_users(request: Request) -> JSONResponse:
        wanted = _USER_NAME_EQ.match(request.query_params.get("filter", ""))
        if wanted is None:
            return JSONResponse({"detail": "filter"}, 400)
        body = await run_in_threadpool(do_list, bearer(request), wanted.group(1))
        return JSONResponse(body) if body else JSONResponse({"detail": "token"}, 401)

    def do_patch(token: str, user_id: str, active: bool) -> bool:
        with writer.connect() as conn:
            ws = check(conn, token)
            conn.commit()
            if ws is None:
                return False
            patching(conn, ws, user_id, active)
        return True

    async def patch_user(request: Request) -> JSONResponse:
        body = json.loads(await request.body())
        active = bool(body["Operations"][0]["value"])
        user_id = request.path_params["user_id"]
        if not await run_in_threadpool(do_patch, bearer(request), user_id, active):
            return JSONResponse({"detail": "token"}, 401)
        return JSONResponse({"id": user_id, "active": active})

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Path_("/scim/v2/Users", list_users),
            Path_("/scim/v2/Users/{user_id}", patch_user, methods=["PATCH"]),
            Path_("/healthz", healthz),
        ]
    )


# Load: wrk scripts cycling through users, the same for both servers.


def _lua_list(values: list[str]) -> str:
    return "{" + ",".join(json.dumps(v) for v in values) + "}"


def list_script(emails: list[str]) -> str:
    paths = [
        "/scim/v2/Users?filter=" + f'userName eq "{e}"'.replace(" ", "%20").replace('"', "%22")
        for e in emails
    ]
    return f"""
local paths = {_lua_list(paths)}
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1])
end
"""


def patch_script(ids: list[str]) -> str:
    return f"""
local ids = {_lua_list(ids)}
local n = 0
request = function()
  local i = n
  n = n + 1
  local active = (math.floor(i / #ids) % 2 == 1) and "true" or "false"
  local body = '{{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],' ..
    '"Operations":[{{"op":"replace","path":"active","value":' .. active .. '}}]}}'
  local headers = {{}}
  for k, v in pairs(wrk.headers) do headers[k] = v end
  headers["Content-Type"] = "application/scim+json"
  return wrk.format("PATCH", "/scim/v2/Users/" .. ids[(i % #ids) + 1], headers, body)
end
"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rate(fn: Callable[[int], None], seconds: float) -> float:
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        fn(done)
        done += 1
    return done / (time.perf_counter() - started)


def in_process(
    engine: Engine, ws: str, token: str, emails: list[str], ids: list[str], seconds: float
) -> tuple[float, float]:
    writer = engine.execution_options(**WRITE)

    def listing(i: int) -> None:
        with engine.connect() as conn:
            prebuilt_token_check(conn, token)
            raw_list(conn, ws, emails[i % len(emails)])

    def patching(i: int) -> None:
        with writer.connect() as conn:
            prebuilt_token_check(conn, token)
            conn.commit()
            raw_patch(conn, ws, ids[i % len(ids)], (i // len(ids)) % 2 == 1)

    return rate(listing, seconds), rate(patching, seconds)


def measure(backend: str, args: argparse.Namespace) -> None:
    with scratch_database(backend) as url:
        ws, token, ids, emails = seed_scim(url, args.users)
        auth = {"Authorization": f"Bearer {token}"}
        slices = iter(ids[i : i + PATCH_SLICE] for i in range(0, len(ids), PATCH_SLICE))
        looked_up = emails[:: max(1, len(emails) // 500)]
        servers = (("bare", BARE), ("roster", ROSTER), ("prebuilt", PREBUILT))
        best = {(who, what): 0.0 for who, _ in servers for what in ("list", "patch")}
        for _ in range(2):
            for who, app in servers:
                with server(app, url, _port()) as base:
                    for what, script in (
                        ("list", list_script(looked_up)),
                        ("patch", patch_script(next(slices))),
                    ):
                        got = wrk(
                            base + "/scim/v2/Users",
                            seconds=args.seconds,
                            connections=args.connections,
                            headers=auth,
                            script=script,
                        )
                        best[who, what] = max(best[who, what], got)
        engine = make_engine(url)
        raw = in_process(engine, ws, token, looked_up, next(slices), min(args.seconds, 5))
        engine.dispose()
    load = os.getloadavg()[0]
    print(
        f"{backend}: {args.users} users, {args.seconds}s x 2 per figure, "
        f"{args.connections} connections, load average {load:.1f}"
    )
    for (what, name), in_proc in zip(
        (("list", 'GET /Users?filter=userName eq "…"'), ("patch", "PATCH /Users/{id} active")),
        raw,
        strict=True,
    ):
        roster, bare, prebuilt = (best[who, what] for who in ("roster", "bare", "prebuilt"))
        verdict = "meets" if roster / prebuilt >= 0.5 else "MISSES"
        print(
            f"  {name:34} SCIM {roster:7.0f} req/s   bare Starlette, statements built once "
            f"{prebuilt:7.0f} req/s   ratio {roster / prebuilt:.2f}x ({verdict} 0.5x)"
            f"\n  {'':34} bare Starlette, statements built per request {bare:7.0f} req/s, "
            f"ratio {roster / bare:.2f}x   [in-process raw SQL {in_proc:7.0f}/s]"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=20000)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    args = parser.parse_args()
    for backend in args.backends:
        measure(backend, args)


if __name__ == "__main__":
    main()
