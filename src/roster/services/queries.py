"""Read-side queries for the CLI, API and pages. They read; they never change state."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from roster.adapters.repositories import audit_from_row, user_from_row
from roster.adapters.tables import audit_events, user_counts, users, workspaces
from roster.domain import errors
from roster.domain.audit import AuditEntry
from roster.domain.emails import normalize_email
from roster.domain.users import User
from roster.domain.vocabulary import Status
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


def user_counts_of(conn: Connection, workspace_id: str) -> UserCounts:
    """The exact counts, read from the counter row: one primary-key lookup."""
    c = user_counts.c
    row = conn.execute(
        select(c.active, c.inactive, c.blocked, c.active_owners).where(
            c.workspace_id == workspace_id
        )
    ).first()
    return UserCounts(*row) if row else UserCounts()


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


def list_users(
    conn: Connection,
    workspace_id: str,
    *,
    status: Status | None = None,
    after: str | None = None,
    limit: int = 100,
) -> list[UserView]:
    """A page of users in id order, after the cursor `after` (keyset pagination)."""
    query = select(users).where(users.c.workspace_id == workspace_id)
    if status is not None:
        query = query.where(users.c.status == status.value)
    if after is not None:
        query = query.where(users.c.id > after)
    return [_view(r) for r in conn.execute(query.order_by(users.c.id).limit(limit))]


def iter_users(
    conn: Connection, workspace_id: str, *, status: Status | None = None, page: int = 5000
) -> Iterator[UserView]:
    """Every user, page by page, without holding them all in memory."""
    after = None
    while batch := list_users(conn, workspace_id, status=status, after=after, limit=page):
        yield from batch
        after = batch[-1].user.id


def audit_for_user(conn: Connection, workspace_id: str, user_id: str) -> list[AuditEntry]:
    rows = conn.execute(
        select(audit_events)
        .where(
            audit_events.c.workspace_id == workspace_id,
            audit_events.c.user_id == user_id,
        )
        .order_by(audit_events.c.seq)
    )
    return [audit_from_row(r) for r in rows]


def workspace_by_id(conn: Connection, workspace_id: str) -> Workspace:
    row = conn.execute(select(workspaces).where(workspaces.c.id == workspace_id)).first()
    if row is None:
        raise errors.NotFound("No such workspace.")
    return Workspace(**row._mapping)
