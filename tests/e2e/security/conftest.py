"""Helpers shared by the authorization matrix and the web security tests."""

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute


def api_routes(app: FastAPI) -> Iterator[tuple[str, APIRoute]]:
    """Every (full path, route) the app answers, including routes of included
    routers, so that a new page or endpoint is found without being listed."""
    for route in app.routes:
        contexts: Any = getattr(route, "effective_route_contexts", None)
        if contexts is not None:  # FastAPI >= 0.16x keeps included routers as a tree
            for ctx in contexts():
                if isinstance(ctx.original_route, APIRoute):
                    yield ctx.path, ctx.original_route
        elif isinstance(route, APIRoute):
            yield route.path, route
