"""The invitation accept page: GET shows a form, POST sets a password and accepts.

The form is CSRF-protected by a signed double submit: a random nonce goes in a
cookie and, with its HMAC keyed by the invitation token's hash, in the form.
Only someone who holds the invitation (and so could accept it anyway) can mint
a matching pair; a cross-site form post carries neither.
"""

import hashlib
import hmac
import re
import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from roster.domain import errors
from roster.entrypoints.web.deps import ContainerDep
from roster.services import queries
from roster.services.invitations import accept_invitation, pending_invitation

router = APIRouter(prefix="/invitations", include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
CSRF_COOKIE = "roster_invitation_csrf"
_NONCE = re.compile(r"[A-Za-z0-9_-]{1,128}")


def _signature(token: str, nonce: str) -> str:
    key = hashlib.sha256(token.encode()).digest()
    return hmac.new(key, nonce.encode(), hashlib.sha256).hexdigest()


def _csrf_ok(token: str, cookie: str | None, submitted: str) -> bool:
    nonce, _, signature = submitted.partition(".")
    if not (_NONCE.fullmatch(nonce) and _NONCE.fullmatch(signature)):
        return False
    return (
        bool(cookie)
        and hmac.compare_digest(nonce, cookie or "")
        and hmac.compare_digest(signature, _signature(token, nonce))
    )


def _page(request: Request, status_code: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, "invitation.html", context, status_code=status_code)


@router.get("/accepted", response_class=HTMLResponse)
def accepted(request: Request, workspace: str = "") -> HTMLResponse:
    return _page(request, state="accepted", workspace=workspace[:200])


@router.get("/{token}", response_class=HTMLResponse)
def show(token: str, request: Request, container: ContainerDep) -> Response:
    """The form, with a fresh CSRF nonce in a cookie and signed in the form."""
    with container.engine.connect() as conn:
        try:
            invitation = pending_invitation(conn, token, container.clock())
        except errors.NotFound as gone:
            return _page(request, 404, state="invalid", message=gone.detail)
        workspace = queries.workspace_by_id(conn, invitation.workspace_id)
    nonce = secrets.token_urlsafe(24)
    page = _page(
        request,
        state="form",
        invitation=invitation,
        workspace=workspace.name,
        csrf=f"{nonce}.{_signature(token, nonce)}",
        errors={},
        name=invitation.name or "",
    )
    page.set_cookie(
        CSRF_COOKIE,
        nonce,
        path="/invitations",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return page


@router.post("/{token}", response_class=HTMLResponse)
def submit(
    token: str,
    request: Request,
    container: ContainerDep,
    csrf: Annotated[str, Form(max_length=200)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    password_confirm: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """Accept; on success redirect (post/redirect/get), else the form with the error."""
    with container.engine.connect() as conn:
        try:
            invitation = pending_invitation(conn, token, container.clock())
        except errors.NotFound as gone:
            return _page(request, 404, state="invalid", message=gone.detail)
        workspace = queries.workspace_by_id(conn, invitation.workspace_id)
    if not _csrf_ok(token, request.cookies.get(CSRF_COOKIE), csrf):
        return _page(
            request,
            403,
            state="invalid",
            message="This form expired. Open the invitation link again and resubmit.",
        )
    form = {"invitation": invitation, "workspace": workspace.name, "csrf": csrf, "name": name}
    if password != password_confirm:
        return _page(
            request, 422, state="form", errors={"password_confirm": "The passwords differ."}, **form
        )
    try:
        accept_invitation(
            container.uow(),
            token=token,
            password=password or None,
            name=name,
            now=container.clock(),
        )
    except errors.DomainError as refusal:
        field = "password" if isinstance(refusal, errors.InvalidInput) else "form"
        return _page(
            request, refusal.http_status, state="form", errors={field: refusal.detail}, **form
        )
    return RedirectResponse(f"/invitations/accepted?workspace={workspace.slug}", status_code=303)
