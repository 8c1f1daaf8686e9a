"""Webhook subscriptions: the event catalogue, what an endpoint subscribes to, and
when a failed delivery is tried again or given up.

An endpoint is a URL, the event types it wants (or "*") and a secret. Each event
becomes one delivery per subscribed endpoint, queued in the transaction of the
change it reports; its `webhook-id` is the delivery's id, the same on every retry.
A failed attempt is retried on a schedule with jitter; an endpoint that has failed
every attempt for three days is disabled (its owners are told), since a receiver
gone for that long is more likely gone than down.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from roster.domain.audit import APPLIED, AuditEntry
from roster.domain.errors import InvalidInput

TEST = "webhook.test"
BILLING = "billing.active_users_changed"

EVENT_TYPES: dict[str, str] = {
    "user.created": "A user was added (dashboard, API, import, SCIM or an invitation).",
    "user.updated": "A user's name, email or role changed.",
    "user.status_changed": "A user's status changed: from, to, route, reason_code, actor.",
    "user.status_change_refused": "A status change (or a change to a Blocked user) was "
    "refused: route, code, actor.",
    "bulk_action.completed": "A bulk action finished, with its counts.",
    "automation_run.completed": "An automation run finished, with its counts.",
    BILLING: "The workspace's count of Active users changed (at most once a minute).",
    TEST: "Sent by the endpoint's test button or API call, to nobody else.",
}
SUBSCRIBABLE = frozenset(EVENT_TYPES) - {TEST}

# Seconds to wait after the 1st, 2nd, … failed attempt; the last repeats until the
# endpoint has failed for DISABLE_AFTER. Each wait is jittered by ±20% so the
# receivers that came back at once are not all retried in the same second.
RETRY_SCHEDULE = (5, 60, 600, 3600, 21600, 86400)
JITTER = 0.2
DISABLE_AFTER = timedelta(days=3)
RULE_MAX_ATTEMPTS = len(RETRY_SCHEDULE) + 1  # an automation rule's webhook has no endpoint
BILLING_EVERY = timedelta(minutes=1)
STATES = ("pending", "succeeded", "failed")


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened, to be told to the endpoints subscribed to its type.
    `user_id`: the user it is about, whose id, email and name go in `data.user`."""

    type: str
    data: dict[str, Any]
    user_id: str | None = None


@dataclass(slots=True)
class Endpoint:
    workspace_id: str
    id: str
    url: str
    events: list[str]
    secret: str
    created_at: datetime
    description: str | None = None
    enabled: bool = True
    previous_secret: str | None = None
    previous_secret_until: datetime | None = None
    failing_since: datetime | None = None
    disabled_reason: str | None = None
    updated_at: datetime | None = None

    def wants(self, event_type: str) -> bool:
        return event_type in self.events or ("*" in self.events and event_type != TEST)

    def secrets(self, now: datetime) -> list[str]:
        """The secrets that sign a delivery now: the current one, and for a day after a
        rotation the previous one, so receivers can switch without missing one."""
        old = self.previous_secret
        live = old is not None and self.previous_secret_until is not None
        return [self.secret, old] if live and now < self.previous_secret_until else [self.secret]  # type: ignore[list-item,operator]


@dataclass(frozen=True, slots=True)
class NewDelivery:
    """A delivery to queue: to an endpoint, or to an automation rule's URL."""

    workspace_id: str
    id: str
    event_type: str
    body: str
    created_at: datetime
    next_attempt_at: datetime
    endpoint_id: str | None = None
    rule_id: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery taken by one deliverer for one attempt (its number is `attempt`)."""

    workspace_id: str
    id: str
    attempt: int
    url: str | None
    secrets: list[str]
    body: str
    endpoint_id: str | None
    rule_id: str | None
    failing_since: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One attempt as recorded: what the receiver answered (or why none)."""

    attempt: int
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int
    response: str | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    workspace_id: str
    id: str
    endpoint_id: str | None
    event_type: str
    state: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    last_status_code: int | None
    body: str
    tried: list[AttemptRecord] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What follows an attempt: the delivery's state, when it is tried next, and
    whether its endpoint is disabled (failing for too long)."""

    state: Literal["pending", "succeeded", "failed"]
    next_attempt_at: datetime | None
    disable: bool = False


def retry_delay(failed_attempts: int, jitter: float) -> timedelta:
    """The wait after the `failed_attempts`-th failure; `jitter` is a draw in [0, 1)."""
    base = RETRY_SCHEDULE[min(failed_attempts, len(RETRY_SCHEDULE)) - 1]
    return timedelta(seconds=base * (1 - JITTER + 2 * JITTER * jitter))


def after_attempt(claimed: Claimed, ok: bool, now: datetime, jitter: float) -> Verdict:
    """Delivered; or retried later; or given up: an endpoint failing since three days
    ago is disabled, a rule's webhook stops after RULE_MAX_ATTEMPTS."""
    if ok:
        return Verdict("succeeded", None)
    if claimed.endpoint_id is None:
        if claimed.attempt >= RULE_MAX_ATTEMPTS:
            return Verdict("failed", None)
    elif now - (claimed.failing_since or now) >= DISABLE_AFTER:
        return Verdict("failed", None, disable=True)
    return Verdict("pending", now + retry_delay(claimed.attempt, jitter))


def check_events(events: Sequence[str]) -> list[str]:
    """The event types an endpoint subscribes to: known ones, or ["*"] for all."""
    if isinstance(events, str) or not events:
        raise InvalidInput('events: give at least one event type, or ["*"] for all.')
    wanted = list(dict.fromkeys(events))
    if "*" in wanted:
        return ["*"]
    unknown = [e for e in wanted if e not in SUBSCRIBABLE]
    if unknown:
        raise InvalidInput(
            f"events: unknown event type {unknown[0]!r}; see /api/v1/webhook-event-types."
        )
    return wanted


def status_event(entry: AuditEntry) -> Event:
    """The event of a status attempt as audited: a user created (no status before),
    a status changed, or an attempt refused with its code."""
    data: dict[str, Any] = {
        "from": entry.from_status.value if entry.from_status else None,
        "to": entry.to_status.value if entry.to_status else None,
        "route": entry.route.value,
        "reason_code": entry.reason_code.value if entry.reason_code else None,
        "actor": {"id": entry.actor_id, "name": entry.actor_name},
        "request_id": entry.request_id,
        "batch_id": entry.batch_id,
        "audit_event_id": entry.id,
    }
    if entry.outcome == APPLIED and entry.from_status is None:
        return Event("user.created", data, entry.user_id)
    if entry.outcome == APPLIED:
        return Event("user.status_changed", data, entry.user_id)
    return Event("user.status_change_refused", {**data, "code": entry.outcome}, entry.user_id)


def updated_event(
    entry_user_id: str, changes: dict[str, list[Any]], *, route: str, actor: dict[str, Any],
    request_id: str | None,
) -> Event:  # fmt: skip
    """A user's profile changed: each field's [before, after]."""
    data = {"changes": changes, "route": route, "actor": actor, "request_id": request_id}
    return Event("user.updated", data, entry_user_id)
