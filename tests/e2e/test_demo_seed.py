"""`roster init --demo`: ninety days of history a new admin can look around in, made
through the real services, on SQLite and PostgreSQL."""

import itertools
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from roster.adapters.database import make_engine
from roster.adapters.migrator import upgrade
from roster.adapters.tables import audit_events, billing_days
from roster.bootstrap import Container
from roster.config import Settings
from roster.domain.audit import APPLIED, AuditKind
from roster.domain.vocabulary import Route
from roster.services import automations, billing, bulk, queries
from roster.services.audit_chain import verify_chain
from roster.services.demo import DEMO_SLUG, seed_demo
from roster.services.demo_history import HISTORY_DAYS
from tests.conftest import BACKENDS, _pg_scratch

NOW = datetime(2026, 12, 7, 0, 20, tzinfo=UTC)  # just after midnight: yesterday's history fits


@pytest.fixture(scope="module", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database of its own: the demo is the one workspace named `demo`."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    else:
        yield from _pg_scratch()


@pytest.fixture(scope="module")
def demo(database_url: str) -> Iterator[tuple[Container, str]]:
    c = Container(settings=Settings(database_url=database_url), engine=make_engine(database_url))
    upgrade(c.engine)
    assert seed_demo(c.uow, now=NOW, tuning=c.jobs)
    with c.engine.connect() as conn:
        workspace_id = queries.workspace_by_slug(conn, DEMO_SLUG).id
    yield c, workspace_id
    c.engine.dispose()


def _status_attempts(c: Container, workspace_id: str) -> Counter[tuple[str, str]]:
    a = audit_events.c
    with c.engine.connect() as conn:
        rows = conn.execute(
            select(a.route, a.outcome, func.count())
            .where(a.workspace_id == workspace_id, a.kind == AuditKind.STATUS)
            .group_by(a.route, a.outcome)
        ).all()
    return Counter({(route, outcome): n for route, outcome, n in rows})


def test_the_demo_changes_statuses_through_every_route(demo: tuple[Container, str]) -> None:
    attempts = _status_attempts(*demo)
    changing = set(Route) - {Route.PASSWORD_RESET, Route.UPGRADE}
    assert {r for r in changing if attempts[(r.value, APPLIED)] > 0} == changing


def test_the_demo_holds_refused_attempts_on_blocked_users(demo: tuple[Container, str]) -> None:
    attempts = _status_attempts(*demo)
    for route in (Route.ADMIN_API, Route.SCIM, Route.SIGN_IN, Route.AUTOMATION):
        assert attempts[(route.value, "user_blocked")] > 0, route


def test_the_audit_chain_verifies_and_runs_forward_in_time(demo: tuple[Container, str]) -> None:
    c, workspace_id = demo
    with c.engine.connect() as conn:
        assert verify_chain(conn, workspace_id).ok
        times = conn.execute(
            select(audit_events.c.at)
            .where(audit_events.c.workspace_id == workspace_id)
            .order_by(audit_events.c.seq)
        ).scalars()
        ats = [t.replace(tzinfo=None) for t in times]
    assert ats == sorted(ats)
    assert ats[-1] <= NOW.replace(tzinfo=None)
    assert NOW.replace(tzinfo=None) - ats[0] >= timedelta(days=HISTORY_DAYS)
    assert billing.verify(c.uow(), workspace_id).ok


def test_billing_has_ninety_daily_snapshots_that_rise_and_dip(
    demo: tuple[Container, str],
) -> None:
    c, workspace_id = demo
    with c.engine.connect() as conn:
        closing = list(
            conn.execute(
                select(billing_days.c.closing)
                .where(billing_days.c.workspace_id == workspace_id)
                .order_by(billing_days.c.day)
            ).scalars()
        )
    assert len(closing) >= HISTORY_DAYS
    steps = [b - a for a, b in itertools.pairwise(closing)]
    assert max(steps) > 0  # growth
    assert min(steps) < -10  # and at least one visible dip


def test_the_three_sample_rules_ran_and_one_bulk_action_finished(
    demo: tuple[Container, str],
) -> None:
    c, workspace_id = demo
    rules = {r.definition.name: r for r in automations.list_rules(c.uow(), workspace_id)}
    jobs = bulk.list_jobs(c.uow(), workspace_id)
    runs = {
        name: automations.list_runs(c.uow(), workspace_id, r.id, limit=500, before=None)
        for name, r in rules.items()
    }
    assert set(rules) == {
        "Deactivate dormant members",
        "Block after three failed payments",
        "Reactivate when a payment succeeds",
    }
    assert all(runs.values())  # each rule has runs in the history
    assert [j.state for j in jobs] == ["done"]
    assert jobs[0].tally.applied == jobs[0].total > 0


def test_seeding_again_changes_nothing(demo: tuple[Container, str]) -> None:
    c, workspace_id = demo
    before = _status_attempts(c, workspace_id)
    assert not seed_demo(c.uow, now=NOW, tuning=c.jobs)
    assert _status_attempts(c, workspace_id) == before
