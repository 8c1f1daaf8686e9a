"""Users in the REST API."""

from typing import Annotated

from fastapi import APIRouter, Header, Response

from roster.domain import errors
from roster.domain.credentials import Principal
from roster.entrypoints.web.api.schemas import (
    Revocations,
    StatusChangeBody,
    StatusChangeOut,
    UserOut,
    parse_etag,
)
from roster.entrypoints.web.deps import ContainerDep, PrincipalDep
from roster.entrypoints.web.problems import responses
from roster.services import queries
from roster.services.status import change_status

router = APIRouter(prefix="/users", tags=["users"])


def _may_change_statuses(principal: Principal) -> None:
    """Admins (admin_api) and integrations (service → automation, scim) may; members may not."""
    if (
        principal.user is not None
        and not principal.is_admin
        and principal.kind.value in ("session", "api_session", "personal")
    ):
        raise errors.Forbidden("Only owners and admins may change a user's status.")


def _user_out(container: ContainerDep, principal: Principal, user_id: str) -> UserOut:
    with container.engine.connect() as conn:
        view = queries.user_by_id(conn, principal.workspace_id, user_id)
    return UserOut.of(view, principal.route, principal.policy)


@router.get("/{user_id}", response_model=UserOut, responses=responses(401, 403, 404))
def read(
    user_id: str, principal: PrincipalDep, container: ContainerDep, response: Response
) -> UserOut:
    """One user, with an ETag to send back in If-Match."""
    _may_change_statuses(principal)
    out = _user_out(container, principal, user_id)
    response.headers["ETag"] = out.etag
    return out


@router.put(
    "/{user_id}/status",
    response_model=StatusChangeOut,
    responses=responses(401, 403, 404, 409, 412, 422),
)
def put_status(
    user_id: str,
    body: StatusChangeBody,
    principal: PrincipalDep,
    container: ContainerDep,
    response: Response,
    if_match: Annotated[
        str | None, Header(description="The user's ETag, to refuse a stale write.")
    ] = None,
) -> StatusChangeOut:
    """Change one user's status through the caller's route (a personal token:
    admin_api; a service token: automation). Refusals are audited."""
    _may_change_statuses(principal)
    result = change_status(
        container.uow(),
        workspace_id=principal.workspace_id,
        user_id=user_id,
        to=body.status,
        route=principal.route,
        actor=principal.actor,
        reason_code=body.reason_code,
        note=body.note,
        now=container.clock(),
        expected_version=parse_etag(if_match),
    )
    out = _user_out(container, principal, result.user.id)
    response.headers["ETag"] = out.etag
    r = result.revoked
    return StatusChangeOut(
        user=out,
        changed=result.changed,
        revoked=Revocations(
            sessions=r.sessions,
            tokens=r.tokens,
            invitations=r.invitations,
            automations=r.automations,
        ),
    )
