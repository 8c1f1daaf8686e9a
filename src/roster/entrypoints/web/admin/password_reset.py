"""Forgot your password?: ask for a reset link, then choose a new password with it.

Both forms are for people who are not signed in, so they carry the pre-session CSRF
token the sign-in form carries. The answer to a request is the same whatever the
address (no enumeration).
"""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from roster.domain import errors
from roster.entrypoints.web.admin import session as cookies
from roster.entrypoints.web.admin.rendering import redirect, render
from roster.entrypoints.web.deps import ContainerDep
from roster.services.password_resets import request_reset, reset_password
from roster.services.throttle import TooManyAttempts

router = APIRouter()
ASKED = (
    "If that address has an account in that workspace, an email with a link to choose "
    "a new password is on its way. The link works for 30 minutes."
)


def _form(
    request: Request, template: str, *, status_code: int = 200, **context: object
) -> HTMLResponse:
    secret, new = cookies.presession_secret(request)
    response = render(
        request,
        template,
        status_code=status_code,
        title="Reset your password",
        csrf_token=cookies.csrf_token_for(secret),
        **context,
    )
    if new:
        cookies.set_presession_cookie(request, response, secret)
    return response


@router.get("/forgot-password", response_class=HTMLResponse)
def forgot_page(request: Request) -> HTMLResponse:
    return _form(request, "password_reset/ask.html", values={}, error=None, asked=False)


@router.post("/forgot-password", response_class=HTMLResponse)
async def forgot_submit(
    request: Request,
    container: ContainerDep,
    workspace: Annotated[str, Form(max_length=64)] = "",
    email: Annotated[str, Form(max_length=320)] = "",
) -> Response:
    await cookies.check_csrf(request, request.cookies.get(cookies.PRESESSION_COOKIE))
    values = {"workspace": workspace, "email": email}
    try:
        request_reset(
            container.uow(),
            workspace=workspace.strip(),
            email=email,
            address=request.client.host if request.client else None,
            now=container.clock(),
            public_url=container.settings.public_url,
        )
    except TooManyAttempts as slow:
        page = _form(request, "password_reset/ask.html", status_code=429, values=values,
                     error=slow.detail, asked=False)  # fmt: skip
        page.headers["Retry-After"] = str(slow.retry_after)
        return page
    return _form(request, "password_reset/ask.html", values={}, error=None, asked=True)


@router.get("/password-reset/{reset_token}", response_class=HTMLResponse)
def choose_page(request: Request, reset_token: str) -> HTMLResponse:
    return _form(request, "password_reset/choose.html", token=reset_token, errors={})


@router.post("/password-reset/{reset_token}", response_class=HTMLResponse)
async def choose_submit(
    request: Request,
    reset_token: str,
    container: ContainerDep,
    password: Annotated[str, Form(max_length=1024)] = "",
    password_confirm: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """Set the password; then sign in with it (post/redirect/get)."""
    token = reset_token
    await cookies.check_csrf(request, request.cookies.get(cookies.PRESESSION_COOKIE))
    if password != password_confirm:
        problem = {"password_confirm": "The passwords differ."}
        return _form(request, "password_reset/choose.html", status_code=422, token=token,
                     errors=problem)  # fmt: skip
    try:
        reset_password(container.uow(), token=token, password=password, now=container.clock())
    except errors.DomainError as refused:
        field = "password" if isinstance(refused, errors.InvalidInput) else "form"
        return _form(request, "password_reset/choose.html", status_code=refused.http_status,
                     token=token, errors={field: refused.detail})  # fmt: skip
    return redirect(request, "/admin/sign-in", flash="Your password is changed. Sign in with it.")
