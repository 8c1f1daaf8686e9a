"""Every /api/v1 operation that takes a body, read from /openapi.json (a new one is
covered without touching this file), under hostile bodies: malformed JSON, the wrong
content type, 10,000 levels of nesting, over the 1 MiB limit, wrong types and
fields the schema does not name. Each answer is an RFC 9457 problem with a stable
`code` (413 past the limit), never a server error, and nothing changes.
"""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from roster.entrypoints.web.guards import LARGER, MAX_BODY
from tests.e2e.security.hostile_kit import (
    World,
    hostile,
    make_world,
    migrated_container,
    refused_as_problem,
    sent,
    snapshot,
    unchanged,
    violation,
)


@pytest.fixture(scope="module")
def world(sqlite_url: str) -> Iterator[World]:
    yield from make_world(migrated_container(sqlite_url))


_found: dict[int, list[tuple[str, str, dict[str, Any], str]]] = {}


def operations(world: World) -> list[tuple[str, str, dict[str, Any], str]]:
    """(method, concrete path, body schema, media type) of every operation with a body."""
    if id(world) not in _found:
        _found[id(world)] = _operations(world)
    return _found[id(world)]


def _operations(world: World) -> list[tuple[str, str, dict[str, Any], str]]:
    spec = world.client.get("/openapi.json").json()
    found = []
    for template, item in spec["paths"].items():
        for method, op in item.items():
            if not template.startswith("/api/v1/") or "requestBody" not in op:
                continue
            media, content = next(iter(op["requestBody"]["content"].items()))
            schema = _resolve(spec, content.get("schema", {}))
            path = (
                template.replace("{user_id}", world.active)
                .replace("{rule_id}", "rul_nosuch")
                .replace("{token}", "nosuch")
            )
            found.append((method.upper(), path, schema, media))
    return found


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = spec["components"]["schemas"][name]
    return schema


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
# A name no schema uses: every body model forbids fields it does not name.
extra_names = st.text(min_size=1, max_size=12).map(lambda s: "zz_" + s)


@hostile(110)
@given(st.data())
def test_wrong_types_and_unknown_fields_get_a_problem_and_change_nothing(
    world: World, data: st.DataObject
) -> None:
    ops = operations(world)
    method, path, schema, media = data.draw(st.sampled_from(ops), label="operation")
    names = sorted(schema.get("properties", {}))
    body = data.draw(
        st.dictionaries(st.sampled_from(names) if names else extra_names, json_values, max_size=4)
        if names
        else st.just({}),
        label="fields",
    )
    body[data.draw(extra_names, label="extra")] = data.draw(json_values, label="extra value")
    before = snapshot(world)
    sent()
    what = f"{method} {path} {json.dumps(body)[:300]}"
    if media == "application/json":
        r = world.client.request(
            method, path, content=json.dumps(body), headers=world.personal | _json()
        )
    else:  # a form: every value as text
        form = {k: json.dumps(v) for k, v in body.items()}
        r = world.client.request(method, path, data=form, headers=world.personal)
    if media == "application/json":
        refused_as_problem(r, what)
        unchanged(world, before, what)
    else:  # introspection answers {"active": false} for anything it does not know
        if r.status_code >= 500:
            violation(f"{what}: answered {r.status_code}")
        unchanged(world, before, what)


RAW = {
    "broken JSON": (b'{"status": ', "application/json"),
    "10,000 nested arrays": (b"[" * 10_000 + b"]" * 10_000, "application/json"),
    "10,000 nested objects": (b'{"a":' * 10_000 + b"1" + b"}" * 10_000, "application/json"),
    "not UTF-8": (b'{"email": "\xff\xfe"}', "application/json"),
    "a lone surrogate": (b'{"email": "\\ud800@x.example", "name": "\\udfff"}', "application/json"),
    "NUL": (b'{"email": "a\\u0000@x.example", "name": "\\u0000"}', "application/json"),
    "an array": (b"[1, 2, 3]", "application/json"),
    "a string": (b'"status"', "application/json"),
    "a huge number": (b"9" * 5000, "application/json"),
    "empty": (b"", "application/json"),
    "text/plain": (b'{"status": "inactive"}', "text/plain"),
    "a form": (b"status=inactive&email=a%40x.example", "application/x-www-form-urlencoded"),
    "XML": (b"<status>inactive</status>", "application/xml"),
    "no content type": (b'{"status": "inactive"}', ""),
}


@hostile(1)
@given(st.just(None))
def test_malformed_deep_and_mistyped_bodies_get_a_problem(world: World, once: None) -> None:
    for method, path, _, media in operations(world):
        for name, (body, kind) in RAW.items():
            if media != "application/json":
                continue
            before = snapshot(world)
            sent()
            headers = world.personal | ({"Content-Type": kind} if kind else {})
            r = world.client.request(method, path, content=body, headers=headers)
            what = f"{method} {path} with {name}"
            refused_as_problem(r, what)
            unchanged(world, before, what)


@hostile(1)
@given(st.just(None))
def test_a_body_over_the_limit_gets_413_on_every_operation(world: World, once: None) -> None:
    for method, path, _, media in operations(world):
        limit = LARGER.get(path, MAX_BODY)
        if limit > MAX_BODY:
            continue  # bulk actions take 48 MiB: tests/e2e/security/test_body_limit.py
        body = b'{"name": "' + b"x" * limit + b'"}'
        before = snapshot(world)
        sent()
        r = world.client.request(
            method, path, content=body, headers=world.personal | {"Content-Type": media}
        )
        what = f"{method} {path} over the limit"
        refused_as_problem(r, what, 413)
        unchanged(world, before, what)


def _json() -> dict[str, str]:
    return {"Content-Type": "application/json"}


@hostile(60)
@given(
    st.recursive(
        st.none() | st.integers() | st.text(max_size=10),
        lambda v: st.lists(v, max_size=3) | st.dictionaries(st.text(max_size=5), v, max_size=3),
        max_leaves=6,
    ),
    st.sampled_from(["NaN", "Infinity", "-Infinity", '"a\\u0000b"', '"\\ud800"', "1e400"]),
)
@example([], "NaN")  # was a 500 on PostgreSQL (the outbox's JSON refuses NaN)
def test_free_form_event_data_refuses_what_json_cannot_carry(
    world: World, data: Any, poison: str
) -> None:
    """Event data is free-form JSON at any depth: a NaN, an infinity, a NUL or a lone
    surrogate anywhere in it is refused; the event is not recorded."""
    tree = json.dumps({"k": data, "poison": "POISON"}).replace('"POISON"', poison)
    body = f'{{"type": "payment.failed", "user_id": "{world.active}", "data": {tree}}}'
    before = snapshot(world)
    sent()
    r = world.client.post(
        "/api/v1/events", content=body, headers=world.service | {"Content-Type": "application/json"}
    )
    refused_as_problem(r, f"event data with {poison}", 422)
    unchanged(world, before, f"event data with {poison}")


dates = st.one_of(
    st.sampled_from(["0001-01-01", "9999-12-31", "2026-02-30", "", "yesterday", "1e9"]),
    st.dates().map(str),
    st.text(max_size=12),
)
bulk_filters = st.fixed_dictionaries(
    {},
    optional={
        "status": st.lists(st.sampled_from(["active", "inactive", "blocked", "x"]), max_size=3)
        | json_values,
        "role": st.lists(st.sampled_from(["owner", "admin", "member", "root"]), max_size=3)
        | json_values,
        "q": st.text(max_size=40) | st.sampled_from(["%", "_", "\\", "a\\", "'", "x" * 201]),
        "last_seen_before": dates | json_values,
        "last_seen_after": dates | json_values,
    },
)


@hostile(50)
@given(
    bulk_filters,
    st.lists(st.text(max_size=45), max_size=4) | st.none(),
    st.sampled_from([None, "payment_dispute", "x"]),
)
@example({"q": "a\\"}, None, None)
@example({"last_seen_before": "9999-12-31"}, None, None)
@example({}, ["usr_nosuch", "usr_nosuch"], None)
@example({"q": "a\x00"}, None, None)  # was a 500 on PostgreSQL
@example({}, ["usr\x00"], "payment_dispute")  # was a 500 on PostgreSQL
def test_a_bulk_selection_is_queued_or_refused_without_a_trace(
    world: World, selection: dict[str, Any], ids: list[str] | None, reason: str | None
) -> None:
    """A dry run over a hostile filter or id list: queued (202) or a problem, and a
    refused one queues nothing."""
    body: dict[str, Any] = {"status": "inactive", "dry_run": True, "filter": selection}
    if ids is not None:
        body = {"status": "blocked", "dry_run": True, "user_ids": ids, "reason_code": reason}
    before = snapshot(world)
    sent()
    r = world.client.post(
        "/api/v1/bulk-actions", content=json.dumps(body), headers=world.personal | _json()
    )
    what = f"bulk {json.dumps(body)[:300]}"
    if r.status_code != 202:
        refused_as_problem(r, what)
        unchanged(world, before, what)


if_matches = st.one_of(
    st.sampled_from(['"v' + "9" * 5000 + '"', '"v\u00b2"', "*", 'W/"v1"', '"v1", "v2"', '"v-1"']),
    st.builds('"v{}"'.format, st.integers(-(2**70), 2**70)),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=30),
)


@hostile(40)
@given(if_matches)
@example('"v' + "9" * 5000 + '"')  # was a 500 (int() past 4,300 digits)
@example('"v\u00b2"')  # a digit int() does not read, as latin-1 header bytes
def test_a_hostile_if_match_is_a_precondition_failure_not_a_500(world: World, value: str) -> None:
    sent_headers = world.personal | _json() | {"If-Match": value}
    headers = [(k.encode(), v.encode("latin-1")) for k, v in sent_headers.items()]
    for method, path, body in (
        ("PUT", f"/api/v1/users/{world.active}/status", {"status": "active"}),
        ("PATCH", f"/api/v1/users/{world.active}", {"name": "Active"}),
    ):
        before = snapshot(world)
        sent()
        r = world.client.request(method, path, content=json.dumps(body), headers=headers)
        what = f"{method} {path} If-Match {value[:60]!r}"
        if r.status_code != 200:
            refused_as_problem(r, what, 412)
            unchanged(world, before, what, audited=True)  # a stale version is audited
