"""Automation rules (PRODUCT §8): a trigger, conditions that must all hold, an action.

Pure: parsing a rule from its JSON shape with errors that name the field, deciding
when a schedule is due, evaluating conditions against users (a run's chunk at once),
and saying the rule in plain words. Which user may change to what is not decided
here: a rule's status change goes through `User.change_status` on route `automation`
like any other.
"""

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, Literal, TypeGuard
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from roster.domain import errors
from roster.domain.network import url_refusal
from roster.domain.vocabulary import ReasonCode, Role, Status

USER_EVENTS = ("user.created", "user.signed_in", "user.status_changed")
"""Events Roster itself emits; external events (payment.failed, …) come through the API."""

MAX_DEPTH = 3
"""How many event-triggered rules may follow one another before the chain stops:
a rule reacting to a status change a rule made is depth 1, and so on."""

MAX_EVERY_MINUTES = 7 * 24 * 60
MAX_CONDITIONS = 20
EVENT_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
DATA_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
DOMAIN = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")

Op = Literal["eq", "in", "gt", "lt"]
USER_FIELDS = ("status", "role", "email_domain", "last_seen_days", "never_signed_in_days")
_ENUM_OPS = ("eq", "in")
_NUMBER_OPS = ("gt", "lt")


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


@dataclass(frozen=True, slots=True)
class Subject:
    """What conditions can see of one user (and of the event, for event rules)."""

    user_id: str
    email: str
    status: Status
    role: Role
    last_seen_at: datetime | None
    created_at: datetime
    event_data: Mapping[str, Any] = field(default_factory=dict)


# ----------------------------------------------------------------- parsing


def parse_rule(data: Any) -> RuleDefinition:
    """A rule from its JSON shape, or `RuleInvalid` naming the first wrong field."""
    body = _object(data, "rule")
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise RuleInvalid("name", "give the rule a name of 1 to 200 characters.")
    enabled = body.get("enabled", True)
    personal = body.get("personal", False)
    if not isinstance(enabled, bool):
        raise RuleInvalid("enabled", "must be true or false.")
    if not isinstance(personal, bool):
        raise RuleInvalid("personal", "must be true or false.")
    trigger = parse_trigger(body.get("trigger"))
    conditions = _conditions(body.get("conditions", []), trigger)
    action = parse_action(body.get("action"))
    return _storable(RuleDefinition(name.strip(), enabled, trigger, conditions, action, personal))


def _storable(rule: "RuleDefinition") -> "RuleDefinition":
    """Refuse what no database keeps or no JSON answer carries: NUL characters, lone
    surrogates, NaN and infinities (Python's JSON reader takes the last ones)."""
    pending: list[tuple[str, Any]] = [("rule", rule.as_json())]
    while pending:
        where, value = pending.pop()
        if isinstance(value, Mapping):
            pending += [(f"{where}.{k}".removeprefix("rule."), v) for k, v in value.items()]
        elif isinstance(value, list | tuple):
            pending += [(f"{where}[{i}]", v) for i, v in enumerate(value)]
        elif isinstance(value, str) and ("\x00" in value or not _encodable(value)):
            raise RuleInvalid(where, "text may not hold NUL characters or lone surrogates.")
        elif isinstance(value, float) and not math.isfinite(value):
            raise RuleInvalid(where, "must be a finite number.")
    return rule


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _object(data: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise RuleInvalid(where, "must be an object.")
    return data


def parse_trigger(data: Any) -> Trigger:
    body = _object(data, "trigger")
    kind = body.get("type")
    if kind == "event":
        event = body.get("event")
        if not isinstance(event, str) or not EVENT_NAME.match(event):
            raise RuleInvalid(
                "trigger.event",
                "name an event such as user.created, user.signed_in, "
                "user.status_changed or payment.failed.",
            )
        return Trigger("event", event=event)
    if kind != "schedule":
        raise RuleInvalid("trigger.type", 'must be "schedule" or "event".')
    every, daily = body.get("every_minutes"), body.get("daily_at")
    if (every is None) == (daily is None):
        raise RuleInvalid("trigger", "a schedule has either every_minutes or daily_at.")
    if daily is not None:
        if not isinstance(daily, str) or not HHMM.match(daily):
            raise RuleInvalid("trigger.daily_at", 'must be a time "HH:MM", 00:00 to 23:59.')
        return Trigger("schedule", daily_at=time(int(daily[:2]), int(daily[3:])))
    if not _is_int(every) or not 1 <= every <= MAX_EVERY_MINUTES:
        raise RuleInvalid(
            "trigger.every_minutes", f"must be a whole number from 1 to {MAX_EVERY_MINUTES}."
        )
    return Trigger("schedule", every_minutes=every)


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _conditions(data: Any, trigger: Trigger) -> tuple[Condition, ...]:
    if not isinstance(data, list):
        raise RuleInvalid("conditions", "must be a list (it may be empty).")
    if len(data) > MAX_CONDITIONS:
        raise RuleInvalid("conditions", f"at most {MAX_CONDITIONS} conditions.")
    return tuple(parse_condition(c, f"conditions[{i}]", trigger) for i, c in enumerate(data))


def parse_condition(data: Any, where: str, trigger: Trigger) -> Condition:
    body = _object(data, where)
    name, op, value = body.get("field"), body.get("op"), body.get("value")
    if not isinstance(name, str):
        raise RuleInvalid(f"{where}.field", _FIELD_HELP)
    if name.startswith("event.data."):
        return _event_condition(name, op, value, where, trigger)
    if name not in USER_FIELDS:
        raise RuleInvalid(f"{where}.field", _FIELD_HELP)
    if name in ("last_seen_days", "never_signed_in_days"):
        if op not in _NUMBER_OPS:
            raise RuleInvalid(f"{where}.op", f'{name} takes "gt" or "lt".')
        if not _is_int(value) or not 0 <= value <= 36500:
            raise RuleInvalid(f"{where}.value", "must be a whole number of days, 0 to 36500.")
        return Condition(name, op, value)
    if op not in _ENUM_OPS:
        raise RuleInvalid(f"{where}.op", f'{name} takes "eq" or "in".')
    return Condition(name, op, _enum_value(name, op, value, f"{where}.value"))


_FIELD_HELP = (
    "must be one of status, role, email_domain, last_seen_days, "
    "never_signed_in_days or event.data.<key>."
)


def _enum_value(name: str, op: str, value: Any, where: str) -> Any:
    values = value if op == "in" else [value]
    if op == "in" and (not isinstance(value, list) or not value):
        raise RuleInvalid(where, '"in" takes a non-empty list.')
    normal = [_one_enum(name, v, where) for v in values]
    return normal if op == "in" else normal[0]


def _one_enum(name: str, value: Any, where: str) -> str:
    choices: tuple[str, ...] = {"status": tuple(Status), "role": tuple(Role)}.get(name, ())
    if not isinstance(value, str):
        raise RuleInvalid(where, "must be text.")
    if choices and value not in choices:
        raise RuleInvalid(where, f"{value!r} is not a {name}: use one of {', '.join(choices)}.")
    if name == "email_domain":
        value = value.strip().lower().lstrip("@")
        if not DOMAIN.match(value):
            raise RuleInvalid(where, f"{value!r} is not an email domain such as example.com.")
    return str(value)


def _event_condition(name: str, op: Any, value: Any, where: str, trigger: Trigger) -> Condition:
    if trigger.kind != "event":
        raise RuleInvalid(f"{where}.field", "event.data conditions need an event trigger.")
    if not DATA_KEY.match(name.removeprefix("event.data.")):
        raise RuleInvalid(f"{where}.field", "event.data.<key> with a key of letters and digits.")
    if op not in ("eq", "in", "gt", "lt"):
        raise RuleInvalid(f"{where}.op", 'must be "eq", "in", "gt" or "lt".')
    if op == "in" and (not isinstance(value, list) or not value):
        raise RuleInvalid(f"{where}.value", '"in" takes a non-empty list.')
    if op in _NUMBER_OPS and not (_is_number(value)):
        raise RuleInvalid(f"{where}.value", f'"{op}" compares with a number.')
    if op == "eq" and not _is_scalar(value):
        raise RuleInvalid(f"{where}.value", "must be text, a number or true/false.")
    return Condition(name, op, value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def check_destination(action: Action, *, allow_private: bool) -> None:
    """Refuse a webhook to an address inside the network (loopback, private, link-local,
    unique-local, multicast, cloud metadata) unless the operator allows it. A name is
    judged when it is resolved, at delivery (see domain/network.py)."""
    if action.kind != "webhook" or action.url is None or allow_private:
        return
    refusal = url_refusal(action.url)
    if refusal is not None:
        raise RuleInvalid("action.url", refusal)


def parse_action(data: Any) -> Action:
    body = _object(data, "action")
    kind = body.get("type")
    if kind == "webhook":
        url = body.get("url")
        if not isinstance(url, str) or not re.match(r"^https?://[^\s/]+", url) or len(url) > 2000:
            raise RuleInvalid("action.url", "must be an http:// or https:// address.")
        return Action("webhook", url=url)
    if kind != "set_status":
        raise RuleInvalid("action.type", 'must be "set_status" or "webhook".')
    status = body.get("status")
    if status not in tuple(Status):
        raise RuleInvalid("action.status", "must be active, inactive or blocked.")
    reason = body.get("reason_code")
    if reason is not None and reason not in tuple(ReasonCode):
        raise RuleInvalid(
            "action.reason_code", f"must be one of {', '.join(ReasonCode)} (or left out)."
        )
    if status == Status.BLOCKED and reason is None:
        raise RuleInvalid("action.reason_code", "blocking needs a reason code.")
    note = body.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > 2000):
        raise RuleInvalid("action.note", "must be text of at most 2000 characters.")
    return Action(
        "set_status",
        status=Status(status),
        reason_code=ReasonCode(reason) if reason else None,
        note=note.strip() or None if note else None,
    )


# ----------------------------------------------------------------- schedules


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def next_run(trigger: Trigger, after: datetime, timezone: str) -> datetime | None:
    """The first moment strictly after `after` when a schedule is due (None: events).

    `daily_at` is a wall-clock time in the workspace's time zone, so a rule at 03:00
    stays at 03:00 across daylight-saving changes.
    """
    if trigger.kind != "schedule":
        return None
    if trigger.every_minutes is not None:
        return after + timedelta(minutes=trigger.every_minutes)
    assert trigger.daily_at is not None
    tz = zone(timezone)
    local = after.astimezone(tz)
    candidate = datetime.combine(local.date(), trigger.daily_at, tzinfo=tz)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), trigger.daily_at, tz)
    return candidate.astimezone(after.tzinfo)


# ----------------------------------------------------------------- evaluation


def matches(conditions: Sequence[Condition], subject: Subject, now: datetime) -> bool:
    """Whether every condition holds for this user at `now`."""
    return bool(matching(conditions, [subject], now))


def matching(
    conditions: Sequence[Condition], subjects: Iterable[Subject], now: datetime
) -> list[Subject]:
    """The subjects for whom every condition holds at `now`, in their order: each
    condition becomes its test once, then runs over the subjects still in (a run's
    chunk judges a thousand users at once)."""
    chosen = list(subjects)
    for c in conditions:
        test = _test(c, now)
        chosen = [s for s in chosen if test(s)]
    return chosen


def _test(c: Condition, now: datetime) -> Callable[[Subject], bool]:
    """What the condition means, as a test of one subject at `now`."""
    if c.on_event:
        key = c.field.removeprefix("event.data.")
        return lambda s: _compare(c, s.event_data.get(key))
    if c.field == "last_seen_days":
        # A user never seen counts from their creation: an account opened a year ago
        # and never used is as dormant as one last used a year ago.
        old = _age(c)
        return lambda s: old(now - (s.last_seen_at or s.created_at))
    if c.field == "never_signed_in_days":
        old = _age(c)
        return lambda s: s.last_seen_at is None and old(now - s.created_at)
    if c.field == "status":
        return lambda s: _compare(c, s.status)
    if c.field == "role":
        return lambda s: _compare(c, s.role)
    return lambda s: _compare(c, email_domain(s.email))


def _age(c: Condition) -> Callable[[timedelta], bool]:
    limit = timedelta(days=c.value)
    if c.op == "gt":
        return lambda age: age > limit
    return lambda age: age < limit


def _compare(c: Condition, actual: Any) -> bool:
    if c.op == "eq":
        return bool(actual == c.value)
    if c.op == "in":
        return bool(actual in c.value)
    if not _is_number(actual):
        return False
    return bool(actual > c.value) if c.op == "gt" else bool(actual < c.value)


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].lower()


def cutoff(days: int, now: datetime) -> datetime:
    """The moment `days` days before now: 'more than N days ago' means before it."""
    return now - timedelta(days=days)


# ----------------------------------------------------------------- plain words


def summary(rule: RuleDefinition) -> str:
    """The rule as one sentence, e.g. "Every day at 03:00, users not seen for 90 days
    become Inactive"."""
    who = _who(rule.conditions)
    return f"{_when(rule.trigger)}, {who} {_does(rule.action, plural=who != 'the user')}."


def _when(t: Trigger) -> str:
    if t.kind == "event":
        return f"When {_EVENT_WORDS.get(t.event or '', f'event {t.event} arrives')}"
    if t.daily_at is not None:
        return f"Every day at {t.daily_at.strftime('%H:%M')}"
    n = t.every_minutes or 0
    if n % 60 == 0:
        return "Every hour" if n == 60 else f"Every {n // 60} hours"
    return "Every minute" if n == 1 else f"Every {n} minutes"


_EVENT_WORDS = {
    "user.created": "a user is created",
    "user.signed_in": "a user signs in",
    "user.status_changed": "a user's status changes",
}


def _who(conditions: Sequence[Condition]) -> str:
    statuses = [c for c in conditions if c.field == "status"]
    words = "the user" if not conditions else "users"
    if statuses:
        values = statuses[0].value if statuses[0].op == "in" else [statuses[0].value]
        words = " or ".join(str(v).capitalize() for v in values) + " users"
    rest = [_phrase(c) for c in conditions if c.field != "status"]
    return " ".join([words, " and ".join(rest)]) if rest else words


def _phrase(c: Condition) -> str:
    value = ", ".join(map(str, c.value)) if c.op == "in" else c.value
    if c.field == "last_seen_days":
        return f"not seen for {value} days" if c.op == "gt" else f"seen in the last {value} days"
    if c.field == "never_signed_in_days":
        older = "more" if c.op == "gt" else "less"
        return f"who never signed in and were created {older} than {value} days ago"
    if c.field == "role":
        return f"with role {value}"
    if c.field == "email_domain":
        return f"with an email at {value}"
    key = c.field.removeprefix("event.data.")
    return f"where {key} {_OP_WORDS[c.op]} {value}"


_OP_WORDS = {"eq": "is", "in": "is one of", "gt": "is over", "lt": "is under"}


def _does(a: Action, *, plural: bool) -> str:
    if a.kind == "webhook":
        return f"{'are' if plural else 'is'} sent to {a.url}"
    assert a.status is not None
    return f"{'become' if plural else 'becomes'} {a.status.value.capitalize()}"


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


# ----------------------------------------------------------------- stored rules and runs


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
