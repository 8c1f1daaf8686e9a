"""The automation editor's form, both ways: a rule's JSON shape from the form's fields
(for `parse_rule` to judge, as the API's JSON is judged), and the fields from a rule's
JSON shape. Only translation lives here: which rules are valid, and the plain words,
stay in domain/rules.

Form fields: `name`, `enabled`, `personal`; `trigger_type` (daily | every | event) with
`daily_at`, `every_minutes`, `event`; condition rows `cond-<i>-field` with the part the
field uses (`-status`/`-status_op`, `-role`/`-role_op`, `-domain`, `-days_op`/`-days`,
`-key`/`-event_op`/`-value`); `action_type` (set_status | webhook) with `action_status`,
`reason_code`, `note`, `url`.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from roster.domain.rules.definition import RuleInvalid
from roster.domain.vocabulary import ReasonCode, Role, Status

COND = re.compile(r"^cond-(\d{1,3})-field$")
DAY_FIELDS = ("last_seen_days", "never_signed_in_days", "expires_in_days")

# The condition fields as the form offers them: (value, label, part, words after the number).
FIELD_CHOICES = (
    ("status", "Status", "status", ""),
    ("role", "Role", "role", ""),
    ("email_domain", "Email domain", "domain", ""),
    ("last_seen_days", "Last seen", "days", "days ago"),
    ("never_signed_in_days", "Never signed in, created", "days", "days ago"),
    ("expires_in_days", "Account ends in", "days", "days"),
    ("event_data", "Event data", "event", ""),
)
PART_OF = {value: part for value, _, part, _ in FIELD_CHOICES}
STATUSES = tuple(Status)
ROLES = tuple(Role)
REASONS = tuple(ReasonCode)
EVENT_OPS = (("eq", "is"), ("in", "is one of"), ("gt", "is over"), ("lt", "is under"))


@dataclass(frozen=True, slots=True)
class Row:
    """One condition row; `field` empty means no condition (the blank row)."""

    field: str = ""
    status: tuple[str, ...] = ()
    status_op: str = "in"  # in | not_in (saved as `in` the other statuses)
    role: tuple[str, ...] = ()
    role_op: str = "in"
    domain: str = ""
    days_op: str = "gt"
    days: str = ""
    key: str = ""
    event_op: str = "eq"
    value: str = ""

    @property
    def part(self) -> str:
        return PART_OF.get(self.field, "")


@dataclass(frozen=True, slots=True)
class RuleForm:
    """What the form shows: every field as the admin typed it (text, not yet judged)."""

    name: str = ""
    enabled: bool = True
    personal: bool = False
    trigger_type: str = "daily"
    daily_at: str = "03:00"
    every_minutes: str = "60"
    event: str = ""
    rows: tuple[Row, ...] = ()
    action_type: str = "set_status"
    action_status: str = "inactive"
    reason_code: str = ""
    note: str = ""
    url: str = ""

    def with_blank_row(self) -> "RuleForm":
        """The rows plus one empty row to fill in (the page works without its script)."""
        return replace(self, rows=(*self.rows, Row()))


@dataclass(frozen=True, slots=True)
class Translated:
    """The JSON shape the form stands for, and the form-side errors found on the way.
    The JSON's `conditions[i]` is the form's row i."""

    data: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)


# ------------------------------------------------------------ form -> JSON shape


def read_form(fields: Mapping[str, Sequence[str]]) -> RuleForm:
    """The form's state from the posted fields (multi-valued, as a form is)."""

    def one(name: str, default: str = "") -> str:
        values = fields.get(name) or [default]
        return values[-1].strip()

    indices = sorted({int(m.group(1)) for k in fields if (m := COND.match(k))})
    rows = tuple(_read_row(fields, f"cond-{i}-") for i in indices)
    return RuleForm(
        name=one("name"),
        enabled=one("enabled") == "1",
        personal=one("personal") == "1",
        trigger_type=one("trigger_type", "daily"),
        daily_at=one("daily_at"),
        every_minutes=one("every_minutes"),
        event=one("event"),
        rows=tuple(r for r in rows if r.field),
        action_type=one("action_type", "set_status"),
        action_status=one("action_status"),
        reason_code=one("reason_code"),
        note=one("note"),
        url=one("url"),
    )


def _read_row(fields: Mapping[str, Sequence[str]], prefix: str) -> Row:
    def one(name: str, default: str = "") -> str:
        values = fields.get(prefix + name) or [default]
        return values[-1].strip()

    return Row(
        field=one("field"),
        status=tuple(fields.get(prefix + "status") or ()),
        status_op=one("status_op", "in"),
        role=tuple(fields.get(prefix + "role") or ()),
        role_op=one("role_op", "in"),
        domain=one("domain"),
        days_op=one("days_op", "gt"),
        days=one("days"),
        key=one("key"),
        event_op=one("event_op", "eq"),
        value=one("value"),
    )


def to_json(form: RuleForm) -> Translated:
    """The rule's JSON shape; what the form alone can tell is wrong (a number that is
    not one, no status ticked) comes back in `errors`, keyed by the form's field."""
    errors: dict[str, str] = {}
    trigger: dict[str, Any] = {"type": "schedule", "daily_at": form.daily_at}
    if form.trigger_type == "every":
        minutes = _whole(form.every_minutes)
        if minutes is None:
            errors["every_minutes"] = "Enter a whole number of minutes."
        trigger = {"type": "schedule", "every_minutes": minutes}
    elif form.trigger_type == "event":
        trigger = {"type": "event", "event": form.event}
    conditions = []
    for i, row in enumerate(form.rows):
        condition, problem = _condition(row)
        if problem:
            errors.setdefault(f"cond-{i}", problem)
        conditions.append(condition)
    data = {
        "name": form.name,
        "enabled": form.enabled,
        "personal": form.personal,
        "trigger": trigger,
        "conditions": conditions,
        "action": _action(form),
    }
    return Translated(data, errors)


def _whole(text: str) -> int | None:
    return int(text) if re.fullmatch(r"-?\d{1,9}", text) else None


def _condition(row: Row) -> tuple[dict[str, Any], str | None]:
    if row.part in ("status", "role"):
        return _choices(row)
    if row.part == "domain":
        domains = [d.strip() for d in row.domain.split(",") if d.strip()]
        if len(domains) == 1:
            return {"field": "email_domain", "op": "eq", "value": domains[0]}, None
        problem = None if domains else "Enter an email domain such as example.com."
        return {"field": "email_domain", "op": "in", "value": domains}, problem
    if row.part == "days":
        days = _whole(row.days)
        problem = None if days is not None else "Enter a whole number of days."
        return {"field": row.field, "op": row.days_op, "value": days}, problem
    if row.part == "event":
        return _event_condition(row)
    return {"field": row.field, "op": "eq", "value": None}, "Choose what to compare."


def _choices(row: Row) -> tuple[dict[str, Any], str | None]:
    every = STATUSES if row.field == "status" else ROLES
    ticked = row.status if row.field == "status" else row.role
    negate = (row.status_op if row.field == "status" else row.role_op) == "not_in"
    chosen = [str(v) for v in every if (v in ticked) != negate]
    problem = None
    if not ticked:
        problem = f"Tick at least one {row.field}."
    elif not chosen:
        problem = f"Every {row.field} is ticked: no user would match."
    return {"field": row.field, "op": "in", "value": chosen}, problem


def _event_condition(row: Row) -> tuple[dict[str, Any], str | None]:
    name = f"event.data.{row.key}"
    if row.event_op == "in":
        values = [_scalar(v.strip()) for v in row.value.split(",") if v.strip()]
        problem = None if values else "Enter one or more values, separated by commas."
        return {"field": name, "op": "in", "value": values}, problem
    value = _scalar(row.value)
    problem = None
    if row.event_op in ("gt", "lt") and not isinstance(value, int | float):
        problem = "Enter a number to compare with."
    return {"field": name, "op": row.event_op, "value": value}, problem


def _scalar(text: str) -> Any:
    """An event value as typed: true/false and numbers as such, anything else as text."""
    if text in ("true", "false"):
        return text == "true"
    if re.fullmatch(r"-?\d{1,15}", text):
        return int(text)
    if re.fullmatch(r"-?\d{1,15}\.\d{1,15}", text):
        return float(text)
    return text


def _action(form: RuleForm) -> dict[str, Any]:
    if form.action_type == "webhook":
        return {"type": "webhook", "url": form.url}
    action: dict[str, Any] = {"type": "set_status", "status": form.action_status}
    if form.reason_code:
        action["reason_code"] = form.reason_code
    if form.note:
        action["note"] = form.note
    return action


# Where a rule error (named by its JSON path) shows on the form.
_FORM_FIELD = {
    "name": "name",
    "enabled": "name",
    "personal": "personal",
    "trigger": "trigger_type",
    "trigger.type": "trigger_type",
    "trigger.daily_at": "daily_at",
    "trigger.every_minutes": "every_minutes",
    "trigger.event": "event",
    "conditions": "conditions",
    "action": "action_type",
    "action.type": "action_type",
    "action.status": "action_status",
    "action.reason_code": "reason_code",
    "action.note": "note",
    "action.url": "url",
}
_CONDITION = re.compile(r"^conditions\[(\d+)\]")


def form_error(bad: RuleInvalid) -> dict[str, str]:
    """A rule error as the form shows it: next to the field it names, in a sentence."""
    message = bad.detail.removeprefix(f"{bad.field}: ")
    message = message[:1].upper() + message[1:]
    found = _CONDITION.match(bad.field)
    if found:
        return {f"cond-{found.group(1)}": message}
    return {_FORM_FIELD.get(bad.field, "name"): message}


# ------------------------------------------------------------ JSON shape -> form


def from_json(data: Any) -> RuleForm:
    """The form for a rule's JSON shape (a saved rule's, or the template's). Shapes the
    form cannot show are left at its defaults; the Advanced JSON keeps them whole."""
    body = data if isinstance(data, Mapping) else {}
    trigger = _mapping(body.get("trigger"))
    action = _mapping(body.get("action"))
    form = RuleForm(
        name=str(body.get("name") or ""),
        enabled=body.get("enabled", True) is not False,
        personal=body.get("personal") is True,
        event=str(trigger.get("event") or ""),
        rows=tuple(r for r in map(_row, _list(body.get("conditions"))) if r.field),
        action_type="webhook" if action.get("type") == "webhook" else "set_status",
        action_status=str(action.get("status") or "inactive"),
        reason_code=str(action.get("reason_code") or ""),
        note=str(action.get("note") or ""),
        url=str(action.get("url") or ""),
    )
    if trigger.get("type") == "event":
        return replace(form, trigger_type="event")
    if trigger.get("every_minutes") is not None:
        return replace(form, trigger_type="every", every_minutes=str(trigger["every_minutes"]))
    return replace(form, daily_at=str(trigger.get("daily_at") or "03:00"))


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _row(data: Any) -> Row:
    c = _mapping(data)
    name, op, value = str(c.get("field") or ""), c.get("op"), c.get("value")
    values = [str(v) for v in value] if isinstance(value, list) else [_text(value)]
    if name == "status":
        return Row("status", status=tuple(values))
    if name == "role":
        return Row("role", role=tuple(values))
    if name == "email_domain":
        return Row("email_domain", domain=", ".join(values))
    if name in DAY_FIELDS:
        return Row(name, days_op="lt" if op == "lt" else "gt", days=_text(value))
    if name.startswith("event.data."):
        op = op if op in ("eq", "in", "gt", "lt") else "eq"
        shown = ", ".join(_text(v) for v in value) if isinstance(value, list) else _text(value)
        return Row("event_data", key=name.removeprefix("event.data."), event_op=op, value=shown)
    return Row()


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)
