"""A user's account end on their profile: set, change or remove `expires_at`."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy import Connection

from roster.domain import errors
from roster.domain.filters import instant
from roster.entrypoints.web.admin.carried import redirect_refused
from roster.entrypoints.web.admin.rendering import redirect
from roster.entrypoints.web.admin.session import AdminDep
from roster.entrypoints.web.admin.views import PageNotFound, reading
from roster.entrypoints.web.deps import ContainerDep, RequestIdDep
from roster.services import queries
from roster.services.users import update_user

router = APIRouter()


@router.post("/users/{user_id}/expiry")
def save_expiry(
    request: Request,
    user_id: str,
    admin: AdminDep,
    container: ContainerDep,
    request_id: RequestIdDep,
    expires_on: Annotated[str, Form()] = "",
) -> Response:
    """The day the account ends (at midnight UTC), or none; a bad day is shown by
    its field, back on the profile (Post/Redirect/Get)."""
    try:
        day = date.fromisoformat(expires_on) if expires_on.strip() else None
    except ValueError:
        with reading(container) as conn:
            _view(conn, admin.workspace_id, user_id)  # another workspace's user: 404
        problems = {"expires_on": "Give the day as YYYY-MM-DD, or leave it empty for never."}
        return redirect_refused(
            request, f"/admin/users/{user_id}#expiry-form", errors=problems,
            values={"expires_on": expires_on},
        )  # fmt: skip
    try:
        update_user(
            container.uow(),
            workspace_id=admin.workspace_id,
            user_id=user_id,
            expires_at=instant(day) if day else None,
            route=admin.principal.route,
            actor=admin.principal.actor,
            now=container.clock(),
            request_id=request_id,
        )
    except errors.NotFound as missing:
        raise PageNotFound(missing.detail) from None
    flash = f"The account ends on {day.isoformat()}." if day else "The account never ends."
    return redirect(request, f"/admin/users/{user_id}", flash=flash)


def _view(conn: Connection, workspace_id: str, user_id: str) -> queries.UserView:
    try:
        return queries.user_by_id(conn, workspace_id, user_id)
    except errors.NotFound as missing:
        raise PageNotFound(missing.detail) from None
