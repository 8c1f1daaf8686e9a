"""Reading a rule from its JSON shape, with errors that name the wrong field."""

import math
import re
from collections.abc import Mapping
from datetime import time
from typing import Any, TypeGuard

from roster.domain.network import url_refusal
from roster.domain.rules.definition import (
    MAX_CONDITIONS,
    MAX_EVERY_MINUTES,
    USER_FIELDS,
    Action,
    Condition,
    RuleDefinition,
    RuleInvalid,
    Trigger,
)
from roster.domain.vocabulary import ReasonCode, Role, Status

EVENT_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
DATA_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
DOMAIN = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")
_ENUM_OPS = ("eq", "in")
_NUMBER_OPS = ("gt", "lt")


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
    if name in ("last_seen_days", "never_signed_in_days", "expires_in_days"):
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
    "never_signed_in_days, expires_in_days or event.data.<key>."
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
    if op in _NUMBER_OPS and not is_number(value):
        raise RuleInvalid(f"{where}.value", f'"{op}" compares with a number.')
    if op == "eq" and not _is_scalar(value):
        raise RuleInvalid(f"{where}.value", "must be text, a number or true/false.")
    return Condition(name, op, value)


def is_number(value: Any) -> bool:
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
