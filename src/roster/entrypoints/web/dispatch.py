"""Route matching by path prefix: a request is matched only against the entries of
the route table that could match its path, in their order.

FastAPI tries every entry of the app's route table in order, and every route of an
included router in turn (a regular expression each, twice for a path that matches
nothing, because of the trailing-slash redirect). With some hundred routes, the
dashboard's pages (registered after the API) paid ~0.3 ms a request for it.

Each entry of the table (an included router, a mount, a route) has a literal head
that every path it can match starts with: the longest common start of its routes'
paths, up to their first `{parameter}`. For a request whose path starts with head
H (the longest head it starts with), the entries that can match are exactly those
whose head is a start of H (H is the longest, so every other head p starts with is
a start of H): a "lane", one per distinct head, computed once. The
request goes through the lane's router, which is FastAPI's own router code over
that shorter list, so what matches, the 405s, the trailing-slash redirects and the
404s are what the whole table gives. The app's table itself is unchanged: the
OpenAPI document, `url_path_for` and the lifespan still use it.
"""

import os
from collections.abc import Iterable

from fastapi.routing import APIRouter
from starlette._utils import get_route_path  # the path routing itself matches
from starlette.routing import BaseRoute
from starlette.types import Receive, Scope, Send


def _literal(path: str) -> str:
    """The part of a route path before its first parameter, without a trailing "/"
    (a path with one more or one less "/" is redirected, so it must find the entry)."""
    return path.split("{", 1)[0].rstrip("/")


def head_of(entry: BaseRoute) -> str:
    """What every path `entry` can match starts with; "" when that is unknown (then
    the entry is tried for every path, as before)."""
    leaves: Iterable[object] = getattr(entry, "effective_route_contexts", lambda: [entry])()
    paths = [getattr(leaf, "path", None) for leaf in leaves]
    if not paths or not all(isinstance(p, str) and p.startswith("/") for p in paths):
        return ""
    # A start character by character, not by segment: "/api/v1/user" is a start of
    # both "/api/v1/users" and "/api/v1/user-groups", which is all a head promises.
    literals = [_literal(p) for p in paths if isinstance(p, str)]
    return _literal(os.path.commonprefix(literals))  # noqa: RUF071


class PrefixDispatch:
    """The app router's entry point (`router.middleware_stack`), choosing the lane."""

    def __init__(self, router: APIRouter) -> None:
        if router.middleware_stack != router.app:  # router middleware would be bypassed
            raise ValueError("PrefixDispatch expects a router without middleware of its own")
        self.router = router
        self.entries = list(router.routes)
        heads = [(head_of(entry), entry) for entry in self.entries]
        lanes = {}
        for head in sorted({h for h, _ in heads}, key=len, reverse=True):
            lane = APIRouter(
                routes=[entry for h, entry in heads if head.startswith(h)],
                redirect_slashes=router.redirect_slashes,
                default=router.default,
            )
            lanes[head] = lane
        self.lanes = list(lanes.items())  # longest head first

    def lane_for(self, path: str) -> APIRouter:
        if getattr(self.router, "_low_priority_routes", None):
            return self.router  # FastAPI's fallback routes (frontends) are the table's own
        for head, lane in self.lanes:
            if path.startswith(head):
                return lane
        return self.router  # no head matches (no entry with head ""): the whole table

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self.router.routes != self.entries:
            await self.router.app(scope, receive, send)  # lifespan; or a route added since
            return
        scope.setdefault("router", self.router)  # url_path_for over the whole table
        lane = self.lane_for(get_route_path(scope))
        await lane.app(scope, receive, send)
