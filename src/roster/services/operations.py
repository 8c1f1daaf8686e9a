"""What an operator watches, read from the database (the same from every process)."""

from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from roster.adapters.ops_reads import Backlog, OpsCounts, pool_in_use, read_ops_counts

__all__ = ["Backlog", "OpsCounts", "connections_in_use", "ops_counts"]


def ops_counts(engine: Engine, now: datetime) -> OpsCounts | None:
    """Status events by route and outcome, jobs by state, what waits and the outbox;
    None while the database does not answer (a scrape still answers, saying so)."""
    try:
        return read_ops_counts(engine, now)
    except SQLAlchemyError:
        return None


def connections_in_use(engine: Engine) -> int:
    """This process's database connections checked out of its pool."""
    return pool_in_use(engine)
