"""API tokens: created here and shown once, listed without secrets, revoked."""

from typing import Annotated
from urllib.parse import quote, unquote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from roster.domain import errors
from roster.domain.credentials import TOKEN_KINDS, CredentialKind
from roster.entrypoints.web.admin.carried import redirect_refused
from roster.entrypoints.web.admin.rendering import redirect, render
from roster.entrypoints.web.admin.session import AdminDep, AdminSession
from roster.entrypoints.web.admin.views import reading
from roster.entrypoints.web.deps import ContainerDep, RequestIdDep
from roster.services.access import create_token, list_tokens, revoke_credential

router = APIRouter()
# The new token rides to the next page in a cookie scoped to this page, then is gone.
NEW_TOKEN_COOKIE = "roster_new_token"  # noqa: S105 - a cookie name, not a secret
PATH = "/admin/tokens"


def _page(
    request: Request,
    admin: AdminSession,
    container: ContainerDep,
    *,
    status_code: int = 200,
    form_errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    with reading(container) as conn:
        tokens = list_tokens(conn, admin.workspace_id)
    new_token = unquote(request.cookies.get(NEW_TOKEN_COOKIE, "")) or None
    response = render(
        request,
        "tokens/list.html",
        status_code=status_code,
        title="API tokens",
        tokens=tokens,
        kinds=TOKEN_KINDS,
        new_token=new_token,
        errors=form_errors or {},
        values=values or {},
    )
    if new_token:
        response.delete_cookie(NEW_TOKEN_COOKIE, path=PATH)
    return response


@router.get("/tokens", response_class=HTMLResponse)
def tokens_page(request: Request, admin: AdminDep, container: ContainerDep) -> HTMLResponse:
    return _page(request, admin, container)


@router.post("/tokens")
def create(
    request: Request,
    admin: AdminDep,
    container: ContainerDep,
    request_id: RequestIdDep,
    kind: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
) -> Response:
    """Create a token; the next page shows it once."""
    values = {"kind": kind, "name": name}
    if kind not in {k.value for k in TOKEN_KINDS}:
        problem = {"kind": "Choose what the token is for."}
        return redirect_refused(request, PATH, errors=problem, values=values)
    try:
        _, token = create_token(
            container.uow(),
            workspace_id=admin.workspace_id,
            kind=CredentialKind(kind),
            name=name.strip() or None,
            user_id=admin.user.id,
            now=container.clock(),
            route=admin.principal.route,
            actor=admin.principal.actor,
            request_id=request_id,
        )
    except errors.InvalidInput as bad:
        return redirect_refused(request, PATH, errors={"name": bad.detail}, values=values)
    response = redirect(request, PATH, flash="Token created. Copy it now: it is shown only once.")
    response.set_cookie(
        NEW_TOKEN_COOKIE,
        quote(token),
        max_age=120,
        path=PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/tokens/{token_id}/revoke")
def revoke(
    request: Request,
    token_id: str,
    admin: AdminDep,
    container: ContainerDep,
    request_id: RequestIdDep,
) -> Response:
    try:
        revoke_credential(
            container.uow(),
            workspace_id=admin.workspace_id,
            credential_id=token_id,
            now=container.clock(),
            route=admin.principal.route,
            actor=admin.principal.actor,
            request_id=request_id,
        )
    except errors.NotFound:
        return redirect(request, PATH, flash="That token was already revoked.")
    return redirect(request, PATH, flash="Token revoked: the next request that uses it fails.")
