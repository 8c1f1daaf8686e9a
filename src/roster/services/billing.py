"""Billing: the exact Active count now, usage over time from the audit log, the
daily snapshots that keep long reports fast, and a check that all of them agree.

The count now is the counter row (`user_counts`), which every change updates in
its own transaction: one primary-key read, whatever the number of users. Usage
over time is replayed from the applied audit events (domain.billing says how);
snapshots are that replay saved per sealed day, so a year's report reads at most
365 rows plus the events of the days not sealed yet.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, delete, func, insert, select

from roster.adapters.database import WRITE
from roster.adapters.tables import audit_events, billing_days, users, workspaces
from roster.domain import billing as arithmetic
from roster.domain.audit import APPLIED, AuditKind
from roster.domain.billing import ORIGIN, Cursor, DayUsage, Totals, Transition
from roster.domain.transitions import Policy
from roster.domain.vocabulary import Role, Status
from roster.domain.workspaces import UserCounts, Workspace
from roster.services import queries

_TO: dict[str, Status] = {s.value: s for s in Status}
_STATUS: dict[str | None, Status | None] = {None: None} | {s.value: s for s in Status}
_FIRST_PAGE, _PAGE = 256, 8192


# --- The count now ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActiveUsers:
    active: int
    inactive: int
    blocked: int
    seat_limit: int | None
    as_of: datetime


def active_users(conn: Connection, workspace_id: str, policy: Policy, now: datetime) -> ActiveUsers:
    """The exact counts from the counter row (no count(*)), with the caller's seat limit."""
    counts = queries.user_counts_of(conn, workspace_id)
    return ActiveUsers(counts.active, counts.inactive, counts.blocked, policy.seat_limit, now)


# --- Usage over time -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UsageReport:
    first: date
    last: date
    timezone: str
    days: list[DayUsage]
    totals: Totals

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "timezone": self.timezone,
            "days": [day_dict(d) for d in self.days],
            "totals": {
                "peak": self.totals.peak,
                "closing": self.totals.closing,
                "seat_days": self.totals.seat_days,
            },
        }


def day_dict(d: DayUsage) -> dict[str, Any]:
    return {
        "date": d.day.isoformat(),
        "peak": d.peak,
        "closing": d.closing,
        "seat_days": d.seat_days,
    }


CSV_HEADER = "date,peak,closing,seat_days"


def as_csv(report: UsageReport) -> str:
    """One line per day, then a `total` line (highest peak, last closing, seat-days)."""
    lines = [CSV_HEADER]
    lines += [f"{d.day.isoformat()},{d.peak},{d.closing},{d.seat_days}" for d in report.days]
    t = report.totals
    lines.append(f"total,{t.peak},{t.closing},{t.seat_days}")
    return "\r\n".join(lines) + "\r\n"


def usage(conn: Connection, workspace: Workspace, first: date, last: date) -> UsageReport:
    """Per day from `first` to `last` (the workspace's days): peak, closing, seat-days.

    Sealed days come from their snapshots; the others are replayed from the
    audit log, starting where the nearest earlier snapshot left off.
    """
    arithmetic.check_period(first, last)
    period = arithmetic.days(first, last, workspace.timezone)
    saved = {s.day: s for s in _snapshots(conn, workspace, first, last)}
    out: list[DayUsage] = []
    cursor: Cursor | None = None
    i = 0
    while i < len(period):
        if (snap := saved.get(period[i].day)) is not None:
            out.append(snap)
            cursor, i = snap.end, i + 1
            continue
        j = i
        while j < len(period) and period[j].day not in saved:
            j += 1
        start = cursor or _base_before(conn, workspace, period[i].day)
        out += arithmetic.usage_by_day(
            period[i:j], start, transitions(conn, workspace.id, start.seq)
        )
        cursor, i = out[-1].end, j
    return UsageReport(first, last, workspace.timezone, out, arithmetic.totals(out))


def active_at(conn: Connection, workspace: Workspace, instant: datetime) -> int:
    """The Active count at a past instant (for an invoice date), from the audit log."""
    arithmetic.check_instant(instant)
    start = _base_before(conn, workspace, arithmetic.day_of(instant, workspace.timezone))
    return arithmetic.active_at(start, transitions(conn, workspace.id, start.seq), instant)


def _applied_status(a: Any) -> tuple[ColumnElement[bool], ...]:
    """Applied status changes: what moves a headcount (admin actions move none)."""
    return (a.outcome == APPLIED, a.kind == AuditKind.STATUS)


def transitions(conn: Connection, workspace_id: str, after_seq: int) -> Iterator[Transition]:
    """The workspace's applied transitions after `after_seq`, in seq order, page by page,
    so a caller that stops early reads little."""
    a = audit_events.c
    page, last = _FIRST_PAGE, after_seq
    while True:
        rows = conn.execute(
            select(a.seq, a.user_id, a.from_status, a.to_status, a.at)
            .where(*_applied_status(a), a.workspace_id == workspace_id, a.seq > last)
            .order_by(a.seq)
            .limit(page)
        ).all()
        for seq, user_id, from_status, to_status, at in rows:
            yield Transition(seq, user_id, _STATUS[from_status], _TO[to_status], at)
        if len(rows) < page:
            return
        last, page = rows[-1][0], _PAGE


# --- Snapshots ---------------------------------------------------------------------


def _snapshot_of(row: Any) -> DayUsage:
    end = Cursor(row.closing, row.through_seq, row.clock)
    return DayUsage(row.day, row.opening, row.peak, row.closing, row.seat_days, end)


def _snapshots(conn: Connection, workspace: Workspace, first: date, last: date) -> list[DayUsage]:
    b = billing_days.c
    rows = conn.execute(
        select(billing_days)
        .where(
            b.workspace_id == workspace.id,
            b.timezone == workspace.timezone,
            b.day >= first,
            b.day <= last,
        )
        .order_by(b.day)
    )
    return [_snapshot_of(r) for r in rows]


def _latest_snapshot(conn: Connection, workspace: Workspace, before: date) -> DayUsage | None:
    b = billing_days.c
    row = conn.execute(
        select(billing_days)
        .where(b.workspace_id == workspace.id, b.timezone == workspace.timezone, b.day < before)
        .order_by(b.day.desc())
        .limit(1)
    ).first()
    return _snapshot_of(row) if row else None


def _base_before(conn: Connection, workspace: Workspace, day: date) -> Cursor:
    """Where the stream stands at the start of `day`, or before it: the end of the
    latest snapshot before that day, else the very beginning of the log."""
    snap = _latest_snapshot(conn, workspace, day)
    return snap.end if snap else ORIGIN


def build_snapshots(engine: Engine, workspace_id: str, now: datetime) -> int:
    """Save every sealed day not saved yet; returns how many days were written.

    Idempotent and safe to run from many processes at once: a sealed day's figures
    can no longer change, so two builders compute the same row and the second
    insert of it is skipped. Snapshots built in another time zone are dropped first.
    """
    with engine.connect() as conn:
        workspace = queries.workspace_by_id(conn, workspace_id)
        stale = conn.execute(
            select(func.count())
            .select_from(billing_days)
            .where(
                billing_days.c.workspace_id == workspace_id,
                billing_days.c.timezone != workspace.timezone,
            )
        ).scalar_one()
        latest = None if stale else _latest_snapshot(conn, workspace, date.max)
        rows = _sealed_days(conn, workspace, latest, now)
    with engine.execution_options(**WRITE).begin() as conn:
        if stale:
            conn.execute(delete(billing_days).where(billing_days.c.workspace_id == workspace_id))
        if rows:
            _insert_new(conn, rows)
    return len(rows)


def rebuild_snapshots(engine: Engine, workspace_id: str, now: datetime) -> int:
    """Drop the workspace's snapshots and build them again from the audit log."""
    with engine.execution_options(**WRITE).begin() as conn:
        conn.execute(delete(billing_days).where(billing_days.c.workspace_id == workspace_id))
    return build_snapshots(engine, workspace_id, now)


def _sealed_days(
    conn: Connection, workspace: Workspace, latest: DayUsage | None, now: datetime
) -> list[dict[str, Any]]:
    start = latest.end if latest else ORIGIN
    a = audit_events.c
    applied_after = (*_applied_status(a), a.workspace_id == workspace.id, a.seq > start.seq)
    first_at, max_at = conn.execute(
        select(func.min(a.at), func.max(a.at)).where(*applied_after)
    ).one()
    if first_at is None:
        return []
    clock = max(max_at, start.clock) if start.clock else max_at
    tz = workspace.timezone
    first = latest.day + timedelta(days=1) if latest else arithmetic.day_of(first_at, tz)
    last = arithmetic.last_sealed_day(clock, tz)
    if last < first:
        return []
    period = arithmetic.days(first, last, tz)
    usage_days = arithmetic.usage_by_day(period, start, transitions(conn, workspace.id, start.seq))
    return [_snapshot_row(workspace, d, now) for d in usage_days]


def _snapshot_row(workspace: Workspace, d: DayUsage, now: datetime) -> dict[str, Any]:
    return {
        "workspace_id": workspace.id,
        "day": d.day,
        "timezone": workspace.timezone,
        "opening": d.opening,
        "peak": d.peak,
        "closing": d.closing,
        "seat_days": d.seat_days,
        "through_seq": d.end.seq,
        "clock": d.end.clock,
        "built_at": now,
    }


def _insert_new(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert, skipping days another builder saved first (their rows are identical)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        conn.execute(pg_insert(billing_days).on_conflict_do_nothing(), rows)
    elif conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        conn.execute(sqlite_insert(billing_days).on_conflict_do_nothing(), rows)
    else:  # pragma: no cover - we ship SQLite and PostgreSQL
        conn.execute(insert(billing_days), rows)


def build_all_snapshots(engine: Engine, now: datetime, *, rebuild: bool = False) -> int:
    """Bring every workspace's snapshots up to date (the nightly job), or rebuild them."""
    with engine.connect() as conn:
        ids = list(conn.execute(select(workspaces.c.id).order_by(workspaces.c.id)).scalars())
    build = rebuild_snapshots if rebuild else build_snapshots
    return sum(build(engine, workspace_id, now) for workspace_id in ids)


# --- Verification ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Verification:
    """The counter row next to the same counts recomputed two other ways."""

    counter: UserCounts
    from_users: UserCounts
    from_audit: UserCounts  # active_owners is not in the log: copied from the counter
    users_differing: list[tuple[str, Status, Status | None]] = field(default_factory=list)
    snapshots_differing: list[date] = field(default_factory=list)

    @property
    def differences(self) -> list[str]:
        found = []
        for name in ("active", "inactive", "blocked", "active_owners"):
            c, u = getattr(self.counter, name), getattr(self.from_users, name)
            a = getattr(self.from_audit, name)
            if not c == u == a:
                found.append(f"{name}: counter {c}, users table {u}, audit log {a}")
        for user_id, status, replayed in self.users_differing:
            shown = replayed.value if replayed else "no applied event"
            found.append(f"user {user_id}: users table {status.value}, audit log {shown}")
        found += [
            f"snapshot of {d.isoformat()} differs from the audit log"
            for d in self.snapshots_differing
        ]
        return found

    @property
    def ok(self) -> bool:
        return not self.differences


def verify(engine: Engine, workspace_id: str) -> Verification:
    """Recompute the counts from the users table and from the audit log, in one
    consistent read, and compare them with the counter row and the snapshots."""
    with _consistent(engine) as conn:
        workspace = queries.workspace_by_id(conn, workspace_id)
        counter = queries.user_counts_of(conn, workspace_id)
        table = _statuses_in_users_table(conn, workspace_id)
        replayed: dict[str, Status] = {}
        for t in transitions(conn, workspace_id, 0):
            replayed[t.user_id] = t.to_status
        owners = _active_owners(conn, workspace_id)
        snapshots_differing = _check_snapshots(conn, workspace)
    differing = [
        (user_id, status, replayed.get(user_id))
        for user_id, status in table.items()
        if replayed.get(user_id) != status
    ]
    return Verification(
        counter=counter,
        from_users=_tally(table.values(), owners),
        from_audit=_tally(replayed.values(), counter.active_owners),
        users_differing=differing[:20],
        snapshots_differing=snapshots_differing,
    )


def _consistent(engine: Engine) -> Connection:
    """A read that sees one moment of the database (REPEATABLE READ on PostgreSQL;
    a SQLite read transaction is a snapshot already)."""
    conn = engine.connect()
    if conn.dialect.name == "postgresql":
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
    return conn


def _statuses_in_users_table(conn: Connection, workspace_id: str) -> dict[str, Status]:
    rows = conn.execute(
        select(users.c.id, users.c.status).where(users.c.workspace_id == workspace_id)
    )
    return {user_id: Status(status) for user_id, status in rows}


def _active_owners(conn: Connection, workspace_id: str) -> int:
    return int(
        conn.execute(
            select(func.count())
            .select_from(users)
            .where(
                users.c.workspace_id == workspace_id,
                users.c.role == Role.OWNER.value,
                users.c.status == Status.ACTIVE.value,
            )
        ).scalar_one()
    )


def _tally(statuses: Any, active_owners: int) -> UserCounts:
    counts = UserCounts(active_owners=active_owners)
    for status in statuses:
        counts = counts.moved(Role.MEMBER, None, status)
    return counts


def _check_snapshots(conn: Connection, workspace: Workspace) -> list[date]:
    b = billing_days.c
    saved = [
        _snapshot_of(r)
        for r in conn.execute(
            select(billing_days)
            .where(b.workspace_id == workspace.id, b.timezone == workspace.timezone)
            .order_by(b.day)
        )
    ]
    if not saved:
        return []
    period = arithmetic.days(saved[0].day, saved[-1].day, workspace.timezone)
    fresh = arithmetic.usage_by_day(period, ORIGIN, transitions(conn, workspace.id, 0))
    recomputed = {d.day: (d, d.end) for d in fresh}
    return [s.day for s in saved if s.day not in recomputed or recomputed[s.day] != (s, s.end)]
