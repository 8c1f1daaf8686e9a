"""SCIM requests per second next to the same SQL issued raw, in one run.

Run: .venv/bin/python -m bench.bench_scim [--users 20000] [--seconds 5] [--database-url URL]

Two requests an identity provider sends all day:
- `GET /scim/v2/Users?filter=userName eq "…"` (Entra's and Okta's matching query),
  sent over HTTP (keep-alive) to a real `uvicorn` server process on the same
  database: auth, filter parsing, the lookup, JSON. The baseline
  runs the statements it needs on one connection: the token lookup and the
  userName lookup joined with the SCIM attributes.
- `PATCH /scim/v2/Users/{id}` with `active` (alternately false and true). The baseline
  is one transaction with the token lookup, the workspace lock, the user row, the
  status update, the audit append (sequence reservation + insert) and the counter.
"""

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import httpx2
from sqlalchemy import Connection, Engine, func, insert, select, update

from roster.adapters.database import WRITE, make_engine
from roster.adapters.migrator import upgrade
from roster.adapters.tables import (
    audit_events,
    credentials,
    scim_attributes,
    user_counts,
    users,
)
from roster.adapters.tokens import token_hash
from roster.bootstrap import Container
from roster.config import Settings
from roster.domain.credentials import CredentialKind
from roster.domain.ids import new_id
from roster.domain.users import Actor
from roster.domain.vocabulary import Route
from roster.services.access import create_token
from roster.services.users import NewUser, add_users
from roster.services.workspaces import create_workspace


def seed(c: Container, count: int) -> tuple[str, str, list[str]]:
    tag = f"scim-{secrets.token_hex(3)}"
    ws, _ = create_workspace(
        c.uow(),
        slug=tag,
        name=None,
        route=Route.CLI,
        actor=Actor(None, "bench"),
        now=c.clock(),
        owner=NewUser(f"owner@{tag}.example", "Owner"),
    )
    uow = c.uow()
    for start in range(0, count, 5000):
        with uow:
            add_users(
                uow,
                workspace_id=ws.id,
                route=Route.CLI,
                actor=Actor(None, "bench"),
                now=c.clock(),
                batch_id=None,
                new=[
                    NewUser(f"user{i}@{tag}.example", f"User {i}")
                    for i in range(start, min(count, start + 5000))
                ],
            )
            uow.commit()
    _, token = create_token(
        c.engine,
        workspace_id=ws.id,
        kind=CredentialKind.SCIM,
        name="bench",
        user_id=None,
        now=c.clock(),
    )
    with c.engine.connect() as conn:
        ids = list(
            conn.execute(
                select(users.c.id)
                .where(users.c.workspace_id == ws.id, users.c.email.like("user%"))
                .order_by(users.c.email)
            ).scalars()
        )
    return ws.id, token, ids


@contextmanager
def _server(url: str) -> Iterator[str]:
    """`uvicorn` serving the app (no background loop) in its own process."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "roster.entrypoints.web.app:create_app",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=os.environ | {"ROSTER_DATABASE_URL": url},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx2.get(f"{base}/healthz")
                break
            except httpx2.TransportError:
                time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def rate(fn: Callable[[int], None], seconds: float) -> float:
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        fn(done)
        done += 1
    return done / (time.perf_counter() - started)


def _token_check(conn: Connection, token: str) -> None:
    digest = token_hash(token)
    conn.execute(
        select(credentials, users.c.status)
        .outerjoin(
            users,
            (users.c.workspace_id == credentials.c.workspace_id)
            & (users.c.id == credentials.c.user_id),
        )
        .where(credentials.c.token_hash == digest, credentials.c.revoked_at.is_(None))
    ).first()


def raw_list(engine: Engine, ws: str, token: str, emails: list[str]) -> Callable[[int], None]:
    a = scim_attributes.c

    def run(i: int) -> None:
        email = emails[i % len(emails)]
        joined = (
            select(users, scim_attributes)
            .outerjoin(
                scim_attributes,
                (a.workspace_id == users.c.workspace_id) & (a.user_id == users.c.id),
            )
            .where(users.c.workspace_id == ws)
        )
        with engine.connect() as conn:
            _token_check(conn, token)
            conn.execute(joined.where(users.c.email == email)).all()
            conn.execute(joined.where(a.user_name_key == email)).all()

    return run


def raw_patch(engine: Engine, ws: str, token: str, ids: list[str]) -> Callable[[int], None]:
    writer = engine.execution_options(**WRITE)
    c = user_counts.c

    def run(i: int) -> None:
        user_id = ids[i % len(ids)]
        to = "inactive" if (i // len(ids)) % 2 == 0 else "active"
        now = datetime.now(UTC)
        with writer.connect() as conn:
            _token_check(conn, token)
            conn.commit()
            with conn.begin():
                conn.execute(select(c.active).where(c.workspace_id == ws)).first()
                conn.execute(
                    select(users).where(users.c.workspace_id == ws, users.c.id == user_id)
                ).first()
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
                        from_status="active",
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
                    .values(active=c.active + (1 if to == "active" else -1))
                )

    return run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=20000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench-scim.db"
    engine = make_engine(url)
    upgrade(engine)
    c = Container(settings=Settings(database_url=url), engine=engine)
    ws, token, ids = seed(c, args.users)
    with engine.connect() as conn:
        emails = list(
            conn.execute(
                select(users.c.email).where(users.c.workspace_id == ws, users.c.id.in_(ids[:500]))
            ).scalars()
        )
        total = conn.execute(
            select(func.count()).select_from(users).where(users.c.workspace_id == ws)
        ).scalar_one()
    headers = {"Authorization": f"Bearer {token}"}
    patch_ids = ids[:200]
    with _server(url) as base, httpx2.Client(base_url=base) as client:

        def scim_list(i: int) -> None:
            email = emails[i % len(emails)]
            r = client.get(
                "/scim/v2/Users", params={"filter": f'userName eq "{email}"'}, headers=headers
            )
            assert r.status_code == 200
            assert r.json()["totalResults"] == 1

        def scim_patch(i: int) -> None:
            active = (i // len(patch_ids)) % 2 == 1
            body = {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "path": "active", "value": active}],
            }
            r = client.patch(
                f"/scim/v2/Users/{patch_ids[i % len(patch_ids)]}",
                content=json.dumps(body),
                headers=headers | {"Content-Type": "application/scim+json"},
            )
            assert r.status_code == 200, r.text

        print(f"{engine.dialect.name}, {total} users in the workspace, {args.seconds}s per figure")
        for name, scim_fn, raw_fn in (
            ("list userName eq", scim_list, raw_list(engine, ws, token, emails)),
            ("PATCH active", scim_patch, raw_patch(engine, ws, token, ids[200:400])),
        ):
            raw = rate(raw_fn, args.seconds)
            through = rate(scim_fn, args.seconds)
            print(
                f"{name:18} SCIM {through:8.0f} req/s   raw SQL {raw:8.0f} /s   "
                f"ratio {through / raw:.2f}x"
            )


if __name__ == "__main__":
    main()
