"""Bulk actions on real SQLite and PostgreSQL: outcomes per user, audit, preview, resume."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from roster.adapters.tables import audit_events, bulk_results, users
from roster.bootstrap import Container
from roster.domain import errors
from roster.domain.bulk import Job
from roster.domain.filters import UserFilter, instant
from roster.domain.jobs import JobRef
from roster.domain.users import Actor
from roster.domain.vocabulary import ReasonCode, Role, Route, Status
from roster.services import bulk, jobs, queries
from roster.services.audit_chain import verify_chain
from roster.services.jobs import Tuning
from roster.services.users import NewUser, add_users
from tests.conftest import Tenant

TODAY = datetime.now(UTC).date()
A, I, B = Status.ACTIVE, Status.INACTIVE, Status.BLOCKED


def admin_of(tenant: Tenant) -> Actor:
    o = tenant.owner
    return Actor(id=o.id, name=o.name, user_id=o.id)


def seed(container: Container, tenant: Tenant, statuses: dict[str, Status]) -> dict[str, str]:
    """Users named by their email's local part, in the given statuses; name → id."""
    now = container.clock()
    with container.uow() as uow:
        made = add_users(
            uow,
            workspace_id=tenant.id,
            new=[
                NewUser(
                    f"{name}@x.example",
                    name.title(),
                    Role.MEMBER,
                    status,
                    ReasonCode.PAYMENT_DISPUTE if status == B else None,
                    last_seen_at=now - timedelta(days=10 * i),
                )
                for i, (name, status) in enumerate(statuses.items())
            ],
            route=Route.CLI,
            actor=Actor(id=None, name="cli:test"),
            now=now,
            batch_id=None,
        )
        uow.commit()
    return {u.email.split("@")[0]: u.id for u in made}


def run(container: Container, tenant: Tenant, request: bulk.BulkRequest, size: int = 2) -> Job:
    job, created = bulk.start_job(
        container.uow(),
        workspace_id=tenant.id,
        request=request,
        actor=admin_of(tenant),
        now=container.clock(),
    )
    assert created
    return bulk.run_job(
        container.uow,
        workspace_id=tenant.id,
        job_id=job.id,
        clock=container.clock,
        tuning=Tuning(chunk=size),
    )


def outcomes(container: Container, tenant: Tenant, job: Job) -> dict[str, str]:
    rows = bulk.list_results(container.uow(), tenant.id, job.id, limit=1000)
    return {r.user_id: f"{r.result}: {r.code}" if r.code else r.result for r in rows}


def status_of(container: Container, tenant: Tenant, user_id: str) -> Status:
    with container.engine.connect() as conn:
        return queries.user_by_id(conn, tenant.id, user_id).user.status


MIX = {"ann": A, "abe": A, "ida": I, "ivo": I, "bea": B, "bob": B}
EXPECTED = {
    A: {A: "unchanged", I: "applied", B: "refused: user_blocked"},
    I: {A: "applied", I: "unchanged", B: "refused: user_blocked"},
    B: {A: "applied", I: "applied", B: "unchanged"},
}


@pytest.mark.parametrize("target", list(Status))
def test_bulk_action_over_a_mix_gives_exact_outcomes_and_never_changes_a_blocked_user(
    container: Container, tenant: Tenant, target: Status
) -> None:
    ids = seed(container, tenant, MIX)
    reason = ReasonCode.NEEDS_REVIEW if target == B else None
    request = bulk.BulkRequest(
        target, user_ids=(*ids.values(), "usr_nobody"), reason_code=reason, note="spring clean"
    )
    job = run(container, tenant, request)

    expected = {ids[n]: EXPECTED[target][s] for n, s in MIX.items()}
    assert outcomes(container, tenant, job) == expected | {"usr_nobody": "refused: not_found"}
    for name, status in MIX.items():
        after = status if (status == B or EXPECTED[target][status] == "unchanged") else target
        assert status_of(container, tenant, ids[name]) == after
    assert job.state == "done"
    assert job.processed == job.total == 7


def test_refusals_are_audited_with_the_jobs_batch_id(container: Container, tenant: Tenant) -> None:
    ids = seed(container, tenant, MIX)
    job = run(container, tenant, bulk.BulkRequest(A, user_ids=tuple(ids.values()), note="back"))
    with container.engine.connect() as conn:
        rows = conn.execute(
            select(audit_events.c.user_id, audit_events.c.outcome, audit_events.c.route).where(
                audit_events.c.workspace_id == tenant.id, audit_events.c.batch_id == job.id
            )
        ).all()
    events = {r.user_id: (r.outcome, r.route) for r in rows}
    assert events == {
        ids["ida"]: ("applied", "bulk"),
        ids["ivo"]: ("applied", "bulk"),
        ids["bea"]: ("user_blocked", "bulk"),
        ids["bob"]: ("user_blocked", "bulk"),
    }  # unchanged users write nothing
    assert job.tally.refused == {"user_blocked": 2}


def test_the_admin_running_it_is_refused_for_themself(container: Container, tenant: Tenant) -> None:
    ids = seed(container, tenant, {"ann": A})
    job = run(container, tenant, bulk.BulkRequest(I, user_ids=(ids["ann"], tenant.owner.id)))
    assert outcomes(container, tenant, job) == {
        ids["ann"]: "applied",
        tenant.owner.id: "refused: cannot_change_own_status",
    }


def test_a_filter_selects_by_status_role_text_and_last_seen(
    container: Container, tenant: Tenant
) -> None:
    ids = seed(container, tenant, {"ann": A, "abe": A, "ida": I, "bea": B, "zed": A})
    f = UserFilter(
        status=(A, B),
        role=(Role.MEMBER,),
        q="B",
        last_seen_before=instant(TODAY + timedelta(days=1)),
    )
    job = run(container, tenant, bulk.BulkRequest(I, filter=f))
    assert outcomes(container, tenant, job) == {
        ids["abe"]: "applied",
        ids["bea"]: "refused: user_blocked",
    }
    seen_long_ago = UserFilter(last_seen_before=instant(TODAY - timedelta(days=25)))
    old = run(container, tenant, bulk.BulkRequest(I, filter=seen_long_ago))
    assert set(outcomes(container, tenant, old)) == {ids["bea"], ids["zed"]}


def test_preview_counts_what_the_job_then_does_and_writes_nothing(
    container: Container, tenant: Tenant
) -> None:
    ids = seed(container, tenant, MIX)
    request = bulk.BulkRequest(I, user_ids=(*ids.values(), tenant.owner.id))
    with container.engine.connect() as conn:
        audit_before = conn.scalar(
            select(func.count()).where(audit_events.c.workspace_id == tenant.id)
        )
    shown = bulk.preview(
        container.uow(),
        workspace_id=tenant.id,
        request=request,
        actor=admin_of(tenant),
    )
    with container.engine.connect() as conn:
        audit_after = conn.scalar(
            select(func.count()).where(audit_events.c.workspace_id == tenant.id)
        )
    assert audit_after == audit_before
    assert status_of(container, tenant, ids["ann"]) == A
    assert (shown.tally.applied, shown.tally.unchanged) == (2, 2)
    assert shown.tally.refused == {"user_blocked": 2, "cannot_change_own_status": 1}
    assert (shown.active_before, shown.active_after) == (3, 1)

    job = run(container, tenant, request)
    assert job.tally == shown.tally
    with container.engine.connect() as conn:
        assert queries.user_counts_of(conn, tenant.id).active == 1


def test_a_dry_run_job_records_would_be_outcomes_and_changes_nothing(
    container: Container, tenant: Tenant
) -> None:
    ids = seed(container, tenant, MIX)
    job = run(container, tenant, bulk.BulkRequest(I, user_ids=tuple(ids.values()), dry_run=True))
    assert job.dry_run
    assert (job.tally.applied, job.tally.unchanged, job.tally.refused) == (
        2,
        2,
        {"user_blocked": 2},
    )
    assert job.tally.active_delta == -2
    assert status_of(container, tenant, ids["ann"]) == A


def test_the_seat_limit_holds_across_chunks(container: Container, tenant: Tenant) -> None:
    ids = seed(container, tenant, {"ida": I, "ivo": I, "ike": I})
    with container.uow() as uow:
        ws = uow.workspaces.get(tenant.id)
        assert ws is not None
        ws.seat_limit = 3  # the owner plus two
        uow.workspaces.save_settings(ws)
        uow.commit()
    job = run(container, tenant, bulk.BulkRequest(A, user_ids=tuple(ids.values())), size=1)
    assert job.tally.applied == 2
    assert job.tally.refused == {"seat_limit_reached": 1}


def test_an_idempotency_key_returns_the_same_job(container: Container, tenant: Tenant) -> None:
    ids = seed(container, tenant, {"ann": A})
    request = bulk.BulkRequest(I, user_ids=(ids["ann"],))

    def start(request: bulk.BulkRequest) -> tuple[Job, bool]:
        return bulk.start_job(
            container.uow(),
            workspace_id=tenant.id,
            request=request,
            actor=admin_of(tenant),
            now=container.clock(),
            idempotency_key="k-1",
        )

    first, new = start(request)
    again, again_new = start(request)
    assert (new, again_new) == (True, False)
    assert again.id == first.id
    other = bulk.BulkRequest(A, user_ids=(ids["ann"],))
    with pytest.raises(errors.InvalidInput):
        start(other)


class DiesInSecondChunk(bulk.BulkJobs):
    """The process dies in the middle of its second chunk, after the changes were
    made and before the commit: nothing records it."""

    def act(self, uow: Any, job: Job, targets: jobs.Targets[str], now: datetime) -> None:
        super().act(uow, job, targets, now)
        if job.processed:
            raise KeyboardInterrupt


def test_a_resumed_job_continues_after_the_last_committed_chunk(
    container: Container, tenant: Tenant
) -> None:
    ids = seed(container, tenant, {f"u{n:02}": A for n in range(10)})
    job, _ = bulk.start_job(
        container.uow(),
        workspace_id=tenant.id,
        request=bulk.BulkRequest(I, user_ids=tuple(ids.values())),
        actor=admin_of(tenant),
        now=container.clock(),
    )
    ref, tuning = JobRef(tenant.id, job.id), Tuning(chunk=4)
    dies = jobs.Runner(container.uow, DiesInSecondChunk(), "a", container.clock, tuning)
    with pytest.raises(KeyboardInterrupt):
        dies.run_to_end(ref)
    stopped = bulk.get_job(container.uow(), tenant.id, job.id)
    assert (stopped.state, stopped.processed) == ("running", 4)
    after_the_lease = lambda: container.clock() + tuning.lease  # noqa: E731
    done = bulk.run_job(
        container.uow, workspace_id=tenant.id, job_id=job.id, clock=after_the_lease, tuning=tuning
    )
    assert (done.state, done.processed, done.tally.applied, done.chunks) == ("done", 10, 10, 3)
    with container.engine.connect() as conn:
        applied = conn.scalar(
            select(func.count()).where(
                audit_events.c.workspace_id == tenant.id,
                audit_events.c.batch_id == job.id,
                audit_events.c.outcome == "applied",
            )
        )
        results = conn.scalar(select(func.count()).where(bulk_results.c.job_id == job.id))
        assert verify_chain(conn, tenant.id).ok
    assert applied == results == 10


def test_another_workspaces_job_is_not_found(container: Container, tenant: Tenant) -> None:
    ids = seed(container, tenant, {"ann": A})
    job = run(container, tenant, bulk.BulkRequest(I, user_ids=(ids["ann"],)))
    with pytest.raises(errors.NotFound):
        bulk.get_job(container.uow(), "wsp_other", job.id)


def test_bad_requests_change_nothing(container: Container, tenant: Tenant) -> None:
    for bad in (
        bulk.BulkRequest(I),
        bulk.BulkRequest(I, user_ids=(), filter=UserFilter()),
        bulk.BulkRequest(I, user_ids=()),
        bulk.BulkRequest(I, user_ids=("x" * 41,)),
    ):
        with pytest.raises(errors.InvalidInput):
            bulk.start_job(
                container.uow(),
                workspace_id=tenant.id,
                request=bad,
                actor=admin_of(tenant),
                now=datetime.now(UTC),
            )
    with container.engine.connect() as conn:
        assert conn.scalar(select(func.count()).where(users.c.workspace_id == tenant.id)) == 1
