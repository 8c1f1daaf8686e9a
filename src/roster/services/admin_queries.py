"""Read-side queries for the admin dashboard: user search, the audit log, and the
signed-in admin's password hash. They read; they never change state.

Every query names `workspace_id` and walks an index in key order (keyset pages),
so a page costs the same at the first user and at the millionth.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, NamedTuple, TypeVar

from sqlalchemy import Connection, select

from roster.adapters.audit_log import audit_from_row
from roster.adapters.filter_sql import audit_where, user_where
from roster.adapters.tables import audit_events, users
from roster.domain.audit import AuditEntry
from roster.domain.filters import AuditFilter, UserFilter
from roster.services.cursors import user_cursor, user_keyset
from roster.services.queries import (
    Keyset,
    check_user_sort,
    in_user_order,
    page_audit,
    reversed_sort,
)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One keyset page and the cursors around it (None: no page that way)."""

    items: list[T]
    next_after: str | None
    prev_before: str | None


class ListedUser(NamedTuple):
    """One line of the users page, as stored (role and status are their values)."""

    id: str
    name: str
    email: str
    role: str
    status: str
    last_seen_at: datetime | None
    created_at: datetime


_LISTED = [users.c[name] for name in ListedUser._fields]


def find_users(
    conn: Connection,
    workspace_id: str,
    where: UserFilter,
    *,
    sort: str = "name",
    after: str | None = None,
    before: str | None = None,
    limit: int = 50,
) -> Page[ListedUser]:
    """Users that `where` selects in `sort` order (a users sort key, `-key` for
    descending; id breaks ties); the page after the cursor `after`, or the one before
    the cursor `before` (the page before is the page after in the reverse order, read
    backwards). Only the columns the page shows, as plain tuples: no domain object per
    line. `validation_error` for a cursor of another sort."""
    key = check_user_sort(sort)
    backwards = before is not None and after is None
    cursor = before if backwards else after
    at = user_keyset(cursor, sort) if cursor is not None else None
    walk = reversed_sort(sort) if backwards else sort
    query = in_user_order(select(*_LISTED).where(*user_where(workspace_id, where)), walk, at)
    rows = conn.execute(query.limit(limit + 1)).all()
    more = len(rows) > limit
    listed = [ListedUser._make(r) for r in rows[:limit]]
    if backwards:
        listed.reverse()
        has_next, has_prev = True, more
    else:
        has_next, has_prev = more, after is not None
    first, last = (listed[0], listed[-1]) if listed else (None, None)

    def cursor_at(row: ListedUser | None) -> str | None:
        return user_cursor(sort, Keyset(getattr(row, key), row.id)) if row else None

    return Page(
        listed, cursor_at(last) if has_next else None, cursor_at(first) if has_prev else None
    )


@dataclass(frozen=True, slots=True)
class AuditRow:
    entry: AuditEntry
    email: str
    actor_email: str = ""  # the acting person's email; "" for a token, a rule, the CLI


def _with_emails(conn: Connection, workspace_id: str, entries: list[AuditEntry]) -> list[AuditRow]:
    """Entries with their user's email and, where a person acted, the actor's: one
    more query, by primary key (a credential's or rule's id matches no user)."""
    ids = sorted(
        {e.user_id for e in entries if e.user_id is not None}
        | {e.actor_id for e in entries if e.actor_id is not None}
    )
    query = select(users.c.id, users.c.email).where(
        users.c.workspace_id == workspace_id, users.c.id.in_(ids)
    )
    emails = {r.id: r.email for r in conn.execute(query)} if ids else {}
    return [
        AuditRow(e, emails.get(e.user_id, ""), emails.get(e.actor_id, "") if e.actor_id else "")
        for e in entries
    ]


def audit_page(
    conn: Connection,
    workspace_id: str,
    f: AuditFilter,
    *,
    before_seq: int | None = None,
    limit: int = 50,
) -> tuple[list[AuditRow], int | None]:
    """The newest events matching `f`, older than `before_seq`; and the next cursor."""
    page = page_audit(conn, workspace_id, where=f, before_seq=before_seq, limit=limit)
    return _with_emails(conn, workspace_id, page.entries), page.next_before


def iter_audit(
    conn: Connection, workspace_id: str, f: AuditFilter, *, chunk: int = 500
) -> Iterator[AuditRow]:
    """Every event matching `f`, oldest first, a chunk at a time (for CSV export)."""
    after = 0
    while True:
        query = select(audit_events).where(
            *audit_where(workspace_id, f), audit_events.c.seq > after
        )
        rows = conn.execute(query.order_by(audit_events.c.seq).limit(chunk))
        batch = _with_emails(conn, workspace_id, [audit_from_row(r) for r in rows])
        yield from batch
        if len(batch) < chunk:
            return
        after = batch[-1].entry.seq
