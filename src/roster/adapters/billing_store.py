"""SQL for billing: the applied status changes of the audit log, in order, and the
daily snapshots that save their replay per sealed day."""

from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, delete, exists, func, select
from sqlalchemy.dialects import postgresql, sqlite

from roster.adapters.tables import audit_events, billing_days, users, workspaces
from roster.domain.audit import APPLIED, AuditKind
from roster.domain.billing import Cursor, DayUsage, Transition
from roster.domain.vocabulary import Role, Status

_TO: dict[str, Status] = {s.value: s for s in Status}
_STATUS: dict[str | None, Status | None] = {None: None} | {s.value: s for s in Status}
_FIRST_PAGE, _PAGE = 256, 8192


def _applied_status(a: Any) -> tuple[ColumnElement[bool], ...]:
    """Applied status changes: what moves a headcount (admin actions move none)."""
    return (a.outcome == APPLIED, a.kind == AuditKind.STATUS)


def _snapshot_of(row: Any) -> DayUsage:
    end = Cursor(row.closing, row.through_seq, row.clock)
    return DayUsage(row.day, row.opening, row.peak, row.closing, row.seat_days, end)


class SqlBilling:
    """Billing's reads and snapshot writes on one connection (a unit of work's, or
    a read's)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def transitions(self, workspace_id: str, after_seq: int) -> Iterator[Transition]:
        """The workspace's applied transitions after `after_seq`, in seq order, page by
        page, so a caller that stops early reads little."""
        a = audit_events.c
        page, last = _FIRST_PAGE, after_seq
        while True:
            rows = self.conn.execute(
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

    def applied_span(self, workspace_id: str, after_seq: int) -> tuple[datetime, datetime] | None:
        """The first and last instants of the applied changes after `after_seq`."""
        a = audit_events.c
        first, last = self.conn.execute(
            select(func.min(a.at), func.max(a.at)).where(
                *_applied_status(a), a.workspace_id == workspace_id, a.seq > after_seq
            )
        ).one()
        return None if first is None else (first, last)

    def snapshots(
        self, workspace_id: str, timezone: str, first: date = date.min, last: date = date.max
    ) -> list[DayUsage]:
        """The saved days from `first` to `last` built in `timezone`, in order."""
        b = billing_days.c
        rows = self.conn.execute(
            select(billing_days)
            .where(
                b.workspace_id == workspace_id,
                b.timezone == timezone,
                b.day >= first,
                b.day <= last,
            )
            .order_by(b.day)
        )
        return [_snapshot_of(r) for r in rows]

    def latest_snapshot(self, workspace_id: str, timezone: str, before: date) -> DayUsage | None:
        b = billing_days.c
        row = self.conn.execute(
            select(billing_days)
            .where(b.workspace_id == workspace_id, b.timezone == timezone, b.day < before)
            .order_by(b.day.desc())
            .limit(1)
        ).first()
        return _snapshot_of(row) if row else None

    def has_snapshots_not_in(self, workspace_id: str, timezone: str) -> bool:
        """Whether snapshots were built in another time zone (they must go)."""
        b = billing_days.c
        query = select(exists().where(b.workspace_id == workspace_id, b.timezone != timezone))
        return bool(self.conn.execute(query).scalar())

    def drop_snapshots(self, workspace_id: str) -> None:
        self.conn.execute(delete(billing_days).where(billing_days.c.workspace_id == workspace_id))

    def save_snapshots(
        self, workspace_id: str, timezone: str, days: Sequence[DayUsage], now: datetime
    ) -> None:
        """Insert, skipping days another builder saved first (their rows are identical)."""
        if not days:
            return
        rows = [
            {
                "workspace_id": workspace_id,
                "day": d.day,
                "timezone": timezone,
                "opening": d.opening,
                "peak": d.peak,
                "closing": d.closing,
                "seat_days": d.seat_days,
                "through_seq": d.end.seq,
                "clock": d.end.clock,
                "built_at": now,
            }
            for d in days
        ]
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        self.conn.execute(dialect.insert(billing_days).on_conflict_do_nothing(), rows)

    def workspace_ids(self) -> list[str]:
        return list(self.conn.execute(select(workspaces.c.id).order_by(workspaces.c.id)).scalars())

    def statuses(self, workspace_id: str) -> dict[str, Status]:
        """Each user's status as the users table holds it."""
        rows = self.conn.execute(
            select(users.c.id, users.c.status).where(users.c.workspace_id == workspace_id)
        )
        return {user_id: _TO[status] for user_id, status in rows}

    def active_owners(self, workspace_id: str) -> int:
        return int(
            self.conn.execute(
                select(func.count())
                .select_from(users)
                .where(
                    users.c.workspace_id == workspace_id,
                    users.c.role == Role.OWNER.value,
                    users.c.status == Status.ACTIVE.value,
                )
            ).scalar_one()
        )
