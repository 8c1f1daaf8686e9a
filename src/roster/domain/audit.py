"""Audit entries: one per attempt, applied or refused."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from roster.domain.vocabulary import ReasonCode, Route, Status

APPLIED = "applied"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    workspace_id: str
    user_id: str
    from_status: Status | None  # None: the user was created with `to_status`
    to_status: Status
    route: Route
    actor_id: str | None
    actor_name: str
    reason_code: ReasonCode | None
    note: str | None
    at: datetime
    outcome: str  # APPLIED or the refusal's code
    request_id: str | None = None
    batch_id: str | None = None
    id: str = ""
    seq: int = 0  # given by the audit log when written: the workspace's order of events


def replay(entries: Iterable[AuditEntry]) -> dict[str, Status]:
    """Each user's status from their applied entries, taken in `seq` order."""
    state: dict[str, Status] = {}
    for e in sorted(entries, key=lambda e: e.seq):
        if e.outcome == APPLIED:
            state[e.user_id] = e.to_status
    return state
