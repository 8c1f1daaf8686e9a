"""Engines for SQLite (embedded default) and PostgreSQL (production)."""

import sqlite3
import time
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

BUSY_MS = 30_000  # how long SQLite waits for a lock before "database is locked"
POLL_MS = 5  # how long one try of a writer's BEGIN IMMEDIATE waits, before the next try
# SQLite's page cache per connection, in KiB (SQLite's default is 2,000 KiB). A bulk
# chunk of 2,500 users touches ~2,500 pages (~10 MiB: the users' table and index
# pages, the audit and result rows); in 2 MiB it evicts the users' pages between the
# read of their statuses and the UPDATE, and spills dirty pages to the WAL before
# commit. A bound, not an allocation: a connection only grows to it if it touches
# that many pages.
CACHE_KIB = 16_384
# How many pages the WAL may hold before a commit copies them into the database
# (SQLite's own automatic checkpoint; its default is 1,000 pages, ~4 MiB). A bulk
# chunk writes several thousand pages, so at the default nearly every chunk's commit
# also ran a checkpoint (writing and syncing the database file): ~1/5 of a job. At
# 25,000 pages (~100 MiB with 4 KiB pages) a checkpoint runs every few chunks and
# writes a page changed by several of them once; the WAL stays within that bound
# plus one transaction.
WAL_PAGES = 25_000
WRITE = {"roster_write": True}
"""Execution options of a connection that will write: on SQLite it begins IMMEDIATE."""


def database_away(exc: BaseException) -> bool:
    """Whether `exc` is the database going away (a restart, a dropped connection),
    not something the work did: such work is retried later, never marked failed."""
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url, **kwargs)
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    kwargs.setdefault("connect_args", {"timeout": 30})
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin event below decide how a transaction starts.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_MS}")
        cursor.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_PAGES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A writer takes SQLite's write lock up front, so two writers queue on
        # busy_timeout instead of failing with "database is locked" mid-transaction.
        if conn.get_execution_options().get("roster_write", False):
            _begin_immediate(conn)
        else:
            conn.exec_driver_sql("BEGIN")

    return engine


def _begin_immediate(conn: Connection) -> None:
    """BEGIN IMMEDIATE, waiting up to BUSY_MS for the write lock in tries of POLL_MS.

    SQLite's own busy handler backs off to 100 ms between tries, so a writer queued
    behind a long write (a bulk job's chunk) would mostly sleep through the short
    moment the job leaves the lock free, and wait another whole chunk. Trying every
    few milliseconds, it takes that moment.
    """
    raw = conn.connection.dbapi_connection
    assert raw is not None
    deadline = time.monotonic() + BUSY_MS / 1000
    raw.execute(f"PRAGMA busy_timeout={POLL_MS}")
    try:
        while time.monotonic() < deadline:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as refused:
                if refused.sqlite_errorcode != sqlite3.SQLITE_BUSY:
                    break
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # the last try raises as SQLAlchemy does
    finally:
        raw.execute(f"PRAGMA busy_timeout={BUSY_MS}")
