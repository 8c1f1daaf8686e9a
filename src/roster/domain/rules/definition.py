"""What an automation rule is: a trigger, conditions that must all hold, and an
action; and the ready-made rule for the common case. Which user may change to what is
not decided by a rule: its status change goes through the domain's `decide` on
route `automation` like any other."""

from dataclasses import dataclass
from datetime import time
from typing import Any, Literal

from roster.domain import errors
from roster.domain.vocabulary import ReasonCode, Status

USER_EVENTS = ("user.created", "user.signed_in", "user.status_changed")
"""Events Roster itself emits; external events (payment.failed, …) come through the API."""

MAX_DEPTH = 3
"""How many event-triggered rules may follow one another before the chain stops:
a rule reacting to a status change a rule made is depth 1, and so on."""

MAX_EVERY_MINUTES = 7 * 24 * 60
MAX_CONDITIONS = 20
Op = Literal["eq", "in", "gt", "lt"]
USER_FIELDS = (
    *("status", "role", "email_domain", "last_seen_days", "never_signed_in_days"),
    "expires_in_days",
)


class RuleInvalid(errors.InvalidInput):
    """A rule definition that cannot be saved; `field` names the part that is wrong
    (for example `conditions[1].value`), so the API and the editor can point at it."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True, slots=True)
class Trigger:
    kind: Literal["schedule", "event"]
    every_minutes: int | None = None
    daily_at: time | None = None
    event: str | None = None

    def as_json(self) -> dict[str, Any]:
        if self.kind == "event":
            return {"type": "event", "event": self.event}
        if self.daily_at is not None:
            return {"type": "schedule", "daily_at": self.daily_at.strftime("%H:%M")}
        return {"type": "schedule", "every_minutes": self.every_minutes}


@dataclass(frozen=True, slots=True)
class Condition:
    field: str
    op: Op
    value: Any

    def as_json(self) -> dict[str, Any]:
        return {"field": self.field, "op": self.op, "value": self.value}

    @property
    def on_event(self) -> bool:
        return self.field.startswith("event.data.")


@dataclass(frozen=True, slots=True)
class Action:
    kind: Literal["set_status", "webhook"]
    status: Status | None = None
    reason_code: ReasonCode | None = None
    note: str | None = None
    url: str | None = None

    def as_json(self) -> dict[str, Any]:
        if self.kind == "webhook":
            return {"type": "webhook", "url": self.url}
        out: dict[str, Any] = {"type": "set_status", "status": self.status}
        if self.reason_code:
            out["reason_code"] = self.reason_code.value
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True, slots=True)
class RuleDefinition:
    """What an admin writes: everything of a rule but its identity and bookkeeping."""

    name: str
    enabled: bool
    trigger: Trigger
    conditions: tuple[Condition, ...]
    action: Action
    personal: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "enabled": self.enabled,
            "personal": self.personal,
            "trigger": self.trigger.as_json(),
            "conditions": [c.as_json() for c in self.conditions],
            "action": self.action.as_json(),
        }


def dormant_template(days: int = 90, daily_at: str = "03:00") -> dict[str, Any]:
    """The ready-made rule for the common case: deactivate users not seen for N days
    (GitLab's dormant users). Returns the JSON shape, to edit before saving."""
    return {
        "name": f"Deactivate users not seen for {days} days",
        "enabled": True,
        "trigger": {"type": "schedule", "daily_at": daily_at},
        "conditions": [
            {"field": "status", "op": "in", "value": ["active"]},
            {"field": "last_seen_days", "op": "gt", "value": days},
        ],
        "action": {"type": "set_status", "status": "inactive", "note": f"Not seen for {days} days"},
    }
