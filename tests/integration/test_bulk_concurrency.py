"""On PostgreSQL, a bulk activation racing an admin's block of the same user: the
user ends Blocked, either because the block came after the activation or because
the activation saw the block and was refused. Never Active after the block."""

import random
import threading
import time
from datetime import datetime
from typing import Any

import pytest

from roster.bootstrap import Container
from roster.domain.bulk import Job
from roster.domain.jobs import JobRef
from roster.domain.users import Actor
from roster.domain.vocabulary import ReasonCode, Route, Status
from roster.services import bulk, jobs, queries
from roster.services.status import change_status
from tests.conftest import Tenant, new_tenant
from tests.e2e.conftest import add_user

pytestmark = pytest.mark.postgres_only


def admin(tenant: Tenant) -> Actor:
    return Actor(id=tenant.owner.id, name=tenant.owner.name, user_id=tenant.owner.id)


class SlowBulk(bulk.BulkJobs):
    """A bulk action whose chunks stay open `seconds` after their changes, holding
    their locks, so a change from elsewhere lands in the middle of one."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def act(self, uow: Any, job: Job, targets: jobs.Targets[str], now: datetime) -> None:
        super().act(uow, job, targets, now)
        time.sleep(self.seconds)


def race(container: Container, tenant: Tenant, user_id: str, *, bulk_first: bool) -> str:
    """Start a bulk activation of the user and block them at once; the bulk
    result for the user."""
    others = [add_user(container, tenant, f"o{i}-{user_id[-6:]}@x.example") for i in range(3)]
    job, _ = bulk.start_job(
        container.uow(),
        workspace_id=tenant.id,
        request=bulk.BulkRequest(Status.ACTIVE, user_ids=(user_id, *others)),
        actor=admin(tenant),
        now=container.clock(),
    )
    start = threading.Barrier(2)

    def activate() -> None:
        start.wait()
        if not bulk_first:
            time.sleep(random.uniform(0, 0.02))
        slow = SlowBulk(0.2 if bulk_first else 0.01)
        runner = jobs.Runner(container.uow, slow, "test", container.clock, jobs.Tuning())
        runner.run_to_end(JobRef(tenant.id, job.id))

    def block() -> None:
        start.wait()
        time.sleep(0.05 if bulk_first else random.uniform(0, 0.02))
        change_status(
            container.uow(),
            workspace_id=tenant.id,
            user_id=user_id,
            to=Status.BLOCKED,
            route=Route.ADMIN_PROFILE,
            actor=admin(tenant),
            reason_code=ReasonCode.ACCESS_VIOLATION,
            now=container.clock(),
        )

    threads = [threading.Thread(target=activate), threading.Thread(target=block)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    row = bulk.list_results(container.uow(), tenant.id, job.id, limit=10)
    return next(
        f"{r.result}: {r.code}" if r.code else r.result for r in row if r.user_id == user_id
    )


def assert_blocked_and_never_active_after_the_block(
    container: Container, tenant: Tenant, user_id: str
) -> None:
    with container.engine.connect() as conn:
        assert queries.user_by_id(conn, tenant.id, user_id).user.status == Status.BLOCKED
        history = [e for e in queries.audit_for_user(conn, tenant.id, user_id)]
    applied = [e for e in history if e.outcome == "applied"]
    assert applied[-1].to_status == Status.BLOCKED
    block_seq = next(e.seq for e in applied if e.to_status == Status.BLOCKED)
    assert not [e for e in applied if e.seq > block_seq and e.to_status == Status.ACTIVE]


def test_a_block_during_a_bulk_chunk_waits_and_then_wins(pg_container: Container) -> None:
    tenant = new_tenant(pg_container)
    user_id = add_user(pg_container, tenant, "ivy@x.example", status=Status.INACTIVE)
    assert race(pg_container, tenant, user_id, bulk_first=True) == "applied"
    assert_blocked_and_never_active_after_the_block(pg_container, tenant, user_id)


def test_bulk_activation_racing_a_block_never_leaves_the_user_active(
    pg_container: Container,
) -> None:
    tenant = new_tenant(pg_container)
    seen = set()
    for n in range(6):
        user_id = add_user(pg_container, tenant, f"r{n}@x.example", status=Status.INACTIVE)
        seen.add(race(pg_container, tenant, user_id, bulk_first=False))
        assert_blocked_and_never_active_after_the_block(pg_container, tenant, user_id)
    assert seen <= {"applied", "refused: user_blocked"}
