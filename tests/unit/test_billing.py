"""Billing arithmetic on hand-made histories: peak, closing, seat-days, instants."""

from datetime import UTC, date, datetime, timedelta

import pytest

from roster.domain import errors
from roster.domain.billing import (
    ORIGIN,
    Cursor,
    Transition,
    active_at,
    check_period,
    day_of,
    days,
    last_sealed_day,
    totals,
    usage_by_day,
)
from roster.domain.vocabulary import Status

A, I, B = Status.ACTIVE, Status.INACTIVE, Status.BLOCKED
DAY = date(2025, 3, 10)


def at(hour: float, day: int = 0) -> datetime:
    return datetime(2025, 3, 10, tzinfo=UTC) + timedelta(days=day, hours=hour)


def log(*steps: tuple[str, Status | None, Status, datetime]) -> list[Transition]:
    return [Transition(i, u, f, t, when) for i, (u, f, t, when) in enumerate(steps, start=1)]


def one_day(history: list[Transition], start: Cursor = ORIGIN) -> tuple[int, int, int, int]:
    [d] = usage_by_day(days(DAY, DAY, "UTC"), start, history)
    return d.opening, d.peak, d.closing, d.seat_days


def test_a_quiet_day_keeps_the_count_it_opened_with() -> None:
    history = log(("u1", None, A, at(-5)), ("u2", None, A, at(-4)))
    assert one_day(history) == (2, 2, 2, 2)


def test_peak_includes_the_count_at_midnight_even_if_it_only_falls() -> None:
    history = log(("u1", None, A, at(-5)), ("u2", None, A, at(-4)), ("u1", A, I, at(9)))
    assert one_day(history) == (2, 2, 1, 2)


def test_a_user_deactivated_at_noon_still_used_a_seat_that_day() -> None:
    history = log(("u1", None, A, at(-5)), ("u1", A, I, at(12)), ("u2", None, A, at(13)))
    opening, peak, closing, seat_days = one_day(history)
    assert (opening, peak, closing) == (1, 1, 1)
    assert seat_days == 2  # u1 until noon, u2 from 13:00: two users held a seat


def test_a_user_who_leaves_and_comes_back_counts_once() -> None:
    history = log(
        ("u1", None, A, at(-5)),
        ("u1", A, I, at(10)),
        ("u1", I, A, at(11)),
        ("u1", A, B, at(12)),
        ("u1", B, A, at(13)),
    )
    assert one_day(history) == (1, 1, 1, 1)


def test_changes_at_the_same_instant_count_together() -> None:
    # One bulk action swaps two users: at no instant were both Active.
    history = log(("u1", None, A, at(-5)), ("u2", None, I, at(-5)))
    history += log(("u2", I, A, at(9)), ("u1", A, I, at(9)))[::-1]
    history = [
        Transition(i, t.user_id, t.from_status, t.to_status, t.at) for i, t in enumerate(history, 1)
    ]
    assert one_day(history) == (1, 1, 1, 2)


def test_a_change_at_midnight_belongs_to_the_day_it_opens() -> None:
    history = log(("u1", None, A, at(-5)), ("u1", A, I, at(0)))
    assert one_day(history) == (0, 0, 0, 0)
    [before] = usage_by_day(
        days(DAY - timedelta(days=1), DAY - timedelta(days=1), "UTC"), ORIGIN, history
    )
    assert before.closing == 1


def test_an_earlier_timestamp_committed_later_happens_when_the_log_reached_it() -> None:
    # Committed second but stamped first: it takes the clock of the one before it.
    history = log(("u1", None, A, at(15)), ("u2", None, A, at(10)))
    assert active_at(ORIGIN, history, at(12)) == 0
    assert active_at(ORIGIN, history, at(15)) == 2
    assert one_day(history) == (0, 2, 2, 2)


def test_active_at_an_instant_includes_changes_made_at_that_instant() -> None:
    history = log(("u1", None, A, at(1)), ("u2", None, A, at(2)), ("u1", A, I, at(3)))
    assert [active_at(ORIGIN, history, at(h)) for h in (0.5, 1, 2, 2.5, 3, 9)] == [0, 1, 2, 2, 1, 1]


def test_a_report_resumes_from_a_saved_position() -> None:
    history = log(("u1", None, A, at(-5)), ("u2", None, A, at(5)), ("u3", None, A, at(6, day=1)))
    whole = usage_by_day(days(DAY, DAY + timedelta(days=1), "UTC"), ORIGIN, history)
    resumed = usage_by_day(
        days(DAY + timedelta(days=1), DAY + timedelta(days=1), "UTC"),
        whole[0].end,
        [t for t in history if t.seq > whole[0].end.seq],
    )
    assert resumed == whole[1:]
    assert totals(whole).seat_days == 2 + 3


def test_days_follow_the_workspace_time_zone_across_daylight_saving() -> None:
    spring = days(date(2025, 3, 9), date(2025, 3, 9), "America/New_York")[0]
    assert spring.end - spring.start == timedelta(hours=23)
    assert spring.start == datetime(2025, 3, 9, 5, tzinfo=UTC)
    assert day_of(datetime(2025, 3, 10, 3, tzinfo=UTC), "America/New_York") == date(2025, 3, 9)


def test_a_day_is_sealed_only_once_the_log_has_passed_its_end() -> None:
    assert last_sealed_day(at(0.5), "UTC") == DAY - timedelta(days=1)
    assert last_sealed_day(at(0), "UTC") == DAY - timedelta(days=1)


@pytest.mark.parametrize(
    ("first", "last"), [(date(2025, 2, 1), date(2025, 1, 1)), (date(2000, 1, 1), date(2025, 1, 1))]
)
def test_a_backwards_or_huge_period_is_refused(first: date, last: date) -> None:
    with pytest.raises(errors.InvalidInput):
        check_period(first, last)


def test_an_unknown_time_zone_is_bad_input() -> None:
    with pytest.raises(errors.InvalidInput):
        days(DAY, DAY, "Mars/Olympus_Mons")
