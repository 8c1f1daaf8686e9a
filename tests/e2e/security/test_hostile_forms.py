"""The dashboard's forms under hostile values: the automation editor (a rule as JSON
text), a user's status form, workspace settings and new tokens. Each answer is a
redirect (the change was valid) or the page again with a 4xx and a message next to
the field, never a server error; a form refused as invalid changes nothing.
"""

import json
from collections.abc import Iterator

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.e2e.admin.conftest import csrf_of, sign_in
from tests.e2e.security.hostile_kit import (
    World,
    hostile,
    make_world,
    migrated_container,
    no_server_error,
    sent,
    snapshot,
    unchanged,
    violation,
)
from tests.e2e.security.test_hostile_rules import VALID, mutated_rules


@pytest.fixture(scope="module")
def world(sqlite_url: str) -> Iterator[World]:
    for w in make_world(migrated_container(sqlite_url)):
        assert sign_in(w.client, w.tenant, "root@h.example").status_code == 303
        yield w


def _post(world: World, page: str, action: str, data: dict[str, str]) -> object:
    token = csrf_of(world.client.get(page))
    sent()
    return world.client.post(action, data=data | {"csrf_token": token}, follow_redirects=False)


def _answered(world: World, r: object, what: str, before: dict[str, object]) -> None:
    status = getattr(r, "status_code", 0)
    no_server_error(r, what)
    if status == 422:  # the form itself was refused: nothing may have changed
        kind = getattr(r, "headers", {}).get("content-type", "")
        if not kind.startswith(("text/html", "application/problem+json")):
            violation(f"{what}: a 422 that is neither the page nor a problem: {kind}")
        unchanged(world, before, what)
    elif status not in (303, 409, 412):
        violation(f"{what}: answered {status}")


texts = st.one_of(
    mutated_rules().map(json.dumps),
    st.text(max_size=200),
    st.builds("{}{}".format, st.sampled_from(["[", "{", '{"name": ', "NaN", "1e999"]), st.text()),
)


@hostile(40)
@given(texts)
@example("[" * 19_000)  # was a 500 (RecursionError)
@example(json.dumps(VALID[0]).replace("90", "NaN"))
@example('{"name": "a\\u0000b"}')
def test_the_automation_editor_saves_a_rule_or_shows_why_not(world: World, text: str) -> None:
    before = snapshot(world)
    r = _post(world, "/admin/automations/new", "/admin/automations/new", {"definition": text})
    _answered(world, r, f"editor {text[:200]!r}", before)


values = st.one_of(
    st.sampled_from(["", "active", "inactive", "blocked", "other", "1", "0", "-1", "\u00b2"]),
    st.text(max_size=30),
    st.integers(-(2**70), 2**70).map(str),
    st.just("9" * 5000),
)


@hostile(40)
@given(values, values, st.text(max_size=50), values)
@example("inactive", "", "", "9" * 5000)  # was a 500 (int() past 4,300 digits)
@example("inactive", "", "", "\u00b2")  # a digit int() does not read
def test_the_status_form_changes_or_explains(
    world: World, to: str, reason: str, note: str, version: str
) -> None:
    page = f"/admin/users/{world.active}"
    before = snapshot(world)
    data = {"to": to, "reason_code": reason, "note": note, "version": version}
    r = _post(world, page, f"{page}/status", data)
    _answered(world, r, f"status form {data!r:.200}", before)


@hostile(25)
@given(values, st.sampled_from(["", "on", "off", "x"]), st.sampled_from(["", "on", "1"]))
@example("9" * 5000, "", "")
@example("9" * 30, "", "")
@example("\u00b2", "", "")
def test_the_settings_form_saves_or_explains(
    world: World, seat_limit: str, unblock: str, reactivate: str
) -> None:
    before = snapshot(world)
    data = {
        "seat_limit": seat_limit,
        "allow_api_unblock": unblock,
        "reactivate_on_sign_in": reactivate,
    }
    r = _post(world, "/admin/settings", "/admin/settings", data)
    _answered(world, r, f"settings {data!r:.200}", before)
    # Leave the workspace as the other examples expect it.
    world.client.post(
        "/admin/settings",
        data={"seat_limit": "", "csrf_token": csrf_of(world.client.get("/admin/settings"))},
    )


@hostile(30)
@given(st.sampled_from(["personal", "service", "scim", "", "owner", "session"]), values)
@example("service", "n" * 500)
def test_the_token_form_makes_a_token_or_explains(world: World, kind: str, name: str) -> None:
    before = snapshot(world)
    r = _post(world, "/admin/tokens", "/admin/tokens", {"kind": kind, "name": name})
    _answered(world, r, f"token {kind!r} {name[:100]!r}", before)
