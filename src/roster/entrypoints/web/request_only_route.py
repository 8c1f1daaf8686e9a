"""A route for an endpoint that takes only the Request and returns a Response.

FastAPI's request handler does the same work for every route: it looks for a
body, solves the endpoint's dependencies (here: none but the Request), checks
for errors and then, the endpoint having returned a Response, hands that on as
it is. For such an endpoint all of that (~30 µs a request) ends in calling it
with the Request, so `RequestOnlyRoute` calls it straight. An app with dependency
overrides (tests) still goes FastAPI's way. The endpoint's exceptions reach the
app's exception handlers exactly as before (they are handled around this
handler, not in it). tests/e2e/admin/test_request_only_route.py compares the two
ways' answers.
"""

import inspect
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute


class RequestOnlyRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        d = self.dependant
        params = (d.path_params, d.query_params, d.header_params, d.cookie_params)
        if (
            d.request_param_name is None
            or any(params)
            or d.body_params
            or d.dependencies
            or self.body_field is not None
            or not _is_async(endpoint)
        ):
            raise TypeError(f"{path}: RequestOnlyRoute needs `async def f(request) -> Response`")

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        general = super().get_route_handler()
        endpoint = self.endpoint

        async def handler(request: Request) -> Response:
            if request.app.dependency_overrides:
                return await general(request)
            response = await endpoint(request)
            if not isinstance(response, Response):  # FastAPI would serialise it
                raise TypeError("a RequestOnlyRoute endpoint must return a Response")
            return response

        return handler


def _is_async(endpoint: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(endpoint)
