"""UtcDateTime: an aware instant in, the same instant in UTC out, on each database."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, Table, select

from roster.adapters.types import UtcDateTime

metadata = MetaData()
stamps = Table(
    "test_utc_stamps",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UtcDateTime, nullable=True),
)


def test_instants_come_back_in_utc_and_naive_ones_are_refused(engine: Engine) -> None:
    written = [
        datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC),
        datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone(timedelta(hours=-7, minutes=-30))),
        datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=14))),
        None,
    ]
    metadata.create_all(engine)
    try:
        with engine.begin() as conn:
            conn.execute(stamps.insert(), [{"id": i, "at": at} for i, at in enumerate(written)])
            read = conn.execute(select(stamps.c.at).order_by(stamps.c.id)).scalars().all()
        assert read == written
        assert all(at is None or at.utcoffset() == timedelta(0) for at in read)
        with pytest.raises(Exception, match="naive"), engine.begin() as conn:
            conn.execute(stamps.insert(), {"id": 9, "at": datetime(2026, 1, 1)})  # noqa: DTZ001
    finally:
        metadata.drop_all(engine)
