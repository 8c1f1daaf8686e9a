"""Workspace settings: API unblocking, reactivation on sign-in, the seat limit, the
days from a block to its review, per reason, and the time zone the days follow."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from roster.domain import errors
from roster.domain.reviews import MAX_REVIEW_DAYS, review_days
from roster.domain.vocabulary import ReasonCode
from roster.domain.workspaces import check_timezone, time_zones
from roster.entrypoints.web.admin.carried import carried_form, redirect_refused
from roster.entrypoints.web.admin.rendering import redirect, render
from roster.entrypoints.web.admin.session import AdminDep, AdminSession
from roster.entrypoints.web.admin.views import reading
from roster.entrypoints.web.deps import ContainerDep, RequestIdDep
from roster.services import queries
from roster.services.workspaces import update_settings

router = APIRouter()


def _page(
    request: Request,
    admin: AdminSession,
    container: ContainerDep,
    *,
    status_code: int = 200,
    form_errors: dict[str, str] | None = None,
    seat_limit: str | None = None,
    review: dict[str, str] | None = None,
    timezone: str | None = None,
) -> HTMLResponse:
    with reading(container) as conn:
        workspace = queries.workspace_by_id(conn, admin.workspace_id)
        counts = queries.user_counts_of(conn, admin.workspace_id)
    if carried := carried_form(request):  # a refused save redirected here: what was typed
        seat_limit = carried[1].get("seat_limit", seat_limit)
        timezone = carried[1].get("timezone") or timezone
        review = {
            k.removeprefix("review_"): v for k, v in carried[1].items() if k.startswith("review_")
        }
    shown = seat_limit if seat_limit is not None else str(workspace.seat_limit or "")
    return render(
        request,
        "settings/form.html",
        status_code=status_code,
        title="Settings",
        workspace=workspace,
        active=counts.active,
        seat_limit=shown,
        review_days=review
        or {r.value: str(n) for r, n in review_days(workspace.review_days).items()},
        timezone=workspace.timezone if timezone is None else timezone,
        time_zones=time_zones(),
        errors=form_errors or {},
    )


@router.get("/settings", response_class=HTMLResponse)
def settings_page(request: Request, admin: AdminDep, container: ContainerDep) -> HTMLResponse:
    return _page(request, admin, container)


@router.post("/settings")
def save_settings(
    request: Request,
    admin: AdminDep,
    container: ContainerDep,
    request_id: RequestIdDep,
    allow_api_unblock: Annotated[str, Form()] = "",
    reactivate_on_sign_in: Annotated[str, Form()] = "",
    seat_limit: Annotated[str, Form()] = "",
    notify_users_on_status_change: Annotated[str, Form()] = "",
    review_digest: Annotated[str, Form()] = "",
    review_payment_dispute: Annotated[str | None, Form()] = None,
    review_access_violation: Annotated[str | None, Form()] = None,
    review_unresolved_issue: Annotated[str | None, Form()] = None,
    review_needs_review: Annotated[str | None, Form()] = None,
    review_other: Annotated[str | None, Form()] = None,
    timezone: Annotated[str | None, Form()] = None,
) -> Response:
    """Save the settings (an unchecked box is off; an empty limit is none; review
    days and a time zone the form leaves out stay as they were)."""
    given = {
        ReasonCode.PAYMENT_DISPUTE: review_payment_dispute,
        ReasonCode.ACCESS_VIOLATION: review_access_violation,
        ReasonCode.UNRESOLVED_ISSUE: review_unresolved_issue,
        ReasonCode.NEEDS_REVIEW: review_needs_review,
        ReasonCode.OTHER: review_other,
    }
    review = {r.value: v.strip() for r, v in given.items() if v is not None}
    limit = seat_limit.strip()
    problems = _review_problems(review)
    if limit and not (limit.isascii() and limit.isdigit() and len(limit) <= 18):
        problems["seat_limit"] = "Write the seat limit as a whole number, or leave it empty."
    try:
        zone = check_timezone(timezone) if timezone is not None else None
    except errors.InvalidInput as bad:
        problems["timezone"] = bad.detail
    if problems:
        typed = {"seat_limit": seat_limit, "timezone": timezone or ""}
        typed.update({f"review_{r}": v for r, v in review.items()})
        return redirect_refused(request, "/admin/settings", errors=problems, values=typed)
    try:
        update_settings(
            container.uow(),
            workspace_id=admin.workspace_id,
            allow_api_unblock=allow_api_unblock == "on",
            reactivate_on_sign_in=reactivate_on_sign_in == "on",
            seat_limit=int(limit) if limit else None,
            notify_users_on_status_change=notify_users_on_status_change == "on",
            review_digest=review_digest == "on",
            review_days={r: int(n) for r, n in review.items()} or None,
            timezone=zone,
            route=admin.principal.route,
            actor=admin.principal.actor,
            now=container.clock(),
            request_id=request_id,
        )
    except errors.InvalidInput as bad:
        return redirect_refused(
            request, "/admin/settings", errors={"seat_limit": bad.detail},
            values={"seat_limit": seat_limit},
        )  # fmt: skip
    return redirect(request, "/admin/settings", flash="Settings saved.")


def _review_problems(review: dict[str, str]) -> dict[str, str]:
    """A message by each review-days field that is not a whole number in range."""
    return {
        f"review_{reason}": f"Write a whole number of days from 1 to {MAX_REVIEW_DAYS}."
        for reason, days in review.items()
        if not (days.isascii() and days.isdigit() and 1 <= int(days) <= MAX_REVIEW_DAYS)
    }
