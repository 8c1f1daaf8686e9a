"""The caller."""

from fastapi import APIRouter

from roster.domain import errors
from roster.entrypoints.web.api.schemas import UserOut
from roster.entrypoints.web.deps import ContainerDep, PrincipalDep
from roster.entrypoints.web.problems import responses
from roster.services.queries import UserView, user_counts_of

router = APIRouter(tags=["me"])


@router.get("/me", response_model=UserOut, responses=responses(401, 404))
def me(principal: PrincipalDep, container: ContainerDep) -> UserOut:
    """The signed-in user (sessions and personal tokens), from the credential check
    itself, and the workspace's counts (one key lookup) for `allowed_transitions`."""
    if principal.user is None or principal.created_at is None:
        raise errors.NotFound("This credential belongs to an integration, not a user.")
    view = UserView(principal.user, principal.last_seen_at, principal.created_at)
    with container.engine.connect() as conn:
        counts = user_counts_of(conn, principal.workspace_id)
    return UserOut.seen_by(view, principal, counts)
