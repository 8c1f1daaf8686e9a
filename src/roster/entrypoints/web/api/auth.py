"""Signing in and out through the API."""

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import Field

from roster.entrypoints.web.api.schemas import SessionOut, SignInBody, Strict
from roster.entrypoints.web.deps import ContainerDep, PrincipalDep
from roster.entrypoints.web.problems import problem, responses
from roster.services.access import revoke_credential, sign_in
from roster.services.password_resets import request_reset, reset_password
from roster.services.throttle import TooManyAttempts

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/sessions",
    status_code=201,
    response_model=SessionOut,
    responses=responses(401, 403, 409, 422, 429),
)
def create_session(
    body: SignInBody, request: Request, container: ContainerDep
) -> SessionOut | JSONResponse:
    """Sign in with a password; answers a bearer token for the API.

    A wrong password or an unknown email answers 401 with one generic message; a
    right password for an Inactive or Blocked account answers 403 saying which.
    Repeated failures answer 429 with `Retry-After` for a while.
    """
    try:
        signed = sign_in(
            container.uow(),
            workspace=body.workspace,
            email=body.email,
            password=body.password,
            now=container.clock(),
            address=request.client.host if request.client else None,
        )
    except TooManyAttempts as slow_down:
        return too_many(request, slow_down)
    return SessionOut(token=signed.token, expires_at=signed.expires_at)


def too_many(request: Request, exc: TooManyAttempts) -> JSONResponse:
    """429 with the seconds to wait, as a problem and in `Retry-After`."""
    return problem(
        exc.http_status,
        exc.code,
        exc.title,
        exc.detail,
        request,
        headers={"Retry-After": str(exc.retry_after)},
    )


@router.delete("/sessions/current", status_code=204, responses=responses(401))
def delete_session(principal: PrincipalDep, container: ContainerDep) -> Response:
    """Sign out: the token used for this request stops working."""
    revoke_credential(
        container.uow(),
        workspace_id=principal.workspace_id,
        credential_id=principal.credential_id,
        now=container.clock(),
        route=principal.route,
        actor=principal.actor,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


class PasswordResetBody(Strict):
    workspace: str = Field(min_length=1, max_length=64)
    email: str = Field(min_length=1, max_length=320)


class NewPasswordBody(Strict):
    password: str = Field(min_length=1, max_length=1024)


@router.post(
    "/password-resets",
    status_code=202,
    response_class=Response,
    responses={**responses(422, 429), 202: {"description": "Accepted, whatever the address."}},
)
def request_password_reset(
    body: PasswordResetBody, request: Request, container: ContainerDep
) -> Response:
    """Ask for a password reset link by email. Answers 202 whatever the address (no
    enumeration); an Active or Inactive user gets a link valid 30 minutes, once. A
    Blocked user gets none (a refused attempt, route password_reset, in the audit
    log). Throttled per address and per client, as sign-in is (429)."""
    try:
        request_reset(
            container.uow(),
            workspace=body.workspace,
            email=body.email,
            address=request.client.host if request.client else None,
            now=container.clock(),
            public_url=container.settings.public_url,
        )
    except TooManyAttempts as slow_down:
        return too_many(request, slow_down)
    return Response(status_code=status.HTTP_202_ACCEPTED)


@router.post(
    "/password-resets/{token}",
    status_code=204,
    response_class=Response,
    responses=responses(404, 409, 422),
)
def reset_password_with_link(
    token: str, body: NewPasswordBody, container: ContainerDep
) -> Response:
    """Set a new password with the link's token (at least 10 characters). The link is
    spent and the user's sessions end; their status does not change."""
    reset_password(container.uow(), token=token, password=body.password, now=container.clock())
    return Response(status_code=status.HTTP_204_NO_CONTENT)
