"""Read-side queries for the CLI, API and pages. They read; they never change state."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, bindparam, or_, select, tuple_

from roster.adapters.audit_log import audit_from_row
from roster.adapters.filter_sql import audit_where, user_where
from roster.adapters.tables import audit_events, user_counts, users, workspaces
from roster.adapters.users_repo import user_from_row
from roster.domain import errors
from roster.domain.audit import AuditEntry, AuditKind
from roster.domain.emails import normalize_email
from roster.domain.filters import AuditFilter, UserFilter
from roster.domain.users import User
from roster.domain.workspaces import UserCounts, Workspace


@dataclass(frozen=True, slots=True)
class UserView:
    """A user as readers see it: the aggregate plus what is not part of the rules."""

    user: User
    last_seen_at: datetime | None
    created_at: datetime

    def as_dict(self) -> dict[str, Any]:
        u = self.user
        return {
            "id": u.id,
            "email": u.email,
            "name": u.name,
            "role": u.role.value,
            "status": u.status.value,
            "status_reason": u.status_reason.value if u.status_reason else None,
            "status_note": u.status_note,
            "status_changed_at": _iso(u.status_changed_at),
            "status_changed_by": u.status_changed_by,
            "review_by": u.review_by.isoformat() if u.review_by else None,
            "expires_at": _iso(u.expires_at),
            "last_seen_at": _iso(self.last_seen_at),
            "created_at": _iso(self.created_at),
            "version": u.version,
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def workspace_by_slug(conn: Connection, slug: str) -> Workspace:
    row = conn.execute(select(workspaces).where(workspaces.c.slug == slug)).first()
    if row is None:
        raise errors.NotFound(f"There is no workspace {slug!r}.")
    return Workspace(**row._mapping)


def list_workspaces(conn: Connection) -> list[tuple[Workspace, UserCounts]]:
    """Every workspace by slug, with its exact user counts (for the operator's CLI)."""
    c = user_counts.c
    rows = conn.execute(
        select(workspaces, c.active, c.inactive, c.blocked, c.active_owners)
        .outerjoin(user_counts, c.workspace_id == workspaces.c.id)
        .order_by(workspaces.c.slug)
    )
    fields = [col.name for col in workspaces.c]
    return [
        (
            Workspace(**{f: r._mapping[f] for f in fields}),
            UserCounts(r.active or 0, r.inactive or 0, r.blocked or 0, r.active_owners or 0),
        )
        for r in rows
    ]


def user_counts_of(conn: Connection, workspace_id: str) -> UserCounts:
    """The exact counts, read from the counter row: one primary-key lookup."""
    row = conn.execute(_COUNTS, {"workspace_id": workspace_id}).first()
    return UserCounts(*row) if row else UserCounts()


_COUNTS = select(
    user_counts.c.active, user_counts.c.inactive, user_counts.c.blocked, user_counts.c.active_owners
).where(user_counts.c.workspace_id == bindparam("workspace_id"))


def _view(row: Any) -> UserView:
    return UserView(user_from_row(row), row.last_seen_at, row.created_at)


def user_by_email(conn: Connection, workspace_id: str, email: str) -> UserView:
    row = conn.execute(
        select(users).where(
            users.c.workspace_id == workspace_id, users.c.email == normalize_email(email)
        )
    ).first()
    if row is None:
        raise errors.NotFound(f"There is no user {email.strip()!r} in this workspace.")
    return _view(row)


def user_by_id(conn: Connection, workspace_id: str, user_id: str) -> UserView:
    row = conn.execute(
        select(users).where(users.c.workspace_id == workspace_id, users.c.id == user_id)
    ).first()
    if row is None:
        raise errors.NotFound("No such user in this workspace.")
    return _view(row)


def iter_users(
    conn: Connection, workspace_id: str, where: UserFilter = UserFilter(), *, page: int = 5000
) -> Iterator[UserView]:
    """Every user `where` selects, in id order, page by page (for exports)."""
    after = None
    while batch := page_users(conn, workspace_id, where=where, after=after, limit=page).users:
        yield from batch
        after = Keyset(batch[-1].user.id, batch[-1].user.id)


def audit_for_user(conn: Connection, workspace_id: str, user_id: str) -> list[AuditEntry]:
    """A user's status history, applied and refused (admin actions on them, such as a
    role change, are on the audit log's own pages)."""
    rows = conn.execute(
        select(audit_events)
        .where(
            audit_events.c.workspace_id == workspace_id,
            audit_events.c.user_id == user_id,
            audit_events.c.kind == AuditKind.STATUS,
        )
        .order_by(audit_events.c.seq)
    )
    return [audit_from_row(r) for r in rows]


def workspace_by_id(conn: Connection, workspace_id: str) -> Workspace:
    row = conn.execute(select(workspaces).where(workspaces.c.id == workspace_id)).first()
    if row is None:
        raise errors.NotFound("No such workspace.")
    return Workspace(**row._mapping)


# --- Filtered, sorted keyset pages of users, and of the audit log ---

USER_SORT_KEYS = ("id", "email", "name", "status", "created_at", "last_seen_at")
"""Sort keys of user lists; `-key` sorts descending. `id` breaks ties, so the order is total."""

_UNIQUE_SORT_KEYS = frozenset({"id", "email"})  # unique per workspace: no tiebreak needed
_NULLABLE_SORT_KEYS = frozenset({"last_seen_at"})  # NULL (never seen) sorts as the smallest


@dataclass(frozen=True, slots=True)
class Keyset:
    """Where a page ended: the last row's sort value and id."""

    value: Any
    id: str


@dataclass(frozen=True, slots=True)
class UserPage:
    users: list[UserView]
    next: Keyset | None  # None: this was the last page


def page_users(
    conn: Connection,
    workspace_id: str,
    *,
    where: UserFilter = UserFilter(),
    sort: str = "id",
    after: Keyset | None = None,
    limit: int = 50,
) -> UserPage:
    """One page of users in `sort` order (`-key` for descending), after `after`.

    Keyset pagination: each page is an index range scan that starts where the last
    one stopped, so page 10,000 costs what page 1 costs, and users added or changed
    meanwhile are neither skipped nor repeated (a row whose sort key changes moves).
    """
    key = check_user_sort(sort)
    query = in_user_order(select(users).where(*user_where(workspace_id, where)), sort, after)
    rows = conn.execute(query.limit(limit + 1)).all()
    last = rows[limit - 1] if len(rows) > limit else None
    following = Keyset(last._mapping[key], last.id) if last else None
    return UserPage([_view(r) for r in rows[:limit]], following)


def check_user_sort(sort: str) -> str:
    """The column `sort` orders by (`validation_error` if it is not a sort key)."""
    key = sort.removeprefix("-")
    if key not in USER_SORT_KEYS:
        raise errors.InvalidInput(f"sort must be one of {', '.join(USER_SORT_KEYS)} (or -key).")
    return key


def reversed_sort(sort: str) -> str:
    """The exact reverse order of `sort` (NULLs and the id tiebreak flip too): the
    page before a keyset is the page after it in this order, read backwards."""
    return sort.removeprefix("-") if sort.startswith("-") else f"-{sort}"


def in_user_order(query: Select[Any], sort: str, after: Keyset | None) -> Select[Any]:
    """`query` on `users` in `sort` order, from just after `after`: one index range
    scan per sort key (see the users indexes in adapters/tables.py)."""
    key, descending = check_user_sort(sort), sort.startswith("-")
    if after is not None:
        query = query.where(_after(key, descending, after))
    return _in_order(query, key, descending)


def _in_order(query: Select[Any], key: str, descending: bool) -> Select[Any]:
    order = [_ordered(key, descending)]
    if key not in _UNIQUE_SORT_KEYS:
        order.append(users.c.id.desc() if descending else users.c.id.asc())
    return query.order_by(*order)


def _ordered(key: str, descending: bool) -> Any:
    column = users.c[key]
    if key in _NULLABLE_SORT_KEYS:
        return column.desc().nulls_last() if descending else column.asc().nulls_first()
    return column.desc() if descending else column.asc()


def _after(key: str, descending: bool, at: Keyset) -> ColumnElement[bool]:
    """The rows strictly after `at` in the page order (NULL is the smallest value)."""
    column, ids = users.c[key], users.c.id
    if key in _UNIQUE_SORT_KEYS:
        past: ColumnElement[bool] = column < at.value if descending else column > at.value
        return past
    if at.value is None:  # inside the NULL run, which comes first ascending, last descending
        run = and_(column.is_(None), ids < at.id if descending else ids > at.id)
        return run if descending else or_(run, column.is_not(None))
    row, bound = tuple_(column, ids), tuple_(_bound(at.value, column), _bound(at.id, ids))
    beyond = row < bound if descending else row > bound
    if key in _NULLABLE_SORT_KEYS and descending:
        return or_(beyond, column.is_(None))
    return beyond


def _bound(value: Any, column: ColumnElement[Any]) -> ColumnElement[Any]:
    """`value` as a parameter of `column`'s type."""
    return bindparam(None, value, type_=column.type)


@dataclass(frozen=True, slots=True)
class AuditPage:
    entries: list[AuditEntry]
    next_before: int | None  # the seq to continue below; None: this was the last page


def page_audit(
    conn: Connection,
    workspace_id: str,
    *,
    where: AuditFilter = AuditFilter(),
    before_seq: int | None = None,
    limit: int = 100,
) -> AuditPage:
    """One page of the workspace's audit log, newest first (by `seq`, the commit order),
    continuing below `before_seq`. New events land above the first page, so paging
    down never repeats or skips one."""
    query = select(audit_events).where(*audit_where(workspace_id, where))
    if before_seq is not None:
        query = query.where(audit_events.c.seq < before_seq)
    rows = conn.execute(query.order_by(audit_events.c.seq.desc()).limit(limit + 1)).all()
    entries = [audit_from_row(r) for r in rows[:limit]]
    return AuditPage(entries, entries[-1].seq if len(rows) > limit else None)
