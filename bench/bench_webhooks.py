"""Deliver the `user.status_changed` webhooks of a bulk deactivation (10,000 users by
default) to a local receiver, next to a bare `httpx` client posting the same signed
bodies to the same receiver.

Run: .venv/bin/python -m bench.bench_webhooks [--users 10000] [--database-url URL]

One fresh workspace with one endpoint subscribed to `user.status_changed`: `--users`
Active members are deactivated through the one door (`apply_changes`, route bulk, in
chunks of 2,000 as a job does), which queues one delivery per changed user in the
same transactions. Then, against one threading HTTP/1.1 server on 127.0.0.1:
- `bare httpx`: the queued bodies (read back first, not timed), each signed with
  the Standard Webhooks headers and POSTed in turn over one keep-alive client,
  nothing recorded;
- `roster webhooks.deliver_due`: the background tick, called until nothing is due
  (each call claims a batch, signs and sends each, records every attempt).
Prints deliveries per second of each and the ratio (target >= 0.5x), and the delay
from commit to delivery of one status change while idle (target p95 <= 1 s, with
the one-second tick of `roster serve`).
"""

import argparse
import secrets
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
from sqlalchemy import Engine, select

from roster.adapters import webhooks as http
from roster.adapters.database import make_engine
from roster.adapters.migrator import upgrade
from roster.adapters.tables import webhook_endpoints, webhook_messages
from roster.adapters.unit_of_work import SqlUnitOfWork
from roster.domain.users import Actor
from roster.domain.vocabulary import Route, Status
from roster.services import webhooks
from roster.services.status import apply_changes, change_status
from roster.services.users import NewUser, add_users
from roster.services.workspaces import create_workspace

CHUNK = 2000
ACTOR = Actor(id=None, name="bench")
TIMEOUT = 10.0
TICK = 1.0  # seconds between background ticks, as `roster serve` runs them


class Counting(BaseHTTPRequestHandler):
    """Answers 204 to every POST over keep-alive connections, counting them."""

    protocol_version = "HTTP/1.1"
    received = 0
    arrived: ClassVar[dict[str, float]] = {}

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["content-length"]))
        type(self).received += 1
        type(self).arrived[self.headers["webhook-id"]] = time.perf_counter()
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def seed(engine: Engine, users: int, url: str) -> tuple[str, list[str]]:
    """A workspace subscribed at `url` whose `users` members were just deactivated."""
    now = datetime.now(UTC)
    slug = f"hooks-{secrets.token_hex(4)}"
    owner = NewUser(f"owner@{slug}.example", "Owner")
    workspace, _ = create_workspace(
        SqlUnitOfWork(engine), slug=slug, name="Bench Co", owner=owner,
        route=Route.CLI, actor=ACTOR, now=now,
    )  # fmt: skip
    ids: list[str] = []
    for start in range(0, users, CHUNK):
        new = [NewUser(f"u{i}@{slug}.example", f"User {i}") for i in range(start, start + CHUNK)]
        with SqlUnitOfWork(engine) as uow:
            made = add_users(uow, workspace_id=workspace.id, new=new[: users - start],
                             route=Route.CLI, actor=ACTOR, now=now, batch_id=None)  # fmt: skip
            uow.commit()
        ids += [u.id for u in made]
    webhooks.create_endpoint(
        SqlUnitOfWork(engine), workspace_id=workspace.id, url=url,
        events=["user.status_changed"], description=None, now=now, route=Route.CLI,
        actor=ACTOR, allow_private=True,
    )  # fmt: skip
    for start in range(0, len(ids), CHUNK):
        with SqlUnitOfWork(engine) as uow:
            targets = [(i, Status.INACTIVE) for i in ids[start : start + CHUNK]]
            apply_changes(uow, workspace_id=workspace.id, targets=targets, route=Route.BULK,
                          actor=ACTOR, now=now, batch_id=f"bench-{start}")  # fmt: skip
            uow.commit()
    return workspace.id, ids


def queued(engine: Engine) -> list[tuple[str, str, str]]:
    """(webhook-id, body, secret) of every pending delivery (one endpoint's)."""
    m, e = webhook_messages.c, webhook_endpoints.c
    with engine.connect() as conn:
        secret = conn.execute(select(e.secret)).scalar_one()
        rows = conn.execute(select(m.id, m.body).where(m.state == "pending").order_by(m.id))
        return [(r.id, r.body, secret) for r in rows]


def run_raw(url: str, bodies: list[tuple[str, str, str]]) -> float:
    started = time.perf_counter()
    with httpx.Client(timeout=TIMEOUT) as client:
        for msg_id, body, secret in bodies:
            data = body.encode()
            head = http.headers(secret, msg_id, int(time.time()), data)
            client.post(url, content=data, headers=head).raise_for_status()
    return time.perf_counter() - started


def run_roster(engine: Engine) -> tuple[float, int]:
    started, sent = time.perf_counter(), 0
    uow = SqlUnitOfWork(engine)
    with webhooks.sender(allow_private=True, timeout=TIMEOUT) as send:
        while went := webhooks.deliver_due(
            uow, lambda: datetime.now(UTC), send=send, timeout=TIMEOUT, limit=200
        ):
            sent += went
    return time.perf_counter() - started, sent


def idle_delays(engine: Engine, workspace_id: str, user_ids: list[str], n: int = 20) -> list[float]:
    """Seconds from a status change's commit to its arrival, with a 1 s tick running."""
    stop = threading.Event()

    def tick() -> None:  # as `roster serve` runs it: a sender per tick
        while not stop.wait(TICK):
            with webhooks.sender(allow_private=True, timeout=TIMEOUT) as send:
                webhooks.deliver_due(
                    SqlUnitOfWork(engine), lambda: datetime.now(UTC), send=send, timeout=TIMEOUT
                )

    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    delays: list[float] = []
    try:
        for user_id in user_ids[:n]:
            before = set(Counting.arrived)
            change_status(
                SqlUnitOfWork(engine), workspace_id=workspace_id, user_id=user_id,
                to=Status.ACTIVE, route=Route.CLI, actor=ACTOR, now=datetime.now(UTC),
            )  # fmt: skip
            committed = time.perf_counter()
            while not (new := set(Counting.arrived) - before):
                time.sleep(0.005)
            delays.append(Counting.arrived[new.pop()] - committed)
            time.sleep(0.37)  # land at different points of the tick
    finally:
        stop.set()
        ticker.join()
    return delays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="roster-bench-webhooks-")
    db = args.database_url or f"sqlite:///{Path(folder) / 'webhooks.db'}"
    engine = make_engine(db)
    upgrade(engine)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Counting)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/hooks"
    try:
        started = time.perf_counter()
        workspace_id, ids = seed(engine, args.users, url)
        print(
            f"seeded and deactivated {args.users:,} users in {time.perf_counter() - started:.1f} s"
        )
        bodies = queued(engine)
        raw = run_raw(url, bodies)
        took, sent = run_roster(engine)
        delays = sorted(idle_delays(engine, workspace_id, ids))
    finally:
        server.shutdown()
        server.server_close()
    raw_rate, roster_rate = len(bodies) / raw, sent / took
    print(
        f"bare httpx, one client:   {len(bodies):,} deliveries in {raw:.2f} s ({raw_rate:,.0f}/s)"
    )
    print(f"roster deliver_due:       {sent:,} deliveries in {took:.2f} s ({roster_rate:,.0f}/s)")
    print(
        f"ratio: {roster_rate / raw_rate:.2f}x (target >= 0.5x); receiver got {Counting.received:,}"
    )
    p95 = delays[int(0.95 * (len(delays) - 1))]
    print(f"commit to delivery while idle (1 s tick): median {statistics.median(delays):.2f} s, "
          f"p95 {p95:.2f} s (target <= 1 s)")  # fmt: skip


if __name__ == "__main__":
    main()
