"""The automation condition `expires_in_days` selects users by when their account
ends, through the one user filter, on SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from roster.adapters.automation_store import SqlAutomations
from roster.bootstrap import Container
from roster.domain.rules.definition import RuleInvalid
from roster.domain.rules.match import user_filter
from roster.domain.rules.parse import parse_condition, parse_trigger
from roster.domain.vocabulary import Route
from roster.services.users import NewUser, add_users
from tests.conftest import CLI_ACTOR, Tenant

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SCHEDULE = parse_trigger({"type": "schedule", "every_minutes": 5})


def _users(container: Container, tenant: Tenant, **ends: datetime | None) -> dict[str, str]:
    with container.uow() as uow:
        made = add_users(
            uow,
            workspace_id=tenant.id,
            new=[NewUser(f"{n}@x.example", n, expires_at=at) for n, at in ends.items()],
            route=Route.CLI,
            actor=CLI_ACTOR,
            now=NOW,
            batch_id=None,
        )
        uow.commit()
    return {u.name: u.id for u in made}


def _selected(container: Container, tenant: Tenant, condition: dict[str, Any]) -> set[str]:
    conditions = [parse_condition(condition, "c", SCHEDULE)]
    with container.engine.connect() as conn:
        found = SqlAutomations(conn).candidates(
            tenant.id, user_filter(conditions, NOW), after=None, limit=100
        )
    return {s.user_id for s in found}


@pytest.mark.parametrize(
    ("op", "days", "expected"),
    [("lt", 7, {"soon"}), ("lt", 3, set()), ("gt", 3, {"soon", "later"}), ("gt", 7, {"later"})],
)
def test_expires_in_days_selects_accounts_ending_within_or_beyond_n_days(
    container: Container, tenant: Tenant, op: str, days: int, expected: set[str]
) -> None:
    ids = _users(
        container,
        tenant,
        soon=NOW + timedelta(days=5),
        later=NOW + timedelta(days=40),
        ended=NOW - timedelta(days=1),
        never=None,
    )
    condition = {"field": "expires_in_days", "op": op, "value": days}
    assert _selected(container, tenant, condition) == {ids[n] for n in expected}


def test_an_unknown_op_for_expires_in_days_is_refused_by_name() -> None:
    with pytest.raises(RuleInvalid, match=r"c.op: expires_in_days takes"):
        parse_condition({"field": "expires_in_days", "op": "eq", "value": 3}, "c", SCHEDULE)
