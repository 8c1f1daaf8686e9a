"""The audit chain in SQL (the `AuditLog` port), and how a row becomes an `AuditEntry`."""

from collections.abc import Iterable
from enum import Enum
from itertools import chain
from typing import Any

from sqlalchemy import Connection, Row, update

from roster.adapters.batch_sql import bind_value, insert_rows_sharing
from roster.adapters.tables import audit_events, user_counts
from roster.domain.audit import AuditEntry, AuditKind, ChainHead, canonical_changes, extend
from roster.domain.vocabulary import ReasonCode, Route, Status

_STATUS_VALUES: dict[Status | None, str] = {s: s.value for s in Status}


class SqlAuditLog:
    """The one writer of the audit chain: status attempts and admin actions alike."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def append(self, entries: Iterable[AuditEntry], after: ChainHead | None = None) -> None:
        """Append entries (all of one workspace), numbered and hashed onto the end of
        its chain, set-based: the rows that share all but their id, seq, user, from
        status and hash go in one statement. The entries are taken one at a time, in
        order (a batch's can be made as they are written, so thousands never live at
        once). `after` is the chain's end when the caller has just read it with the
        counter row locked; otherwise updating the counter row locks it (until
        commit) to read the end. Either way seq follows the order of commits and the
        chain has no forks."""
        taken = iter(entries)
        first = next(taken, None)
        if first is None:
            return
        workspace_id, c = first.workspace_id, user_counts.c
        counter = update(user_counts).where(c.workspace_id == workspace_id)
        if after is None:
            held = counter.values(audit_seq=c.audit_seq).returning(c.audit_seq, c.audit_head)
            after = ChainHead(*self.conn.execute(held).one())
        end = self._insert(workspace_id, extend(after, chain([first], taken)))
        self.conn.execute(counter.values(audit_seq=end.seq, audit_head=end.hash))

    def _insert(
        self, workspace_id: str, links: Iterable[tuple[AuditEntry, ChainHead]]
    ) -> ChainHead:
        """Insert the linked entries; the chain's new end."""
        # A batch's entries share all but a few fields: grouped by the shared fields as
        # they are (converted to column values once per group, not per entry).
        alike: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
        end, last, rows = ChainHead(), None, []
        for e, end in links:
            shared = (
                e.to_status,
                e.route,
                e.actor_id,
                e.actor_name,
                e.reason_code,
                e.note,
                e.at,
                e.outcome,
                e.request_id,
                e.batch_id,
                e.kind,
                None if e.changes is None else canonical_changes(e.changes),
            )
            if shared != last:  # the same objects as the entry before: found at once
                rows, last = alike.setdefault(shared, []), shared
            rows.append((e.id, end.seq, e.user_id, _STATUS_VALUES.get(e.from_status), end.hash))
        for shared, rows in alike.items():
            values = dict(zip(_AUDIT_SHARED, map(_column_value, shared), strict=True))
            values["at"] = bind_value(self.conn, audit_events.c.at, values["at"])
            insert_rows_sharing(
                self.conn, audit_events, _AUDIT_OWN, rows, {"workspace_id": workspace_id, **values}
            )
        return end


def _column_value(value: Any) -> Any:
    """A shared field as its column stores it: an enum by its value."""
    return value.value if isinstance(value, Enum) else value


_AUDIT_OWN = ("id", "seq", "user_id", "from_status", "hash")  # each entry's own
# The rest, in the order `SqlAuditLog._insert` lists them; `changes` is stored as its
# canonical JSON text (the column is JSON): what the chain hashed, byte for byte.
_AUDIT_SHARED = (
    "to_status",
    "route",
    "actor_id",
    "actor_name",
    "reason_code",
    "note",
    "at",
    "outcome",
    "request_id",
    "batch_id",
    "kind",
    "changes",
)


def audit_from_row(row: Row[Any]) -> AuditEntry:
    m = dict(row._mapping)
    m["from_status"] = Status(m["from_status"]) if m["from_status"] else None
    m["to_status"] = Status(m["to_status"]) if m["to_status"] else None
    m["route"] = Route(m["route"])
    m["reason_code"] = ReasonCode(m["reason_code"]) if m["reason_code"] else None
    m["kind"] = AuditKind(m["kind"])
    return AuditEntry(**m)
