"""The route template a request matched, for its metrics and its log line."""

from fastapi.routing import iter_route_contexts
from starlette.routing import Mount
from starlette.types import Scope


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
