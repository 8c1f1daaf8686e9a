"""Column types that behave the same on SQLite and PostgreSQL."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime in and out. SQLite keeps no zone, so we store UTC and
    put the zone back on read; naive input is refused rather than guessed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]

    def result_processor(
        self, dialect: Dialect, coltype: object
    ) -> Callable[[Any], datetime | None] | None:
        """On SQLite, one function per value instead of three: the ISO text SQLite
        keeps parsed (what SQLAlchemy's SQLite DateTime does) and the zone put back, as
        `process_result_value` would. A run's candidate rows carry two each."""
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        return _from_sqlite


_STORED_LENGTH = len("2026-12-01 23:37:36.602519")


def _from_sqlite(value: str | None) -> datetime | None:
    """The stored text as an aware UTC datetime. The text SQLAlchemy writes
    ("2026-12-01 23:37:36.602519", always 26 characters) carries no zone, so it is read
    with a UTC offset appended: one C call, where parsing and then `replace(tzinfo=UTC)`
    cost five times as much (`replace` with a keyword is slow in Python 3.11). Any other
    text, or a read that did not take the offset (a date alone ignores it), is read the
    plain way (tests/unit/test_sqlite_stamps.py compares the two on any text)."""
    if value is None:
        return None
    if len(value) == _STORED_LENGTH:
        try:
            parsed = datetime.fromisoformat(value + "+00:00")
        except ValueError:
            pass
        else:
            if parsed.tzinfo is UTC:
                return parsed
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
