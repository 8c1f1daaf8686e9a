"""`roster backup`: a consistent copy of the database an operator can restore."""

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from roster.adapters.backup import pg_dump_command, sqlite_backup
from roster.domain import errors


@dataclass(frozen=True, slots=True)
class Backup:
    """Either written (`pages` of a SQLite copy at `path`) or, on PostgreSQL, the
    `command` the operator runs: pg_dump is the right tool there, not a copy by us."""

    path: Path
    pages: int | None = None
    command: str | None = None


def back_up(engine: Engine, target: Path) -> Backup:
    """Copy a SQLite database to `target`, or say how to dump a PostgreSQL one.
    Refuses to overwrite a file or to copy a database held only in memory."""
    if target.exists():
        raise errors.InvalidInput(f"{target} exists already: name a new file.")
    if engine.dialect.name != "sqlite":
        return Backup(target, command=pg_dump_command(engine, target))
    if engine.url.database in (None, "", ":memory:"):
        raise errors.InvalidInput("An in-memory database has nothing to back up.")
    if not target.parent.is_dir():
        raise errors.InvalidInput(f"The folder {target.parent} does not exist.")
    return Backup(target, pages=sqlite_backup(engine, target))
