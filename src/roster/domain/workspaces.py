"""Workspaces and their headcount."""

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import available_timezones

from roster.domain import errors
from roster.domain.reviews import default_review_date, local_date
from roster.domain.transitions import Policy
from roster.domain.vocabulary import ReasonCode, Role, Status


@dataclass(slots=True)
class Workspace:
    id: str
    slug: str
    name: str
    created_at: datetime
    allow_api_unblock: bool = False
    reactivate_on_sign_in: bool = False
    seat_limit: int | None = None
    timezone: str = "UTC"
    notify_users_on_status_change: bool = True
    """Email a user when they become Inactive or Blocked, or are made Active again."""
    review_digest: bool = True
    """Email the owners and admins a daily list of the Blocked users whose review is due."""
    review_days: dict[str, int] | None = None
    """Days from a block to its review, per reason code; None: the defaults."""

    @property
    def policy(self) -> Policy:
        return Policy(allow_api_unblock=self.allow_api_unblock, seat_limit=self.seat_limit)

    def today(self, now: datetime) -> date:
        """The workspace's calendar day at `now`."""
        return local_date(now, self.timezone)

    def review_date(self, reason: ReasonCode | None, now: datetime) -> date:
        """The review date a block for `reason` made at `now` gets by default."""
        return default_review_date(reason, self.today(now), self.review_days)


@lru_cache(maxsize=1)
def time_zones() -> tuple[str, ...]:
    """The IANA time zone names this machine knows, sorted (UTC among them)."""
    return tuple(sorted(available_timezones() | {"UTC"}))


def check_timezone(name: str) -> str:
    """`name` as a workspace's time zone, or InvalidInput: billing days, review dates
    and daily schedules are cut at its midnights, so only a zone zoneinfo knows."""
    name = name.strip()
    if name not in time_zones():
        raise errors.InvalidInput(
            f"{name[:64]!r} is not a time zone: use an IANA name such as Europe/Paris or UTC."
        )
    return name


@dataclass(frozen=True, slots=True)
class UserCounts:
    """Users of a workspace by status, plus the active owners (for the last-owner rule)."""

    active: int = 0
    inactive: int = 0
    blocked: int = 0
    active_owners: int = 0

    def of(self, status: Status) -> int:
        return {
            Status.ACTIVE: self.active,
            Status.INACTIVE: self.inactive,
            Status.BLOCKED: self.blocked,
        }[status]

    def moved(
        self, role: Role, from_status: Status | None, to_status: Status | None, times: int = 1
    ) -> "UserCounts":
        """The counts after one user of `role` moves (None: did not exist / no longer
        counted), or `times` users alike."""
        active, inactive, blocked = Status.ACTIVE, Status.INACTIVE, Status.BLOCKED
        by_status = {active: self.active, inactive: self.inactive, blocked: self.blocked}
        if from_status is not None:
            by_status[from_status] -= times
        if to_status is not None:
            by_status[to_status] += times
        owners = self.active_owners
        if role == Role.OWNER:
            owners += times * (int(to_status == active) - int(from_status == active))
        return UserCounts(by_status[active], by_status[inactive], by_status[blocked], owners)

    def minus(self, before: "UserCounts") -> "UserCounts":
        return UserCounts(
            self.active - before.active,
            self.inactive - before.inactive,
            self.blocked - before.blocked,
            self.active_owners - before.active_owners,
        )
