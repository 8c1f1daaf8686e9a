"""The automation editor's form and the rule's JSON shape say the same rule, both ways."""

from typing import Any

import pytest

from roster.domain.rules.definition import dormant_template
from roster.domain.rules.parse import parse_rule
from roster.entrypoints.web.admin.automation_form import from_json, read_form, to_json

RULES = [
    dormant_template(),
    {
        "name": "Payment failed",
        "enabled": False,
        "personal": False,
        "trigger": {"type": "event", "event": "payment.failed"},
        "conditions": [
            {"field": "event.data.attempt", "op": "gt", "value": 2},
            {"field": "event.data.plan", "op": "in", "value": ["pro", "team"]},
            {"field": "event.data.test", "op": "eq", "value": False},
            {"field": "role", "op": "in", "value": ["admin", "member"]},
        ],
        "action": {"type": "set_status", "status": "blocked", "reason_code": "payment_dispute"},
    },
    {
        "name": "Expiring soon",
        "enabled": True,
        "personal": True,
        "trigger": {"type": "schedule", "every_minutes": 90},
        "conditions": [
            {"field": "expires_in_days", "op": "lt", "value": 7},
            {"field": "never_signed_in_days", "op": "gt", "value": 0},
            {"field": "email_domain", "op": "in", "value": ["a.example", "b.example"]},
        ],
        "action": {"type": "webhook", "url": "https://hooks.example.com/x"},
    },
]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r["name"])
def test_a_rule_shown_in_the_form_and_saved_from_it_is_the_same_rule(rule: dict[str, Any]) -> None:
    form = from_json(rule)
    translated = to_json(form)
    assert translated.errors == {}
    assert parse_rule(translated.data) == parse_rule(rule)


def test_is_not_ticks_the_statuses_a_user_may_not_have() -> None:
    fields = {
        "editor": ["form"], "name": ["x"], "trigger_type": ["daily"], "daily_at": ["03:00"],
        "cond-0-field": ["status"], "cond-0-status_op": ["not_in"], "cond-0-status": ["blocked"],
        "cond-3-field": [""], "action_type": ["set_status"], "action_status": ["inactive"],
    }  # fmt: skip
    translated = to_json(read_form(fields))
    assert translated.data["conditions"] == [
        {"field": "status", "op": "in", "value": ["active", "inactive"]}
    ]


def test_what_the_form_alone_can_tell_is_wrong_is_named_by_its_row() -> None:
    fields = {
        "trigger_type": ["every"], "every_minutes": ["often"],
        "cond-0-field": ["last_seen_days"], "cond-0-days": ["ninety"],
        "cond-1-field": ["role"], "cond-1-role_op": ["not_in"],
        "cond-1-role": ["owner", "admin", "member"],
    }  # fmt: skip
    assert to_json(read_form(fields)).errors == {
        "every_minutes": "Enter a whole number of minutes.",
        "cond-0": "Enter a whole number of days.",
        "cond-1": "Every role is ticked: no user would match.",
    }
