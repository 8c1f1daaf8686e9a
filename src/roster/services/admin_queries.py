"""Read-side queries for the admin dashboard: user search, the audit log, and the
signed-in admin's password hash. They read; they never change state.

Every query names `workspace_id` and walks an index in key order (keyset pages),
so a page costs the same at the first user and at the millionth.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, NamedTuple, TypeVar

from sqlalchemy import Connection, Select, or_, select

from roster.adapters.audit_log import audit_from_row
from roster.adapters.tables import audit_events, users
from roster.domain.audit import APPLIED, AuditEntry, AuditKind
from roster.domain.vocabulary import Route, Status

REFUSED = "refused"  # an outcome filter meaning "any refusal"
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


_LISTED = [users.c[name] for name in ListedUser._fields]


def find_users(
    conn: Connection,
    workspace_id: str,
    *,
    q: str | None = None,
    status: Status | None = None,
    after: str | None = None,
    before: str | None = None,
    limit: int = 50,
) -> Page[ListedUser]:
    """Users in id order matching text `q` (email or name) and `status`; the page
    after the id `after`, or the one before the id `before`. Only the columns the
    page shows, as plain tuples: no domain object per line."""
    c = users.c
    backwards = before is not None and after is None
    query = select(*_LISTED).where(c.workspace_id == workspace_id)
    if status is not None:
        query = query.where(c.status == status.value)
    text = q.strip() if q else ""
    if text:
        query = query.where(
            or_(
                c.email.contains(text.lower(), autoescape=True),
                c.name.icontains(text, autoescape=True),
            )
        )
    if backwards:
        query = query.where(c.id < before).order_by(c.id.desc())
    else:
        query = query.where(c.id > after) if after is not None else query
        query = query.order_by(c.id)
    rows = conn.execute(query.limit(limit + 1)).all()
    more = len(rows) > limit
    listed = [ListedUser._make(r) for r in rows[:limit]]
    if backwards:
        listed.reverse()
        has_next, has_prev = True, more
    else:
        has_next, has_prev = more, after is not None
    first, last = (listed[0].id, listed[-1].id) if listed else (None, None)
    return Page(listed, last if has_next else None, first if has_prev else None)


@dataclass(frozen=True, slots=True)
class AuditFilter:
    user_id: str | None = None
    kind: AuditKind | None = None
    route: Route | None = None
    outcome: str | None = None  # "applied", "refused", or one refusal code
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuditRow:
    entry: AuditEntry
    email: str


def _audit_query(workspace_id: str, f: AuditFilter) -> Select[Any]:
    a = audit_events.c
    query = select(audit_events).where(a.workspace_id == workspace_id)
    if f.user_id:
        query = query.where(a.user_id == f.user_id)
    if f.kind:
        query = query.where(a.kind == f.kind.value)
    if f.route:
        query = query.where(a.route == f.route.value)
    if f.outcome == REFUSED:
        query = query.where(a.outcome != APPLIED)
    elif f.outcome:
        query = query.where(a.outcome == f.outcome)
    if f.since:
        query = query.where(a.at >= f.since)
    if f.until:
        query = query.where(a.at < f.until)
    return query


def _with_emails(conn: Connection, workspace_id: str, rows: list[Any]) -> list[AuditRow]:
    """Entries with their user's email: one more query, by primary key."""
    entries = [audit_from_row(r) for r in rows]
    ids = sorted({e.user_id for e in entries if e.user_id is not None})
    query = select(users.c.id, users.c.email).where(
        users.c.workspace_id == workspace_id, users.c.id.in_(ids)
    )
    emails = {r.id: r.email for r in conn.execute(query)} if ids else {}
    return [AuditRow(e, emails.get(e.user_id, "")) for e in entries]


def audit_page(
    conn: Connection,
    workspace_id: str,
    f: AuditFilter,
    *,
    before_seq: int | None = None,
    limit: int = 50,
) -> tuple[list[AuditRow], int | None]:
    """The newest events matching `f`, older than `before_seq`; and the next cursor."""
    query = _audit_query(workspace_id, f)
    if before_seq is not None:
        query = query.where(audit_events.c.seq < before_seq)
    rows = list(conn.execute(query.order_by(audit_events.c.seq.desc()).limit(limit + 1)))
    items = _with_emails(conn, workspace_id, rows[:limit])
    return items, (items[-1].entry.seq if len(rows) > limit else None)


def iter_audit(
    conn: Connection, workspace_id: str, f: AuditFilter, *, chunk: int = 500
) -> Iterator[AuditRow]:
    """Every event matching `f`, oldest first, a chunk at a time (for CSV export)."""
    after = 0
    while True:
        query = _audit_query(workspace_id, f).where(audit_events.c.seq > after)
        rows = list(conn.execute(query.order_by(audit_events.c.seq).limit(chunk)))
        batch = _with_emails(conn, workspace_id, rows)
        yield from batch
        if len(batch) < chunk:
            return
        after = batch[-1].entry.seq
