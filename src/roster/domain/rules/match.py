"""Which users a rule's conditions select. The user conditions become one
`UserFilter`, judged by the database as every list, export and bulk action is; only
`event.data.<key>` conditions, which no table holds, are judged here, on the event."""

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from roster.domain.filters import UserFilter
from roster.domain.rules.definition import Condition
from roster.domain.rules.parse import is_number
from roster.domain.vocabulary import Role, Status


def user_filter(conditions: Sequence[Condition], now: datetime) -> UserFilter:
    """The users for whom every user condition holds at `now` (event.data conditions
    are left to `event_matches`)."""
    chosen = UserFilter()
    for c in conditions:
        if not c.on_event:
            chosen &= _user_part(c, now)
    return chosen


def _user_part(c: Condition, now: datetime) -> UserFilter:
    values = tuple(c.value) if c.op == "in" else (c.value,)
    if c.field == "status":
        return UserFilter(status=tuple(map(Status, values)))
    if c.field == "role":
        return UserFilter(role=tuple(map(Role, values)))
    if c.field == "email_domain":
        return UserFilter(email_domain=values)
    if c.field == "expires_in_days":
        return _expiring(c, now)
    # "More than N days" (gt) is before the moment N days ago; "less than", at or after it.
    at = now - timedelta(days=c.value)
    if c.field == "last_seen_days":
        # A user never seen counts from their creation: an account opened a year ago
        # and never used is as dormant as one last used a year ago.
        return UserFilter(idle_before=at) if c.op == "gt" else UserFilter(idle_after=at)
    created = UserFilter(created_before=at) if c.op == "gt" else UserFilter(created_after=at)
    return created & UserFilter(never_seen=True)  # never_signed_in_days


def _expiring(c: Condition, now: datetime) -> UserFilter:
    """Ahead, not behind: "ends in less than N days" (lt) is an end from now to N days
    on (a passed one has already ended); "more than" (gt), beyond N days on. A user
    with no end matches neither."""
    ahead = now + timedelta(days=c.value)
    if c.op == "gt":
        return UserFilter(expires_after=ahead)
    return UserFilter(expires_after=now, expires_before=ahead)


def event_matches(conditions: Sequence[Condition], data: Mapping[str, Any]) -> bool:
    """Whether every event.data condition holds for the event's data."""
    return all(
        _compare(c, data.get(c.field.removeprefix("event.data."))) for c in conditions if c.on_event
    )


def _compare(c: Condition, actual: Any) -> bool:
    if c.op == "eq":
        return bool(actual == c.value)
    if c.op == "in":
        return bool(actual in c.value)
    if not is_number(actual):
        return False
    return bool(actual > c.value) if c.op == "gt" else bool(actual < c.value)
