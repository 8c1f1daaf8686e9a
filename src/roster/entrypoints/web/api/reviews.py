"""The review queue of Blocked users, and recording a review (owners and admins).

A review keeps a user Blocked until a new date, with a note; it never lifts the
block (that stays on the profile).
"""

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from roster.domain import errors
from roster.domain.credentials import Principal
from roster.domain.vocabulary import ReasonCode
from roster.entrypoints.web.api.schemas import Strict, Text, UserOut
from roster.entrypoints.web.api.users import JsonBody, UserId
from roster.entrypoints.web.deps import AdminDep, ContainerDep, RequestIdDep
from roster.entrypoints.web.problems import responses
from roster.services import queries, reviews

router = APIRouter(tags=["reviews"])
QUEUE_PARAMS = frozenset({"review", "cursor", "limit"})


async def known_params(request: Request) -> None:
    """A misspelt filter is refused, not ignored (it would list every Blocked user)."""
    unknown = sorted(set(request.query_params) - QUEUE_PARAMS)
    if unknown:
        raise errors.InvalidInput(
            f"Unknown query parameter {unknown[0]!r}: use review, cursor or limit."
        )


class BlockedUserOut(BaseModel):
    user: UserOut
    blocked_at: datetime | None = Field(description="When the user was blocked.")
    blocked_by: str | None = Field(description="Who blocked them.")
    reason_code: ReasonCode | None
    note: str | None
    review_by: date | None
    review: str = Field(description="overdue (date passed), due (today) or later.")
    refused_attempts: int = Field(description="Refused attempts on the user since the block.")


class BlockedUserList(BaseModel):
    items: list[BlockedUserOut]
    next_cursor: str | None


class ReviewBody(Strict):
    review_by: date = Field(description="Keep the user Blocked until this day (today or later).")
    note: str = Field(min_length=1, max_length=2000, description="Why the block stays.")


@router.get(
    "/blocked-users",
    response_model=BlockedUserList,
    responses=responses(401, 403, 422),
    dependencies=[Depends(known_params)],
)
def list_blocked(
    admin: AdminDep,
    container: ContainerDep,
    review: Annotated[
        reviews.Review,
        Query(description="overdue: review date passed; due: today or passed; all."),
    ] = "all",
    cursor: Annotated[Text | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> BlockedUserList:
    """Blocked users, most overdue first, with who blocked them when and why, their
    review date and the refused attempts on them since the block."""
    after = _decode(cursor) if cursor else None
    now = container.clock()
    with container.engine.connect() as conn:
        workspace = queries.workspace_by_id(conn, admin.workspace_id)
        today = workspace.today(now)
        page = reviews.blocked_users(
            conn, workspace, review=review, today=today, after=after, limit=limit
        )
    items = [_item(i, admin, today) for i in page.items]
    next_cursor = f"{page.next[0].isoformat()}_{page.next[1]}" if page.next else None
    return BlockedUserList(items=items, next_cursor=next_cursor)


def _item(i: reviews.BlockedUser, admin: Principal, today: date) -> BlockedUserOut:
    u = i.view.user
    return BlockedUserOut(
        user=UserOut.of(i.view, admin.route, admin.policy),
        blocked_at=u.status_changed_at,
        blocked_by=u.status_changed_by,
        reason_code=u.status_reason,
        note=u.status_note,
        review_by=u.review_by,
        review=i.state(today),
        refused_attempts=i.refused_attempts,
    )


def _decode(cursor: str) -> tuple[date, str]:
    day, _, last_id = cursor.partition("_")
    try:
        return date.fromisoformat(day), last_id
    except ValueError:
        raise errors.InvalidInput(
            "cursor is not a cursor this list gave out; start without one."
        ) from None


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
    return UserOut.of(view, admin.route, admin.policy)
