"""Bulk actions in SQL (the `BulkJobStore` port): jobs, their stored targets, the
users a filter selects in id order, and one result row per user."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, and_, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from roster.adapters.batch_sql import insert_ids
from roster.adapters.filter_sql import user_where
from roster.adapters.job_leases import BULK_JOBS, SqlJobLeases
from roster.adapters.tables import bulk_job_targets, bulk_jobs, bulk_results, users
from roster.domain.access import Revoked
from roster.domain.bulk import Found, Job, KeyTaken, OutcomeTuple, Tally
from roster.domain.filters import UserFilter
from roster.domain.jobs import ResultRow
from roster.domain.users import Actor
from roster.domain.vocabulary import ReasonCode, Role, Status
from roster.domain.workspaces import UserCounts

TARGETS_PER_INSERT = 10_000  # a job's stored ids, per INSERT
IDS_PER_READ = 900  # ids per IN (...) list: under SQLite's variable limit

# Each (status, role) pair as one shared tuple: a chunk's thousands of users share
# nine, instead of a new tuple each for the garbage collector to walk.
_KNOWN = {(s.value, r.value): (s, r) for s in Status for r in Role}


class SqlBulkJobs:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    @property
    def holds_reads(self) -> bool:
        """SQLite's write transaction holds what it read until commit; PostgreSQL
        locks only the rows a change reads FOR UPDATE."""
        return self.conn.dialect.name != "postgresql"

    def leases(self) -> SqlJobLeases:
        return SqlJobLeases(self.conn, BULK_JOBS)

    # --- the users a job selects ---

    def matching(
        self, workspace_id: str, f: UserFilter, after: str | None, limit: int
    ) -> tuple[list[str], Found]:
        u = users.c
        query = select(u.id, u.status, u.role).where(*user_where(workspace_id, f))
        if after is not None:
            query = query.where(u.id > after)
        rows = self.conn.execute(query.order_by(u.id).limit(limit)).all()
        return [r.id for r in rows], {i: _KNOWN[s, r] for i, s, r in rows}

    def count_matching(self, workspace_id: str, f: UserFilter) -> int:
        return self.conn.scalar(select(func.count()).where(*user_where(workspace_id, f))) or 0

    def statuses(self, workspace_id: str, ids: Sequence[str]) -> Found:
        found: Found = {}
        for i in range(0, len(ids), IDS_PER_READ):
            rows = self.conn.execute(
                select(users.c.id, users.c.status, users.c.role).where(
                    users.c.workspace_id == workspace_id,
                    users.c.id.in_(ids[i : i + IDS_PER_READ]),
                )
            )
            found.update((r.id, _KNOWN[r.status, r.role]) for r in rows)
        return found

    def stored_targets(
        self, workspace_id: str, job_id: str, after: str | None, limit: int
    ) -> tuple[list[str], Found]:
        """The job's stored ids after `after` and, in the same query, the status and
        role of each of them that exists."""
        t, u = bulk_job_targets.c, users.c
        query = (
            select(t.user_id, u.status, u.role)
            .select_from(
                bulk_job_targets.outerjoin(
                    users, and_(u.workspace_id == t.workspace_id, u.id == t.user_id)
                )
            )
            .where(t.workspace_id == workspace_id, t.job_id == job_id)
        )
        if after is not None:
            query = query.where(t.user_id > after)
        rows = self.conn.execute(query.order_by(t.user_id).limit(limit)).all()
        found = {i: _KNOWN[s, r] for i, s, r in rows if s is not None}
        return [row[0] for row in rows], found

    # --- jobs ---

    def add(
        self, job: Job, *, idempotency_key: str | None, fingerprint: str, user_ids: Sequence[str]
    ) -> None:
        """Store a queued job and its ids; KeyTaken if its key is another job's."""
        try:
            self.conn.execute(
                insert(bulk_jobs).values(
                    _job_values(job)
                    | {"idempotency_key": idempotency_key, "fingerprint": fingerprint}
                )
            )
        except IntegrityError as clash:
            if idempotency_key is not None:
                raise KeyTaken(idempotency_key) from clash
            raise
        shared = {"workspace_id": job.workspace_id, "job_id": job.id}
        for i in range(0, len(user_ids), TARGETS_PER_INSERT):
            chunk = user_ids[i : i + TARGETS_PER_INSERT]
            insert_ids(self.conn, bulk_job_targets, "user_id", chunk, shared)

    def by_key(self, workspace_id: str, key: str) -> tuple[Job, str] | None:
        """The job made with this Idempotency-Key, and its request's fingerprint."""
        c = bulk_jobs.c
        row = self.conn.execute(
            select(bulk_jobs).where(c.workspace_id == workspace_id, c.idempotency_key == key)
        ).first()
        return None if row is None else (_job_from_row(row._mapping), row.fingerprint)

    def get(self, workspace_id: str, job_id: str) -> Job | None:
        c = bulk_jobs.c
        row = self.conn.execute(
            select(bulk_jobs).where(c.workspace_id == workspace_id, c.id == job_id)
        ).first()
        return None if row is None else _job_from_row(row._mapping)

    def recent(self, workspace_id: str, before: str | None, limit: int) -> list[Job]:
        """Newest first (ids sort by time), below the id `before`."""
        c = bulk_jobs.c
        query = select(bulk_jobs).where(c.workspace_id == workspace_id)
        if before is not None:
            query = query.where(c.id < before)
        rows = self.conn.execute(query.order_by(c.id.desc()).limit(limit))
        return [_job_from_row(r._mapping) for r in rows]

    def add_counts(
        self,
        job: Job,
        chunk: Tally,
        refused_codes: dict[str, int],
        delta: UserCounts,
        revoked: Revoked,
        now: datetime,
        active_before: int,
    ) -> None:
        """Add one chunk's counts to the job's; `refused_codes` are the job's so far."""
        c = bulk_jobs.c
        self.conn.execute(
            update(bulk_jobs)
            .where(c.workspace_id == job.workspace_id, c.id == job.id)
            .values(
                processed=c.processed + chunk.total,
                applied=c.applied + chunk.applied,
                unchanged=c.unchanged + chunk.unchanged,
                refused=c.refused + chunk.refused_total,
                refused_codes=refused_codes,
                active_delta=c.active_delta + delta.active,
                owners_delta=c.owners_delta + delta.active_owners,
                revoked_sessions=c.revoked_sessions + revoked.sessions,
                revoked_tokens=c.revoked_tokens + revoked.tokens,
                revoked_invitations=c.revoked_invitations + revoked.invitations,
                chunks=c.chunks + 1,
                started_at=job.started_at or now,
                active_before=active_before,
            )
        )

    # --- results ---

    def add_results(self, job: Job, outcomes: Sequence[OutcomeTuple]) -> None:
        """One result row per user, the users of each (outcome, code, status before)
        in one statement."""
        alike: dict[tuple[str, str | None, Status | None], list[str]] = {}
        for user_id, result, code, was in outcomes:
            alike.setdefault((result, code, was), []).append(user_id)
        shared = {"workspace_id": job.workspace_id, "job_id": job.id}
        for (result, code, was), ids in alike.items():
            values = {"outcome": result, "code": code, "from_status": was and was.value}
            insert_ids(self.conn, bulk_results, "user_id", ids, shared | values)

    def results(
        self,
        job: Job,
        *,
        after: str | None,
        limit: int,
        outcome: str | None,
    ) -> list[ResultRow]:
        """A page of the job's results in user-id order, with who each user is."""
        r, u = bulk_results.c, users.c
        query = (
            select(r.user_id, r.outcome, r.code, r.from_status, u.email, u.name)
            .select_from(
                bulk_results.outerjoin(
                    users, and_(u.workspace_id == r.workspace_id, u.id == r.user_id)
                )
            )
            .where(r.workspace_id == job.workspace_id, r.job_id == job.id)
        )
        if outcome is not None:
            query = query.where(r.outcome == outcome)
        if after is not None:
            query = query.where(r.user_id > after)
        rows = self.conn.execute(query.order_by(r.user_id).limit(limit))
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


def _job_values(job: Job) -> dict[str, Any]:
    return {
        "workspace_id": job.workspace_id,
        "id": job.id,
        "state": job.state,
        "dry_run": job.dry_run,
        "to_status": job.to.value,
        "reason_code": job.reason_code.value if job.reason_code else None,
        "note": job.note,
        "selection": job.selection,
        "actor_id": job.actor.id,
        "actor_name": job.actor.name,
        "actor_user_id": job.actor.user_id,
        "actor_role": job.actor.role.value if job.actor.role else None,
        "total": job.total,
        "refused_codes": {},  # the counts start at their columns' default, 0
        "created_at": job.created_at,
    }


def _job_from_row(m: RowMapping) -> Job:
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
        active_before=m["active_before"],
    )
