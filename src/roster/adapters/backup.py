"""Copies of the database: SQLite's online backup API, and the pg_dump command."""

import shlex
import sqlite3
from contextlib import closing
from pathlib import Path

from sqlalchemy import URL, Engine


def sqlite_backup(engine: Engine, target: Path) -> int:
    """Copy the live SQLite database into `target` page by page with SQLite's online
    backup API: a consistent snapshot while other connections keep writing. The
    copy's page count."""
    source = engine.url.database
    assert source, "back_up refuses an in-memory database"
    with closing(sqlite3.connect(source)) as live, closing(sqlite3.connect(target)) as copy:
        live.backup(copy, pages=4096)  # in steps, so writers wait for a step, not the copy
        pages: int = copy.execute("PRAGMA page_count").fetchone()[0]
    return pages


def pg_dump_command(engine: Engine, target: Path) -> str:
    """The pg_dump command line that backs up this PostgreSQL database to `target`
    (custom format, for pg_restore). The password is left out: pg_dump reads it
    from PGPASSWORD or ~/.pgpass."""
    u = engine.url
    bare = URL.create("postgresql", u.username, None, u.host, u.port, u.database)
    dsn = bare.render_as_string(hide_password=False)
    return shlex.join(["pg_dump", "--format=custom", f"--file={target}", dsn])
