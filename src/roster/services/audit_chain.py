"""Proving the audit log: every entry's hash chains onto the one before it."""

from dataclasses import dataclass

from sqlalchemy import Connection, select

from roster.adapters.audit_log import audit_from_row
from roster.adapters.tables import audit_events, user_counts
from roster.domain.audit import GENESIS, chain_hash

PAGE = 5000


@dataclass(frozen=True, slots=True)
class ChainReport:
    checked: int
    broken_seq: int | None = None
    broken_id: str | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


def verify_chain(conn: Connection, workspace_id: str) -> ChainReport:
    """Recompute the chain in seq order; name the first entry that does not match.

    Catches an edited or deleted entry (its hash, or the next seq, is off), a
    reordering, and a truncated tail (the last hash is not the recorded head).
    """
    head, expected_seq, checked = GENESIS, 1, 0
    while True:
        rows = conn.execute(
            select(audit_events)
            .where(audit_events.c.workspace_id == workspace_id, audit_events.c.seq >= expected_seq)
            .order_by(audit_events.c.seq)
            .limit(PAGE)
        ).all()
        for row in rows:
            entry = audit_from_row(row)
            if entry.seq != expected_seq:
                return ChainReport(
                    checked, expected_seq, entry.id, f"event {expected_seq} is missing"
                )
            head = chain_hash(head, entry)
            if head != entry.hash:
                return ChainReport(
                    checked, entry.seq, entry.id, "its content does not match its hash"
                )
            expected_seq += 1
            checked += 1
        if len(rows) < PAGE:
            break
    recorded = conn.execute(
        select(user_counts.c.audit_head, user_counts.c.audit_seq).where(
            user_counts.c.workspace_id == workspace_id
        )
    ).first()
    if recorded is not None and (recorded.audit_head != head or recorded.audit_seq != checked):
        return ChainReport(
            checked,
            checked + 1,
            None,
            f"the log ends at event {checked} but {recorded.audit_seq} were written",
        )
    return ChainReport(checked)
