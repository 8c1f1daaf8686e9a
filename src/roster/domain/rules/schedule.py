"""When a scheduled rule is due."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from roster.domain.rules.definition import Trigger


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
