"""The hostile inputs that only PostgreSQL turned into server errors (it refuses NUL
in text and NaN in JSON, and its integers stop at 2^63), replayed on PostgreSQL:
NUL in URLs, forms, SCIM bodies, rules and CSV files; NaN and infinities in event
data; offsets and cursors past 2^63. Each is a 4xx and changes nothing.

A small fixed set (the Hypothesis runs are on SQLite): about a second.
"""

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from typer.testing import CliRunner

from roster.config import get_settings
from roster.entrypoints.cli import common
from roster.entrypoints.cli.main import app
from tests.e2e.admin.conftest import csrf_of, sign_in
from tests.e2e.security.hostile_kit import (
    World,
    hostile,
    make_world,
    migrated_container,
    no_server_error,
    refused_as_problem,
    refused_as_scim_error,
    sent,
    snapshot,
    unchanged,
    violation,
)

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
NUL = "a\x00b"


@pytest.fixture(scope="module")
def world(postgresql_url: str) -> Iterator[World]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ROSTER_DATABASE_URL", postgresql_url)
        get_settings.cache_clear()
        common.container.cache_clear()
        yield from make_world(migrated_container(postgresql_url))
        common.container().engine.dispose()
        common.container.cache_clear()
        get_settings.cache_clear()


def test_nul_in_any_url_is_a_4xx_on_postgresql(world: World) -> None:
    paths = {
        "/api/v1/users/a%00b": "problem",
        "/api/v1/bulk-actions/a%00b": "problem",
        "/api/v1/automations/a%00b": "problem",
        "/api/v1/audit-events?cursor=9223372036854775808": "problem",
        "/scim/v2/Users/a%00b": "scim",
        "/scim/v2/Users?filter=userName%20eq%20%22a%00b%22": "scim",
        "/scim/v2/Users?startIndex=9223372036854775809": "ok",
        "/admin/users/a%00b": "dashboard",
        "/admin/users?q=a%00b": "dashboard",
        "/admin/users?after=a%00b": "dashboard",
        "/admin/audit?user=a%00b": "dashboard",
        "/admin/audit?before=99999999999999999999": "dashboard",
        "/admin/automations/a%00b": "dashboard",
    }
    assert sign_in(world.client, world.tenant, "root@h.example").status_code == 303
    for path, shape in paths.items():
        headers = world.scim if path.startswith("/scim") else world.personal
        before = snapshot(world)
        sent()
        r = world.client.get(path, headers=headers)
        if shape == "problem":
            refused_as_problem(r, path)
        elif shape == "scim":
            refused_as_scim_error(r, path)
        elif shape == "dashboard":
            no_server_error(r, path)
            if r.status_code < 400:
                violation(f"{path}: answered {r.status_code}")
        else:
            no_server_error(r, path)
        unchanged(world, before, path)


def test_nul_nan_and_infinity_in_bodies_are_4xx_on_postgresql(world: World) -> None:
    scim = world.scim | {"Content-Type": "application/scim+json"}
    api = world.personal | {"Content-Type": "application/json"}
    service = world.service | {"Content-Type": "application/json"}
    rule = {
        "name": NUL,
        "trigger": {"type": "schedule", "daily_at": "03:00"},
        "action": {"type": "set_status", "status": "inactive"},
    }
    event = '{"type": "payment.failed", "user_id": "%s", "data": {"x": %s}}'
    user = {"schemas": [USER], "userName": "n@h.example"}
    bodies = [
        ("/scim/v2/Users", scim, user | {"displayName": NUL}),
        ("/scim/v2/Users", scim, user | {"externalId": NUL}),
        ("/scim/v2/Users", scim, user | {"name": {"givenName": NUL}}),
        ("/scim/v2/Groups", scim, {"schemas": [GROUP], "displayName": NUL}),
        ("/scim/v2/Users", scim, user | {"externalId": "x" * 5000}),  # past varchar(255)
        ("/scim/v2/Groups", scim, {"schemas": [GROUP], "displayName": "g", "externalId": "x" * 256}),  # noqa: E501
        ("/api/v1/automations", api, rule),
        ("/api/v1/events", service, event % (world.active, "NaN")),
        ("/api/v1/events", service, event % (world.active, "1e400")),
        ("/api/v1/users", api, {"email": "n4@h.example", "name": NUL}),
        ("/api/v1/bulk-actions", api, {"status": "inactive", "filter": {"q": NUL}}),
        ("/api/v1/bulk-actions", api, {"status": "inactive", "user_ids": [NUL]}),
        ("/api/v1/bulk-actions", api, {"status": "inactive", "user_ids": [], "note": NUL}),
    ]  # fmt: skip
    for path, headers, body in bodies:
        content = body if isinstance(body, str) else json.dumps(body)
        before = snapshot(world)
        sent()
        r = world.client.post(path, content=content, headers=headers)
        what = f"POST {path} {content[:120]}"
        if path.startswith("/scim"):
            refused_as_scim_error(r, what)
        else:
            refused_as_problem(r, what, 422)
        unchanged(world, before, what)


def test_a_display_name_past_its_column_is_cut_not_a_500_on_postgresql(world: World) -> None:
    sent()
    body = {"schemas": [USER], "userName": "long@h.example", "displayName": "x" * 5000}
    r = world.client.post(
        "/scim/v2/Users",
        content=json.dumps(body),
        headers=world.scim | {"Content-Type": "application/scim+json"},
    )
    no_server_error(r, "a 5000-character displayName")
    assert r.status_code == 201, r.text
    assert len(r.json()["displayName"]) == 255


def test_nul_in_dashboard_forms_is_a_4xx_on_postgresql(world: World) -> None:
    client = world.client
    form = csrf_of(client.get("/admin/sign-in"))
    slug = world.tenant.workspace.slug
    for data in (
        {"workspace": NUL, "email": "root@h.example", "password": "x"},
        {"workspace": slug, "email": NUL, "password": "x"},
    ):
        before = snapshot(world)
        sent()
        r = client.post("/admin/sign-in", data=data | {"csrf_token": form}, follow_redirects=False)
        refused_as_problem(r, f"sign-in with {data}")
        unchanged(world, before, f"sign-in with {data}")
    assert sign_in(client, world.tenant, "root@h.example").status_code == 303
    profile = f"/admin/users/{world.active}"
    for page, action, data in (
        (profile, f"{profile}/status", {"to": "inactive", "note": NUL, "version": "1"}),
        ("/admin/tokens", "/admin/tokens", {"name": NUL, "kind": "personal"}),
        ("/admin/tokens", "/admin/tokens", {"name": "n" * 500, "kind": "service"}),  # varchar
        ("/admin/settings", "/admin/settings", {"seat_limit": "3000000000"}),  # int4
    ):
        token = csrf_of(client.get(page))
        before = snapshot(world)
        sent()
        r = client.post(action, data=data | {"csrf_token": token}, follow_redirects=False)
        what = f"POST {action} {data!r:.80}"
        no_server_error(r, what)
        back_to_form = r.status_code == 303 and r.headers["location"] == page  # PRG refusal
        if r.status_code != 422 and not back_to_form:
            violation(f"{what}: answered {r.status_code}, not 422 nor a redirect back to the form")
        unchanged(world, before, what)


def test_nul_in_an_imported_file_names_its_line_on_postgresql(world: World, tmp_path: Path) -> None:
    path = tmp_path / "nul.csv"
    path.write_text("email,name,role,status\nnul@h.example,A\x00B,member,active\n")
    before = snapshot(world)
    sent()
    result = CliRunner().invoke(
        app, ["users", "import", str(path), "-w", world.tenant.workspace.slug]
    )
    if result.exit_code != 2 or "line 2:" not in result.stderr:
        violation(f"import with NUL: exit {result.exit_code}: {result.stderr[:300]}")
    unchanged(world, before, "import with NUL")


def test_long_made_up_actor_names_fit_the_audit_log_on_postgresql(world: World) -> None:
    """A scim token named with 200 characters acts as "scim token <name>", and an
    invitation of a 310-character address is accepted as "<email> (invitation)":
    both were past actor_name's 200 characters, a 500 on PostgreSQL."""
    sent(2)
    made = world.client.post(
        "/api/v1/tokens", json={"kind": "scim", "name": "n" * 200}, headers=world.personal
    )
    assert made.status_code == 201, made.text
    r = world.client.post(
        "/scim/v2/Users",
        json={"schemas": [USER], "userName": "actor@h.example"},
        headers={"Authorization": f"Bearer {made.json()['token']}"},
    )
    no_server_error(r, "a SCIM creation by a token with a 200-character name")
    assert r.status_code == 201, r.text
    invited = world.client.post(
        "/api/v1/invitations", json={"email": "i" * 300 + "@h.example"}, headers=world.personal
    )
    assert invited.status_code == 201, invited.text
    r = world.client.post(
        f"/api/v1/invitations/{invited.json()['token']}/accept",
        json={"name": "Long", "password": "correct horse battery staple"},
    )
    no_server_error(r, "accepting the invitation of a 310-character address")
    assert r.status_code == 200, r.text


SCIM_FIELDS: dict[str, Callable[[str], dict[str, Any]]] = {
    "userName": lambda v: {"userName": v},
    "displayName": lambda v: {"displayName": v},
    "externalId": lambda v: {"externalId": v},
    "givenName": lambda v: {"name": {"givenName": v}},
    "email": lambda v: {"userName": "mail-holder", "emails": [{"value": v, "primary": True}]},
    "title": lambda v: {"title": v},
    "employeeNumber": lambda v: {
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": v}
    },
}
long_text = st.integers(190, 700).map("x".__mul__) | st.text(min_size=190, max_size=400)


@hostile(25)
@given(st.sampled_from(sorted(SCIM_FIELDS)), long_text)
@example("externalId", "x" * 256)
def test_long_scim_values_are_kept_cut_or_refused_on_postgresql(
    world: World, field: str, value: str
) -> None:
    """Every column has a width on PostgreSQL; SCIM attributes past it are cut
    (displayName) or refused (externalId, userName past 320), never a 500."""
    body = {"schemas": [USER], "userName": f"long{len(value)}@h.example"}
    body |= SCIM_FIELDS[field](value)
    before = snapshot(world)
    sent()
    r = world.client.post(
        "/scim/v2/Users",
        content=json.dumps(body),
        headers=world.scim | {"Content-Type": "application/scim+json"},
    )
    what = f"SCIM {field} of {len(value)} characters"
    if r.status_code not in (201, 409):
        refused_as_scim_error(r, what)
        unchanged(world, before, what)
