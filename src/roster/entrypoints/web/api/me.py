"""The caller."""

from fastapi import APIRouter

from roster.domain import errors
from roster.entrypoints.web.api.schemas import UserOut
from roster.entrypoints.web.deps import PrincipalDep
from roster.entrypoints.web.problems import responses
from roster.services.queries import UserView

router = APIRouter(tags=["me"])


@router.get("/me", response_model=UserOut, responses=responses(401, 404))
def me(principal: PrincipalDep) -> UserOut:
    """The signed-in user (sessions and personal tokens), from the credential check
    itself: no second query."""
    if principal.user is None or principal.created_at is None:
        raise errors.NotFound("This credential belongs to an integration, not a user.")
    view = UserView(principal.user, principal.last_seen_at, principal.created_at)
    return UserOut.of(view, principal.route, principal.policy)
