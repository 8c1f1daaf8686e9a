"""What the metrics and the log line say of a request: the route template it matched,
and how it was answered (`answered`)."""

import time
from collections.abc import Callable

from fastapi.routing import iter_route_contexts
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class Templates:
    """The full path template of each route (`/api/v1/users/{user_id}`), never the raw
    path: one series per route, however many ids callers send. A route included with
    a prefix knows only its own part, so the whole app's routes are read once."""

    def __init__(self) -> None:
        self.paths: dict[int, str] | None = None

    def of(self, scope: Scope) -> str:
        route = scope.get("route")
        if route is None:
            return "unmatched"
        if self.paths is None:  # the routes are all in place by the first request
            routes = iter_route_contexts(scope["app"].routes)
            self.paths = {id(c.original_route): c.path_format or "" for c in routes}
        path = self.paths.get(id(route)) or getattr(route, "path", "") or "unmatched"
        return path + "/{path}" if isinstance(route, Mount) else path


async def answered(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, done: Callable[[int, float], None]
) -> None:
    """Run `app` on an HTTP request, then tell `done` its status (500 when it raised
    before answering) and the seconds it took, even when it raised."""
    started, status = time.perf_counter(), 500

    async def send_noting_status(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        await send(message)

    try:
        await app(scope, receive, send_noting_status)
    finally:
        done(status, time.perf_counter() - started)
