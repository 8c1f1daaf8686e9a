"""A query parameter the operation does not take is refused, naming it.

Without this a misspelt filter or an old pagination name (`?after=…` where the
list takes `cursor`) is silently ignored, and the caller reads page 1, or every
user, forever. One dependency on every API router (app.py) compares the request's
query parameters with those the matched operation declares, in its own signature
and in its dependencies'.
"""

from collections.abc import Iterator

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute


async def refuse_unknown_query_params(request: Request) -> None:
    """422 `validation_error` naming each query parameter the operation does not take."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    declared = set(_query_names(route.dependant))
    unknown = [name for name in request.query_params if name not in declared]
    if unknown:
        takes = ", ".join(sorted(declared)) or "no query parameters"
        raise RequestValidationError(
            [
                {
                    "loc": ("query", name),
                    "msg": f"Unknown query parameter {name!r}; this operation takes: {takes}.",
                    "type": "extra_forbidden",
                }
                for name in unknown
            ]
        )


def _query_names(dependant: Dependant) -> Iterator[str]:
    yield from (field.alias for field in dependant.query_params)
    for sub in dependant.dependencies:
        yield from _query_names(sub)
