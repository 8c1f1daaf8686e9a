"""Saved rules of a workspace, their runs, and the users a run acts on."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from roster.domain.rules.definition import RuleDefinition
from roster.domain.rules.summary import summary
from roster.domain.vocabulary import Role, Status


@dataclass(frozen=True, slots=True)
class Subject:
    """One user a run acts on: what the action sends and the decision reads."""

    user_id: str
    email: str
    status: Status
    role: Role


@dataclass(frozen=True, slots=True)
class Rule:
    """A saved rule of one workspace. `owner_user_id` set: a personal automation,
    which stops when its owner leaves Active."""

    id: str
    workspace_id: str
    definition: RuleDefinition
    created_by: str
    created_at: datetime
    updated_at: datetime
    next_run_at: datetime | None = None
    owner_user_id: str | None = None
    webhook_secret: str | None = None
    disabled_reason: str | None = None

    @property
    def enabled(self) -> bool:
        return self.definition.enabled

    @property
    def summary(self) -> str:
        return summary(self.definition)


RunState = Literal["running", "succeeded", "failed", "stopped"]


@dataclass(frozen=True, slots=True)
class Run:
    """One execution of a rule: its state, its counts, and why it failed or stopped."""

    id: str
    workspace_id: str
    rule_id: str
    trigger: str  # schedule, event, manual
    dry_run: bool
    state: RunState
    depth: int
    started_at: datetime
    matched: int = 0
    applied: int = 0
    unchanged: int = 0
    refused: int = 0
    active_delta: int = 0
    event: str | None = None
    event_id: str | None = None
    reason: str | None = None
    cursor: str | None = None
    holder: str | None = None
    lease_until: datetime | None = None
    finished_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AppliedChange:
    """A status change read back from the audit log, for the event rules: a
    `from_status` of None is the user's creation."""

    seq: int
    id: str
    user_id: str
    from_status: str | None
    to_status: str
    route: str
    reason_code: str | None
    batch_id: str | None


@dataclass(frozen=True, slots=True)
class QueuedEvent:
    """An event waiting in the outbox (`user.signed_in`, or one the host posted)."""

    id: str
    topic: str
    payload: dict[str, Any]
