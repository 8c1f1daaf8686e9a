"""The hottest GETs (the users list, the users page) answered ahead of the routing.

A request reaches a route through FastAPI's exception middleware, its exit-stack
middleware, the router (the prefix lanes of dispatch.py, then the included router's
own matching), the route's request handler and the Request it builds: ~0.1-0.15 ms
of the event loop's time a request on this machine, for a page whose queries take
~0.4 ms. `FastLanes`, the innermost of the app's own middleware (inside the body
limit, the NUL guard and the security headers, which still act on every request),
sends a GET for one of a few exact paths straight to that path's lane. A lane
answers the request, or gives it back (None); a lane that raises gives it back too,
and the whole app answers: refusals, redirects and errors are the app's own. So is
every request to an app with dependency overrides (tests).

tests/e2e/api/test_users_list_fast.py and tests/e2e/admin/test_users_page_lane.py
compare each lane's answers with the whole app's, byte for byte, for many callers
and query strings, and check that the lanes really answer.
"""

from collections.abc import Awaitable, Callable, Mapping

from starlette._utils import get_route_path  # the path routing itself matches
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

Lane = Callable[[Scope, Receive], Awaitable[Response | None]]


class FastLanes:
    """Pure ASGI middleware: GET `path` goes to `lanes[path]` first."""

    def __init__(self, app: ASGIApp, lanes: Mapping[str, Lane]) -> None:
        self.app = app
        self.lanes = dict(lanes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lane = self._lane(scope)
        answer = None
        if lane is not None:
            try:
                answer = await lane(scope, receive)
            except Exception:  # the whole app answers it, as it answers any error
                answer = None
        if answer is None:
            await self.app(scope, receive, send)
        else:
            await answer(scope, receive, send)

    def _lane(self, scope: Scope) -> Lane | None:
        if scope["type"] != "http" or scope["method"] != "GET":
            return None
        if scope["app"].dependency_overrides:
            return None
        return self.lanes.get(get_route_path(scope))


def endpoint_lane(endpoint: Callable[[Request], Awaitable[Response]]) -> Lane:
    """A lane that calls `endpoint` (an `async def f(request) -> Response` route of
    no declared parameters) with the request, as its route would."""

    async def lane(scope: Scope, receive: Receive) -> Response:
        return await endpoint(Request(scope, receive))

    return lane
