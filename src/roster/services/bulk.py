"""Bulk actions (PRODUCT §7): one status for many users, as a resumable job.

A job names its users by ids or by a filter and sets one status through route
`bulk`. The one job runner (services/jobs.py) runs it in chunks ordered by user id,
each chunk ONE transaction: `apply_changes` decides every user through the domain
and writes statuses, audit events (batch id = job id), revocations and the counter;
the chunk's per-user results and the job's cursor and counts are written in the
same transaction. This module only says which users come next and what to record;
storage is the unit of work's `bulk_jobs` port (services/ports.py BulkJobStore).

A preview (and a dry-run job) asks the same domain `decide` about the same users,
in the same order and with the same running headcount, and writes nothing.
"""

import bisect
import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from roster.domain import errors
from roster.domain.access import Revoked
from roster.domain.bulk import Found, Job, KeyTaken, Tally
from roster.domain.filters import UserFilter
from roster.domain.ids import new_id
from roster.domain.jobs import JobRef, ResultRow
from roster.domain.transitions import Policy
from roster.domain.users import Actor, Target, decide
from roster.domain.vocabulary import ReasonCode, Route, Status
from roster.domain.webhooks import Event
from roster.domain.workspaces import UserCounts, Workspace
from roster.services import jobs
from roster.services.ports import BulkJobStore, Leases, UnitOfWork
from roster.services.status import Outcome, apply_changes
from roster.services.webhooks import publish

MAX_IDS = 1_000_000
PAGE = 5000  # users per read page of a preview


# --- What a bulk action asks for --------------------------------------------------


@dataclass(frozen=True, slots=True)
class BulkRequest:
    """Set `to` on the selected users: by ids, or by a filter (exactly one)."""

    to: Status
    user_ids: tuple[str, ...] | None = None
    filter: UserFilter | None = None
    reason_code: ReasonCode | None = None
    note: str | None = None
    dry_run: bool = False

    def checked(self) -> "BulkRequest":
        """This request with its ids deduplicated and sorted, or InvalidInput."""
        if (self.user_ids is None) == (self.filter is None):
            raise errors.InvalidInput("Select users either by user_ids or by a filter.")
        if self.user_ids is None:
            return self
        ids = sorted(set(self.user_ids))
        if not ids:
            raise errors.InvalidInput("user_ids is empty: select at least one user.")
        if len(ids) > MAX_IDS:
            raise errors.InvalidInput(f"At most {MAX_IDS:,} user ids per bulk action.")
        if not 0 < min(map(len, ids)) <= max(map(len, ids)) <= 40:
            bad = next(i for i in ids if not i or len(i) > 40)
            raise errors.InvalidInput(f"{bad[:60]!r} is not a user id.")
        return replace(self, user_ids=tuple(ids))

    def selection_json(self) -> dict[str, Any]:
        if self.filter is not None:
            return {"filter": self.filter.as_json()}
        return {"user_ids": len(self.user_ids or ())}

    def fingerprint(self) -> str:
        """The same request gives the same digest (for Idempotency-Key reuse)."""
        body = {
            "to": self.to.value,
            "reason_code": self.reason_code.value if self.reason_code else None,
            "note": self.note,
            "dry_run": self.dry_run,
            "filter": self.filter.as_json() if self.filter else None,
        }
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode())
        if self.user_ids:  # each id after a NUL byte, hashed in one go
            digest.update(("\0" + "\0".join(self.user_ids)).encode())
        return digest.hexdigest()


# --- What a bulk action would do ------------------------------------------------------


SHOWN_REFUSALS = 20  # refused users a preview names; the rest it counts


@dataclass(frozen=True, slots=True)
class Refusal:
    """A user the action would refuse, and why (a refusal code); no email and
    name for an id that is no user."""

    user_id: str
    code: str
    email: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Preview:
    """A dry run: what the action would do, with the active user count before/after,
    and the first refused users by id."""

    tally: Tally
    active_before: int
    refusals: tuple[Refusal, ...] = ()

    @property
    def active_after(self) -> int:
        return self.active_before + self.tally.active_delta

    @property
    def more_refused(self) -> int:
        """Refused users beyond those named in `refusals`."""
        return self.tally.refused_total - len(self.refusals)


# --- Preview ------------------------------------------------------------------------


def preview(uow: UnitOfWork, *, workspace_id: str, request: BulkRequest, actor: Actor) -> Preview:
    """What `request` would do now: the domain decides each user in id order with a
    running headcount, exactly as the job would. Writes nothing."""
    request = request.checked()
    refused: list[Outcome] = []
    with uow.read_only() as reading:
        workspace = _workspace(reading, workspace_id)
        base = counts = reading.counts.read(workspace_id)
        store, tally, after = reading.bulk_jobs, Tally(), None
        while (page := _page(store, workspace_id, request, after, PAGE))[0]:
            ids, found = page
            outcomes, counts = _decide(found, ids, request, actor, workspace.policy, counts)
            tally.count(outcomes)
            if len(refused) < SHOWN_REFUSALS:
                refused += sorted(o for o in outcomes if o.result == "refused")
            after = ids[-1]
        named = tuple(_named(reading, workspace_id, o) for o in refused[:SHOWN_REFUSALS])
    tally.active_delta = counts.active - base.active
    tally.owners_delta = counts.active_owners - base.active_owners
    return Preview(tally, active_before=base.active, refusals=named)


def _named(uow: UnitOfWork, workspace_id: str, refused: Outcome) -> Refusal:
    user = uow.users.get(workspace_id, refused.user_id)
    code = refused.code or "refused"
    if user is None:
        return Refusal(refused.user_id, code)
    return Refusal(user.id, code, user.email, user.name)


def count_selected(uow: UnitOfWork, workspace_id: str, f: UserFilter) -> int:
    """How many users `f` selects now (what "select all matching" would target)."""
    with uow.read_only() as reading:
        return reading.bulk_jobs.count_matching(workspace_id, f)


def _workspace(uow: UnitOfWork, workspace_id: str) -> Workspace:
    workspace = uow.workspaces.get(workspace_id)
    if workspace is None:
        raise errors.NotFound("No such workspace.")
    return workspace


def _page(
    store: BulkJobStore, workspace_id: str, request: BulkRequest, after: str | None, limit: int
) -> tuple[list[str], Found]:
    """The next ids of `request` after `after`, and what `decide` reads of them."""
    if request.filter is not None:
        return store.matching(workspace_id, request.filter, after, limit)
    ids = request.user_ids or ()
    start = bisect.bisect_right(ids, after) if after is not None else 0
    chosen = list(ids[start : start + limit])
    return chosen, store.statuses(workspace_id, chosen)


def _decide(
    found: Found,
    ids: Sequence[str],
    request: BulkRequest,
    actor: Actor,
    policy: Policy,
    counts: UserCounts,
) -> tuple[list[Outcome], UserCounts]:
    """The domain's `decide` on each user, as the job's `apply_changes` asks it: the
    same order and running headcount. Unknown ids are refused `not_found`."""
    targets = [
        Target(i, *found[i], request.to, request.reason_code, request.note)
        for i in ids
        if i in found
    ]
    verdicts, counts = decide(targets, route=Route.BULK, actor=actor, policy=policy, counts=counts)
    outcomes = [
        Outcome(t.user_id, v.result, v.refusal.code if v.refusal else None, t.status)
        for t, v in zip(targets, verdicts, strict=True)
    ]
    missing = [Outcome(i, "refused", errors.NotFound.code) for i in ids if i not in found]
    return outcomes + missing, counts


# --- Starting a job -----------------------------------------------------------------


def start_job(
    uow: UnitOfWork,
    *,
    workspace_id: str,
    request: BulkRequest,
    actor: Actor,
    now: datetime,
    idempotency_key: str | None = None,
) -> tuple[Job, bool]:
    """Queue a job; returns it and whether it is new. A repeated `idempotency_key`
    returns the job it first made (a different request under the same key is
    refused), so a client may retry a POST safely."""
    request = request.checked()
    fingerprint = request.fingerprint()
    if idempotency_key is not None:
        if not 0 < len(idempotency_key) <= 200:
            raise errors.InvalidInput("Idempotency-Key must be 1 to 200 characters.")
        if existing := _by_key(uow, workspace_id, idempotency_key, fingerprint):
            return existing, False
    try:
        with uow:
            _workspace(uow, workspace_id)
            job = _new_job(uow, workspace_id, request, actor, now)
            uow.bulk_jobs.add(
                job,
                idempotency_key=idempotency_key,
                fingerprint=fingerprint,
                user_ids=request.user_ids or (),
            )
            uow.commit()
    except KeyTaken:
        # Two requests raced with one key: the other one's job is the job.
        if idempotency_key and (
            existing := _by_key(uow, workspace_id, idempotency_key, fingerprint)
        ):
            return existing, False
        raise
    return get_job(uow, workspace_id, job.id), True


def _new_job(
    uow: UnitOfWork, workspace_id: str, request: BulkRequest, actor: Actor, now: datetime
) -> Job:
    if request.filter is not None:
        total = uow.bulk_jobs.count_matching(workspace_id, request.filter)
    else:
        total = len(request.user_ids or ())
    return Job(
        workspace_id=workspace_id,
        id=new_id("blk"),
        state="queued",
        dry_run=request.dry_run,
        to=request.to,
        reason_code=request.reason_code,
        note=request.note,
        selection=request.selection_json(),
        actor=actor,
        total=total,
        processed=0,
        tally=Tally(),
        revoked={},
        chunks=0,
        error=None,
        created_at=now,
        started_at=None,
        finished_at=None,
    )


def _by_key(uow: UnitOfWork, workspace_id: str, key: str, fingerprint: str) -> Job | None:
    with uow.read_only() as reading:
        found = reading.bulk_jobs.by_key(workspace_id, key)
    if found is None:
        return None
    job, first_fingerprint = found
    if first_fingerprint != fingerprint:
        raise errors.InvalidInput(
            "This Idempotency-Key was already used for a different bulk action."
        )
    return job


# --- Running jobs -------------------------------------------------------------------


class BulkJobs(jobs.Kind[UnitOfWork, Job, str]):
    """Bulk actions for the job runner: the users after the cursor by id (the stored
    ids or the filter), changed through `apply_changes` on route bulk, one result
    row per user, and the job's counts."""

    def leases(self, uow: UnitOfWork) -> Leases:
        return uow.bulk_jobs.leases()

    def load(self, uow: UnitOfWork, ref: JobRef) -> Job:
        return _job(uow, ref.workspace_id, ref.job_id)

    def next_targets(
        self, uow: UnitOfWork, job: Job, after: str | None, size: int
    ) -> jobs.Targets[str]:
        # The counter row first (the workspace lock every status writer takes first),
        # so the statuses read below are ones no other writer is changing.
        uow.counts.lock(job.workspace_id)
        store = uow.bulk_jobs
        if job.filter is not None:
            ids, found = store.matching(job.workspace_id, job.filter, after, size)
        else:
            ids, found = store.stored_targets(job.workspace_id, job.id, after, size)
        # Where the chunk's transaction holds what was read (SQLite), the change need
        # not read it again; else `apply_changes` reads the rows again, locked (an
        # outer join cannot lock the missing ones).
        known = found if store.holds_reads and not job.dry_run else None
        return jobs.Targets(ids, ids[-1] if ids else None, len(ids) == size, known)

    def act(self, uow: UnitOfWork, job: Job, targets: jobs.Targets[str], now: datetime) -> None:
        before = uow.counts.lock(job.workspace_id)
        if job.dry_run:
            outcomes, delta = _dry_run(uow, job, targets.items, before)
            revoked = Revoked()
        else:
            outcomes, revoked = apply_changes(
                uow,
                workspace_id=job.workspace_id,
                targets=((i, job.to) for i in targets.items),
                route=Route.BULK,
                actor=job.actor,
                reason_code=job.reason_code,
                note=job.note,
                now=now,
                batch_id=job.id,
                locked=targets.known,
            )
            delta = uow.counts.lock(job.workspace_id).minus(before)
        uow.bulk_jobs.add_results(job, outcomes)
        chunk = Tally()
        chunk.count(outcomes)
        codes = dict(job.tally.refused)
        for code, n in chunk.refused.items():
            codes[code] = codes.get(code, 0) + n
        first = before.active if job.active_before is None else job.active_before
        uow.bulk_jobs.add_counts(job, chunk, codes, delta, revoked, now, first)

    def completed(self, uow: UnitOfWork, ref: JobRef, now: datetime) -> None:
        job = _job(uow, ref.workspace_id, ref.job_id)
        publish(uow, job.workspace_id, [completed_event(job)], now)


def completed_event(job: Job) -> Event:
    """`bulk_action.completed`: what the action did, in counts."""
    t = job.tally
    data = {
        "id": job.id,
        "state": job.state,
        "dry_run": job.dry_run,
        "to": job.to.value,
        "reason_code": job.reason_code.value if job.reason_code else None,
        "total": job.total,
        "applied": t.applied,
        "unchanged": t.unchanged,
        "refused": dict(t.refused),
        "active_delta": t.active_delta,
        "actor": {"id": job.actor.id, "name": job.actor.name},
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }
    return Event("bulk_action.completed", data)


def _dry_run(
    uow: UnitOfWork, job: Job, ids: Sequence[str], before: UserCounts
) -> tuple[list[Outcome], UserCounts]:
    """What the chunk would do. A dry run changes nothing, so its running headcount
    is carried over chunks in the job's deltas."""
    workspace = _workspace(uow, job.workspace_id)
    hypothetical = UserCounts(
        before.active + job.tally.active_delta,
        before.inactive,
        before.blocked,
        before.active_owners + job.tally.owners_delta,
    )
    request = BulkRequest(job.to, reason_code=job.reason_code, note=job.note, user_ids=())
    found = uow.bulk_jobs.statuses(job.workspace_id, ids)
    outcomes, after = _decide(found, ids, request, job.actor, workspace.policy, hypothetical)
    return outcomes, after.minus(hypothetical)


def run_job(
    uow_factory: Callable[[], UnitOfWork],
    *,
    workspace_id: str,
    job_id: str,
    clock: Callable[[], datetime],
    tuning: jobs.Tuning,
    progress: Callable[[Job], None] = lambda _: None,
) -> Job:
    """Run one job to its end in this process (the CLI). A job another runner holds
    is waited for, not run twice."""
    ref = JobRef(workspace_id, job_id)

    def report() -> None:
        progress(get_job(uow_factory(), workspace_id, job_id))

    runner = jobs.Runner(uow_factory, BulkJobs(), jobs.this_process(), clock, tuning)
    runner.run_to_end(ref, progress=report)
    return get_job(uow_factory(), workspace_id, job_id)


def run_pending(
    uow_factory: Callable[[], UnitOfWork],
    *,
    clock: Callable[[], datetime],
    tuning: jobs.Tuning,
    budget: float = 2.0,
) -> int:
    """Run chunks of any jobs no runner holds for about `budget` seconds (the
    background tick). Returns how many jobs it worked on."""
    runner = jobs.Runner(uow_factory, BulkJobs(), jobs.this_process(), clock, tuning)
    return len(runner.run_pending(budget))


# --- Reading jobs and results -------------------------------------------------------


def get_job(uow: UnitOfWork, workspace_id: str, job_id: str) -> Job:
    """The job, or NotFound (also for another workspace's job)."""
    with uow.read_only() as reading:
        return _job(reading, workspace_id, job_id)


def _job(uow: UnitOfWork, workspace_id: str, job_id: str) -> Job:
    job = uow.bulk_jobs.get(workspace_id, job_id)
    if job is None:
        raise errors.NotFound("No such bulk action in this workspace.")
    return job


def list_jobs(
    uow: UnitOfWork, workspace_id: str, *, before: str | None = None, limit: int = 20
) -> list[Job]:
    """A workspace's bulk actions, newest first (ids sort by time), below the id `before`."""
    with uow.read_only() as reading:
        return reading.bulk_jobs.recent(workspace_id, before, limit)


def list_results(
    uow: UnitOfWork,
    workspace_id: str,
    job_id: str,
    *,
    after: str | None = None,
    limit: int = 100,
    outcome: str | None = None,
) -> list[ResultRow]:
    """A page of a job's results in user-id order, after the cursor `after`."""
    with uow.read_only() as reading:
        job = _job(reading, workspace_id, job_id)
        return reading.bulk_jobs.results(job, after=after, limit=limit, outcome=outcome)


def iter_results(
    uow: UnitOfWork, workspace_id: str, job_id: str, *, page: int = 5000
) -> Iterator[ResultRow]:
    """Every result of a job, page by page (for the CSV download)."""
    after = None
    while batch := list_results(uow, workspace_id, job_id, after=after, limit=page):
        yield from batch
        after = batch[-1].user_id
