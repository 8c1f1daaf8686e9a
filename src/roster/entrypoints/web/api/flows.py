"""The `upgrade` flow: the host app reports an action that needs a seat."""

from fastapi import APIRouter
from pydantic import BaseModel

from roster.domain.vocabulary import Route, Status
from roster.entrypoints.web.api.invitations import SERVICE_OR_ADMIN
from roster.entrypoints.web.api.schemas import UserOut
from roster.entrypoints.web.deps import ContainerDep, PrincipalDep
from roster.entrypoints.web.problems import responses
from roster.services import queries
from roster.services.status import change_status

router = APIRouter(prefix="/users", tags=["flows"])


class UpgradeOut(BaseModel):
    user: UserOut
    changed: bool


@router.post(
    "/{user_id}/upgrade",
    response_model=UpgradeOut,
    responses=responses(401, 403, 404, 409),
    dependencies=[SERVICE_OR_ADMIN],
)
def upgrade(user_id: str, principal: PrincipalDep, container: ContainerDep) -> UpgradeOut:
    """An Inactive user did something that needs a seat: make them Active (route
    upgrade). An Active user is unchanged; a Blocked one is refused (`user_blocked`)
    and a full workspace is `seat_limit_reached`, both audited."""
    result = change_status(
        container.uow(),
        workspace_id=principal.workspace_id,
        user_id=user_id,
        to=Status.ACTIVE,
        route=Route.UPGRADE,
        actor=principal.actor,
        now=container.clock(),
    )
    with container.engine.connect() as conn:
        view = queries.user_by_id(conn, principal.workspace_id, result.user.id)
        counts = queries.user_counts_of(conn, principal.workspace_id)
    return UpgradeOut(
        user=UserOut.seen_by(view, principal, counts, Route.UPGRADE), changed=result.changed
    )
