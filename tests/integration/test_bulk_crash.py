"""Bulk jobs survive a SIGKILLed worker, and two workers never run a chunk twice.

Workers are real `roster bulk run` processes on the test's database, with a lease of
one second (ROSTER_JOB_LEASE_SECONDS), so the second worker takes over a killed
one's job soon. Most of a worker's time is inside a chunk's transaction, so the kill
usually lands there, with that chunk's writes uncommitted.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from roster.adapters.tables import audit_events, bulk_results, users
from roster.bootstrap import Container
from roster.domain.bulk import Job
from roster.domain.filters import UserFilter
from roster.domain.users import Actor
from roster.domain.vocabulary import Role, Route, Status
from roster.services import bulk, queries
from roster.services.audit_chain import verify_chain
from roster.services.users import NewUser, add_users
from tests.conftest import Tenant

USERS = 400
CHUNK = 8
ROSTER = str(Path(sys.executable).with_name("roster"))


def seed_members(container: Container, tenant: Tenant, n: int) -> None:
    with container.uow() as uow:
        add_users(
            uow,
            workspace_id=tenant.id,
            new=[NewUser(f"m{i:04}@x.example", f"Member {i}") for i in range(n)],
            route=Route.CLI,
            actor=Actor(id=None, name="cli:test"),
            now=container.clock(),
            batch_id=None,
        )
        uow.commit()


def queue(container: Container, tenant: Tenant) -> Job:
    request = bulk.BulkRequest(Status.INACTIVE, filter=UserFilter(role=(Role.MEMBER,)))
    job, _ = bulk.start_job(
        container.uow(),
        workspace_id=tenant.id,
        request=request,
        actor=Actor(id=None, name="cli:test"),
        now=container.clock(),
    )
    return job


def worker(database_url: str, tenant: Tenant, job: Job) -> subprocess.Popen[str]:
    env = os.environ | {"ROSTER_DATABASE_URL": database_url, "ROSTER_JOB_LEASE_SECONDS": "1"}
    args = [ROSTER, "bulk", "run", job.id, "-w", tenant.workspace.slug, "--chunk-size", str(CHUNK)]
    return subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def current(container: Container, tenant: Tenant, job: Job) -> Job:
    return bulk.get_job(container.uow(), tenant.id, job.id)


def assert_each_member_changed_exactly_once(container: Container, tenant: Tenant, job: Job) -> None:
    done = current(container, tenant, job)
    assert (done.state, done.processed, done.tally.applied) == ("done", USERS, USERS)
    with container.engine.connect() as conn:
        a = audit_events.c
        per_user = conn.execute(
            select(a.user_id, func.count())
            .where(a.workspace_id == tenant.id, a.batch_id == job.id, a.outcome == "applied")
            .group_by(a.user_id)
        ).all()
        assert len(per_user) == USERS
        assert {n for _, n in per_user} == {1}
        results = conn.scalar(
            select(func.count()).where(
                bulk_results.c.workspace_id == tenant.id, bulk_results.c.job_id == job.id
            )
        )
        assert results == USERS
        inactive = conn.scalar(
            select(func.count()).where(
                users.c.workspace_id == tenant.id, users.c.status == Status.INACTIVE.value
            )
        )
        assert inactive == USERS
        counts = queries.user_counts_of(conn, tenant.id)
        assert (counts.active, counts.inactive) == (1, USERS)  # the owner stays
        assert verify_chain(conn, tenant.id).ok


def test_a_killed_worker_resumes_without_losing_or_doubling_a_change(
    container: Container, tenant: Tenant, database_url: str
) -> None:
    seed_members(container, tenant, USERS)
    job = queue(container, tenant)

    first = worker(database_url, tenant, job)
    deadline = time.monotonic() + 60
    while current(container, tenant, job).processed < USERS // 3:
        assert first.poll() is None, first.communicate()
        assert time.monotonic() < deadline, "the worker made no progress"
        time.sleep(0.005)
    os.kill(first.pid, signal.SIGKILL)
    first.communicate()
    stopped = current(container, tenant, job)
    assert stopped.state == "running"
    assert 0 < stopped.processed < USERS  # killed mid-job

    second = worker(database_url, tenant, job)
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    assert "done" in out
    assert_each_member_changed_exactly_once(container, tenant, job)


def test_two_workers_on_one_job_never_run_a_chunk_twice(
    container: Container, tenant: Tenant, database_url: str
) -> None:
    seed_members(container, tenant, USERS)
    job = queue(container, tenant)
    workers = [worker(database_url, tenant, job) for _ in range(2)]
    for w in workers:
        _, err = w.communicate(timeout=120)
        assert w.returncode == 0, err
    assert_each_member_changed_exactly_once(container, tenant, job)
    assert current(container, tenant, job).chunks == USERS // CHUNK + 1
