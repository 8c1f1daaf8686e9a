"""Blocked accounts: the review queue, and recording a review from a profile.

A review keeps the user Blocked until a new date, with a note; it never lifts the
block (that is the profile's Change status form, as always).
"""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from roster.domain import errors
from roster.entrypoints.web.admin.rendering import redirect, render
from roster.entrypoints.web.admin.session import AdminDep, AdminSession
from roster.entrypoints.web.admin.views import PageNotFound, reading
from roster.entrypoints.web.deps import ContainerDep, RequestIdDep
from roster.services import queries, reviews

router = APIRouter()
PAGE_SIZE = 50
FILTERS = {"due": "Due (today or passed)", "overdue": "Overdue", "all": "All Blocked accounts"}


@router.get("/blocked-users", response_class=HTMLResponse)
def blocked_page(
    request: Request,
    admin: AdminDep,
    container: ContainerDep,
    review: str = "all",
    after: str | None = None,
) -> HTMLResponse:
    """Every Blocked user, most overdue first: who blocked them when and why, the
    review date and the refused attempts since the block; filters due/overdue/all."""
    chosen: reviews.Review = review if review in reviews.REVIEWS else "all"
    now = container.clock()
    with reading(container) as conn:
        workspace = queries.workspace_by_id(conn, admin.workspace_id)
        today = workspace.today(now)
        page = reviews.blocked_users(
            conn, workspace, review=chosen, today=today, after=_after(after), limit=PAGE_SIZE
        )
    next_page = f"{page.next[0].isoformat()}_{page.next[1]}" if page.next else None
    return render(
        request,
        "reviews/list.html",
        title="Blocked accounts",
        filters=FILTERS,
        review=chosen,
        rows=[(i, i.state(today)) for i in page.items],
        next_page=next_page,
        today=today,
    )


def _after(value: str | None) -> tuple[date, str] | None:
    """A page's start as the previous page left it; anything else starts over."""
    day, _, last_id = (value or "").partition("_")
    try:
        return (date.fromisoformat(day), last_id) if last_id else None
    except ValueError:
        return None


@router.get("/users/{user_id}/review", response_class=HTMLResponse)
def review_page(
    request: Request, user_id: str, admin: AdminDep, container: ContainerDep
) -> Response:
    """The Record a review form on its own (the profile shows it too)."""
    return _form(request, admin, container, user_id)


@router.post("/users/{user_id}/review")
def record(
    request: Request,
    user_id: str,
    admin: AdminDep,
    container: ContainerDep,
    request_id: RequestIdDep,
    review_by: Annotated[str, Form()] = "",
    review_note: Annotated[str, Form()] = "",
) -> Response:
    """Keep the user Blocked until a new date; mistakes show next to their field."""
    values = {"review_by": review_by, "review_note": review_note}
    try:
        day = date.fromisoformat(review_by)
    except ValueError:
        problems = {"review_by": "Give the review date as a day (YYYY-MM-DD)."}
        return _form(request, admin, container, user_id, problems, values)
    try:
        user = reviews.record_review(
            container.uow(),
            workspace_id=admin.workspace_id,
            user_id=user_id,
            review_by=day,
            note=review_note,
            route=admin.principal.route,
            actor=admin.principal.actor,
            now=container.clock(),
            request_id=request_id,
        )
    except errors.NotFound as missing:
        raise PageNotFound(missing.detail) from None
    except errors.TransitionNotAllowed:
        # The block was lifted since the form was shown: the profile says how it is now.
        flash = "This user is no longer Blocked: there is no review to record."
        return redirect(request, f"/admin/users/{user_id}", flash=flash)
    except errors.DomainError as refusal:
        field = "review_note" if "note" in refusal.detail else "review_by"
        return _form(request, admin, container, user_id, {field: refusal.detail}, values, 422)
    flash = f"Review recorded: {user.name} stays Blocked until {day.isoformat()}."
    return redirect(request, f"/admin/users/{user_id}", flash=flash)


def check_review_field(value: str) -> dict[str, str]:
    """The profile's optional review date, if it is not a day: its message."""
    try:
        if value:
            date.fromisoformat(value)
    except ValueError:
        return {"review_by": "Give the review date as a day (YYYY-MM-DD)."}
    return {}


def _form(
    request: Request,
    admin: AdminSession,
    container: ContainerDep,
    user_id: str,
    problems: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    with reading(container) as conn:
        try:
            view = queries.user_by_id(conn, admin.workspace_id, user_id)
        except errors.NotFound as missing:
            raise PageNotFound(missing.detail) from None
    return render(
        request,
        "reviews/record.html",
        status_code=status_code if problems else 200,
        title=f"Review {view.user.name}",
        user=view.user,
        errors=problems or {},
        values=values or {},
    )
