"""SQLite's WAL checkpoints off a batch's path, on a thread of their own.

In WAL mode each commit appends its pages to the WAL, and the commit that takes the
WAL past `wal_autocheckpoint` pages (1,000 by default) also copies them back into the
database file, then and there, before the committing thread goes on. A chunk of a
bulk job (or of an automation run) writes a few thousand pages, so each of a job's
~40 commits on SQLite stopped for a checkpoint: about a fifth of its time
(docs/benchmarks.md, Bulk actions, round 8). Copying pages needs no write lock, and
Python's sqlite3 lets go of the GIL while SQLite works, so `off_path` lets a thread
do it while the batch goes on with its next chunk, on the machine's other core:

- `deferred(conn)` wraps a chunk's commit (`commit(conn, checkpointer)` is both):
  that commit does not checkpoint (its connection's `wal_autocheckpoint` is 0 for
  the commit only, then put back, so the pooled connection is as it was) and the
  thread is asked for a PASSIVE checkpoint, which never blocks a reader or a writer.
- Every `SETTLE_EVERY` commits, `deferred` also waits for the thread, so that the
  next write transaction starts the WAL over (it can only when the WAL is all
  checkpointed, which a checkpoint running behind a busy writer never is when that
  writer begins) and the WAL does not grow for the whole batch.
- Leaving `off_path` waits for the last checkpoint, so a batch ends with its pages in
  the database file, as a commit that checkpointed would have left them.

On PostgreSQL (whose checkpoints are the server's own business) `off_path` gives
None and the caller commits as usual.
"""

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine

# Commits whose checkpoints a batch may leave behind before it waits for them: six
# chunks of a bulk job on SQLite, a WAL of ~16,000 4-KiB pages (~64 MiB).
SETTLE_EVERY = 6

log = logging.getLogger(__name__)


class Checkpointer:
    """A thread that checkpoints `engine`'s SQLite file each time it is asked."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._cond = threading.Condition()
        self._asked = self._done = self._settled = 0
        self._closing = False
        self._thread: threading.Thread | None = None  # started by the first ask

    @contextmanager
    def deferred(self, conn: Connection) -> Iterator[None]:
        """The commit inside leaves its checkpoint to the thread."""
        raw: Any = conn.connection.dbapi_connection
        (pages,) = raw.execute("PRAGMA wal_autocheckpoint").fetchone()
        raw.execute("PRAGMA wal_autocheckpoint=0")
        try:
            yield
        finally:
            raw.execute(f"PRAGMA wal_autocheckpoint={int(pages)}")
        self._ask()
        if self._asked - self._settled >= SETTLE_EVERY:
            self.settle()

    def _ask(self) -> None:
        with self._cond:
            self._asked += 1
            self._cond.notify_all()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="roster-checkpoints")
            self._thread.start()

    def settle(self) -> None:
        """Wait until every checkpoint asked for so far has run."""
        with self._cond:
            asked = self._settled = self._asked
            self._cond.wait_for(lambda: self._done >= asked)

    def close(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._asked > self._done or self._closing)
                if self._asked == self._done:  # closing, nothing left to do
                    return
                asked = self._asked
            self._checkpoint()
            with self._cond:
                self._done = asked
                self._cond.notify_all()

    def _checkpoint(self) -> None:
        try:
            self._passive()
        except Exception:  # the commits are durable in the WAL; a later one catches up
            log.warning("A background WAL checkpoint failed.", exc_info=True)

    def _passive(self) -> None:
        raw = self.engine.raw_connection()
        try:
            driver: Any = raw.driver_connection
            driver.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            raw.close()


def commit(conn: Connection, checkpoints: Checkpointer | None) -> None:
    """Commit `conn`'s transaction; with `checkpoints`, leaving its checkpoint to them."""
    if checkpoints is None:
        conn.commit()
        return
    with checkpoints.deferred(conn):
        conn.commit()


@contextmanager
def off_path(engine: Engine) -> Iterator[Checkpointer | None]:
    """A `Checkpointer` for the length of a batch on SQLite; None on PostgreSQL."""
    if engine.dialect.name != "sqlite":
        yield None
        return
    checkpointer = Checkpointer(engine)
    try:
        yield checkpointer
    finally:
        checkpointer.close()
