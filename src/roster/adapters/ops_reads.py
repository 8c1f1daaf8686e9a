"""What the operator's metrics read from the database at scrape time: the same
figures from every server process, however many there are.

Each is one grouped query on an index (the audit table's counts read every status
event once per scrape: see docs/operations.md for its cost on a large log).
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, Table, func, or_, select

from roster.adapters.tables import (
    audit_events,
    automation_runs,
    bulk_jobs,
    outbox,
    webhook_messages,
)


@dataclass(frozen=True, slots=True)
class Backlog:
    """How many are waiting and since when the oldest one waits (None: nothing waits)."""

    waiting: int
    oldest: datetime | None


@dataclass(frozen=True, slots=True)
class OpsCounts:
    status_changes: dict[tuple[str, str], int]  # (route, outcome) → events
    bulk_jobs: dict[str, int]  # state → jobs
    automation_runs: dict[str, int]  # state → runs
    bulk_waiting: Backlog
    runs_waiting: Backlog
    outbox: dict[str, Backlog]  # topic → unsent rows ("webhook": pending deliveries)


def read_ops_counts(engine: Engine, now: datetime) -> OpsCounts:
    with engine.connect() as conn:
        return OpsCounts(
            status_changes=_status_changes(conn),
            bulk_jobs=_by_state(conn, bulk_jobs),
            automation_runs=_by_state(conn, automation_runs),
            bulk_waiting=_unheld(conn, bulk_jobs, ("queued", "running"), "created_at", now),
            runs_waiting=_unheld(conn, automation_runs, ("running",), "started_at", now),
            outbox=_outbox(conn),
        )


def _status_changes(conn: Connection) -> dict[tuple[str, str], int]:
    a = audit_events.c
    rows = conn.execute(
        select(a.route, a.outcome, func.count())
        .where(a.kind == "status")
        .group_by(a.route, a.outcome)
    )
    return {(route, outcome): n for route, outcome, n in rows}


def _by_state(conn: Connection, jobs: Table) -> dict[str, int]:
    rows = conn.execute(select(jobs.c.state, func.count()).group_by(jobs.c.state))
    return {state: n for state, n in rows}


def _unheld(
    conn: Connection, jobs: Table, states: tuple[str, ...], since: str, now: datetime
) -> Backlog:
    """Jobs that can run but no runner holds: queued, released, or their runner died."""
    c = jobs.c
    waiting, oldest = conn.execute(
        select(func.count(), func.min(c[since])).where(
            c.state.in_(states), or_(c.lease_until.is_(None), c.lease_until < now)
        )
    ).one()
    return Backlog(waiting, oldest)


def _outbox(conn: Connection) -> dict[str, Backlog]:
    o = outbox.c
    rows = conn.execute(
        select(o.topic, func.count(), func.min(o.created_at))
        .where(o.sent_at.is_(None))
        .group_by(o.topic)
    )
    found = {topic: Backlog(n, oldest) for topic, n, oldest in rows}
    m = webhook_messages.c
    n, oldest = conn.execute(
        select(func.count(), func.min(m.created_at)).where(m.next_attempt_at.is_not(None))
    ).one()
    if n:
        found["webhook"] = Backlog(n, oldest)
    return found


def pool_in_use(engine: Engine) -> int:
    """Connections this process has checked out of its pool."""
    checkedout = getattr(engine.pool, "checkedout", None)
    return int(checkedout()) if callable(checkedout) else 0
