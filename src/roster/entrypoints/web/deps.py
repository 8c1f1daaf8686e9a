"""FastAPI dependencies: the container, the caller, and who may do what."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from roster.bootstrap import Container
from roster.domain import errors
from roster.domain.credentials import CredentialKind, Principal
from roster.services.access import authenticate

bearer = HTTPBearer(auto_error=False, description="A Roster token: `Authorization: Bearer rst.…`")


# Dependencies that do no blocking work are `async def`: FastAPI runs a plain `def`
# dependency in the threadpool, a hop per dependency per request.


def container_of(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


async def get_container(request: Request) -> Container:
    return container_of(request)


ContainerDep = Annotated[Container, Depends(get_container)]


def get_principal(
    request: Request,
    container: ContainerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller, checked against the user's status as it is now (one query)."""
    token = credentials.credentials if credentials else None
    with container.engine.connect() as conn:
        principal = bearer_only(authenticate(conn, token, container.clock()))
    request.state.workspace_id = principal.workspace_id  # for the request's log line
    return principal


def bearer_only(principal: Principal) -> Principal:
    """Refuse the dashboard's session cookie sent as a bearer token: its route,
    admin_profile, may lift blocks, which only the dashboard's profile page may do."""
    if principal.kind == CredentialKind.SESSION:
        raise errors.Unauthenticated("A valid credential is needed: sign in or send a token.")
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def require_admin(principal: PrincipalDep) -> Principal:
    """A human owner or admin: dashboard session, API session or personal token."""
    if not principal.is_admin:
        raise errors.Forbidden("Only owners and admins may do this.")
    return principal


AdminDep = Annotated[Principal, Depends(require_admin)]


async def get_request_id(request: Request) -> str:
    """This request's id, as the RequestIds middleware chose it."""
    request_id: str = request.state.request_id
    return request_id


RequestIdDep = Annotated[str, Depends(get_request_id)]


def require_kinds(*kinds: CredentialKind) -> object:
    async def check(principal: PrincipalDep) -> Principal:
        if principal.kind not in kinds and not principal.is_admin:
            raise errors.Forbidden("This credential may not do this.")
        return principal

    return Depends(check)
