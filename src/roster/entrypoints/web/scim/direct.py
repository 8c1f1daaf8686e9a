"""The requests identity providers send all day (the userName list, a user's GET
and PATCH) handed to their views without FastAPI's request handling.

Those views authenticate themselves (the token check and the reads share one
connection) and take only what a request holds as it is: the request, the
container, the body's bytes (`raw`) and the path parameters, each a plain `str`.
FastAPI's dependency solving and parameter handling would hand them exactly those
(`ContainerDep`, `RawBody`, a `str` path parameter), at ~0.1 ms a request; here
they are read directly and the view runs in one worker-thread hop
(`worker_hop.run_in_worker`), its failures answered as SCIM Errors by the same
`to_response`. An app with dependency overrides
(tests) goes FastAPI's way; tests/e2e/scim/test_direct_routes.py compares the two.
"""

import inspect
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any

from fastapi import Request, Response

from roster.entrypoints.web.deps import container_of
from roster.entrypoints.web.scim.errors import ScimRoute, to_response
from roster.entrypoints.web.worker_hop import run_in_worker

_GIVEN = frozenset({"request", "container", "raw"})


class DirectScimRoute(ScimRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        general = super().get_route_handler()
        view = self.endpoint
        names = list(inspect.signature(view).parameters)
        path_names = {p.name for p in self.dependant.path_params}
        if inspect.iscoroutinefunction(view) or not set(names) <= _GIVEN | path_names:
            raise TypeError(f"{view.__name__} is not a view DirectScimRoute can call")

        async def handler(request: Request) -> Response:
            if request.app.dependency_overrides:
                return await general(request)
            try:
                given: dict[str, Any] = {}
                for name in names:
                    if name == "request":
                        given[name] = request
                    elif name == "container":
                        given[name] = container_of(request)
                    elif name == "raw":
                        given[name] = await request.body()
                    else:
                        given[name] = request.path_params[name]
                answer: Response = await run_in_worker(partial(view, **given))
                return answer
            except Exception as exc:
                return to_response(exc)

        return handler
