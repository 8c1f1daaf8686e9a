"""The lease, cursor and state columns of job rows (bulk actions, automation runs),
for the one job runner (services/jobs.py).

Every write is a compare-and-set on the lease it expects, so of two processes only
one takes or renews a lease: the loser's UPDATE matches no row.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, Table, or_, select, update

from roster.adapters.tables import automation_runs, bulk_jobs
from roster.domain.bulk import RUNNABLE
from roster.domain.jobs import JobRef, Lease


@dataclass(frozen=True, slots=True)
class JobTable:
    """Where one kind keeps its jobs: the table, the column naming the holder, the
    states a job can still run in, its finished state, and the column saying why it
    failed."""

    table: Table
    holder: str
    runnable: tuple[str, ...]
    finished: str
    reason: str


BULK_JOBS = JobTable(bulk_jobs, "worker", RUNNABLE, "done", "error")
AUTOMATION_RUNS = JobTable(automation_runs, "holder", ("running",), "succeeded", "reason")


class SqlJobLeases:
    def __init__(self, conn: Connection, jobs: JobTable) -> None:
        self.conn, self.jobs, self.c = conn, jobs, jobs.table.c

    def release_held(self, holder: str) -> int:
        """Let go of every lease `holder` has (a server shutting down); how many."""
        c, jobs = self.c, self.jobs
        let_go = self.conn.execute(
            update(jobs.table)
            .where(c[jobs.holder] == holder, c.state.in_(jobs.runnable), c.lease_until.is_not(None))
            .values(lease_until=None)
        )
        return int(let_go.rowcount)

    def _job(self, ref: JobRef) -> list[ColumnElement[bool]]:
        return [
            self.c.workspace_id == ref.workspace_id,
            self.c.id == ref.job_id,
            self.c.state.in_(self.jobs.runnable),
        ]

    def _held(self, lease: Lease) -> list[ColumnElement[bool]]:
        return [
            *self._job(lease.ref),
            self.c[self.jobs.holder] == lease.holder,
            self.c.lease_until == lease.until,
        ]

    def claimable(self, now: datetime, limit: int) -> list[JobRef]:
        """Jobs no runner holds (never held, released, or its lease ran out), oldest
        first. Job discovery is the one query that spans workspaces."""
        c = self.c
        rows = self.conn.execute(
            select(c.workspace_id, c.id)
            .where(
                c.state.in_(self.jobs.runnable),
                or_(c.lease_until.is_(None), c.lease_until < now),
            )
            .order_by(c.id)
            .limit(limit)
        )
        return [JobRef(w, i) for w, i in rows]

    def take(self, ref: JobRef, holder: str, now: datetime, until: datetime) -> Lease | None:
        c = self.c
        won = self.conn.execute(
            update(self.jobs.table)
            .where(*self._job(ref), or_(c.lease_until.is_(None), c.lease_until < now))
            .values({self.jobs.holder: holder, "lease_until": until})
        )
        return Lease(ref, holder, until) if won.rowcount == 1 else None

    def renew(self, lease: Lease, until: datetime) -> tuple[Lease, str | None] | None:
        held = self.conn.execute(
            update(self.jobs.table)
            .where(*self._held(lease))
            .values(lease_until=until)
            .returning(self.c.cursor)
        ).first()
        return None if held is None else (Lease(lease.ref, lease.holder, until), held.cursor)

    def advance(self, lease: Lease, cursor: str | None, done: bool, now: datetime) -> None:
        self.conn.execute(
            update(self.jobs.table)
            .where(*self._held(lease))
            .values(
                cursor=cursor,
                state=self.jobs.finished if done else "running",
                finished_at=now if done else None,
                lease_until=None if done else lease.until,
            )
        )

    def release(self, lease: Lease) -> None:
        self.conn.execute(
            update(self.jobs.table).where(*self._held(lease)).values(lease_until=None)
        )

    def fail(self, ref: JobRef, reason: str, now: datetime) -> None:
        self.conn.execute(
            update(self.jobs.table)
            .where(*self._job(ref))
            .values(
                {
                    "state": "failed",
                    self.jobs.reason: reason[:2000],
                    "finished_at": now,
                    "lease_until": None,
                }
            )
        )

    def runnable(self, ref: JobRef) -> bool:
        return self.conn.execute(select(self.c.id).where(*self._job(ref))).first() is not None
