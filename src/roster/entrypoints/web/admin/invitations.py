"""The Invitations page: invite someone by email, and resend or revoke what is pending.
Every change goes through the invitation service the API calls, with its rules."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from roster.domain import errors
from roster.domain.vocabulary import Role
from roster.entrypoints.web.admin.carried import redirect_refused
from roster.entrypoints.web.admin.rendering import redirect, render
from roster.entrypoints.web.admin.session import AdminDep, AdminSession
from roster.entrypoints.web.admin.views import PageNotFound, reading
from roster.entrypoints.web.deps import ContainerDep
from roster.services.invitations import (
    create_invitation,
    list_invitations,
    resend_invitation,
    revoke_invitation,
)

router = APIRouter()
PATH = "/admin/invitations"
ROLES = list(Role)


def _page(
    request: Request,
    admin: AdminSession,
    container: ContainerDep,
    *,
    status_code: int = 200,
    form_errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    now = container.clock()
    with reading(container) as conn:
        found = list_invitations(conn, admin.workspace_id, limit=200)
    pending = [i for i in found if i.state(now) == "pending"]
    return render(
        request,
        "invitations/list.html",
        status_code=status_code,
        title="Invitations",
        invitations=pending,
        roles=ROLES,
        errors=form_errors or {},
        values=values or {"role": Role.MEMBER.value},
    )


@router.get("/invitations", response_class=HTMLResponse)
def invitations_page(request: Request, admin: AdminDep, container: ContainerDep) -> HTMLResponse:
    return _page(request, admin, container)


@router.post("/invitations")
def invite(
    request: Request,
    admin: AdminDep,
    container: ContainerDep,
    email: Annotated[str, Form(max_length=320)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """Invite `email`: the invitation is emailed with its link (see the Emails page)."""
    values = {"email": email, "name": name, "role": role}
    if role not in Role._value2member_map_:
        problem = {"role": "Choose a role."}
        return redirect_refused(request, PATH, errors=problem, values=values)
    try:
        create_invitation(
            container.uow(),
            workspace_id=admin.workspace_id,
            email=email,
            role=Role(role),
            name=name or None,
            actor=admin.principal.actor,
            now=container.clock(),
            public_url=container.settings.public_url,
        )
    except errors.DomainError as refused:
        field = "role" if isinstance(refused, errors.Forbidden) else "email"
        return redirect_refused(request, PATH, errors={field: refused.detail}, values=values)
    return redirect(request, PATH, flash=f"Invitation emailed to {email.strip()}.")


@router.post("/invitations/{invitation_id}/resend")
def resend(
    request: Request, invitation_id: str, admin: AdminDep, container: ContainerDep
) -> Response:
    try:
        made = resend_invitation(
            container.uow(),
            workspace_id=admin.workspace_id,
            invitation_id=invitation_id,
            actor=admin.principal.actor,
            now=container.clock(),
            public_url=container.settings.public_url,
        )
    except errors.NotFound as gone:  # not pending, or another workspace's
        raise PageNotFound(gone.detail) from gone
    except errors.DomainError as refused:
        return redirect(request, PATH, flash=f"Not sent: {refused.detail}")
    email = made.invitation.email
    return redirect(request, PATH, flash=f"Sent again to {email}, with a new link.")


@router.post("/invitations/{invitation_id}/revoke")
def revoke(
    request: Request, invitation_id: str, admin: AdminDep, container: ContainerDep
) -> Response:
    try:
        revoke_invitation(
            container.uow(),
            workspace_id=admin.workspace_id,
            invitation_id=invitation_id,
            now=container.clock(),
        )
    except errors.NotFound as gone:  # not pending, or another workspace's
        raise PageNotFound(gone.detail) from gone
    return redirect(request, PATH, flash="Invitation revoked: its link no longer works.")
