"""The job runner's rules, on an in-memory job table: claims, leases, chunks in
order, the cursor, failure, and resume after a crash."""

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Self

import pytest

from roster.domain.jobs import JobRef, Lease
from roster.services import jobs
from roster.services.ports import Leases

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TUNING = jobs.Tuning(lease=timedelta(minutes=2), chunk=3, poll=0)
REF = JobRef("wsp_1", "job_1")


@dataclass
class Row:
    state: str = "queued"
    cursor: str | None = None
    holder: str | None = None
    until: datetime | None = None
    done: list[str] = field(default_factory=list)  # what the chunks acted on, in order
    reason: str | None = None


class Store:
    def __init__(self, users: int) -> None:
        self.users = [f"usr_{i:02}" for i in range(users)]
        self.rows = {REF: Row()}


class Uow:
    """Works on a copy of the store; commit writes it back, exit forgets it."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __enter__(self) -> Self:
        self.rows = copy.deepcopy(self.store.rows)
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        del self.rows

    def commit(self) -> None:
        self.store.rows = copy.deepcopy(self.rows)


class FakeLeases:
    """The compare-and-set rules of adapters/job_leases.py, on the rows."""

    def __init__(self, rows: dict[JobRef, Row]) -> None:
        self.rows = rows

    def runnable(self, ref: JobRef) -> bool:
        return self.rows[ref].state in ("queued", "running")

    def _free(self, ref: JobRef, now: datetime) -> bool:
        until = self.rows[ref].until
        return self.runnable(ref) and (until is None or until < now)

    def _held(self, lease: Lease) -> Row | None:
        row = self.rows[lease.ref]
        mine = (row.holder, row.until) == (lease.holder, lease.until)
        return row if mine and self.runnable(lease.ref) else None

    def claimable(self, now: datetime, limit: int) -> list[JobRef]:
        return [ref for ref in self.rows if self._free(ref, now)][:limit]

    def take(self, ref: JobRef, holder: str, now: datetime, until: datetime) -> Lease | None:
        if not self._free(ref, now):
            return None
        self.rows[ref].holder, self.rows[ref].until = holder, until
        return Lease(ref, holder, until)

    def renew(self, lease: Lease, until: datetime) -> tuple[Lease, str | None] | None:
        if (row := self._held(lease)) is None:
            return None
        row.until = until
        return Lease(lease.ref, lease.holder, until), row.cursor

    def advance(self, lease: Lease, cursor: str | None, done: bool, now: datetime) -> None:
        if (row := self._held(lease)) is not None:
            row.cursor, row.state = cursor, "done" if done else "running"
            row.until = None if done else row.until

    def release(self, lease: Lease) -> None:
        if (row := self._held(lease)) is not None:
            row.until = None

    def release_held(self, holder: str) -> int:
        held = [r for r in self.rows.values() if r.holder == holder and r.until is not None]
        for row in held:
            row.until = None
        return len(held)

    def fail(self, ref: JobRef, reason: str, now: datetime) -> None:
        self.rows[ref].state, self.rows[ref].reason = "failed", reason


class Marks(jobs.Kind[Uow, Row, str]):
    """A kind that marks each user done; `crash` makes chunk number n raise."""

    def __init__(self, store: Store, crash: dict[int, BaseException] | None = None) -> None:
        self.store, self.crash, self.chunks = store, crash or {}, 0

    def leases(self, uow: Uow) -> Leases:
        return FakeLeases(uow.rows)

    def load(self, uow: Uow, ref: JobRef) -> Row:
        return uow.rows[ref]

    def next_targets(self, uow: Uow, job: Row, after: str | None, size: int) -> jobs.Targets[str]:
        ids = [u for u in self.store.users if after is None or u > after][:size]
        return jobs.Targets(ids, ids[-1] if ids else None, len(ids) == size)

    def act(self, uow: Uow, job: Row, targets: jobs.Targets[str], now: datetime) -> None:
        job.done.extend(targets.items)
        self.chunks += 1
        if (crash := self.crash.get(self.chunks)) is not None:
            raise crash


def at(moment: datetime) -> jobs.Clock:
    return lambda: moment


def runner(
    store: Store, holder: str, when: datetime, crash: dict[int, BaseException] | None = None
) -> jobs.Runner[Uow, Row, str]:
    """A runner over `store` at `when`; `crash` makes chunk number n raise."""
    return jobs.Runner(lambda: Uow(store), Marks(store, crash), holder, at(when), TUNING)


def test_a_job_works_through_every_user_in_id_order_chunk_by_chunk() -> None:
    store = Store(users=7)
    runner(store, "a", T0).run_to_end(REF)
    row = store.rows[REF]
    assert row.done == store.users
    assert (row.state, row.cursor, row.until) == ("done", "usr_06", None)


def test_a_runner_killed_mid_chunk_is_taken_over_after_its_lease_without_losing_or_doubling() -> (
    None
):
    store = Store(users=8)
    with pytest.raises(KeyboardInterrupt):
        runner(store, "a", T0, {2: KeyboardInterrupt()}).run_to_end(REF)
    assert store.rows[REF].done == store.users[:3]  # the second chunk never committed
    assert store.rows[REF].state == "running"
    runner(store, "b", T0 + TUNING.lease * 2).run_to_end(REF)
    assert store.rows[REF].done == store.users
    assert store.rows[REF].holder == "b"


def test_a_job_another_runner_holds_is_not_taken_before_its_lease_runs_out() -> None:
    store = Store(users=4)
    assert runner(store, "a", T0).take(REF) is not None
    assert runner(store, "b", T0).take(REF) is None
    assert runner(store, "b", T0 + TUNING.lease + timedelta(seconds=1)).take(REF) is not None


def test_a_runner_whose_job_was_taken_over_stops_without_writing() -> None:
    store = Store(users=6)
    first, later = runner(store, "a", T0), runner(store, "a", T0 + TUNING.lease * 2)
    mine, taken = first.take(REF), later.take(REF)
    assert mine is not None
    assert taken is not None
    assert first.run(mine) == "lost"
    assert store.rows[REF].done == []
    assert later.run(taken) == "done"
    assert store.rows[REF].done == store.users


def test_a_chunk_that_raises_fails_the_job_with_the_reason_and_keeps_earlier_chunks() -> None:
    store = Store(users=9)
    with pytest.raises(RuntimeError):
        runner(store, "a", T0, {2: RuntimeError("disk on fire")}).run_to_end(REF)
    row = store.rows[REF]
    assert row.state == "failed"
    assert row.reason == "RuntimeError: disk on fire"
    assert row.done == store.users[:3]


def test_pending_jobs_run_to_their_end_once() -> None:
    store = Store(users=5)
    assert runner(store, "a", T0).run_pending() == [REF]
    assert store.rows[REF].done == store.users
    assert runner(store, "b", T0).run_pending() == []
