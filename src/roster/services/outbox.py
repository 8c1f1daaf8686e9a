"""Delivering outbox rows after commit: the webhooks that automation rules queue.

A row is claimed in a short transaction (its attempt counted and its next attempt
pushed past the send), sent with no transaction open, and its result recorded in a
second one: so several processes never send one row at once, and a process that
dies mid-send leaves the row to be retried. Every attempt is a `webhook_deliveries`
row. Failures are retried with growing backoff, up to MAX_ATTEMPTS.
"""

import json
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Engine, and_, insert, or_, select, update

from roster.adapters import webhooks
from roster.adapters.automation_store import WEBHOOK_TOPIC
from roster.adapters.database import WRITE
from roster.adapters.tables import automation_rules, outbox, webhook_deliveries
from roster.domain.ids import new_id

MAX_ATTEMPTS = 8
BACKOFF = (10, 60, 300, 1800, 7200, 21600, 86400)  # seconds after attempt 1, 2, …
CLAIM = timedelta(minutes=2)  # longer than a send can take (TIMEOUT)


def backoff(attempt: int) -> timedelta:
    return timedelta(seconds=BACKOFF[min(attempt, len(BACKOFF)) - 1])


def deliver_webhooks(
    engine: Engine,
    now: datetime,
    *,
    allow_private: bool = False,
    send: webhooks.Sender | None = None,
    limit: int = 50,
) -> int:
    """Send the webhooks that are due; returns how many were delivered. A destination
    that resolves inside the network fails (with why) unless `allow_private`."""
    send = send or partial(webhooks.post, allow_private=allow_private)
    delivered = 0
    for row in _claim(engine, now, limit):
        delivered += _deliver(engine, row, now, send)
    return delivered


def _claim(engine: Engine, now: datetime, limit: int) -> list[Any]:
    ob = outbox.c
    query = (
        select(ob.workspace_id, ob.id, ob.payload, ob.attempts, ob.created_at)
        .where(
            ob.sent_at.is_(None),
            ob.topic == WEBHOOK_TOPIC,
            ob.attempts < MAX_ATTEMPTS,
            or_(ob.next_attempt_at.is_(None), ob.next_attempt_at <= now),
        )
        .order_by(ob.created_at)
        .limit(limit)
    )
    with engine.execution_options(**WRITE).begin() as conn:
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = list(conn.execute(query))
        for r in rows:
            conn.execute(
                update(outbox)
                .where(ob.workspace_id == r.workspace_id, ob.id == r.id)
                .values(attempts=ob.attempts + 1, next_attempt_at=now + CLAIM)
            )
    return rows


def _deliver(engine: Engine, row: Any, now: datetime, send: webhooks.Sender) -> int:
    p = row.payload
    attempt = row.attempts + 1
    secret = _secret(engine, row.workspace_id, p.get("rule_id"))
    body = json.dumps(
        {"type": p["type"], "timestamp": now.isoformat(), "data": p["data"]},
        separators=(",", ":"),
    ).encode()
    if secret is None:  # the rule was deleted: nothing signs for it any more
        result = webhooks.Attempt(None, "the rule that queued this webhook is gone", 0)
        attempt = MAX_ATTEMPTS
    else:
        result = send(p["url"], webhooks.headers(secret, row.id, int(now.timestamp()), body), body)
    with engine.execution_options(**WRITE).begin() as conn:
        conn.execute(
            insert(webhook_deliveries).values(
                workspace_id=row.workspace_id,
                id=new_id("dlv"),
                message_id=row.id,
                rule_id=p.get("rule_id"),
                attempt=attempt,
                url=p["url"],
                status_code=result.status_code,
                error=result.error,
                at=now,
                duration_ms=result.duration_ms,
            )
        )
        ob = outbox.c
        done = and_(ob.workspace_id == row.workspace_id, ob.id == row.id)
        if result.ok:
            values: dict[str, Any] = {"sent_at": now, "next_attempt_at": None}
        elif attempt >= MAX_ATTEMPTS:
            values = {"next_attempt_at": None, "attempts": MAX_ATTEMPTS}  # given up
        else:
            values = {"next_attempt_at": now + backoff(attempt)}
        conn.execute(update(outbox).where(done).values(**values))
    return int(result.ok)


def _secret(engine: Engine, workspace_id: str, rule_id: str | None) -> str | None:
    r = automation_rules.c
    with engine.connect() as conn:
        secret: str | None = conn.execute(
            select(r.webhook_secret).where(r.workspace_id == workspace_id, r.id == rule_id)
        ).scalar()
    return secret


def deliveries(engine: Engine, workspace_id: str, message_id: str) -> list[dict[str, Any]]:
    """Every attempt at one message, oldest first (for tests and the runs page)."""
    d = webhook_deliveries.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(webhook_deliveries)
            .where(d.workspace_id == workspace_id, d.message_id == message_id)
            .order_by(d.attempt)
        )
        return [dict(r._mapping) for r in rows]
