"""Signing in to the dashboard and out of it."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from roster.domain import errors
from roster.domain.credentials import CredentialKind
from roster.domain.vocabulary import ADMIN_ROLES
from roster.entrypoints.web.admin import session as cookies
from roster.entrypoints.web.admin.rendering import redirect, render
from roster.entrypoints.web.admin.session import AdminDep
from roster.entrypoints.web.admin.views import safe_next
from roster.entrypoints.web.deps import ContainerDep
from roster.services.access import authenticate, revoke_credential, sign_in
from roster.services.throttle import TooManyAttempts

router = APIRouter()
NOT_ADMIN = "Only owners and admins can use the dashboard."


def _form(
    request: Request, *, status_code: int = 200, error: str | None = None, **values: str
) -> HTMLResponse:
    secret, new = cookies.presession_secret(request)
    response = render(
        request,
        "sign_in.html",
        status_code=status_code,
        title="Sign in",
        csrf_token=cookies.csrf_token_for(secret),
        error=error,
        values=values,
    )
    if new:
        cookies.set_presession_cookie(request, response, secret)
    return response


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request, next: str | None = None) -> HTMLResponse:
    return _form(request, next=safe_next(next))


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in_submit(
    request: Request,
    container: ContainerDep,
    workspace: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    """Open a session for an owner or admin; rotate the cookie; refuse in plain words."""
    await cookies.check_csrf(request, request.cookies.get(cookies.PRESESSION_COOKIE))
    values = {"workspace": workspace, "email": email, "next": safe_next(next)}
    try:
        signed = sign_in(
            container.uow(),
            workspace=workspace,
            email=email,
            password=password,
            now=container.clock(),
            kind=CredentialKind.SESSION,
            address=request.client.host if request.client else None,
        )
    except (errors.Unauthenticated, errors.Forbidden) as refusal:
        page = _form(request, status_code=refusal.http_status, error=refusal.detail, **values)
        if isinstance(refusal, TooManyAttempts):
            page.headers["Retry-After"] = str(refusal.retry_after)
        return page
    if signed.user.role not in ADMIN_ROLES:
        _revoke(container, signed.token)
        return _form(request, status_code=403, error=NOT_ADMIN, **values)
    _revoke(container, request.cookies.get(cookies.SESSION_COOKIE))
    response = redirect(request, safe_next(next), flash=f"Signed in as {signed.user.name}.")
    cookies.set_session_cookie(request, response, signed.token)
    response.delete_cookie(cookies.PRESESSION_COOKIE, path="/admin")
    return response


def _revoke(container: ContainerDep, token: str | None) -> None:
    """End the session behind `token`, if it is live (sign-in rotates, sign-out ends)."""
    if not token:
        return
    try:
        with container.engine.connect() as conn:
            principal = authenticate(conn, token, container.clock())
        revoke_credential(
            container.uow(),
            workspace_id=principal.workspace_id,
            credential_id=principal.credential_id,
            now=container.clock(),
            route=principal.route,
            actor=principal.actor,
        )
    except (errors.Unauthenticated, errors.NotFound):
        return


@router.get("/sign-out", response_class=HTMLResponse)
def sign_out_page(request: Request, admin: AdminDep) -> HTMLResponse:
    return render(request, "sign_out.html", title="Sign out")


@router.post("/sign-out")
def sign_out(request: Request, admin: AdminDep, container: ContainerDep) -> Response:
    revoke_credential(
        container.uow(),
        workspace_id=admin.workspace_id,
        credential_id=admin.principal.credential_id,
        now=container.clock(),
        route=admin.principal.route,
        actor=admin.principal.actor,
    )
    response = redirect(request, "/admin/sign-in", flash="You are signed out.")
    cookies.clear_session_cookie(response)
    return response
