"""The transition table of PRODUCT §3: the one place that says who may change what.

Every other layer asks this module; none branches on status itself.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from roster.domain.vocabulary import Route, Status

A, I, B = Status.ACTIVE, Status.INACTIVE, Status.BLOCKED  # noqa: E741 - the table reads as a grid
# Every route that changes statuses: a password reset changes none (it only names
# the refused attempts of Blocked users), so it is in no row of the table.
_EVERY_ROUTE = frozenset(Route) - {Route.PASSWORD_RESET}
_OFFBOARD = frozenset(
    {Route.ADMIN_PROFILE, Route.ADMIN_API, Route.CLI, Route.BULK, Route.AUTOMATION, Route.SCIM}
)
_BLOCK = frozenset({Route.ADMIN_PROFILE, Route.ADMIN_API, Route.CLI, Route.BULK, Route.AUTOMATION})
# Unblocking is deliberately manual: an IdP re-sync, a rule or a bulk job must not
# undo a block. The admin API may only where the workspace opts in.
_UNBLOCK = frozenset({Route.ADMIN_PROFILE, Route.CLI})
_UNBLOCK_OPT_IN = frozenset({Route.ADMIN_API})

TRANSITIONS: Mapping[tuple[Status, Status], frozenset[Route]] = {
    (A, I): _OFFBOARD,
    (A, B): _BLOCK,
    (I, A): _EVERY_ROUTE,
    (I, B): _BLOCK,
    (B, A): _UNBLOCK,
    (B, I): _UNBLOCK,
}
"""(from, to) → the routes that may make that change."""

OPT_IN_UNBLOCK_ROUTES: Mapping[tuple[Status, Status], frozenset[Route]] = {
    (B, A): _UNBLOCK_OPT_IN,
    (B, I): _UNBLOCK_OPT_IN,
}
"""Extra routes allowed only where the workspace turns on `allow_api_unblock`."""

# Who may change what identifies or empowers a Blocked user (their address, SCIM
# userName, externalId and emails, role, password) or issue them a credential: the
# two routes that may always lift a block. Otherwise an identity provider could
# rename a Blocked account, freeing its address, and provision the person anew.
IDENTITY_ROUTES = frozenset({Route.ADMIN_PROFILE, Route.CLI})

# Routes where the actor is an admin acting on someone: they may not target themself.
SELF_CHANGE_FORBIDDEN = frozenset({Route.ADMIN_PROFILE, Route.ADMIN_API, Route.BULK})


@dataclass(frozen=True, slots=True)
class Policy:
    """The workspace settings that the rules read."""

    allow_api_unblock: bool = False
    seat_limit: int | None = None


def allowed_routes(current: Status, target: Status, policy: Policy) -> frozenset[Route]:
    routes = TRANSITIONS.get((current, target), frozenset())
    if policy.allow_api_unblock:
        routes = routes | OPT_IN_UNBLOCK_ROUTES.get((current, target), frozenset())
    return routes


def is_allowed(current: Status, target: Status, route: Route, policy: Policy) -> bool:
    """Whether the table lets `route` move a user from `current` to `target`."""
    return current == target or route in allowed_routes(current, target, policy)


def allowed_targets(current: Status, route: Route, policy: Policy) -> list[Status]:
    """The statuses `route` may move a user in `current` to (excluding staying put)."""
    return [t for t in Status if t != current and is_allowed(current, t, route, policy)]
