"""Automation rules in the domain: parsing with field-named errors, schedules,
conditions, and the plain-language summary."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roster.domain.rules import (
    RuleInvalid,
    Subject,
    dormant_template,
    matches,
    matching,
    next_run,
    parse_condition,
    parse_rule,
    parse_trigger,
    summary,
)
from roster.domain.vocabulary import Role, Status

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
EVENT = parse_trigger({"type": "event", "event": "payment.failed"})
SCHEDULE = parse_trigger({"type": "schedule", "every_minutes": 5})


def subject(**kw: Any) -> Subject:
    base: dict[str, Any] = {
        "user_id": "usr_1",
        "email": "ann@Acme.example",
        "status": Status.ACTIVE,
        "role": Role.MEMBER,
        "last_seen_at": NOW - timedelta(days=10),
        "created_at": NOW - timedelta(days=400),
    }
    return Subject(**(base | kw))


def holds(condition: dict[str, Any], s: Subject, trigger: Any = SCHEDULE) -> bool:
    return matches([parse_condition(condition, "c", trigger)], s, NOW)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"field": "status", "op": "eq", "value": "active"}, True),
        ({"field": "status", "op": "in", "value": ["inactive", "blocked"]}, False),
        ({"field": "role", "op": "eq", "value": "member"}, True),
        ({"field": "role", "op": "in", "value": ["owner", "admin"]}, False),
        ({"field": "email_domain", "op": "eq", "value": "acme.example"}, True),
        ({"field": "email_domain", "op": "in", "value": ["@ACME.example", "x.example"]}, True),
        ({"field": "email_domain", "op": "eq", "value": "other.example"}, False),
        ({"field": "last_seen_days", "op": "gt", "value": 9}, True),
        ({"field": "last_seen_days", "op": "gt", "value": 10}, False),
        ({"field": "last_seen_days", "op": "lt", "value": 11}, True),
        ({"field": "never_signed_in_days", "op": "gt", "value": 30}, False),
    ],
)
def test_each_user_condition(condition: dict[str, Any], expected: bool) -> None:
    assert holds(condition, subject()) is expected


def test_a_user_never_seen_is_dormant_from_their_creation() -> None:
    never = subject(last_seen_at=None, created_at=NOW - timedelta(days=100))
    assert holds({"field": "last_seen_days", "op": "gt", "value": 90}, never)
    assert holds({"field": "never_signed_in_days", "op": "gt", "value": 90}, never)
    assert not holds({"field": "never_signed_in_days", "op": "lt", "value": 90}, never)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"field": "event.data.reason", "op": "eq", "value": "dispute"}, True),
        ({"field": "event.data.reason", "op": "in", "value": ["fraud", "dispute"]}, True),
        ({"field": "event.data.amount", "op": "gt", "value": 100}, True),
        ({"field": "event.data.amount", "op": "lt", "value": 100}, False),
        ({"field": "event.data.missing", "op": "gt", "value": 1}, False),
        ({"field": "event.data.reason", "op": "gt", "value": 1}, False),  # not a number
    ],
)
def test_event_data_conditions(condition: dict[str, Any], expected: bool) -> None:
    s = subject(event_data={"reason": "dispute", "amount": 250})
    assert holds(condition, s, EVENT) is expected


def test_every_condition_must_hold() -> None:
    rule = parse_rule(dormant_template(5))
    assert matches(rule.conditions, subject(), NOW)
    assert not matches(rule.conditions, subject(status=Status.INACTIVE), NOW)


CONDITIONS = [
    {"field": "status", "op": "eq", "value": "active"},
    {"field": "status", "op": "in", "value": ["inactive", "blocked"]},
    {"field": "role", "op": "in", "value": ["member", "admin"]},
    {"field": "email_domain", "op": "eq", "value": "acme.example"},
    {"field": "last_seen_days", "op": "gt", "value": 90},
    {"field": "last_seen_days", "op": "lt", "value": 30},
    {"field": "never_signed_in_days", "op": "gt", "value": 60},
]
subjects = st.builds(
    lambda status, role, domain, seen, created: subject(
        status=status,
        role=role,
        email=f"u@{domain}",
        last_seen_at=None if seen is None else NOW - timedelta(days=seen),
        created_at=NOW - timedelta(days=created),
    ),
    st.sampled_from(list(Status)),
    st.sampled_from(list(Role)),
    st.sampled_from(["acme.example", "ACME.example", "other.example"]),
    st.none() | st.integers(0, 200),
    st.integers(0, 400),
)


@given(st.lists(st.sampled_from(CONDITIONS), max_size=4), st.lists(subjects, max_size=30))
def test_a_chunk_is_judged_as_each_user_alone(
    conditions: list[dict[str, Any]], users: list[Subject]
) -> None:
    parsed = [parse_condition(c, "c", SCHEDULE) for c in conditions]
    alone = [s for s in users if matches(parsed, s, NOW)]
    assert matching(parsed, users, NOW) == alone


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": " "}, "name"),
        ({"enabled": "yes"}, "enabled"),
        ({"trigger": None}, "trigger"),
        ({"trigger": {"type": "schedule"}}, "trigger"),
        ({"trigger": {"type": "schedule", "every_minutes": 0}}, "trigger.every_minutes"),
        ({"trigger": {"type": "schedule", "every_minutes": True}}, "trigger.every_minutes"),
        ({"trigger": {"type": "schedule", "daily_at": "24:00"}}, "trigger.daily_at"),
        ({"trigger": {"type": "event", "event": "Payment Failed"}}, "trigger.event"),
        ({"conditions": {}}, "conditions"),
        ({"conditions": [{"field": "status", "op": "in", "value": []}]}, "conditions[0].value"),
        ({"conditions": [{"field": "role", "op": "eq", "value": "king"}]}, "conditions[0].value"),
        (
            {"conditions": [{"field": "last_seen_days", "op": "eq", "value": 3}]},
            "conditions[0].op",
        ),
        (
            {"conditions": [{"field": "last_seen_days", "op": "gt", "value": -1}]},
            "conditions[0].value",
        ),
        (
            {"conditions": [{"field": "email_domain", "op": "eq", "value": "not a domain"}]},
            "conditions[0].value",
        ),
        (
            {"conditions": [{"field": "event.data.x", "op": "eq", "value": 1}]},
            "conditions[0].field",  # event data needs an event trigger
        ),
        ({"action": {"type": "delete"}}, "action.type"),
        ({"action": {"type": "set_status", "status": "gone"}}, "action.status"),
        ({"action": {"type": "set_status", "status": "blocked"}}, "action.reason_code"),
        (
            {"action": {"type": "set_status", "status": "inactive", "reason_code": "x"}},
            "action.reason_code",
        ),
        ({"action": {"type": "webhook", "url": "javascript:alert(1)"}}, "action.url"),
    ],
)
def test_bad_rules_are_refused_naming_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(RuleInvalid) as refused:
        parse_rule(dormant_template() | change)
    assert refused.value.field == field
    assert refused.value.code == "validation_error"
    assert refused.value.detail.startswith(f"{field}: ")


def test_a_rule_survives_its_json_round_trip() -> None:
    rule = parse_rule(dormant_template(30))
    assert parse_rule(rule.as_json()) == rule


def test_every_minutes_and_daily_schedules() -> None:
    assert next_run(SCHEDULE, NOW, "UTC") == NOW + timedelta(minutes=5)
    daily = parse_trigger({"type": "schedule", "daily_at": "03:00"})
    assert next_run(daily, NOW, "UTC") == datetime(2026, 6, 2, 3, 0, tzinfo=UTC)
    # 03:00 in Paris is 01:00 UTC in summer.
    assert next_run(daily, NOW, "Europe/Paris") == datetime(2026, 6, 2, 1, 0, tzinfo=UTC)
    assert next_run(EVENT, NOW, "UTC") is None


@pytest.mark.parametrize(
    ("rule", "sentence"),
    [
        (
            {
                "name": "x",
                "trigger": {"type": "schedule", "daily_at": "03:00"},
                "conditions": [{"field": "last_seen_days", "op": "gt", "value": 90}],
                "action": {"type": "set_status", "status": "inactive"},
            },
            "Every day at 03:00, users not seen for 90 days become Inactive.",
        ),
        (
            {
                "name": "x",
                "trigger": {"type": "event", "event": "payment.failed"},
                "action": {
                    "type": "set_status",
                    "status": "blocked",
                    "reason_code": "payment_dispute",
                },
            },
            "When event payment.failed arrives, the user becomes Blocked.",
        ),
        (
            {
                "name": "x",
                "trigger": {"type": "schedule", "every_minutes": 120},
                "conditions": [{"field": "email_domain", "op": "eq", "value": "x.example"}],
                "action": {"type": "webhook", "url": "https://hooks.example/r"},
            },
            "Every 2 hours, users with an email at x.example are sent to https://hooks.example/r.",
        ),
        (
            {
                "name": "x",
                "trigger": {"type": "event", "event": "user.created"},
                "action": {"type": "set_status", "status": "inactive"},
            },
            "When a user is created, the user becomes Inactive.",
        ),
    ],
)
def test_rules_read_as_one_plain_sentence(rule: dict[str, Any], sentence: str) -> None:
    assert summary(parse_rule(rule)) == sentence
