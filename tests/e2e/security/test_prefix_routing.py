"""Routing by path prefix answers every request as the whole route table does.

The app matches a request only against the route-table entries its path can reach
(entrypoints/web/dispatch.py). For every route the app has, with its path as
written, with one "/" more or less, and with something after it, and for paths
near the interfaces' prefixes, every method must get the same answer (status,
headers, body) as from the same app matching against its whole table.
"""

import pytest
from fastapi.testclient import TestClient

from roster.bootstrap import Container
from roster.entrypoints.web.admin.session import PRESESSION_COOKIE
from roster.entrypoints.web.app import create_app
from roster.entrypoints.web.dispatch import PrefixDispatch, head_of
from tests.e2e.security.conftest import api_routes

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
NEAR = [
    *("/", "/api", "/api/", "/api/v1", "/api/v1/", "/api/v2/users", "/apix"),
    *("/admin", "/admin/", "/adminx", "/admin/static/admin.css", "/admin/static/nope.css"),
    *("/scim", "/scim/v2", "/scim/v2/", "/scim/v2x/Users", "/healthz/", "/openapi.json/"),
    *("/api/v1/usersx", "/api/v1/users/x/y/z", "/invitations", "/invitations/", "/nowhere"),
]


def _paths(container: Container) -> list[str]:
    app = create_app(container)
    written = {path.replace("{", "").replace("}", "") for path, _ in api_routes(app)}
    variants = {v for p in written for v in (p, p + "/", p.rstrip("/"), p + "/more")}
    return sorted(variants | set(NEAR))


def _answer(client: TestClient, method: str, path: str) -> tuple[int, list[tuple[str, str]], bytes]:
    r = client.request(method, path, follow_redirects=False)
    headers = sorted((k, v) for k, v in r.headers.items() if k not in {"date", "x-request-id"})
    return r.status_code, headers, r.content


@pytest.mark.parametrize("method", METHODS)
def test_every_path_gets_the_answer_the_whole_table_gives(
    container: Container, method: str
) -> None:
    by_prefix = create_app(container)
    assert isinstance(by_prefix.router.middleware_stack, PrefixDispatch)
    whole = create_app(container)
    whole.router.middleware_stack = whole.router.app  # match against every entry
    with TestClient(by_prefix) as fast, TestClient(whole) as slow:
        for client in (fast, slow):  # the sign-in form's CSRF secret, not a random one
            client.cookies.set(PRESESSION_COOKIE, "p" * 43, path="/admin")
        for path in _paths(container):
            assert _answer(fast, method, path) == _answer(slow, method, path), path


def test_each_route_is_in_the_lane_of_its_own_path(container: Container) -> None:
    app = create_app(container)
    dispatch = app.router.middleware_stack
    assert isinstance(dispatch, PrefixDispatch)
    for entry in app.router.routes:
        for path, _ in api_routes_of(entry):
            assert entry in dispatch.lane_for(path.replace("{", "").replace("}", "")).routes


def api_routes_of(entry: object) -> list[tuple[str, object]]:
    contexts = getattr(entry, "effective_route_contexts", None)
    if contexts is None:
        path = getattr(entry, "path", None)
        return [(path, entry)] if isinstance(path, str) else []
    return [(ctx.path, ctx) for ctx in contexts()]


def test_a_head_is_what_every_path_of_its_entry_starts_with(container: Container) -> None:
    app = create_app(container)
    for entry in app.router.routes:
        head = head_of(entry)
        for path, _ in api_routes_of(entry):
            assert path.startswith(head), (head, path)
