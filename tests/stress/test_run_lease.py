"""Found by the stress run: an automation run whose lease ran out while its first
holder was still working (a long chunk on a loaded machine) was taken over by the
same process's background tick, whose holder name (host:pid) is the same. Both
then wrote progress: the run double-counted a chunk and failed on duplicate
outcomes. The lease time is the fence now."""

import pytest
from sqlalchemy import func, select

from roster.adapters.tables import audit_events
from roster.bootstrap import Container
from roster.domain.jobs import JobRef, Lease
from roster.services import automations as auto
from roster.services import jobs
from tests.conftest import Tenant
from tests.integration.test_automations import (
    LATER,
    SWEEP,
    DiesInSecondChunk,
    at,
    dormant_world,
    outcomes,
    rule,
    start,
    user,
)


def test_a_run_taken_over_under_its_holder_stops_the_first_without_a_trace(
    container: Container, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    dormant_world(container, tenant)
    for i in range(5):
        user(container, tenant, f"more{i}@{tenant.workspace.slug}.example")
    r = rule(container, tenant, SWEEP, now=LATER)
    small = jobs.Tuning(chunk=3)
    # The first holder does one chunk, then stalls (here: stops) between chunks
    # while its lease runs out.
    monkeypatch.setattr(auto, "Runs", DiesInSecondChunk)
    with pytest.raises(KeyboardInterrupt):
        start(container, tenant, r, LATER, dry_run=False, tuning=small)
    monkeypatch.undo()
    [run] = auto.list_runs(container.uow(), tenant.id, r.id, before=None)
    ref = JobRef(tenant.id, run.id)
    first = Lease(ref, jobs.this_process(), LATER + small.lease)
    # The same process's tick (same holder name) takes the run over and does a chunk.
    later = at(LATER + small.lease * 2)
    tick = jobs.Runner(container.uow, auto.Runs(), jobs.this_process(), later, small)
    taken = tick.take(ref)
    assert taken is not None
    # Then the first holder goes on with its own next chunk: it finds the run no
    # longer its own and stops without writing.
    holder = jobs.Runner(container.uow, auto.Runs(), jobs.this_process(), at(LATER), small)
    assert holder.run(first) == "lost"
    assert tick.run(taken) == "done"
    with container.engine.connect() as conn:
        [run] = auto.list_runs(container.uow(), tenant.id, r.id, before=None)
        audited = conn.execute(
            select(func.count()).where(
                audit_events.c.workspace_id == tenant.id, audit_events.c.batch_id == run.id
            )
        ).scalar_one()
    assert run.state == "succeeded"
    assert (run.applied, run.refused) == (7, 1)  # old, never, 5 more; the blocked one
    assert run.matched == len(outcomes(container, tenant, run)) == 8
    assert audited == run.applied + run.refused
