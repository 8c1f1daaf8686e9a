"""What a bulk action is (PRODUCT §7): the job as stored, and the counts of what it
did or would do. services/bulk.py runs it; adapters/bulk_store.py stores it."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from roster.domain.filters import UserFilter
from roster.domain.users import Actor
from roster.domain.vocabulary import ReasonCode, Role, Status

RUNNABLE = ("queued", "running")
"""The states a job can still run in (then: done or failed)."""

Found = dict[str, tuple[Status, Role]]
"""The status and role of each user that exists: what `decide` reads."""

OutcomeTuple = tuple[str, str, str | None, Status | None]
"""One user's result: user id, applied / unchanged / refused, code, status before."""


class KeyTaken(Exception):
    """Another job already holds this Idempotency-Key in the workspace."""


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

    def count(self, outcomes: Iterable[OutcomeTuple]) -> None:
        for _, result, code, _ in outcomes:
            if result == "refused":
                key = code or "refused"
                self.refused[key] = self.refused.get(key, 0) + 1
            elif result == "applied":
                self.applied += 1
            else:
                self.unchanged += 1


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
    active_before: int | None = None
    """The active user count when the first chunk ran (None: not yet run)."""

    @property
    def active_after(self) -> int | None:
        if self.active_before is None:
            return None
        return self.active_before + self.tally.active_delta

    @property
    def finished(self) -> bool:
        return self.state not in RUNNABLE

    @property
    def progress(self) -> float:
        if self.finished:
            return 1.0
        return min(1.0, self.processed / self.total) if self.total else 0.0

    @property
    def filter(self) -> UserFilter | None:
        data = self.selection.get("filter")
        return UserFilter.from_json(data) if data is not None else None
