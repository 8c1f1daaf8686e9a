"""A workspace's counter row in SQL (the `UserCountsRepository` port): the
counts by status, the end of its audit chain, and the lock every writer takes."""

from functools import cache
from typing import Any

from sqlalchemy import Connection, Row, bindparam, insert, select, update

from roster.adapters.tables import user_counts, users, workspaces
from roster.adapters.users_repo import USER_COLUMNS, user_from_row
from roster.domain.audit import ChainHead
from roster.domain.users import User
from roster.domain.workspaces import UserCounts, Workspace


class SqlUserCounts:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def create(self, workspace_id: str) -> None:
        self.conn.execute(
            insert(user_counts).values(
                workspace_id=workspace_id,
                active=0,
                inactive=0,
                blocked=0,
                active_owners=0,
                audit_seq=0,
                audit_head="",
            )
        )

    def read(self, workspace_id: str) -> UserCounts:
        query = select(*_COUNT_COLUMNS).where(user_counts.c.workspace_id == workspace_id)
        row = self.conn.execute(query).first()
        return UserCounts(*row) if row else UserCounts()

    def lock(self, workspace_id: str) -> UserCounts:
        query = select(*_COUNT_COLUMNS).where(user_counts.c.workspace_id == workspace_id)
        if self.conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = self.conn.execute(query).first()
        return UserCounts(*row) if row else UserCounts()

    def lock_for_change(
        self, workspace_id: str, user_id: str
    ) -> tuple[Workspace, UserCounts, ChainHead, User | None] | None:
        """One statement: the counter row locked, with its workspace row, then the
        user's row locked (FOR UPDATE OF each on PostgreSQL, in that order; SQLite's
        write transaction holds the whole database)."""
        params = {"ws": workspace_id, "one_user": user_id}
        row = self.conn.execute(_locked_with_user(self.conn.dialect.name), params).first()
        if row is not None:
            return (*_counter_read(row), user_from_row(row))
        # No such user, or no such workspace: the counter row alone tells which.
        row = self.conn.execute(_locked(self.conn.dialect.name), {"ws": workspace_id}).first()
        return None if row is None else (*_counter_read(row), None)

    def add(self, workspace_id: str, delta: UserCounts) -> None:
        if delta == UserCounts():
            return
        moved = {c.key: getattr(delta, c.key) for c in _COUNT_COLUMNS}
        self.conn.execute(_counts_update(workspace_id, moved))


_COUNT_COLUMNS = tuple(user_counts.c[k] for k in ("active", "inactive", "blocked", "active_owners"))


def _counts_update(workspace_id: Any, moved: dict[str, Any], **also: Any) -> Any:
    """The counter moved by `moved` (count column → change), setting `also` too."""
    c = user_counts.c
    added = {k: c[k] + v for k, v in moved.items()}
    return update(user_counts).where(c.workspace_id == workspace_id).values(**added, **also)


def _counter_read(row: Row[Any]) -> tuple[Workspace, UserCounts, ChainHead]:
    m = row._mapping
    workspace = Workspace(**{f: m[f"ws_{f}"] for f in Workspace.__slots__})
    counts = UserCounts(*(m[c.key] for c in _COUNT_COLUMNS))
    return workspace, counts, ChainHead(m["audit_seq"], m["audit_head"])


@cache
def _locked_with_user(dialect: str) -> Any:
    """`_locked` and the user's row. On PostgreSQL the counter is locked in a
    MATERIALIZED CTE and the user row by the outer FOR UPDATE OF users, which
    only locks rows joined to a counter row the CTE has already locked: the lock
    order stays counter first, user second."""
    the_user = (users.c.workspace_id == bindparam("ws")) & (users.c.id == bindparam("one_user"))
    if dialect != "postgresql":
        return _locked(dialect).add_columns(*USER_COLUMNS).join(users, the_user)
    counter = _locked(dialect).cte("locked_counter").prefix_with("MATERIALIZED")
    return (
        select(*counter.c, *USER_COLUMNS)
        .select_from(counter.join(users, the_user))
        .with_for_update(of=users)
    )


@cache
def _locked(dialect: str) -> Any:
    """The counter row with its workspace (columns ws_*), built once per dialect."""
    c = user_counts.c
    query = (
        select(
            *_COUNT_COLUMNS,
            c.audit_seq,
            c.audit_head,
            *(workspaces.c[f].label(f"ws_{f}") for f in Workspace.__slots__),
        )
        .join(workspaces, workspaces.c.id == c.workspace_id)
        .where(c.workspace_id == bindparam("ws"))
    )
    return query.with_for_update(of=user_counts) if dialect == "postgresql" else query
