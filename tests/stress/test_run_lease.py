"""Found by the stress run: an automation run whose lease ran out while its first
holder was still working (a long chunk on a loaded machine) was taken over by the
same process's background tick, whose holder name (host:pid) is the same. Both
then wrote progress: the run double-counted a chunk and failed on duplicate
outcomes. The lease time is the fence now."""

from typing import Any

import pytest
from sqlalchemy import func, select

from roster.adapters import automation_store as store
from roster.adapters.tables import audit_events
from roster.adapters.unit_of_work import SqlUnitOfWork
from roster.bootstrap import Container
from roster.domain.rules import Run
from roster.services import automations as auto
from tests.conftest import Tenant
from tests.integration.test_automations import (
    LATER,
    SWEEP,
    at,
    dormant_world,
    outcomes,
    rule,
    user,
)


def test_a_run_taken_over_under_its_holder_stops_the_first_without_a_trace(
    container: Container, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    dormant_world(container, tenant)
    for i in range(5):
        user(container, tenant, f"more{i}@{tenant.workspace.slug}.example")
    monkeypatch.setattr(auto, "CHUNK", 3)
    r = rule(container, tenant, SWEEP, now=LATER)
    real_chunk = auto._chunk
    later = at(LATER + auto.LEASE * 2)
    taken: list[Run] = []

    def taken_over_between_chunks(*args: Any) -> Any:
        if not taken and args[1].cursor is not None:
            # The first holder is between chunks and its lease has run out: the
            # same process's tick (same holder name) takes the run over and does a
            # chunk, then the first holder goes on with its own next chunk.
            with container.engine.connect() as conn:
                [stale] = store.stale_runs(conn, later(), 10)
            with SqlUnitOfWork(container.engine) as uow:
                mine = store.take_over(uow.conn, stale, auto.holder_name(), later() + auto.LEASE)
                uow.commit()
            assert mine is not None
            taken.append(real_chunk(container.engine, mine, later, None, None)[0])
        return real_chunk(*args)

    monkeypatch.setattr(auto, "_chunk", taken_over_between_chunks)
    first = auto.start_run(
        container.engine, workspace_id=tenant.id, rule_id=r.id, dry_run=False, clock=at(LATER)
    )
    assert first.state == "running"  # it stopped: the run is no longer its
    monkeypatch.setattr(auto, "_chunk", real_chunk)
    auto.execute(container.engine, taken[0], later)
    with container.engine.connect() as conn:
        [run] = auto.list_runs(conn, tenant.id, r.id, before=None)
        audited = conn.execute(
            select(func.count()).where(
                audit_events.c.workspace_id == tenant.id, audit_events.c.batch_id == run.id
            )
        ).scalar_one()
    assert run.state == "succeeded"
    assert (run.applied, run.refused) == (7, 1)  # old, never, 5 more; the blocked one
    assert run.matched == len(outcomes(container, tenant, run)) == 8
    assert audited == run.applied + run.refused
