# ruff: noqa: RUF001, RUF003  (look-alike characters are the point here)
"""SCIM under hostile input: filters, PATCH bodies, creations and searches that are
malformed, deeply nested, huge, of the wrong type or name unknown attributes and
operations. Each answer is a result or a SCIM Error (RFC 7644 §3.12, 4xx), never a
server error, and a refused request changes nothing.
"""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from roster.entrypoints.web.guards import MAX_BODY
from tests.e2e.security.hostile_kit import (
    World,
    hostile,
    make_world,
    migrated_container,
    no_server_error,
    refused_as_scim_error,
    sent,
    snapshot,
    unchanged,
    violation,
)


@pytest.fixture(scope="module")
def world(sqlite_url: str) -> Iterator[World]:
    yield from make_world(migrated_container(sqlite_url))


SCIM_JSON = {"Content-Type": "application/scim+json"}
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

PATHS = [
    "userName", "displayName", "active", "externalId", "title", "emails", "emails.value",
    'emails[type eq "work"].value', "emails[value co \"@\"]", "name.givenName", "name",
    "meta.created", "meta.lastModified", "id", "groups", "members", f"{USER}:userName",
    f"{ENTERPRISE}:manager", "manager", "nosuch", "nosuch.deeper", "urn:x:y:z", "a[b[c]]",
    "", " ", "userName.", ".userName", "emails[", "emails[type eq]", "x" * 5000,
]  # fmt: skip
OPERATORS = ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "EQ", "Eq", "xx", "=="]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


def _literal(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) or len(value) % 3 else value


comparisons = st.one_of(
    st.builds(
        "{} {} {}".format,
        st.sampled_from(PATHS),
        st.sampled_from(OPERATORS),
        st.one_of(st.text(max_size=20), st.integers(), st.booleans(), st.none()).map(_literal),
    ),
    st.builds("{} pr".format, st.sampled_from(PATHS)),
)


def _combine(parts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds("{} and {}".format, parts, parts),
        st.builds("{} or {}".format, parts, parts),
        st.builds("not ({})".format, parts),
        st.builds("({})".format, parts),
        st.builds("{}[{}]".format, st.sampled_from(PATHS), parts),
    )


filters = st.one_of(
    st.recursive(comparisons, _combine, max_leaves=6),
    st.text(max_size=60),
    st.builds(
        "{}{}".format, st.recursive(comparisons, _combine, max_leaves=4), st.text(max_size=5)
    ),
)


@hostile(80)
@given(filters)
@example("(" * 5000 + 'userName eq "a"' + ")" * 5000)
@example(" and ".join(['userName eq "a"'] * 3000))
@example('userName eq "' + "x" * 200_000 + '"')
@example("userName eq 1e999999")
@example('meta.created gt "garbage"')
@example('userName eq "a\x00b"')  # NUL: a 500 on PostgreSQL before the URL guard
@example('emails[type eq "work" and value co "@"].value eq "x"')
def test_a_hostile_filter_gets_results_or_a_scim_error(world: World, text: str) -> None:
    before = snapshot(world)
    sent()
    if len(text) < 8000:
        r = world.client.get("/scim/v2/Users", params={"filter": text}, headers=world.scim)
    else:  # past what a URL carries: the same filter in a search body
        body = json.dumps({"filter": text})
        r = world.client.post(
            "/scim/v2/Users/.search", content=body, headers=world.scim | SCIM_JSON
        )
    _result_or_error(r, f"filter {text[:200]!r}")
    unchanged(world, before, f"filter {text[:200]!r}")


search_bodies = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "schemas": st.sampled_from(
                [["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], 1]
            ),
            "filter": filters | json_values,
            "startIndex": json_values | st.integers(-(2**64), 2**64),
            "count": json_values | st.integers(-(2**64), 2**64),
            "sortBy": st.sampled_from(PATHS) | json_values,
            "sortOrder": st.sampled_from(["ascending", "descending", "up"]) | json_values,
            "attributes": st.lists(st.sampled_from(PATHS), max_size=3) | json_values,
            "excludedAttributes": st.lists(st.sampled_from(PATHS), max_size=3) | json_values,
        },
    ),
    json_values,
)


@hostile(80)
@given(search_bodies)
@example({"count": 10**40, "startIndex": -(10**40)})
@example({"filter": ["userName eq 1"]})
def test_a_hostile_search_body_gets_results_or_a_scim_error(world: World, body: Any) -> None:
    before = snapshot(world)
    sent()
    r = world.client.post(
        "/scim/v2/Users/.search", content=json.dumps(body), headers=world.scim | SCIM_JSON
    )
    _result_or_error(r, f"search {json.dumps(body)[:200]}")
    unchanged(world, before, "a search")


operations = st.fixed_dictionaries(
    {},
    optional={
        "op": st.sampled_from(["add", "remove", "replace", "Replace", "ADD", "move", "", "x" * 300])
        | json_values,
        "path": st.sampled_from(PATHS) | json_values,
        "value": json_values
        | st.fixed_dictionaries(
            {}, optional={"active": json_values, "userName": json_values, "emails": json_values}
        ),
    },
)
patch_bodies = st.one_of(
    st.fixed_dictionaries(
        {"schemas": st.sampled_from([[PATCH_OP], [], ["urn:x"], "x"])},
        optional={"Operations": st.lists(operations | json_values, max_size=4) | json_values},
    ),
    json_values,
)
DEEP = {"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "title", "value": 0}]}


@hostile(80)
@given(patch_bodies)
@example(json.loads("[" * 900 + "]" * 900))
@example({"schemas": [PATCH_OP], "Operations": [{"op": "explode", "path": "active"}]})
@example({"schemas": [PATCH_OP], "Operations": [{"op": "remove", "path": "active"}]})
@example({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": "maybe"}}]})
@example(
    {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "replace", "path": "displayName", "value": "a\x00b"}],
    }
)
@example(
    {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "replace", "path": "externalId", "value": "\ud800"}],
    }
)
def test_a_hostile_patch_applies_or_is_refused_without_a_trace(world: World, body: Any) -> None:
    before = snapshot(world)
    sent()
    r = world.client.patch(
        f"/scim/v2/Users/{world.active}",
        content=json.dumps(body),
        headers=world.scim | SCIM_JSON,
    )
    what = f"PATCH {json.dumps(body)[:300]}"
    if r.status_code != 200:
        refused_as_scim_error(r, what)
        unchanged(world, before, what)


user_bodies = st.one_of(
    st.fixed_dictionaries(
        {"schemas": st.sampled_from([[USER], [USER, ENTERPRISE], [], "x"])},
        optional={
            "userName": st.text(max_size=40) | json_values,
            "displayName": st.text(max_size=40) | json_values,
            "active": json_values,
            "emails": st.lists(st.fixed_dictionaries({"value": json_values}), max_size=2)
            | json_values,
            "name": st.dictionaries(st.sampled_from(["givenName", "familyName", "x"]), json_values)
            | json_values,
            "externalId": json_values,
            ENTERPRISE: json_values,
            "manager": json_values,
        },
    ),
    json_values,
)


@hostile(70)
@given(user_bodies)
@example({"schemas": [USER], "userName": "x" * 900_000})
@example({"schemas": [USER], ENTERPRISE: 1.0})  # was a 500 (dict(1.0))
@example({"schemas": [USER], "userName": "e@h.example", "externalId": "x" * 256})  # PG: a 500
@example({"schemas": [USER], "userName": "n@h.example", "displayName": "a\x00b"})
@example({"schemas": [USER], "userName": "n@h.example", "externalId": "a\x00b"})
@example({"schemas": [USER], "userName": "n@h.example", "name": {"givenName": "\x00"}})
@example({"schemas": [USER], "userName": "аctive@h.example"})  # Cyrillic а
@example({"schemas": [USER], "userName": "act\u200bive@h.example"})  # zero-width space
def test_a_hostile_creation_is_made_or_refused_without_a_trace(world: World, body: Any) -> None:
    before = snapshot(world)
    sent()
    r = world.client.post(
        "/scim/v2/Users", content=json.dumps(body), headers=world.scim | SCIM_JSON
    )
    what = f"POST {json.dumps(body)[:300]}"
    if r.status_code != 201:
        refused_as_scim_error(r, what)
        unchanged(world, before, what)


read_only_echoes = st.fixed_dictionaries(
    {},
    optional={
        "id": json_values,
        "meta": st.fixed_dictionaries(
            {},
            optional={
                k: json_values | st.text(max_size=25)
                for k in ("created", "lastModified", "resourceType", "location", "version")
            },
        )
        | json_values,
        "groups": st.lists(st.fixed_dictionaries({"value": json_values}), max_size=2) | json_values,
        "ID": json_values,
        "Meta": json_values,
    },
).filter(lambda echoes: _storable(json.dumps(echoes, ensure_ascii=False)))


def _storable(text: str) -> bool:
    """No NUL and no lone surrogate: text with them is refused before any attribute
    is read (another test's business)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\\u0000" not in text and "\x00" not in text


@hostile(40)
@given(read_only_echoes)
@example({"meta": {"created": "04-12-2018 00:00:00", "lastModified": "04-12-2018 00:00:00"}})
@example({"id": "usr_someone_else", "groups": [{"value": "grp_x", "display": "X"}]})
@example({"meta": "not an object", "groups": 7, "id": None})
def test_echoed_read_only_attributes_are_ignored_whatever_their_shape(
    world: World, echoes: dict[str, Any]
) -> None:
    """A provider PUTs back what it read, with read-only values in its own shapes
    (RFC 7643 §2.2: they are ignored). The answer is what the plain echo gets."""
    url = f"/scim/v2/Users/{world.active}"
    sent()
    read = world.client.get(url, headers=world.scim).json()
    plain = world.client.put(url, content=json.dumps(read), headers=world.scim | SCIM_JSON)
    if plain.status_code != 200:
        return  # the echo itself is refused (an earlier example's state): not this property
    r = world.client.put(url, content=json.dumps(read | echoes), headers=world.scim | SCIM_JSON)
    what = f"PUT with {json.dumps(echoes)[:300]}"
    if r.status_code != 200:
        violation(f"{what}: answered {r.status_code} {r.text[:200]}")
        return
    after = r.json()
    if (after["id"], after["meta"]["created"]) != (read["id"], read["meta"]["created"]):
        violation(f"{what}: the read-only id or meta.created changed")
    if after.get("groups", []) != read.get("groups", []):
        violation(f"{what}: the groups changed")


@hostile(1)
@given(st.just(None))
def test_malformed_deep_and_oversized_bodies_get_scim_errors(world: World, once: None) -> None:
    """The raw shapes no JSON encoder makes, on every SCIM write route."""
    raw = {
        "broken": b'{"schemas": [',
        "10,000 levels": b"[" * 10_000 + b"]" * 10_000,
        "10,000 objects": b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
        "not an object": b"[1, 2]",
        "not UTF-8": b'{"userName": "\xff\xfe"}',
        "over 1 MiB": b'{"userName": "' + b"x" * MAX_BODY + b'"}',
        "empty": b"",
    }
    routes = [
        ("POST", "/scim/v2/Users"),
        ("POST", "/scim/v2/Users/.search"),
        ("PUT", f"/scim/v2/Users/{world.active}"),
        ("PATCH", f"/scim/v2/Users/{world.active}"),
        ("POST", "/scim/v2/Groups"),
    ]
    for method, path in routes:
        for name, body in raw.items():
            for kind in ("application/scim+json", "text/plain"):
                before = snapshot(world)
                sent()
                r = world.client.request(
                    method, path, content=body, headers=world.scim | {"Content-Type": kind}
                )
                what = f"{method} {path} {name} as {kind}"
                refused_as_scim_error(r, what)
                if name == "over 1 MiB" and r.status_code != 413:
                    violation(f"{what}: answered {r.status_code}, not 413")
                unchanged(world, before, what)


@hostile(40)
@given(
    st.sampled_from(
        ["count", "startIndex", "sortBy", "sortOrder", "attributes", "excludedAttributes"]
    ),
    st.text(max_size=30) | st.integers(-(2**80), 2**80).map(str),
)
@example("count", "9" * 50)
@example("startIndex", "-" + "9" * 50)
@example("startIndex", "9223372036854775809")  # was a 500 (SQL OFFSET overflow)
@example("count", "-5")
def test_hostile_list_parameters_get_results_or_a_scim_error(
    world: World, name: str, value: str
) -> None:
    sent()
    r = world.client.get("/scim/v2/Users", params={name: value}, headers=world.scim)
    _result_or_error(r, f"{name}={value[:100]!r}")


def _result_or_error(r: Any, what: str) -> None:
    no_server_error(r, what)
    if r.status_code == 200:
        if r.json().get("schemas") != [LIST]:
            violation(f"{what}: 200 without a ListResponse: {r.text[:200]}")
        return
    refused_as_scim_error(r, what)


@hostile(35)
@given(user_bodies)
@example({"schemas": [USER], "userName": "active@h.example", "active": "yes"})
def test_a_hostile_replacement_is_applied_or_refused_without_a_trace(
    world: World, body: Any
) -> None:
    before = snapshot(world)
    sent()
    r = world.client.put(
        f"/scim/v2/Users/{world.inactive}",
        content=json.dumps(body),
        headers=world.scim | SCIM_JSON,
    )
    what = f"PUT {json.dumps(body)[:300]}"
    if r.status_code != 200:
        refused_as_scim_error(r, what)
        unchanged(world, before, what)


GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
member_ops = st.fixed_dictionaries(
    {"op": st.sampled_from(["add", "remove", "replace", "Add", "bogus"])},
    optional={
        "path": st.sampled_from(["members", 'members[value eq "x"]', "displayName", "nosuch"])
        | json_values,
        "value": st.lists(st.fixed_dictionaries({"value": json_values}), max_size=3) | json_values,
    },
)


@hostile(30)
@given(st.lists(member_ops, max_size=3) | json_values)
@example([{"op": "add", "path": "members", "value": [{"value": "usr_nosuch"}]}])
@example([{"op": "replace", "path": "displayName", "value": "a\x00b"}])
def test_a_hostile_group_patch_is_applied_or_refused_without_a_trace(
    world: World, operations: Any
) -> None:
    made = world.client.post(
        "/scim/v2/Groups",
        content=json.dumps({"schemas": [GROUP], "displayName": "Hostile"}),
        headers=world.scim | SCIM_JSON,
    )
    assert made.status_code == 201, made.text
    body = {"schemas": [PATCH_OP], "Operations": operations}
    before = snapshot(world)
    sent()
    r = world.client.patch(
        f"/scim/v2/Groups/{made.json()['id']}",
        content=json.dumps(body),
        headers=world.scim | SCIM_JSON,
    )
    what = f"group PATCH {json.dumps(body)[:300]}"
    if r.status_code != 200:
        refused_as_scim_error(r, what)
        unchanged(world, before, what)
    world.client.delete(f"/scim/v2/Groups/{made.json()['id']}", headers=world.scim)
