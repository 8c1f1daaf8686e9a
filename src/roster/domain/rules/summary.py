"""A rule said in plain words."""

from collections.abc import Sequence

from roster.domain.rules.definition import Action, Condition, RuleDefinition, Trigger


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
    if c.field == "expires_in_days":
        more = "more" if c.op == "gt" else "less"
        return f"whose account ends in {more} than {value} days"
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
