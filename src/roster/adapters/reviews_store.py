"""SQL for the review queue of Blocked users and the daily digest's reads."""

from collections.abc import Sequence
from datetime import date, datetime
from typing import Literal

from sqlalchemy import Connection, and_, exists, func, or_, select

from roster.adapters.tables import audit_events, users, workspaces
from roster.adapters.users_repo import user_from_row
from roster.domain.audit import APPLIED, AuditKind
from roster.domain.users import User
from roster.domain.vocabulary import Role, Status
from roster.domain.workspaces import Workspace


class SqlReviewQueue:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def blocked(
        self,
        workspace_id: str,
        *,
        review: Literal["due", "overdue", "all"],
        today: date,
        after: tuple[date, str] | None,
        limit: int,
    ) -> list[tuple[User, datetime | None, datetime]]:
        """Blocked users, most overdue first (earliest review date, then id; one
        without a date counts as most overdue), after `after`: each with its last
        sighting and creation."""
        c = users.c
        key = func.coalesce(c.review_by, date.min)
        where = [c.workspace_id == workspace_id, c.status == Status.BLOCKED.value]
        if review == "overdue":
            where.append(or_(c.review_by.is_(None), c.review_by < today))
        elif review == "due":
            where.append(or_(c.review_by.is_(None), c.review_by <= today))
        if after is not None:
            where.append(or_(key > after[0], and_(key == after[0], c.id > after[1])))
        query = select(users).where(*where).order_by(key, c.id).limit(limit)
        return [(user_from_row(r), r.last_seen_at, r.created_at) for r in self.conn.execute(query)]

    def refused_since_blocked(self, workspace_id: str, page: Sequence[User]) -> dict[str, int]:
        """Each user's refused status attempts since their block, in one grouped count."""
        if not page:
            return {}
        a = audit_events.c
        since = or_(
            *(
                and_(a.user_id == u.id, a.at >= u.status_changed_at)
                if u.status_changed_at
                else a.user_id == u.id
                for u in page
            )
        )
        query = (
            select(a.user_id, func.count())
            .where(
                a.workspace_id == workspace_id,
                a.kind == AuditKind.STATUS.value,
                a.outcome != APPLIED,
                since,
            )
            .group_by(a.user_id)
        )
        return {user_id: n for user_id, n in self.conn.execute(query).all()}

    def digest_workspaces(self, due_by: date) -> list[Workspace]:
        """Workspaces that send the digest and have a Blocked user whose review is
        due by `due_by` (or has no date)."""
        u = users.c
        due = select(u.id).where(
            u.workspace_id == workspaces.c.id,
            u.status == Status.BLOCKED.value,
            or_(u.review_by.is_(None), u.review_by <= due_by),
        )
        query = select(workspaces).where(workspaces.c.review_digest.is_(True), exists(due))
        return [Workspace(**r._mapping) for r in self.conn.execute(query)]

    def staff(self, workspace_id: str) -> list[tuple[str, str, str]]:
        """The Active owners and admins: (id, email, name), by id."""
        u = users.c
        rows = self.conn.execute(
            select(u.id, u.email, u.name)
            .where(
                u.workspace_id == workspace_id,
                u.status == Status.ACTIVE.value,
                u.role.in_([Role.OWNER.value, Role.ADMIN.value]),
            )
            .order_by(u.id)
        )
        return [(r.id, r.email, r.name) for r in rows]
