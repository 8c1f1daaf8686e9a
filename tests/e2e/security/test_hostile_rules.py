"""Automation rule definitions under hostile shapes: a valid rule with any one part
replaced by random JSON (or removed), and random JSON outright, created and replaced
through /api/v1/automations. A valid rule is stored; anything else is a 422 problem
naming the wrong `field`, never a server error, and stores nothing.
"""

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from roster.domain.rules.definition import RuleInvalid
from roster.domain.rules.parse import parse_rule
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


VALID: list[dict[str, Any]] = [
    {
        "name": "Deactivate dormant users",
        "enabled": False,
        "trigger": {"type": "schedule", "daily_at": "03:00"},
        "conditions": [
            {"field": "status", "op": "in", "value": ["active"]},
            {"field": "last_seen_days", "op": "gt", "value": 90},
        ],
        "action": {"type": "set_status", "status": "inactive", "note": "Not seen for 90 days"},
    },
    {
        "name": "Tell billing",
        "enabled": False,
        "personal": True,
        "trigger": {"type": "event", "event": "payment.failed"},
        "conditions": [
            {"field": "event.data.amount", "op": "gt", "value": 10},
            {"field": "email_domain", "op": "eq", "value": "h.example"},
        ],
        "action": {"type": "webhook", "url": "https://hooks.example/roster"},
    },
    {
        "name": "Block on chargeback",
        "enabled": False,
        "trigger": {"type": "schedule", "every_minutes": 60},
        "conditions": [{"field": "role", "op": "eq", "value": "member"}],
        "action": {"type": "set_status", "status": "blocked", "reason_code": "payment_dispute"},
    },
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["schedule", "event", "set_status", "webhook", "in", "eq", "gt", "lt"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            found += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _paths(v, (*prefix, i))
    return found


@st.composite
def mutated_rules(draw: st.DrawFn) -> Any:
    """A valid rule with one to three parts replaced by random JSON or removed."""
    rule = copy.deepcopy(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(rule)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = rule
        for step in path[:-1]:
            parent = parent[step]
        if draw(st.integers(0, 4)) == 0 and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_values)
    return rule


rules = mutated_rules() | json_values


@hostile(80)
@given(rules)
@example({**VALID[0], "name": "x" * 201})
@example({**VALID[0], "conditions": [{"field": "status", "op": ["in"], "value": "active"}]})
@example({**VALID[0], "conditions": [{"field": "x", "op": "in", "value": []}] * 1000})
@example({**VALID[1], "conditions": [{"field": "event.data.amount", "op": "gt", "value": 1e308}]})
@example({**VALID[0], "name": "a\x00b"})
@example({**VALID[0], "action": {"type": "set_status", "status": "blocked"}})
@example({**VALID[0], "trigger": {"type": "schedule", "daily_at": "24:00"}})
def test_a_hostile_rule_is_stored_valid_or_refused_naming_its_field(
    world: World, rule: Any
) -> None:
    try:
        parse_rule(rule)
        valid = True
    except RuleInvalid:
        valid = False
    before = snapshot(world)
    sent()
    r = world.client.post(
        "/api/v1/automations",
        content=json.dumps(rule),
        headers=world.personal | {"Content-Type": "application/json"},
    )
    what = f"POST {json.dumps(rule)[:300]}"
    if valid and not _holds_nul(rule):
        if r.status_code != 201:
            violation(f"{what}: a valid rule answered {r.status_code}: {r.text[:300]}")
        return
    refused_as_problem(r, what, 422)
    if r.json()["code"] != "validation_error" or not r.json().get("detail"):
        violation(f"{what}: refused without validation_error and a detail: {r.text[:300]}")
    unchanged(world, before, what)


def _holds_nul(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return isinstance(value, str) and "\x00" in value


@hostile(40)
@given(mutated_rules())
@example({**VALID[2], "enabled": "yes"})
def test_a_hostile_replacement_leaves_the_rule_as_it_was(world: World, rule: Any) -> None:
    headers = world.personal | {"Content-Type": "application/json"}
    made = world.client.post("/api/v1/automations", content=json.dumps(VALID[0]), headers=headers)
    assert made.status_code == 201, made.text
    rule_id = made.json()["id"]
    before = snapshot(world)
    sent()
    r = world.client.put(
        f"/api/v1/automations/{rule_id}", content=json.dumps(rule), headers=headers
    )
    what = f"PUT {json.dumps(rule)[:300]}"
    if r.status_code != 200:
        refused_as_problem(r, what, 422)
        unchanged(world, before, what)
    world.client.delete(f"/api/v1/automations/{rule_id}", headers=world.personal)


@hostile(1)
@given(st.just(None))
def test_json_only_python_reads_is_refused(world: World, once: None) -> None:
    """NaN and Infinity are not JSON; Python's reader takes them, the API must not
    store what it could never answer with."""
    headers = world.personal | {"Content-Type": "application/json"}
    for literal in ("NaN", "Infinity", "-Infinity"):
        body = json.dumps(VALID[1]).replace('"value": 10', f'"value": {literal}')
        before = snapshot(world)
        sent()
        r = world.client.post("/api/v1/automations", content=body, headers=headers)
        refused_as_problem(r, f"a rule with {literal}", 422)
        unchanged(world, before, f"a rule with {literal}")
