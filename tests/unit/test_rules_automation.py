"""Automation rules in the domain: parsing with field-named errors, schedules,
event conditions, and the plain-language summary (user conditions select users in
the database: tests/integration/test_user_filter.py)."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from roster.domain.filters import UserFilter
from roster.domain.rules.definition import RuleInvalid, dormant_template
from roster.domain.rules.match import event_matches, user_filter
from roster.domain.rules.parse import parse_condition, parse_rule, parse_trigger
from roster.domain.rules.schedule import next_run
from roster.domain.rules.summary import summary
from roster.domain.vocabulary import Status

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
EVENT = parse_trigger({"type": "event", "event": "payment.failed"})
SCHEDULE = parse_trigger({"type": "schedule", "every_minutes": 5})


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
    parsed = [parse_condition(condition, "c", EVENT)]
    assert event_matches(parsed, {"reason": "dispute", "amount": 250}) is expected


def test_user_conditions_are_left_to_the_users_filter() -> None:
    rule = parse_rule(dormant_template(5))
    assert event_matches(rule.conditions, {})
    assert user_filter(rule.conditions, NOW) == UserFilter(
        status=(Status.ACTIVE,), idle_before=NOW - timedelta(days=5)
    )


def test_two_conditions_on_one_field_both_hold() -> None:
    conditions = [
        parse_condition(
            {"field": "status", "op": "in", "value": ["active", "blocked"]}, "c", SCHEDULE
        ),
        parse_condition({"field": "status", "op": "eq", "value": "inactive"}, "c", SCHEDULE),
        parse_condition({"field": "last_seen_days", "op": "gt", "value": 9}, "c", SCHEDULE),
        parse_condition({"field": "last_seen_days", "op": "gt", "value": 30}, "c", SCHEDULE),
    ]
    chosen = user_filter(conditions, NOW)
    assert chosen.status == ()  # nobody is both
    assert chosen.idle_before == NOW - timedelta(days=30)


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
