"""Workspace settings: API unblocking, reactivation on sign-in, the seat limit."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from roster.domain import errors
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
) -> HTMLResponse:
    with reading(container) as conn:
        workspace = queries.workspace_by_id(conn, admin.workspace_id)
        counts = queries.user_counts_of(conn, admin.workspace_id)
    shown = seat_limit if seat_limit is not None else str(workspace.seat_limit or "")
    return render(
        request,
        "settings/form.html",
        status_code=status_code,
        title="Settings",
        workspace=workspace,
        active=counts.active,
        seat_limit=shown,
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
) -> Response:
    """Save all four settings (an unchecked box is off; an empty limit is none)."""
    limit = seat_limit.strip()
    if limit and not (limit.isascii() and limit.isdigit() and len(limit) <= 18):
        problem = {"seat_limit": "Write the seat limit as a whole number, or leave it empty."}
        return _page(
            request, admin, container, status_code=422, form_errors=problem, seat_limit=seat_limit
        )
    try:
        update_settings(
            container.uow(),
            workspace_id=admin.workspace_id,
            allow_api_unblock=allow_api_unblock == "on",
            reactivate_on_sign_in=reactivate_on_sign_in == "on",
            seat_limit=int(limit) if limit else None,
            notify_users_on_status_change=notify_users_on_status_change == "on",
            route=admin.principal.route,
            actor=admin.principal.actor,
            now=container.clock(),
            request_id=request_id,
        )
    except errors.InvalidInput as bad:
        return _page(
            request, admin, container, status_code=422,
            form_errors={"seat_limit": bad.detail}, seat_limit=seat_limit,
        )  # fmt: skip
    return redirect(request, "/admin/settings", flash="Settings saved.")
