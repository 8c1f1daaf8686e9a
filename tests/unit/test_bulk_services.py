"""The rules of bulk actions, on the in-memory fakes: what a preview counts and
names, that starting a job makes one job, and that a Blocked user is refused."""

from datetime import UTC, datetime

import pytest

from roster.domain import errors
from roster.domain.bulk import Job
from roster.domain.filters import UserFilter
from roster.domain.jobs import JobRef
from roster.domain.users import Actor
from roster.domain.vocabulary import ReasonCode, Role, Route, Status
from roster.services import bulk
from roster.services.status import change_status
from roster.services.users import NewUser, create_user
from roster.services.workspaces import create_workspace
from tests.fakes import FakeStore, FakeUnitOfWork

NOW = datetime(2026, 12, 7, tzinfo=UTC)
OPERATOR = Actor(id=None, name="cli:test")


def _world(members: int = 3, blocked: int = 0) -> tuple[FakeStore, str, Actor, list[str]]:
    """A workspace with an owner, `members` Active members and `blocked` Blocked ones."""
    store = FakeStore()
    workspace, owner = create_workspace(
        FakeUnitOfWork(store),
        slug="w",
        name=None,
        owner=NewUser("owner@x.example", "Olive Owner"),
        route=Route.CLI,
        actor=OPERATOR,
        now=NOW,
    )
    ids = []
    for n in range(members + blocked):
        user = create_user(
            FakeUnitOfWork(store),
            workspace_id=workspace.id,
            new=NewUser(f"m{n}@x.example", f"Member {n}"),
            route=Route.CLI,
            actor=OPERATOR,
            now=NOW,
        )
        ids.append(user.id)
    for user_id in ids[members:]:
        change_status(
            FakeUnitOfWork(store),
            workspace_id=workspace.id,
            user_id=user_id,
            to=Status.BLOCKED,
            route=Route.CLI,
            actor=OPERATOR,
            reason_code=ReasonCode.PAYMENT_DISPUTE,
            now=NOW,
        )
    admin = Actor(id="tok_1", name="Olive", user_id=owner.id, role=Role.OWNER)
    return store, workspace.id, admin, ids


def _statuses(store: FakeStore) -> dict[str, Status]:
    return {user_id: u.status for (_, user_id), u in store.users.items()}


def test_a_preview_counts_what_would_change_and_writes_nothing() -> None:
    store, ws, admin, _ = _world(members=3, blocked=1)
    before = _statuses(store)
    request = bulk.BulkRequest(Status.INACTIVE, filter=UserFilter(role=(Role.MEMBER,)))
    shown = bulk.preview(FakeUnitOfWork(store), workspace_id=ws, request=request, actor=admin)
    assert (shown.tally.applied, shown.tally.unchanged) == (3, 0)
    assert shown.tally.refused == {"user_blocked": 1}
    assert (shown.active_before, shown.active_after) == (4, 1)
    assert _statuses(store) == before
    assert store.bulk_jobs == {}


def test_a_preview_names_the_first_twenty_refused_users_and_counts_the_rest() -> None:
    store, ws, admin, ids = _world(members=1, blocked=23)
    request = bulk.BulkRequest(Status.INACTIVE, user_ids=(*ids, "usr_nobody"))
    shown = bulk.preview(FakeUnitOfWork(store), workspace_id=ws, request=request, actor=admin)
    assert shown.tally.refused == {"user_blocked": 23, "not_found": 1}
    assert len(shown.refusals) == 20
    assert shown.more_refused == 4
    first = shown.refusals[0]
    assert first.user_id == min([*ids[1:], "usr_nobody"])
    assert first.code in ("user_blocked", "not_found")
    blocked = [r for r in shown.refusals if r.code == "user_blocked"]
    assert all(r.email and r.email.endswith("@x.example") for r in blocked)


def test_a_preview_asks_the_domain_with_a_running_headcount() -> None:
    store, ws, admin, _ = _world(members=2)
    owners = UserFilter(role=(Role.OWNER,))
    request = bulk.BulkRequest(Status.INACTIVE, filter=owners)
    shown = bulk.preview(FakeUnitOfWork(store), workspace_id=ws, request=request, actor=admin)
    assert shown.tally.applied == 0
    assert sum(shown.tally.refused.values()) == 1  # the only owner cannot go


def test_starting_a_job_queues_one_job_and_a_repeated_key_returns_it() -> None:
    store, ws, admin, ids = _world(members=3)
    request = bulk.BulkRequest(Status.INACTIVE, user_ids=tuple(ids))
    uow = FakeUnitOfWork(store)
    job, created = bulk.start_job(
        uow, workspace_id=ws, request=request, actor=admin, now=NOW, idempotency_key="k1"
    )
    again, created_again = bulk.start_job(
        uow, workspace_id=ws, request=request, actor=admin, now=NOW, idempotency_key="k1"
    )
    assert (created, created_again) == (True, False)
    assert again.id == job.id
    assert (job.state, job.total, job.processed) == ("queued", 3, 0)
    assert list(store.bulk_jobs) == [(ws, job.id)]
    assert bulk.list_jobs(uow, ws) == [job]


def test_a_key_used_for_another_request_is_refused() -> None:
    store, ws, admin, ids = _world(members=2)
    uow = FakeUnitOfWork(store)
    first = bulk.BulkRequest(Status.INACTIVE, user_ids=(ids[0],))
    bulk.start_job(uow, workspace_id=ws, request=first, actor=admin, now=NOW, idempotency_key="k")
    other = bulk.BulkRequest(Status.INACTIVE, user_ids=(ids[1],))
    with pytest.raises(errors.InvalidInput):
        bulk.start_job(
            uow, workspace_id=ws, request=other, actor=admin, now=NOW, idempotency_key="k"
        )
    assert len(store.bulk_jobs) == 1


def test_a_job_in_another_workspace_is_not_found() -> None:
    store, ws, admin, ids = _world(members=1)
    uow = FakeUnitOfWork(store)
    request = bulk.BulkRequest(Status.INACTIVE, user_ids=tuple(ids))
    job, _ = bulk.start_job(uow, workspace_id=ws, request=request, actor=admin, now=NOW)
    with pytest.raises(errors.NotFound):
        bulk.get_job(uow, "wsp_other", job.id)


def _run_one_chunk(uow: FakeUnitOfWork, job: Job) -> Job:
    kind = bulk.BulkJobs()
    with uow:
        loaded = kind.load(uow, JobRef(job.workspace_id, job.id))
        kind.act(uow, loaded, kind.next_targets(uow, loaded, None, 100), NOW)
        uow.commit()
    return bulk.get_job(uow, job.workspace_id, job.id)


def test_a_job_never_changes_a_blocked_user() -> None:
    store, ws, admin, ids = _world(members=2, blocked=1)
    uow = FakeUnitOfWork(store)
    request = bulk.BulkRequest(Status.ACTIVE, user_ids=tuple(ids))
    job, _ = bulk.start_job(uow, workspace_id=ws, request=request, actor=admin, now=NOW)
    done = _run_one_chunk(uow, job)
    assert (done.tally.unchanged, done.tally.refused) == (2, {"user_blocked": 1})
    assert store.users[ws, ids[2]].status is Status.BLOCKED
    results = {r.user_id: (r.result, r.code) for r in bulk.list_results(uow, ws, job.id)}
    assert results[ids[2]] == ("refused", "user_blocked")


def test_a_job_applies_what_its_preview_said() -> None:
    store, ws, admin, ids = _world(members=3, blocked=1)
    uow = FakeUnitOfWork(store)
    request = bulk.BulkRequest(Status.INACTIVE, filter=UserFilter(role=(Role.MEMBER,)))
    shown = bulk.preview(uow, workspace_id=ws, request=request, actor=admin)
    job, _ = bulk.start_job(uow, workspace_id=ws, request=request, actor=admin, now=NOW)
    done = _run_one_chunk(uow, job)
    assert done.tally == shown.tally
    assert (done.active_before, done.active_after) == (shown.active_before, shown.active_after)
    assert [store.users[ws, i].status for i in ids] == [Status.INACTIVE] * 3 + [Status.BLOCKED]
