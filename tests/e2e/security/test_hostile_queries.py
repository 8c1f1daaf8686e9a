"""Query strings under hostile values: list filters, cursors, sorts, limits and dates
on every GET under /api/v1 (read from /openapi.json) and on the dashboard's users,
audit and billing pages and their CSVs. Garbage cursors, huge limits and dates at the
calendar's edges get a 4xx (a problem with a `code` in the API, a page or a problem
on the dashboard), never a server error, and a read changes nothing.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.e2e.admin.conftest import sign_in
from tests.e2e.security.hostile_kit import (
    World,
    hostile,
    make_world,
    migrated_container,
    no_server_error,
    refused_as_problem,
    sent,
    snapshot,
    unchanged,
    violation,
)


@pytest.fixture(scope="module")
def world(sqlite_url: str) -> Iterator[World]:
    for w in make_world(migrated_container(sqlite_url)):
        answer = sign_in(w.client, w.tenant, "root@h.example")
        assert answer.status_code == 303, answer.text
        yield w


DASHBOARD = {
    "/admin/users": ["q", "status", "after", "before"],
    "/admin/audit": ["before", "user", "route", "outcome", "since", "until"],
    "/admin/audit.csv": ["user", "route", "outcome", "since", "until"],
    "/admin/billing": ["from", "to"],
    "/admin/billing.csv": ["from", "to"],
}
EDGES = [
    "", "0", "-1", "9" * 40, "-" + "9" * 40, "1e400", "NaN", "inf", "0x10", "\uff11\uff12",
    "0001-01-01", "9999-12-31", "0000-00-00", "2026-02-30", "2026-13-01", "10000-01-01",
    "2026-01-01T25:61:61", "2026-01-01T00:00:00+25:00", "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00", "2026-W53-8", "' OR 1=1 --", "%", "_", "\\", "../..",
    "\u202e", "a\u0000b", "x" * 5000, "active", "blocked", "email", "-email", "status,id",
]  # fmt: skip

values = st.one_of(
    st.sampled_from(EDGES),
    st.text(max_size=40),
    st.integers(-(2**70), 2**70).map(str),
    st.builds(
        "{:04d}-{:02d}-{:02d}{}".format,
        st.integers(0, 10_000),
        st.integers(0, 13),
        st.integers(0, 32),
        st.sampled_from(["", "T00:00:00", "T23:59:59Z", "T12:00:00+14:00", "T00:00:00-12:00"]),
    ),
)


_found: dict[int, dict[str, list[str]]] = {}


def api_lists(world: World) -> dict[str, list[str]]:
    """Each GET /api/v1 list and its query parameters, from /openapi.json."""
    if id(world) not in _found:
        _found[id(world)] = _api_lists(world)
    return _found[id(world)]


def _api_lists(world: World) -> dict[str, list[str]]:
    spec = world.client.get("/openapi.json").json()
    found = {}
    for template, item in spec["paths"].items():
        op = item.get("get")
        names = [p["name"] for p in (op or {}).get("parameters", []) if p["in"] == "query"]
        if template.startswith("/api/v1/") and names and "{" not in template:
            found[template] = names
    return found


@hostile(90)
@given(st.data())
@example(None)
def test_hostile_api_query_strings_get_a_problem_never_a_500(
    world: World, data: st.DataObject | None
) -> None:
    lists = api_lists(world)
    if data is None:  # the ones that were server errors
        for path, params in [
            ("/api/v1/audit-events", {"cursor": "9" * 40}),
            ("/api/v1/audit-events", {"cursor": "9223372036854775808"}),
            ("/api/v1/users", {"q": "a\x00b"}),
            ("/api/v1/users", {"limit": "9" * 40, "cursor": "%%%"}),
            ("/api/v1/users", {"limit": "9" * 5000}),  # int() refuses past 4,300 digits
        ]:
            _check_api(world, path, params)
        return
    path = data.draw(st.sampled_from(sorted(lists)), label="path")
    params = data.draw(
        st.dictionaries(st.sampled_from(lists[path]), values, min_size=1, max_size=3),
        label="params",
    )
    _check_api(world, path, params)


def _check_api(world: World, path: str, params: dict[str, str]) -> None:
    before = snapshot(world)
    sent()
    r = world.client.get(path, params=params, headers=world.personal)
    what = f"GET {path} {params!r:.300}"
    if r.status_code >= 400:
        refused_as_problem(r, what)
    no_server_error(r, what)
    unchanged(world, before, what)


@hostile(70)
@given(st.sampled_from(sorted(DASHBOARD)), st.data())
@example("/admin/audit", {"before": "9" * 40})  # was a 500 (SQLite integer overflow)
@example("/admin/audit", {"until": "9999-12-31"})  # was a 500 (date overflow)
@example("/admin/audit.csv", {"until": "9999-12-31"})
@example("/admin/billing", {"to": "0001-01-01"})  # was a 500 (date overflow)
@example("/admin/billing.csv", {"to": "0001-01-01"})
@example("/admin/users", {"q": "a\x00b"})  # was a 500 on PostgreSQL
@example("/admin/users", {"after": "a\x00b"})
def test_hostile_dashboard_query_strings_get_a_page_or_a_4xx(
    world: World, path: str, data: Any
) -> None:
    params = (
        data
        if isinstance(data, dict)
        else data.draw(st.dictionaries(st.sampled_from(DASHBOARD[path]), values, min_size=1))
    )
    before = snapshot(world)
    sent()
    r = world.client.get(path, params=params, follow_redirects=False)
    what = f"GET {path} {params!r:.300}"
    no_server_error(r, what)
    kind = r.headers.get("content-type", "")
    if r.status_code >= 400 and not kind.startswith(("text/html", "application/problem+json")):
        violation(f"{what}: a {r.status_code} that is neither a page nor a problem: {kind}")
    if r.status_code in (302, 303) and "/sign-in" in r.headers.get("location", ""):
        violation(f"{what}: the query string signed the admin out")
    unchanged(world, before, what)
