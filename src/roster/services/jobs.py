"""The one job runner: claims, leases, chunks, the cursor, failure and resume, for
all work over many users (bulk actions, automation runs).

A job is a row with a cursor (the last user id done), a state, and a lease: who
runs it and until when. A runner takes a job's lease by compare-and-set, so of two
processes exactly one runs it; the other leaves it alone until the lease runs out.
The runner then works in chunks in user-id order. Each chunk is ONE transaction: it
renews the lease (fenced on the lease it holds, so a runner whose job was taken
over stops without writing), asks the kind for the next targets after the cursor,
lets it act on them (status changes through services/status.apply_changes) and
record their outcomes, moves the cursor, and commits once. A process killed
mid-chunk loses only that uncommitted chunk; once its lease runs out another runner
takes the job over and goes on after the committed cursor, so no change is lost or
doubled. A chunk that raises fails the job with the reason; a database that went
away leaves it to be taken over once the lease runs out.

Each kind of job (services/bulk.py, services/automations.py) only says where its
leases live, which targets come next, and how to act on and record them.
"""

import logging
import os
import socket
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Generic, Literal, Protocol, Self, TypeVar

from sqlalchemy import Engine

from roster.adapters.database import database_away
from roster.config import Settings
from roster.domain import errors
from roster.domain.jobs import JobRef, Lease
from roster.domain.vocabulary import Role, Status
from roster.services.ports import Leases, UnitOfWork

Clock = Callable[[], datetime]
log = logging.getLogger("roster.jobs")


@dataclass(frozen=True, slots=True)
class Tuning:
    """How the runner paces itself; `Tuning.of(settings, engine)` in production."""

    lease: timedelta = timedelta(seconds=120)
    chunk: int = 4000
    gap: float = 0.0
    """Seconds the write lock stays free between chunks (SQLite has one writer: a
    runner that starts its next chunk the moment it commits starves waiting writes)."""
    poll: float = 0.05
    """Seconds between looks at a job another runner holds."""

    @classmethod
    def of(cls, settings: Settings, engine: Engine) -> "Tuning":
        return cls(
            lease=timedelta(seconds=settings.job_lease_seconds),
            chunk=settings.job_chunk_size,
            gap=0.01 if engine.dialect.name == "sqlite" else 0.0,
        )


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Targets(Generic[T]):
    """The next users after the cursor, in id order: `items` to act on; `last`, the
    last id scanned (the next cursor; the scan may have passed users it does not
    act on); `full`, whether the scan filled the chunk (so more may follow).
    `known`: the status and role of each existing target, read with its row locked
    in this transaction, so the change need not read it again."""

    items: Sequence[T]
    last: str | None
    full: bool
    known: Mapping[str, tuple[Status, Role]] | None = None


class Transaction(Protocol):
    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...


U = TypeVar("U", bound=Transaction)
J = TypeVar("J")


class Kind(ABC, Generic[U, J, T]):
    """One kind of job: what the runner asks of it, inside a chunk's transaction."""

    @abstractmethod
    def leases(self, uow: U) -> Leases: ...

    @abstractmethod
    def load(self, uow: U, ref: JobRef) -> J: ...

    @abstractmethod
    def next_targets(self, uow: U, job: J, after: str | None, size: int) -> Targets[T]:
        """The next `size` users after `after` this job selects."""

    @abstractmethod
    def act(self, uow: U, job: J, targets: Targets[T], now: datetime) -> None:
        """Act on the targets and record their outcomes (one per user)."""

    def completed(self, uow: U, ref: JobRef, now: datetime) -> None:
        """Inside the last chunk's transaction, the job just done: what its end tells
        (a webhook event). Nothing by default."""


def this_process() -> str:
    """A runner's name: host and process, shown on the job."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


@dataclass(frozen=True, slots=True)
class Runner(Generic[U, J, T]):
    """Runs one kind's jobs as `holder`, in units of work from `uow`."""

    uow: Callable[[], U]
    kind: Kind[U, J, T]
    holder: str
    clock: Clock
    tuning: Tuning

    def take(self, ref: JobRef) -> Lease | None:
        """The job's lease, if no runner holds it (or its runner's lease ran out)."""
        now = self.clock()
        with self.uow() as uow:
            lease = self.kind.leases(uow).take(ref, self.holder, now, now + self.tuning.lease)
            uow.commit()
        return lease

    def run(
        self,
        lease: Lease,
        deadline: float | None = None,
        progress: Callable[[], None] = lambda: None,
    ) -> Literal["done", "lost", "paused"]:
        """Run the leased job chunk by chunk: to its end ("done"), until another
        runner took it over ("lost"), or until the monotonic `deadline`, when it lets
        the lease go for any runner to go on ("paused")."""
        while not isinstance(step := self._chunk(lease), str):
            lease = step
            progress()
            if deadline is not None and time.monotonic() >= deadline:
                with self.uow() as uow:
                    self.kind.leases(uow).release(lease)
                    uow.commit()
                return "paused"
            time.sleep(self.tuning.gap)
        return step

    def run_to_end(self, ref: JobRef, progress: Callable[[], None] = lambda: None) -> None:
        """Run one job to its end in this process (the CLI). While another runner
        holds it, wait: for it to finish, or for its lease to run out (it died)."""
        while True:
            lease = self.take(ref)
            if lease is None:
                with self.uow() as uow:
                    if not self.kind.leases(uow).runnable(ref):
                        return
                time.sleep(self.tuning.poll)
            elif self.run(lease, progress=progress) == "done":
                return

    def run_pending(self, budget: float | None = None, limit: int = 20) -> list[JobRef]:
        """Take the jobs no runner holds (new, let go, or whose runner died) and run
        them, for about `budget` seconds (None: each to its end). The jobs it ran."""
        deadline = None if budget is None else time.monotonic() + budget
        with self.uow() as uow:
            waiting = self.kind.leases(uow).claimable(self.clock(), limit)
        ran: list[JobRef] = []
        for ref in waiting:
            if deadline is not None and time.monotonic() >= deadline:
                break
            if (lease := self.take(ref)) is not None:
                self.run(lease, deadline)
                ran.append(ref)
        return ran

    def _chunk(self, lease: Lease) -> Lease | Literal["done", "lost"]:
        """One chunk in one transaction; the renewed lease, or how the job ended."""
        now, kind, started = self.clock(), self.kind, time.perf_counter()
        try:
            with self.uow() as uow:
                renewed = kind.leases(uow).renew(lease, now + self.tuning.lease)
                if renewed is None:
                    return "lost"
                held, cursor = renewed
                job = kind.load(uow, held.ref)
                targets = kind.next_targets(uow, job, cursor, self.tuning.chunk)
                kind.act(uow, job, targets, now)
                kind.leases(uow).advance(held, targets.last or cursor, not targets.full, now)
                if not targets.full:
                    kind.completed(uow, held.ref, now)
                uow.commit()
        except Exception as crash:
            if database_away(crash):
                raise  # nothing of the chunk is committed; the lease runs out, a runner goes on
            with self.uow() as uow:
                kind.leases(uow).fail(lease.ref, reason(crash), now)
                uow.commit()
            raise
        log.info(
            "job chunk: %d user(s)",
            len(targets.items),
            extra={
                "job": held.ref.job_id,
                "workspace": held.ref.workspace_id,
                "kind": type(kind).__name__,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )
        return held if targets.full else "done"


def hand_back(uow: UnitOfWork, holder: str) -> int:
    """Let go of every bulk job and automation run `holder` runs, so another server
    takes them at once instead of when their leases run out (a server shutting
    down). A chunk in flight commits first (it holds the row), and its runner's next
    renewal finds the lease gone, so it stops without writing. How many it let go."""
    with uow:
        released = uow.bulk_jobs.leases().release_held(holder)
        released += uow.automations.leases().release_held(holder)
        uow.commit()
    return released


def reason(crash: Exception) -> str:
    """Why a job failed, for the people reading it."""
    if isinstance(crash, errors.DomainError):
        return f"{crash.code}: {crash.detail}"
    return f"{type(crash).__name__}: {crash}"
