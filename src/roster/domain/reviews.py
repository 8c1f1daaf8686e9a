"""Review dates of Blocked users: a block is a decision someone must come back to.

Blocking sets a review date, by default some days after the block according to its
reason (a workspace may change the days); the admin may give another date. A
passed review date changes nothing but the review queue: nothing unblocks by
itself. Dates are calendar days in the workspace's time zone.
"""

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from roster.domain import errors
from roster.domain.vocabulary import ReasonCode

DEFAULT_REVIEW_DAYS: Mapping[ReasonCode, int] = {
    ReasonCode.PAYMENT_DISPUTE: 14,
    ReasonCode.ACCESS_VIOLATION: 30,
    ReasonCode.UNRESOLVED_ISSUE: 14,
    ReasonCode.NEEDS_REVIEW: 7,
    ReasonCode.OTHER: 30,
}
FALLBACK_DAYS = 30  # a reason with no default of its own
MAX_REVIEW_DAYS = 3650  # ten years: a review further off is no review
_KNOWN = frozenset(r.value for r in ReasonCode)


def local_date(now: datetime, timezone: str) -> date:
    """The calendar day `now` falls on in the workspace's time zone (UTC if unknown)."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return now.astimezone(zone).date()


def review_days(overrides: Mapping[str, int] | None) -> dict[ReasonCode, int]:
    """The days from a block to its review, per reason: the defaults, with the
    workspace's own settings over them."""
    days = dict(DEFAULT_REVIEW_DAYS)
    for reason, n in (overrides or {}).items():
        if reason in _KNOWN:
            days[ReasonCode(reason)] = n
    return days


def check_review_days(overrides: Mapping[str, int]) -> dict[str, int]:
    """Validated review-day settings: known reasons, 1 to MAX_REVIEW_DAYS days."""
    for reason, n in overrides.items():
        if reason not in _KNOWN:
            raise errors.InvalidInput(
                f"{reason!r} is not a reason code: use one of {', '.join(sorted(_KNOWN))}."
            )
        if not 1 <= n <= MAX_REVIEW_DAYS:
            raise errors.InvalidInput(f"A review comes 1 to {MAX_REVIEW_DAYS} days after a block.")
    return dict(overrides)


def default_review_date(
    reason: ReasonCode | None, today: date, overrides: Mapping[str, int] | None
) -> date:
    """When a block for `reason` made `today` is reviewed, unless the admin says."""
    days = review_days(overrides).get(reason, FALLBACK_DAYS) if reason else FALLBACK_DAYS
    return today + timedelta(days=days)


def check_review_date(review_by: date, today: date) -> date:
    """A review date an admin gives: today or later, within MAX_REVIEW_DAYS."""
    if review_by < today:
        raise errors.InvalidInput("The review date cannot be in the past.")
    if review_by > today + timedelta(days=MAX_REVIEW_DAYS):
        raise errors.InvalidInput("The review date must be within ten years.")
    return review_by
