"""UtcDateTime's SQLite read (`_from_sqlite`) against the plain way it replaced:
parse the stored text, then put UTC on a naive value or convert an aware one."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite

from roster.adapters.types import UtcDateTime, _from_sqlite

_SQLITE = sqlite.dialect()
_WRITE = UtcDateTime().dialect_impl(_SQLITE).bind_processor(_SQLITE)


def _stored(at: datetime) -> str:
    """The text a write of `at` to a UtcDateTime column keeps on SQLite."""
    assert _WRITE is not None
    text = _WRITE(at)
    assert isinstance(text, str)
    return text


def _plain(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _outcome(read: Callable[[str], datetime | None], value: str) -> tuple[object, object] | str:
    try:
        got = read(value)
    except ValueError:
        return "ValueError"
    return got, got and got.tzinfo


@given(st.datetimes(timezones=st.just(UTC)))
def test_what_the_column_stores_reads_back_as_the_same_utc_instant(at: datetime) -> None:
    text = _stored(at)
    read = _from_sqlite(text)
    assert read == at == _plain(text)
    assert read is not None
    assert read.tzinfo is UTC


_PIECES = st.sampled_from(
    ["2026", "-", "12", "01", " ", "T", ":", "59", "00", ".", "5", "123456", "1234567",
     "+", "-", "00", "05:30", "+00:00", "Z", "z", "24", "13", "", "0", "\u0663", "W", "1212",
     "2026-12-01 23:37:36.602519"]
)  # fmt: skip


@given(st.lists(_PIECES, max_size=16).map("".join) | st.text(max_size=40))
def test_any_text_reads_as_the_plain_way_reads_it_or_fails_as_it_does(text: str) -> None:
    assert _outcome(_from_sqlite, text) == _outcome(_plain, text)


@given(
    st.datetimes(),
    st.sampled_from([UTC, timezone(timedelta(hours=14)), timezone(-timedelta(hours=7.5))]),
    st.sampled_from([" ", "T"]),
    st.sampled_from(["auto", "seconds", "milliseconds", "microseconds", "minutes", "hours"]),
    st.booleans(),
)
def test_iso_forms_with_or_without_a_zone_read_as_the_plain_way(
    at: datetime, zone: timezone, sep: str, spec: str, aware: bool
) -> None:
    text = (at.replace(tzinfo=zone) if aware else at).isoformat(sep, spec)
    assert _outcome(_from_sqlite, text) == _outcome(_plain, text)
