"""Failed sign-in counters in SQL, shared by every server process."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from roster.adapters.tables import sign_in_throttles as t
from roster.domain.throttles import Counter


def read(conn: Connection, workspace_id: str, keys: Sequence[str]) -> dict[str, Counter]:
    """The counters of `keys` that exist, in one query."""
    rows = conn.execute(
        select(t.c.key, t.c.failures, t.c.window_started_at, t.c.blocked_until).where(
            t.c.workspace_id == workspace_id, t.c.key.in_(keys)
        )
    )
    return {r.key: Counter(r.failures, r.window_started_at, r.blocked_until) for r in rows}


def counter_for_update(conn: Connection, workspace_id: str, key: str, now: datetime) -> Counter:
    """The counter of `key`, created at zero if missing, locked until commit."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(
        dialect.insert(t)
        .values(workspace_id=workspace_id, key=key, failures=0, window_started_at=now)
        .on_conflict_do_nothing()
    )
    query = select(t.c.failures, t.c.window_started_at, t.c.blocked_until).where(
        t.c.workspace_id == workspace_id, t.c.key == key
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).one()
    return Counter(row.failures, row.window_started_at, row.blocked_until)


def save(conn: Connection, workspace_id: str, key: str, counter: Counter) -> None:
    conn.execute(
        update(t)
        .where(t.c.workspace_id == workspace_id, t.c.key == key)
        .values(
            failures=counter.failures,
            window_started_at=counter.window_started_at,
            blocked_until=counter.blocked_until,
        )
    )


def clear(conn: Connection, workspace_id: str, key: str) -> None:
    conn.execute(delete(t).where(t.c.workspace_id == workspace_id, t.c.key == key))


class SqlThrottles:
    """The sign-in counters, inside a unit of work's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def forget_ended(self, window_started_before: datetime, now: datetime) -> int:
        """Drop the counters, of every workspace, whose window and block have both ended."""
        deleted = self.conn.execute(
            delete(t).where(
                t.c.window_started_at < window_started_before,
                (t.c.blocked_until.is_(None)) | (t.c.blocked_until <= now),
            )
        )
        return int(deleted.rowcount)

    def read(self, workspace_id: str, keys: Sequence[str]) -> dict[str, Counter]:
        return read(self.conn, workspace_id, keys)

    def counter_for_update(self, workspace_id: str, key: str, now: datetime) -> Counter:
        return counter_for_update(self.conn, workspace_id, key, now)

    def save(self, workspace_id: str, key: str, counter: Counter) -> None:
        save(self.conn, workspace_id, key, counter)

    def clear(self, workspace_id: str, key: str) -> None:
        clear(self.conn, workspace_id, key)
