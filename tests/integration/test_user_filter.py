"""Automation rules' user conditions select users in the database, through the one
user filter, on SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from roster.adapters.automation_store import SqlAutomations
from roster.bootstrap import Container
from roster.domain.rules.definition import dormant_template
from roster.domain.rules.match import user_filter
from roster.domain.rules.parse import parse_condition, parse_rule, parse_trigger
from roster.domain.vocabulary import Route, Status
from roster.services.users import NewUser, add_users
from tests.conftest import CLI_ACTOR, Tenant

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SCHEDULE = parse_trigger({"type": "schedule", "every_minutes": 5})


def seed(
    container: Container,
    tenant: Tenant,
    email: str,
    *,
    created: datetime,
    seen: datetime | None,
    status: Status = Status.ACTIVE,
) -> str:
    with container.uow() as uow:
        [user] = add_users(
            uow,
            workspace_id=tenant.id,
            new=[NewUser(email, "Ann", status=status, last_seen_at=seen)],
            route=Route.CLI,
            actor=CLI_ACTOR,
            now=created,
            batch_id=None,
        )
        uow.commit()
    return user.id


def selected(container: Container, tenant: Tenant, conditions: list[Any]) -> set[str]:
    with container.engine.connect() as conn:
        found = SqlAutomations(conn).candidates(
            tenant.id, user_filter(conditions, NOW), after=None, limit=100
        )
    return {s.user_id for s in found}


def holds(container: Container, tenant: Tenant, condition: dict[str, Any], user: str) -> bool:
    return user in selected(container, tenant, [parse_condition(condition, "c", SCHEDULE)])


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
def test_each_user_condition(
    container: Container, tenant: Tenant, condition: dict[str, Any], expected: bool
) -> None:
    ann = seed(
        container,
        tenant,
        "ann@Acme.example",
        created=NOW - timedelta(days=400),
        seen=NOW - timedelta(days=10),
    )
    assert holds(container, tenant, condition, ann) is expected


def test_a_user_never_seen_is_dormant_from_their_creation(
    container: Container, tenant: Tenant
) -> None:
    never = seed(container, tenant, "n@x.example", created=NOW - timedelta(days=100), seen=None)
    assert holds(container, tenant, {"field": "last_seen_days", "op": "gt", "value": 90}, never)
    assert holds(
        container, tenant, {"field": "never_signed_in_days", "op": "gt", "value": 90}, never
    )
    assert not holds(
        container, tenant, {"field": "never_signed_in_days", "op": "lt", "value": 90}, never
    )


def test_every_condition_must_hold(container: Container, tenant: Tenant) -> None:
    old = NOW - timedelta(days=400)
    seen = NOW - timedelta(days=10)
    ann = seed(container, tenant, "ann@x.example", created=old, seen=seen)
    ida = seed(container, tenant, "ida@x.example", created=old, seen=seen, status=Status.INACTIVE)
    rule = parse_rule(dormant_template(5))
    assert selected(container, tenant, list(rule.conditions)) & {ann, ida} == {ann}
