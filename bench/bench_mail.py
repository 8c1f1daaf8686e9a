"""Deliver the status notices of a bulk deactivation (10,000 users by default) to a
local SMTP server, next to raw `smtplib` sending the same messages over one
connection to the same server.

Run: .venv/bin/python -m bench.bench_mail [--users 10000] [--database-url URL]

One fresh workspace: `--users` Active members are deactivated through the one door
(`apply_changes`, route bulk, in chunks of 2,000 as a job does), which queues one
notice per changed user in the same transactions. Then, against one aiosmtpd server
on a free local port:
- `roster mail.deliver`: the background worker's tick, called until the queue is
  empty (each call claims a batch, sends it over one connection, records outcomes);
- `raw smtplib`: the same messages (read back from the table and rendered first,
  not timed), each built as a MIME multipart/alternative with the standard
  library (as Roster builds them) and sent over one connection, nothing recorded.
Prints messages per second of each and the ratio (target >= 0.5x).
"""

import argparse
import secrets
import smtplib
import socket
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import Engine, select

from roster.adapters.database import make_engine
from roster.adapters.migrator import upgrade
from roster.adapters.tables import emails
from roster.adapters.unit_of_work import SqlUnitOfWork
from roster.domain.users import Actor
from roster.domain.vocabulary import Route, Status
from roster.services import mail
from roster.services.status import apply_changes
from roster.services.users import NewUser, add_users
from roster.services.workspaces import create_workspace

CHUNK = 2000
SENDER = "Roster <roster@bench.example>"
ACTOR = Actor(id=None, name="bench")


class Counting:
    """An SMTP handler that only counts what it accepts."""

    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.received += 1
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def seed(engine: Engine, users: int) -> str:
    """A workspace whose `users` members were just deactivated: their notices queued."""
    now = datetime.now(UTC)
    slug = f"mail-{secrets.token_hex(4)}"
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
    for start in range(0, len(ids), CHUNK):
        with SqlUnitOfWork(engine) as uow:
            targets = [(i, Status.INACTIVE) for i in ids[start : start + CHUNK]]
            apply_changes(uow, workspace_id=workspace.id, targets=targets, route=Route.BULK,
                          actor=ACTOR, now=now, batch_id=f"bench-{start}")  # fmt: skip
            uow.commit()
    return workspace.id


@dataclass(frozen=True)
class Row:
    message_key: str
    to_address: str
    subject: str
    text: str
    html: str


def queued_rows(engine: Engine) -> list[Row]:
    """The queued messages, rendered (raw smtplib has no templates to fill)."""
    with engine.connect() as conn:
        rows = list(conn.execute(select(emails).where(emails.c.status == "queued")))
    return [
        Row(r.message_key, r.to_address, r.subject, *mail.render(r.kind, r.subject, r.context))
        for r in rows
    ]


def _message(r: Row) -> MIMEMultipart:
    msg = MIMEMultipart("alternative")
    msg["From"], msg["To"], msg["Subject"] = SENDER, r.to_address, r.subject
    msg["Message-ID"] = f"<{r.message_key}@bench.example>"
    msg.attach(MIMEText(r.text, "plain", "utf-8"))
    msg.attach(MIMEText(r.html, "html", "utf-8"))
    return msg


def run_raw(port: int, rows: list[Row]) -> float:
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for r in rows:
            smtp.send_message(_message(r))
    return time.perf_counter() - started


def run_roster(engine: Engine, port: int) -> tuple[float, int]:
    started, sent = time.perf_counter(), 0
    url = f"smtp://127.0.0.1:{port}"
    uow = SqlUnitOfWork(engine)
    while went := mail.deliver(uow, datetime.now(UTC), smtp_url=url, mail_from=SENDER):
        sent += went
    return time.perf_counter() - started, sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="roster-bench-mail-")
    url = args.database_url or f"sqlite:///{Path(folder) / 'mail.db'}"
    engine = make_engine(url)
    upgrade(engine)
    started = time.perf_counter()
    seed(engine, args.users)
    print(f"seeded and deactivated {args.users:,} users in {time.perf_counter() - started:.1f} s")
    messages = queued_rows(engine)
    handler, port = Counting(), _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        raw = run_raw(port, messages)
        took, sent = run_roster(engine, port)
    finally:
        controller.stop()
    raw_rate, roster_rate = len(messages) / raw, sent / took
    print(f"raw smtplib, one connection: {len(messages):,} messages in {raw:.2f} s "
          f"({raw_rate:,.0f}/s)")  # fmt: skip
    print(f"roster mail.deliver:         {sent:,} messages in {took:.2f} s ({roster_rate:,.0f}/s)")
    print(f"ratio: {roster_rate / raw_rate:.2f}x (target >= 0.5x); server got {handler.received:,}")


if __name__ == "__main__":
    main()
