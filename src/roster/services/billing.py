"""Billing: the exact Active count now, usage over time from the audit log, the
daily snapshots that keep long reports fast, and a check that all of them agree.

The count now is the counter row (`user_counts`), which every change updates in
its own transaction: one primary-key read, whatever the number of users. Usage
over time is replayed from the applied audit events (domain.billing says how);
snapshots are that replay saved per sealed day, so a year's report reads at most
365 rows plus the events of the days not sealed yet.

Reports read on the caller's connection, like the other read-side queries; the
snapshot builder and the check take the unit of work.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from roster.adapters.billing_store import SqlBilling
from roster.domain import billing as arithmetic
from roster.domain import errors
from roster.domain.billing import ORIGIN, Cursor, DayUsage, Totals, Transition
from roster.domain.transitions import Policy
from roster.domain.vocabulary import Role, Status
from roster.domain.workspaces import UserCounts, Workspace
from roster.services import queries
from roster.services.ports import Billing, UnitOfWork

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
    ledger = SqlBilling(conn)
    saved = {s.day: s for s in ledger.snapshots(workspace.id, workspace.timezone, first, last)}
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
        start = cursor or _base_before(ledger, workspace, period[i].day)
        out += arithmetic.usage_by_day(
            period[i:j], start, ledger.transitions(workspace.id, start.seq)
        )
        cursor, i = out[-1].end, j
    return UsageReport(first, last, workspace.timezone, out, arithmetic.totals(out))


def active_at(conn: Connection, workspace: Workspace, instant: datetime) -> int:
    """The Active count at a past instant (for an invoice date), from the audit log."""
    arithmetic.check_instant(instant)
    ledger = SqlBilling(conn)
    start = _base_before(ledger, workspace, arithmetic.day_of(instant, workspace.timezone))
    return arithmetic.active_at(start, ledger.transitions(workspace.id, start.seq), instant)


def transitions(conn: Connection, workspace_id: str, after_seq: int) -> Iterator[Transition]:
    """The workspace's applied transitions after `after_seq`, in seq order."""
    return SqlBilling(conn).transitions(workspace_id, after_seq)


def _base_before(ledger: Billing, workspace: Workspace, day: date) -> Cursor:
    """Where the stream stands at the start of `day`, or before it: the end of the
    latest snapshot before that day, else the very beginning of the log."""
    snap = ledger.latest_snapshot(workspace.id, workspace.timezone, day)
    return snap.end if snap else ORIGIN


# --- Snapshots ---------------------------------------------------------------------


def build_snapshots(uow: UnitOfWork, workspace_id: str, now: datetime) -> int:
    """Save every sealed day not saved yet; returns how many days were written.

    Idempotent and safe to run from many processes at once: a sealed day's figures
    can no longer change, so two builders compute the same row and the second
    insert of it is skipped. Snapshots built in another time zone are dropped first.
    """
    with uow.read_only() as reading:
        workspace = _workspace(reading, workspace_id)
        ledger = reading.billing
        stale = ledger.has_snapshots_not_in(workspace_id, workspace.timezone)
        latest = None if stale else _base_snapshot(ledger, workspace)
        days = _sealed_days(ledger, workspace, latest)
    with uow:
        if stale:
            uow.billing.drop_snapshots(workspace_id)
        uow.billing.save_snapshots(workspace_id, workspace.timezone, days, now)
        uow.commit()
    return len(days)


def rebuild_snapshots(uow: UnitOfWork, workspace_id: str, now: datetime) -> int:
    """Drop the workspace's snapshots and build them again from the audit log."""
    with uow:
        uow.billing.drop_snapshots(workspace_id)
        uow.commit()
    return build_snapshots(uow, workspace_id, now)


def _workspace(uow: UnitOfWork, workspace_id: str) -> Workspace:
    workspace = uow.workspaces.get(workspace_id)
    if workspace is None:
        raise errors.NotFound("No such workspace.")
    return workspace


def _base_snapshot(ledger: Billing, workspace: Workspace) -> DayUsage | None:
    return ledger.latest_snapshot(workspace.id, workspace.timezone, date.max)


def _sealed_days(ledger: Billing, workspace: Workspace, latest: DayUsage | None) -> list[DayUsage]:
    start = latest.end if latest else ORIGIN
    span = ledger.applied_span(workspace.id, start.seq)
    if span is None:
        return []
    first_at, max_at = span
    clock = max(max_at, start.clock) if start.clock else max_at
    tz = workspace.timezone
    first = latest.day + timedelta(days=1) if latest else arithmetic.day_of(first_at, tz)
    last = arithmetic.last_sealed_day(clock, tz)
    if last < first:
        return []
    period = arithmetic.days(first, last, tz)
    return arithmetic.usage_by_day(period, start, ledger.transitions(workspace.id, start.seq))


def build_all_snapshots(uow: UnitOfWork, now: datetime, *, rebuild: bool = False) -> int:
    """Bring every workspace's snapshots up to date (the nightly job), or rebuild them."""
    with uow.read_only() as reading:
        ids = reading.billing.workspace_ids()
    build = rebuild_snapshots if rebuild else build_snapshots
    return sum(build(uow, workspace_id, now) for workspace_id in ids)


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


def verify(uow: UnitOfWork, workspace_id: str) -> Verification:
    """Recompute the counts from the users table and from the audit log, in one
    consistent read, and compare them with the counter row and the snapshots."""
    with uow.read_only(consistent=True) as reading:
        workspace = _workspace(reading, workspace_id)
        ledger = reading.billing
        counter = reading.counts.read(workspace_id)
        table = ledger.statuses(workspace_id)
        replayed: dict[str, Status] = {}
        for t in ledger.transitions(workspace_id, 0):
            replayed[t.user_id] = t.to_status
        owners = ledger.active_owners(workspace_id)
        snapshots_differing = _check_snapshots(ledger, workspace)
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


def _tally(statuses: Any, active_owners: int) -> UserCounts:
    counts = UserCounts(active_owners=active_owners)
    for status in statuses:
        counts = counts.moved(Role.MEMBER, None, status)
    return counts


def _check_snapshots(ledger: Billing, workspace: Workspace) -> list[date]:
    saved = ledger.snapshots(workspace.id, workspace.timezone)
    if not saved:
        return []
    period = arithmetic.days(saved[0].day, saved[-1].day, workspace.timezone)
    fresh = arithmetic.usage_by_day(period, ORIGIN, ledger.transitions(workspace.id, 0))
    recomputed = {d.day: (d, d.end) for d in fresh}
    return [s.day for s in saved if s.day not in recomputed or recomputed[s.day] != (s, s.end)]
