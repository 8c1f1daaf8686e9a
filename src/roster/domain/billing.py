"""Billing arithmetic: how many users were Active, and when, from the audit log.

The input is a workspace's applied transitions in `seq` order (the order of
commits). Only applied transitions change who is Active; refused attempts are
not transitions.

When did a transition happen? Its `at` is the clock reading of the process that
made it, taken before the commit, so two commits can carry `at`s in the other
order, and a caller may pass any `now`. We therefore give each transition the
instant `max(at, the instant of the transition before it)`: the log's clock,
which never runs backwards. The Active count at an instant `t` is then the count
after every transition whose instant is at or before `t` — always a state the
counter row really held, and the same answer however often it is asked.

Per day (midnight to midnight in the workspace's time zone):
- `opening` is the count at the day's first instant (midnight itself),
- `peak` is the most users Active at any one instant of the day, the opening
  included (transitions at the same instant, such as one bulk action's, count
  together: a state in the middle of them never existed at any instant),
- `closing` is the count at the day's last instant,
- `seat_days` is how many distinct users were Active at some instant of the day:
  a user deactivated at noon still used a seat that day, and a user who leaves
  and comes back the same day counts once. Over a period, seat-days add up.
"""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from roster.domain import errors
from roster.domain.vocabulary import Status

MAX_DAYS = 3660  # about ten years: the longest report we answer in one go
EARLIEST, LATEST = date(1900, 1, 1), date(9998, 12, 31)  # far from datetime's edges


@dataclass(frozen=True, slots=True)
class Transition:
    """One applied status change, as billing needs it (`from_status` None: created)."""

    seq: int
    user_id: str
    from_status: Status | None
    to_status: Status
    at: datetime

    @property
    def active_delta(self) -> int:
        return int(self.to_status == Status.ACTIVE) - int(self.from_status == Status.ACTIVE)


@dataclass(frozen=True, slots=True)
class Cursor:
    """A position in a workspace's transitions: the Active count after transition `seq`,
    and the log's clock there (None before the first transition)."""

    active: int = 0
    seq: int = 0
    clock: datetime | None = None

    def instant_of(self, t: Transition) -> datetime:
        """The instant of `t`, the transition right after this position."""
        return t.at if self.clock is None or t.at > self.clock else self.clock

    def after(self, t: Transition) -> "Cursor":
        return Cursor(self.active + t.active_delta, t.seq, self.instant_of(t))


ORIGIN = Cursor()


@dataclass(frozen=True, slots=True)
class Day:
    """A calendar day of the workspace: [start, end) as UTC instants."""

    day: date
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class DayUsage:
    day: date
    opening: int
    peak: int
    closing: int
    seat_days: int
    end: Cursor = field(compare=False)  # the stream's position at the day's end


@dataclass(frozen=True, slots=True)
class Totals:
    peak: int
    closing: int
    seat_days: int


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as bad:
        raise errors.InvalidInput(f"{name!r} is not a known time zone.") from bad


def days(first: date, last: date, timezone: str) -> list[Day]:
    """The days from `first` to `last` inclusive, with their bounds in UTC."""
    count = max((last - first).days + 1, 0)
    tz = zone(timezone)
    bounds = [_midnight(first + timedelta(days=i), tz) for i in range(count + 1)]
    return [Day(first + timedelta(days=i), bounds[i], bounds[i + 1]) for i in range(count)]


def check_period(first: date, last: date) -> None:
    """Refuse a report period that is backwards or longer than MAX_DAYS."""
    if last < first:
        raise errors.InvalidInput("The period ends before it starts: `to` must not precede `from`.")
    if (last - first).days + 1 > MAX_DAYS:
        raise errors.InvalidInput(f"A report covers at most {MAX_DAYS} days; ask for less.")
    if first < EARLIEST or last > LATEST:
        raise errors.InvalidInput(f"Dates must fall between {EARLIEST} and {LATEST}.")


def check_instant(instant: datetime) -> None:
    """Refuse an instant without a zone, or one too near the ends of the calendar."""
    if instant.tzinfo is None:
        raise errors.InvalidInput("Give the instant with its offset, e.g. 2025-01-31T23:59:59Z.")
    if not EARLIEST < instant.astimezone(UTC).date() < LATEST:
        raise errors.InvalidInput(f"The instant must fall between {EARLIEST} and {LATEST}.")


def _midnight(d: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(d, time(), tzinfo=tz).astimezone(UTC)


def day_of(instant: datetime, timezone: str) -> date:
    """The workspace's calendar day that holds `instant`."""
    return instant.astimezone(zone(timezone)).date()


class _Stream:
    """Transitions one at a time, each with its instant, applied as the caller says.

    Keeps the position as plain attributes: this loop runs once per audit event.
    """

    def __init__(self, start: Cursor, transitions: Iterable[Transition]) -> None:
        self.active, self.seq, self.clock = start.active, start.seq, start.clock
        self._rest: Iterator[Transition] = iter(transitions)
        self._next: Transition | None = None
        self._instant: datetime | None = None
        self._advance()

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.active, self.seq, self.clock)

    def _advance(self) -> None:
        t = self._next = next(self._rest, None)
        if t is None:
            self._instant = None
        else:
            clock = self.clock
            self._instant = t.at if clock is None or t.at > clock else clock

    def next_instant(self) -> datetime | None:
        return self._instant

    def apply(self) -> Transition:
        t = self._next
        assert t is not None
        self.active += t.active_delta
        self.seq, self.clock = t.seq, self._instant
        self._advance()
        return t

    def apply_through(self, instant: datetime, *, inclusive: bool) -> None:
        while (at := self._instant) is not None and (at <= instant if inclusive else at < instant):
            self.apply()


def usage_by_day(
    period: Sequence[Day], start: Cursor, transitions: Iterable[Transition]
) -> list[DayUsage]:
    """Opening, peak, closing and seat-days of each day of `period` (consecutive days).

    `transitions` are the applied transitions after `start.seq`, in seq order; the
    function reads no further than the end of the last day, so callers may pass an
    open-ended stream.
    """
    stream = _Stream(start, transitions)
    return [_one_day(d, stream) for d in period]


def _one_day(d: Day, stream: _Stream) -> DayUsage:
    stream.apply_through(d.start, inclusive=True)
    opening = peak = stream.active
    seen: set[str] = set()  # users met since midnight
    counted: set[str] = set()  # users who have had a seat at some instant today
    newcomers = 0
    while (instant := stream.next_instant()) is not None and instant < d.end:
        touched: dict[str, Status] = {}
        while stream.next_instant() == instant:
            t = stream.apply()
            if t.user_id not in seen:
                seen.add(t.user_id)
                if t.from_status == Status.ACTIVE:  # Active at midnight: in `opening`
                    counted.add(t.user_id)
            touched[t.user_id] = t.to_status
        peak = max(peak, stream.active)
        for user_id, status in touched.items():
            if status == Status.ACTIVE and user_id not in counted:
                counted.add(user_id)
                newcomers += 1
    return DayUsage(d.day, opening, peak, stream.active, opening + newcomers, stream.cursor)


def active_at(start: Cursor, transitions: Iterable[Transition], instant: datetime) -> int:
    """The Active count at `instant`: after every transition at or before it."""
    stream = _Stream(start, transitions)
    stream.apply_through(instant, inclusive=True)
    return stream.active


def last_sealed_day(clock: datetime, timezone: str) -> date:
    """The last day that no transition can change any more, given the log's clock.

    A day is sealed once the clock has reached its end: every later transition
    gets an instant at or after the clock, so it falls in a later day. The day
    that holds the clock itself is still open.
    """
    return day_of(clock, timezone) - timedelta(days=1)


def totals(usage: Sequence[DayUsage]) -> Totals:
    """The period's highest peak, its last closing count, and its seat-days."""
    if not usage:
        return Totals(0, 0, 0)
    return Totals(
        peak=max(u.peak for u in usage),
        closing=usage[-1].closing,
        seat_days=sum(u.seat_days for u in usage),
    )
