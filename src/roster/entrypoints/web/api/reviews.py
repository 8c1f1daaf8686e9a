"""The review queue of Blocked users, and recording a review (owners and admins).

A review keeps a user Blocked until a new date, with a note; it never lifts the
block (that stays on the profile).
"""

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from roster.domain.credentials import Principal
from roster.domain.vocabulary import ReasonCode
from roster.domain.workspaces import UserCounts
from roster.entrypoints.web.api.pages import Cursor, Page, page_size
from roster.entrypoints.web.api.schemas import Strict, UserOut
from roster.entrypoints.web.api.users import JsonBody, UserId
from roster.entrypoints.web.deps import AdminDep, ContainerDep, RequestIdDep
from roster.entrypoints.web.problems import responses
from roster.services import queries, reviews
from roster.services.cursors import decode_cursor, encode_cursor

router = APIRouter(tags=["reviews"])


class BlockedUserOut(BaseModel):
    user: UserOut
    blocked_at: datetime | None = Field(description="When the user was blocked.")
    blocked_by: str | None = Field(description="Who blocked them.")
    reason_code: ReasonCode | None
    note: str | None
    review_by: date | None
    review: str = Field(description="overdue (date passed), due (today) or later.")
    refused_attempts: int = Field(description="Refused attempts on the user since the block.")


class ReviewBody(Strict):
    review_by: date = Field(description="Keep the user Blocked until this day (today or later).")
    note: str = Field(min_length=1, max_length=2000, description="Why the block stays.")


@router.get(
    "/blocked-users",
    response_model=Page[BlockedUserOut],
    responses=responses(401, 403, 422),
)
def list_blocked(
    admin: AdminDep,
    container: ContainerDep,
    review: Annotated[
        reviews.Review,
        Query(description="overdue: review date passed; due: today or passed; all."),
    ] = "all",
    cursor: Cursor = None,
    limit: Annotated[int, page_size(200)] = 50,
) -> Page[BlockedUserOut]:
    """Blocked users, most overdue first, with who blocked them when and why, their
    review date and the refused attempts on them since the block."""
    after = decode_cursor(cursor, tuple[date, str]) if cursor else None
    now = container.clock()
    with container.engine.connect() as conn:
        workspace = queries.workspace_by_id(conn, admin.workspace_id)
        today = workspace.today(now)
        page = reviews.blocked_users(
            conn, workspace, review=review, today=today, after=after, limit=limit
        )
        counts = queries.user_counts_of(conn, admin.workspace_id)
    items = [_item(i, admin, counts, today) for i in page.items]
    return Page[BlockedUserOut](
        items=items, next_cursor=encode_cursor(*page.next) if page.next else None
    )


def _item(
    i: reviews.BlockedUser, admin: Principal, counts: UserCounts, today: date
) -> BlockedUserOut:
    u = i.view.user
    return BlockedUserOut(
        user=UserOut.seen_by(i.view, admin, counts),
        blocked_at=u.status_changed_at,
        blocked_by=u.status_changed_by,
        reason_code=u.status_reason,
        note=u.status_note,
        review_by=u.review_by,
        review=i.state(today),
        refused_attempts=i.refused_attempts,
    )


@router.put(
    "/users/{user_id}/review",
    response_model=UserOut,
    responses=responses(401, 403, 404, 409, 413, 422),
)
def put_review(
    user_id: UserId,
    admin: AdminDep,
    _json: JsonBody,
    body: ReviewBody,
    container: ContainerDep,
    request_id: RequestIdDep,
) -> UserOut:
    """Record a review of a Blocked user: keep them Blocked until `review_by`, saying
    why in `note` (audited as `user.review_recorded`). A user who is not Blocked is
    409 transition_not_allowed; a past date is 422."""
    reviews.record_review(
        container.uow(),
        workspace_id=admin.workspace_id,
        user_id=user_id,
        review_by=body.review_by,
        note=body.note,
        route=admin.route,
        actor=admin.actor,
        now=container.clock(),
        request_id=request_id,
    )
    with container.engine.connect() as conn:
        view = queries.user_by_id(conn, admin.workspace_id, user_id)
        counts = queries.user_counts_of(conn, admin.workspace_id)
    return UserOut.seen_by(view, admin, counts)
