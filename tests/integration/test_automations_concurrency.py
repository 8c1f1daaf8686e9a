"""Several server processes, one due rule: it runs once (PostgreSQL row locks)."""

import threading
from datetime import timedelta

from sqlalchemy import func, select

from roster.adapters.tables import automation_runs
from roster.bootstrap import Container
from roster.domain.rules.runs import Run
from roster.domain.users import Actor
from roster.domain.vocabulary import Route
from roster.services import automations as auto
from roster.services.jobs import Tuning
from tests.conftest import new_tenant
from tests.integration.test_automations import LATER, SWEEP, T0, at, dormant_world


def test_two_servers_with_the_same_due_rule_run_it_once(pg_container: Container) -> None:
    c = pg_container
    tenant = new_tenant(c)
    dormant_world(c, tenant)
    rule = auto.create_rule(
        c.uow(),
        workspace_id=tenant.id,
        data=SWEEP | {"trigger": {"type": "schedule", "every_minutes": 5}},
        route=Route.CLI,
        created_by=Actor(id=None, name="cli:test"),
        now=T0,
    )
    start = threading.Barrier(4)
    runs: list[Run] = []

    def server(name: str) -> None:
        start.wait()
        for _ in range(3):  # each server ticks a few times at the same instant
            runs.extend(auto.run_due(c.uow(), at(LATER), holder=name, tuning=Tuning()))

    threads = [threading.Thread(target=server, args=(f"server-{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    mine = [r for r in runs if r.rule_id == rule.id]
    assert len(mine) == 1
    assert mine[0].applied == 2
    with c.engine.connect() as conn:
        stored = conn.execute(
            select(func.count()).where(
                automation_runs.c.workspace_id == tenant.id, automation_runs.c.rule_id == rule.id
            )
        ).scalar_one()
        assert auto.get_rule(c.uow(), tenant.id, rule.id).next_run_at == LATER + timedelta(
            minutes=5
        )
    assert stored == 1


def test_two_dispatchers_act_on_an_event_once(pg_container: Container) -> None:
    c = pg_container
    tenant = new_tenant(c)
    auto.create_rule(
        c.uow(),
        workspace_id=tenant.id,
        data={
            "name": "Block on dispute",
            "trigger": {"type": "event", "event": "payment.failed"},
            "action": {"type": "set_status", "status": "blocked", "reason_code": "payment_dispute"},
        },
        route=Route.CLI,
        created_by=Actor(id=None, name="cli:test"),
        now=T0,
    )
    member = dormant_world(c, tenant)["fresh"]
    for _ in range(5):
        auto.post_event(
            c.uow(),
            workspace_id=tenant.id,
            type="payment.failed",
            user_id=member,
            email=None,
            data={},
            now=T0,
        )
    start = threading.Barrier(3)
    runs: list[Run] = []

    def dispatcher() -> None:
        start.wait()
        for _ in range(3):
            runs.extend(auto.dispatch_workspace(c.uow(), tenant.id, at(T0)))

    threads = [threading.Thread(target=dispatcher) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(runs) == 5
    assert sorted(r.applied for r in runs) == [0, 0, 0, 0, 1]
