"""Signing in and out through the API."""

from fastapi import APIRouter, Response, status

from roster.entrypoints.web.api.schemas import SessionOut, SignInBody
from roster.entrypoints.web.deps import ContainerDep, PrincipalDep
from roster.entrypoints.web.problems import responses
from roster.services.access import revoke_credential, sign_in

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/sessions", status_code=201, response_model=SessionOut, responses=responses(401, 403, 422)
)
def create_session(body: SignInBody, container: ContainerDep) -> SessionOut:
    """Sign in with a password; answers a bearer token for the API."""
    signed = sign_in(
        container.engine,
        workspace=body.workspace,
        email=body.email,
        password=body.password,
        now=container.clock(),
    )
    return SessionOut(token=signed.token, expires_at=signed.expires_at)


@router.delete("/sessions/current", status_code=204, responses=responses(401))
def delete_session(principal: PrincipalDep, container: ContainerDep) -> Response:
    """Sign out: the token used for this request stops working."""
    revoke_credential(
        container.engine,
        workspace_id=principal.workspace_id,
        credential_id=principal.credential_id,
        now=container.clock(),
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
