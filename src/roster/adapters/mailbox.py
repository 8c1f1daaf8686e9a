"""The emails outbox in SQL (the `Mailbox` port, and the claims of the sender).

A message is written in the transaction that caused it. The sender claims due
rows in a short transaction (each claim counts an attempt and leases the row past
the send: `FOR UPDATE SKIP LOCKED` on PostgreSQL, SQLite's write lock otherwise),
sends with no transaction open, then records each outcome: several servers never
send one row at once, and a row whose sender died is taken again once its lease ends.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from roster.adapters.batch_sql import bind_value, insert_rows_sharing
from roster.adapters.tables import emails, users
from roster.domain.ids import new_ids

QUEUED, SENT, FAILED = "queued", "sent", "failed"
_OWN = ("id", "message_key", "kind", "to_address", "subject", "context")  # each message's


class SqlMailbox:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, workspace_id: str, drafts: Sequence[dict[str, Any]], now: datetime) -> None:
        """Queue `drafts` (message_key, kind, to_address, subject, context)."""
        if not drafts:
            return
        # A bulk action queues thousands: rows sharing their workspace, state and time
        # go in one statement, each context converted as its JSON column stores it.
        context = emails.c.context
        rows = [
            (i, d["message_key"], d["kind"], d["to_address"], d["subject"],
             bind_value(self.conn, context, d["context"]))
            for d, i in zip(drafts, new_ids("eml", len(drafts)), strict=True)
        ]  # fmt: skip
        shared = {
            "workspace_id": workspace_id,
            "status": QUEUED,
            "attempts": 0,
            "created_at": bind_value(self.conn, emails.c.created_at, now),
        }
        insert_rows_sharing(self.conn, emails, _OWN, rows, shared)

    def contacts(self, workspace_id: str, user_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """Each user's (email, name)."""
        u = users.c
        rows = self.conn.execute(
            select(u.id, u.email, u.name).where(u.workspace_id == workspace_id, u.id.in_(user_ids))
        )
        return {r.id: (r.email, r.name) for r in rows}

    def add_once(self, workspace_id: str, drafts: Sequence[dict[str, Any]], now: datetime) -> int:
        """Queue the `drafts` whose message_key the workspace has not queued yet (a
        rerun, or another server at the same moment, adds nothing); how many were new."""
        if not drafts:
            return 0
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        rows = [
            {**d, "workspace_id": workspace_id, "id": i, "status": QUEUED, "attempts": 0,
             "created_at": now}
            for d, i in zip(drafts, new_ids("eml", len(drafts)), strict=True)
        ]  # fmt: skip
        # RETURNING names the rows added (an executemany's rowcount is not reliable).
        query = dialect.insert(emails).on_conflict_do_nothing().returning(emails.c.id)
        return len(self.conn.execute(query, rows).all())

    def claim_due(self, now: datetime, lease: timedelta, limit: int) -> list[Any]:
        """Take up to `limit` due messages, oldest first, for `lease` (until commit,
        other senders skip them; after it, the lease keeps them away)."""
        e = emails.c
        query = (
            select(emails)
            .where(e.status == QUEUED, or_(e.next_attempt_at.is_(None), e.next_attempt_at <= now))
            .order_by(e.id)  # ids are time-ordered: oldest first, along ix_emails_due
            .limit(limit)
        )
        if self.conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = list(self.conn.execute(query))
        for where in _by_workspace(rows):
            self.conn.execute(
                update(emails)
                .where(where)
                .values(attempts=e.attempts + 1, next_attempt_at=now + lease)
            )
        return rows

    def record(self, outcomes: Sequence[tuple[Any, dict[str, Any]]]) -> None:
        """Write each claimed row's new columns (status, sent_at, next_attempt_at, …)."""
        alike: dict[str, tuple[dict[str, Any], list[Any]]] = {}
        for row, values in outcomes:  # most rows of a batch end alike: sent, now
            alike.setdefault(repr(sorted(values.items())), (values, []))[1].append(row)
        for values, rows in alike.values():
            for where in _by_workspace(rows):
                self.conn.execute(update(emails).where(where).values(**values))


def _by_workspace(rows: Sequence[Any]) -> list[Any]:
    """One condition per workspace naming its rows, for set-based updates."""
    e = emails.c
    ids: dict[str, list[str]] = {}
    for r in rows:
        ids.setdefault(r.workspace_id, []).append(r.id)
    return [and_(e.workspace_id == w, e.id.in_(i)) for w, i in ids.items()]


def page(
    conn: Connection,
    workspace_id: str,
    *,
    status: str | None = None,
    before: str | None = None,
    limit: int = 50,
) -> list[Any]:
    """A workspace's messages, newest first, after the cursor `before` (an id)."""
    e = emails.c
    query = select(emails).where(e.workspace_id == workspace_id)
    if status is not None:
        query = query.where(e.status == status)
    if before is not None:
        query = query.where(e.id < before)
    return list(conn.execute(query.order_by(e.id.desc()).limit(limit)))
