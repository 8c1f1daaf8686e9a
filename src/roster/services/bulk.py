"""Bulk actions (PRODUCT §7): one status for many users, as a resumable job.

A job names its users by ids or by a filter and sets one status through route
`bulk`. The one job runner (services/jobs.py) runs it in chunks ordered by user id,
each chunk ONE transaction: `apply_changes` decides every user through the domain
and writes statuses, audit events (batch id = job id), revocations and the counter;
the chunk's per-user results and the job's cursor and counts are written in the
same transaction. This module only says which users come next and what to record.

A preview (and a dry-run job) asks the same domain `decide` about the same users,
in the same order and with the same running headcount, and writes nothing.
"""

import bisect
import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from roster.adapters.batch_sql import insert_ids
from roster.adapters.filter_sql import user_where
from roster.adapters.job_leases import BULK_JOBS, SqlJobLeases
from roster.adapters.tables import bulk_job_targets, bulk_jobs, bulk_results, users
from roster.adapters.unit_of_work import SqlUnitOfWork
from roster.domain import errors
from roster.domain.access import Revoked
from roster.domain.filters import UserFilter
from roster.domain.ids import new_id
from roster.domain.jobs import JobRef, ResultRow
from roster.domain.transitions import Policy
from roster.domain.users import Actor, Target, decide
from roster.domain.vocabulary import ReasonCode, Role, Route, Status
from roster.domain.webhooks import Event
from roster.domain.workspaces import UserCounts
from roster.services import jobs, queries
from roster.services.ports import Leases
from roster.services.status import Outcome, apply_changes
from roster.services.webhooks import publish

MAX_IDS = 1_000_000
PAGE = 5000  # users per read page of a preview
TARGETS_PER_INSERT = 10_000  # a job's stored ids, per INSERT


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


# --- What a bulk action did (or would do) -------------------------------------------


@dataclass(slots=True)
class Tally:
    """Counts of outcomes, and the change to the active user count."""

    applied: int = 0
    unchanged: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    active_delta: int = 0
    owners_delta: int = 0

    @property
    def refused_total(self) -> int:
        return sum(self.refused.values())

    @property
    def total(self) -> int:
        return self.applied + self.unchanged + self.refused_total

    def count(self, outcomes: Sequence[Outcome]) -> None:
        for o in outcomes:
            if o.result == "refused":
                code = o.code or "refused"
                self.refused[code] = self.refused.get(code, 0) + 1
            elif o.result == "applied":
                self.applied += 1
            else:
                self.unchanged += 1


@dataclass(frozen=True, slots=True)
class Preview:
    """A dry run: what the action would do, with the active user count before/after."""

    tally: Tally
    active_before: int

    @property
    def active_after(self) -> int:
        return self.active_before + self.tally.active_delta


@dataclass(frozen=True, slots=True)
class Job:
    workspace_id: str
    id: str
    state: str
    dry_run: bool
    to: Status
    reason_code: ReasonCode | None
    note: str | None
    selection: dict[str, Any]
    actor: Actor
    total: int
    processed: int
    tally: Tally
    revoked: dict[str, int]
    chunks: int
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def finished(self) -> bool:
        return self.state not in BULK_JOBS.runnable

    @property
    def progress(self) -> float:
        if self.finished:
            return 1.0
        return min(1.0, self.processed / self.total) if self.total else 0.0

    @property
    def filter(self) -> UserFilter | None:
        data = self.selection.get("filter")
        return UserFilter.from_json(data) if data is not None else None


# --- Preview ------------------------------------------------------------------------


def preview(engine: Engine, *, workspace_id: str, request: BulkRequest, actor: Actor) -> Preview:
    """What `request` would do now: the domain decides each user in id order with a
    running headcount, exactly as the job would. Writes nothing."""
    request = request.checked()
    with engine.connect() as conn:
        workspace = queries.workspace_by_id(conn, workspace_id)
        counts = queries.user_counts_of(conn, workspace_id)
        tally = Tally()
        after: str | None = None
        while (page := _page(conn, workspace_id, request, after, PAGE))[0]:
            ids, found = page
            outcomes, counts = _decide(found, ids, request, actor, workspace.policy, counts)
            tally.count(outcomes)
            after = ids[-1]
        base = queries.user_counts_of(conn, workspace_id)
    tally.active_delta = counts.active - base.active
    tally.owners_delta = counts.active_owners - base.active_owners
    return Preview(tally, active_before=base.active)


Found = dict[str, tuple[Status, Role]]
"""The status and role of each user that exists: what `decide` reads."""


def _page(
    conn: Connection, workspace_id: str, request: BulkRequest, after: str | None, limit: int
) -> tuple[list[str], Found]:
    """The next ids of `request` after `after`, and what `decide` reads of them."""
    if request.filter is not None:
        return _filtered(conn, workspace_id, request.filter, after, limit)
    ids = request.user_ids or ()
    start = bisect.bisect_right(ids, after) if after is not None else 0
    chosen = list(ids[start : start + limit])
    return chosen, _statuses(conn, workspace_id, chosen)


def _filtered(
    conn: Connection, workspace_id: str, f: UserFilter, after: str | None, limit: int
) -> tuple[list[str], Found]:
    """The next users `f` selects after `after`, by id, and what `decide` reads."""
    u = users.c
    query = select(u.id, u.status, u.role).where(*user_where(workspace_id, f))
    if after is not None:
        query = query.where(u.id > after)
    rows = conn.execute(query.order_by(u.id).limit(limit)).all()
    return [r.id for r in rows], {i: _KNOWN[s, r] for i, s, r in rows}


def _statuses(conn: Connection, workspace_id: str, ids: Sequence[str]) -> Found:
    found: Found = {}
    for i in range(0, len(ids), 900):
        rows = conn.execute(
            select(users.c.id, users.c.status, users.c.role).where(
                users.c.workspace_id == workspace_id, users.c.id.in_(ids[i : i + 900])
            )
        )
        found.update((r.id, (Status(r.status), Role(r.role))) for r in rows)
    return found


def _decide(
    found: dict[str, tuple[Status, Role]],
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
    uow_factory: Callable[[], SqlUnitOfWork],
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
        if existing := _by_key(uow_factory, workspace_id, idempotency_key, fingerprint):
            return existing, False
    job_id = new_id("blk")
    try:
        with uow_factory() as uow:
            _insert_job(
                uow, workspace_id, job_id, request, actor, now, idempotency_key, fingerprint
            )
            uow.commit()
    except IntegrityError:
        # Two requests raced with one key: the other one's job is the job.
        if idempotency_key and (
            existing := _by_key(uow_factory, workspace_id, idempotency_key, fingerprint)
        ):
            return existing, False
        raise
    with uow_factory() as uow:
        return _job(uow.conn, workspace_id, job_id), True


def _by_key(
    uow_factory: Callable[[], SqlUnitOfWork], workspace_id: str, key: str, fingerprint: str
) -> Job | None:
    with uow_factory().engine.connect() as conn:
        row = conn.execute(
            select(bulk_jobs).where(
                bulk_jobs.c.workspace_id == workspace_id, bulk_jobs.c.idempotency_key == key
            )
        ).first()
    if row is None:
        return None
    if row.fingerprint != fingerprint:
        raise errors.InvalidInput(
            "This Idempotency-Key was already used for a different bulk action."
        )
    return _job_from_row(row)


def _insert_job(
    uow: SqlUnitOfWork,
    workspace_id: str,
    job_id: str,
    request: BulkRequest,
    actor: Actor,
    now: datetime,
    key: str | None,
    fingerprint: str,
) -> None:
    conn = uow.conn
    if uow.workspaces.get(workspace_id) is None:
        raise errors.NotFound("No such workspace.")
    if request.filter is not None:
        total = (
            conn.scalar(select(func.count()).where(*user_where(workspace_id, request.filter))) or 0
        )
    else:
        total = len(request.user_ids or ())
    conn.execute(
        insert(bulk_jobs).values(
            workspace_id=workspace_id,
            id=job_id,
            idempotency_key=key,
            fingerprint=fingerprint,
            state="queued",
            dry_run=request.dry_run,
            to_status=request.to.value,
            reason_code=request.reason_code.value if request.reason_code else None,
            note=request.note,
            selection=request.selection_json(),
            actor_id=actor.id,
            actor_name=actor.name,
            actor_user_id=actor.user_id,
            actor_role=actor.role.value if actor.role else None,
            total=total,
            refused_codes={},  # the counts start at their columns' default, 0
            created_at=now,
        )
    )
    ids = request.user_ids or ()
    for i in range(0, len(ids), TARGETS_PER_INSERT):
        insert_ids(
            conn,
            bulk_job_targets,
            "user_id",
            ids[i : i + TARGETS_PER_INSERT],
            {"workspace_id": workspace_id, "job_id": job_id},
        )


# --- Running jobs -------------------------------------------------------------------


class BulkJobs(jobs.Kind[SqlUnitOfWork, Job, str]):
    """Bulk actions for the job runner: the users after the cursor by id (the stored
    ids or the filter), changed through `apply_changes` on route bulk, one result
    row per user, and the job's counts."""

    def leases(self, uow: SqlUnitOfWork) -> Leases:
        return SqlJobLeases(uow.conn, BULK_JOBS)

    def load(self, uow: SqlUnitOfWork, ref: JobRef) -> Job:
        return _job(uow.conn, ref.workspace_id, ref.job_id)

    def next_targets(
        self, uow: SqlUnitOfWork, job: Job, after: str | None, size: int
    ) -> jobs.Targets[str]:
        # The counter row first (the workspace lock every status writer takes first),
        # so the statuses read below are ones no other writer is changing.
        uow.counts.lock(job.workspace_id)
        ids, found = _next_users(uow.conn, job, after, size)
        # On SQLite the chunk's write transaction holds what was read; PostgreSQL's
        # `apply_changes` locks the rows it reads (an outer join cannot lock the
        # missing ones), so it reads them again.
        known = None if job.dry_run or uow.conn.dialect.name == "postgresql" else found
        return jobs.Targets(ids, ids[-1] if ids else None, len(ids) == size, known)

    def act(self, uow: SqlUnitOfWork, job: Job, targets: jobs.Targets[str], now: datetime) -> None:
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
        _insert_results(uow.conn, job, outcomes)
        _count(uow.conn, job, outcomes, delta, revoked, now)

    def completed(self, uow: SqlUnitOfWork, ref: JobRef, now: datetime) -> None:
        job = _job(uow.conn, ref.workspace_id, ref.job_id)
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
    uow: SqlUnitOfWork, job: Job, ids: Sequence[str], before: UserCounts
) -> tuple[list[Outcome], UserCounts]:
    """What the chunk would do. A dry run changes nothing, so its running headcount
    is carried over chunks in the job's deltas."""
    conn = uow.conn
    workspace = queries.workspace_by_id(conn, job.workspace_id)
    hypothetical = UserCounts(
        before.active + job.tally.active_delta,
        before.inactive,
        before.blocked,
        before.active_owners + job.tally.owners_delta,
    )
    request = BulkRequest(job.to, reason_code=job.reason_code, note=job.note, user_ids=())
    found = _statuses(conn, job.workspace_id, ids)
    outcomes, after = _decide(found, ids, request, job.actor, workspace.policy, hypothetical)
    return outcomes, after.minus(hypothetical)


def _count(
    conn: Connection,
    job: Job,
    outcomes: Sequence[Outcome],
    delta: UserCounts,
    revoked: Revoked,
    now: datetime,
) -> None:
    tally = Tally()
    tally.count(outcomes)
    codes = dict(job.tally.refused)
    for code, n in tally.refused.items():
        codes[code] = codes.get(code, 0) + n
    c = bulk_jobs.c
    conn.execute(
        update(bulk_jobs)
        .where(c.workspace_id == job.workspace_id, c.id == job.id)
        .values(
            processed=c.processed + len(outcomes),
            applied=c.applied + tally.applied,
            unchanged=c.unchanged + tally.unchanged,
            refused=c.refused + tally.refused_total,
            refused_codes=codes,
            active_delta=c.active_delta + delta.active,
            owners_delta=c.owners_delta + delta.active_owners,
            revoked_sessions=c.revoked_sessions + revoked.sessions,
            revoked_tokens=c.revoked_tokens + revoked.tokens,
            revoked_invitations=c.revoked_invitations + revoked.invitations,
            chunks=c.chunks + 1,
            started_at=job.started_at or now,
        )
    )


def run_job(
    uow_factory: Callable[[], SqlUnitOfWork],
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
        with uow_factory() as uow:
            progress(_job(uow.conn, workspace_id, job_id))

    runner = jobs.Runner(uow_factory, BulkJobs(), jobs.this_process(), clock, tuning)
    runner.run_to_end(ref, progress=report)
    with uow_factory() as uow:
        return _job(uow.conn, workspace_id, job_id)


def run_pending(
    uow_factory: Callable[[], SqlUnitOfWork],
    *,
    clock: Callable[[], datetime],
    tuning: jobs.Tuning,
    budget: float = 2.0,
) -> int:
    """Run chunks of any jobs no runner holds for about `budget` seconds (the
    background tick). Returns how many jobs it worked on."""
    runner = jobs.Runner(uow_factory, BulkJobs(), jobs.this_process(), clock, tuning)
    return len(runner.run_pending(budget))


def _next_users(
    conn: Connection, job: Job, cursor: str | None, size: int
) -> tuple[list[str], Found]:
    """The next ids of the job after `cursor` (stored, or by its filter) and, in the
    same query, the status and role of each of them that exists (what
    `apply_changes` decides from)."""
    if job.filter is not None:
        return _filtered(conn, job.workspace_id, job.filter, cursor, size)
    t, u = bulk_job_targets.c, users.c
    query = (
        select(t.user_id, u.status, u.role)
        .select_from(
            bulk_job_targets.outerjoin(
                users, and_(u.workspace_id == t.workspace_id, u.id == t.user_id)
            )
        )
        .where(t.workspace_id == job.workspace_id, t.job_id == job.id)
    )
    if cursor is not None:
        query = query.where(t.user_id > cursor)
    rows = conn.execute(query.order_by(t.user_id).limit(size)).all()
    found = {i: _KNOWN[s, r] for i, s, r in rows if s is not None}
    return [row[0] for row in rows], found


# Each (status, role) pair as one shared tuple: a chunk's thousands of users share
# nine, instead of a new tuple each for the garbage collector to walk.
_KNOWN = {(s.value, r.value): (s, r) for s in Status for r in Role}


def _insert_results(conn: Connection, job: Job, outcomes: Sequence[Outcome]) -> None:
    """One result row per user, the users of each (outcome, code, status before) in
    one statement."""
    alike: dict[tuple[str, str | None, Status | None], list[str]] = {}
    for o in outcomes:
        alike.setdefault((o.result, o.code, o.from_status), []).append(o.user_id)
    shared = {"workspace_id": job.workspace_id, "job_id": job.id}
    for (result, code, was), ids in alike.items():
        values = {"outcome": result, "code": code, "from_status": was and was.value}
        insert_ids(conn, bulk_results, "user_id", ids, shared | values)


# --- Reading jobs and results -------------------------------------------------------


def get_job(conn: Connection, workspace_id: str, job_id: str) -> Job:
    """The job, or NotFound (also for another workspace's job)."""
    return _job(conn, workspace_id, job_id)


def _job(conn: Connection, workspace_id: str, job_id: str) -> Job:
    row = conn.execute(
        select(bulk_jobs).where(bulk_jobs.c.workspace_id == workspace_id, bulk_jobs.c.id == job_id)
    ).first()
    if row is None:
        raise errors.NotFound("No such bulk action in this workspace.")
    return _job_from_row(row)


def _job_from_row(row: Any) -> Job:
    m = row._mapping
    return Job(
        workspace_id=m["workspace_id"],
        id=m["id"],
        state=m["state"],
        dry_run=bool(m["dry_run"]),
        to=Status(m["to_status"]),
        reason_code=ReasonCode(m["reason_code"]) if m["reason_code"] else None,
        note=m["note"],
        selection=dict(m["selection"]),
        actor=Actor(
            id=m["actor_id"],
            name=m["actor_name"],
            user_id=m["actor_user_id"],
            role=Role(m["actor_role"]) if m["actor_role"] else None,
        ),
        total=m["total"],
        processed=m["processed"],
        tally=Tally(
            applied=m["applied"],
            unchanged=m["unchanged"],
            refused=dict(m["refused_codes"]),
            active_delta=m["active_delta"],
            owners_delta=m["owners_delta"],
        ),
        revoked={
            "sessions": m["revoked_sessions"],
            "tokens": m["revoked_tokens"],
            "invitations": m["revoked_invitations"],
        },
        chunks=m["chunks"],
        error=m["error"],
        created_at=m["created_at"],
        started_at=m["started_at"],
        finished_at=m["finished_at"],
    )


def list_jobs(
    conn: Connection, workspace_id: str, *, before: str | None = None, limit: int = 20
) -> list[Job]:
    """A workspace's bulk actions, newest first (ids sort by time), below the id `before`."""
    j = bulk_jobs.c
    query = select(bulk_jobs).where(j.workspace_id == workspace_id)
    if before is not None:
        query = query.where(j.id < before)
    rows = conn.execute(query.order_by(j.id.desc()).limit(limit))
    return [_job_from_row(r) for r in rows]


def list_results(
    conn: Connection,
    workspace_id: str,
    job_id: str,
    *,
    after: str | None = None,
    limit: int = 100,
    outcome: str | None = None,
) -> list[ResultRow]:
    """A page of a job's results in user-id order, after the cursor `after`."""
    job = _job(conn, workspace_id, job_id)
    r, u = bulk_results.c, users.c
    query = (
        select(r.user_id, r.outcome, r.code, r.from_status, u.email, u.name)
        .select_from(
            bulk_results.outerjoin(users, and_(u.workspace_id == r.workspace_id, u.id == r.user_id))
        )
        .where(r.workspace_id == workspace_id, r.job_id == job_id)
    )
    if outcome is not None:
        query = query.where(r.outcome == outcome)
    if after is not None:
        query = query.where(r.user_id > after)
    rows = conn.execute(query.order_by(r.user_id).limit(limit))
    return [
        ResultRow(
            x.user_id,
            x.outcome,
            x.code,
            Status(x.from_status) if x.from_status else None,
            job.to,
            x.email,
            x.name,
        )
        for x in rows
    ]


def iter_results(
    conn: Connection, workspace_id: str, job_id: str, *, page: int = 5000
) -> Iterator[ResultRow]:
    """Every result of a job, page by page (for the CSV download)."""
    after = None
    while batch := list_results(conn, workspace_id, job_id, after=after, limit=page):
        yield from batch
        after = batch[-1].user_id
