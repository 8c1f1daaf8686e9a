"""Reviewing Blocked users: recording a review (a new review date, with a note
saying why the block stays) and the review queue.

A review never changes a status: lifting a block stays a deliberate act on the
profile. Nothing unblocks by itself; a passed review date only puts the user at
the top of the queue.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from sqlalchemy import Connection

from roster.adapters.reviews_store import SqlReviewQueue
from roster.domain import errors
from roster.domain.audit import AuditKind, admin_action
from roster.domain.ids import new_id
from roster.domain.reviews import check_review_date
from roster.domain.users import Actor, User
from roster.domain.vocabulary import Route, Status
from roster.domain.workspaces import Workspace
from roster.services.ports import ReviewQueue, UnitOfWork
from roster.services.queries import UserView

Review = Literal["due", "overdue", "all"]
REVIEWS: tuple[Review, ...] = ("due", "overdue", "all")


def record_review(
    uow: UnitOfWork,
    *,
    workspace_id: str,
    user_id: str,
    review_by: date,
    note: str | None,
    route: Route,
    actor: Actor,
    now: datetime,
    request_id: str | None = None,
) -> User:
    """Keep a Blocked user blocked until `review_by` (today or later), saying why in
    `note`; audited as `user.review_recorded` with the date before and after. Only
    a Blocked user has a review date: any other is refused transition_not_allowed."""
    note = (note or "").strip()
    if not note:
        raise errors.InvalidInput("Recording a review needs a note saying why the block stays.")
    with uow:
        locked = uow.counts.lock_for_change(workspace_id, user_id)
        if locked is None:
            raise errors.NotFound("No such workspace.")
        workspace, _, chain, user = locked
        if user is None:
            raise errors.NotFound("No such user in this workspace.")
        if user.status != Status.BLOCKED:
            raise errors.TransitionNotAllowed(
                f"Only a Blocked user is reviewed; this user is {user.status.value}."
            )
        before, user.review_by = user.review_by, check_review_date(review_by, workspace.today(now))
        uow.users.set_review(user)
        changes = {"review_by": [_iso(before), _iso(user.review_by)]}
        entry = admin_action(
            AuditKind.REVIEW_RECORDED,
            changes,
            workspace_id=workspace_id,
            route=route,
            actor=actor,
            at=now,
            entry_id=new_id("evt"),
            request_id=request_id,
            user_id=user.id,
            note=note,
        )
        uow.audit.append([entry], after=chain)
        uow.commit()
    return user


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


@dataclass(frozen=True, slots=True)
class BlockedUser:
    """A row of the review queue."""

    view: UserView
    refused_attempts: int
    """Refused attempts on this user since they were blocked (from the audit log)."""

    def state(self, today: date) -> Literal["overdue", "due", "later"]:
        """Overdue: the review date has passed; due: it is today."""
        review_by = self.view.user.review_by
        if review_by is None or review_by < today:
            return "overdue"
        return "due" if review_by == today else "later"


@dataclass(frozen=True, slots=True)
class BlockedPage:
    items: list[BlockedUser]
    next: tuple[date, str] | None  # the last row's (review date, id): the next page's cursor


def blocked_users(
    conn: Connection,
    workspace: Workspace,
    *,
    review: Review,
    today: date,
    after: tuple[date, str] | None = None,
    limit: int = 50,
) -> BlockedPage:
    """The workspace's Blocked users, most overdue first (earliest review date, then
    id; a user without one counts as most overdue), a page after `after`, read on the
    caller's connection (the review queue's pages)."""
    return blocked_page(SqlReviewQueue(conn), workspace, review=review, today=today,
                        after=after, limit=limit)  # fmt: skip


def blocked_page(
    queue: ReviewQueue,
    workspace: Workspace,
    *,
    review: Review,
    today: date,
    after: tuple[date, str] | None = None,
    limit: int = 50,
) -> BlockedPage:
    """As `blocked_users`, from the review queue's port. `overdue`: the review date is
    before `today`; `due`: it is today or before (overdue included); `all`: every
    Blocked user. Refused attempts come from one grouped count over the page's users,
    not one query per user."""
    found = queue.blocked(workspace.id, review=review, today=today, after=after, limit=limit + 1)
    shown = found[:limit]
    refused = queue.refused_since_blocked(workspace.id, [user for user, _, _ in shown])
    items = [
        BlockedUser(UserView(user, seen, created), refused.get(user.id, 0))
        for user, seen, created in shown
    ]
    last = shown[-1][0] if len(found) > limit else None
    return BlockedPage(items, (last.review_by or date.min, last.id) if last else None)
