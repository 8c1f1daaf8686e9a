"""The lean worker-thread hop keeps anyio's guarantees: context variables reach the
call, anyio's thread limit bounds it (together with anyio's own calls), a cancelled
caller waits for the call to finish, and errors and results come back as they are.
A short read runs on the caller's thread on SQLite, unless it must write."""

import asyncio
import contextvars
import threading
import time
from types import SimpleNamespace
from typing import cast

import anyio.to_thread
import pytest
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from roster.entrypoints.web.worker_hop import run_in_worker, run_short_read
from roster.services.access import StampsDue

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="none")


def test_runs_in_another_thread_and_returns_the_result() -> None:
    async def main() -> tuple[int, str]:
        return await run_in_worker(lambda a, b: (a + b, threading.current_thread().name), 2, 3)

    total, thread = asyncio.run(main())
    assert total == 5
    assert thread != threading.current_thread().name


def test_context_variables_reach_the_call_and_do_not_leak_back() -> None:
    def read_and_set() -> str:
        seen = request_id.get()
        request_id.set("set-in-thread")
        return seen

    async def main() -> tuple[str, str]:
        request_id.set("req-42")
        seen = await run_in_worker(read_and_set)
        return seen, request_id.get()

    assert asyncio.run(main()) == ("req-42", "req-42")


def test_an_error_in_the_call_is_raised_to_the_caller() -> None:
    def fail() -> None:
        raise LookupError("no such row")

    async def main() -> None:
        await run_in_worker(fail)

    with pytest.raises(LookupError, match="no such row"):
        asyncio.run(main())


@pytest.mark.parametrize("tokens", [1, 3])
def test_anyio_thread_limit_bounds_both_kinds_of_call(tokens: int) -> None:
    running = 0
    most = 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.02)
        with lock:
            running -= 1

    async def main() -> None:
        anyio.to_thread.current_default_thread_limiter().total_tokens = tokens
        calls = [run_in_worker(work) for _ in range(8)]
        calls += [run_in_threadpool(work) for _ in range(4)]
        await asyncio.gather(*calls)
        limiter = anyio.to_thread.current_default_thread_limiter()
        assert limiter.borrowed_tokens == 0  # every token given back

    asyncio.run(main())
    assert most == tokens


def test_a_cancelled_caller_waits_for_the_call_to_finish() -> None:
    started, finished = threading.Event(), threading.Event()
    order: list[str] = []

    def slow_transaction() -> None:
        started.set()
        time.sleep(0.15)
        order.append("call finished")
        finished.set()

    async def main() -> None:
        task = asyncio.create_task(run_in_worker(slow_transaction))
        while not started.is_set():
            await asyncio.sleep(0.005)
        task.cancel()
        await asyncio.sleep(0.01)
        task.cancel()  # a second cancellation waits too
        with pytest.raises(asyncio.CancelledError):
            await task
        order.append("caller gave up")
        limiter = anyio.to_thread.current_default_thread_limiter()
        assert limiter.borrowed_tokens == 0

    asyncio.run(main())
    assert finished.is_set()
    assert order == ["call finished", "caller gave up"]


def test_a_call_cancelled_while_waiting_for_a_token_never_runs() -> None:
    ran: list[str] = []
    release = threading.Event()

    async def main() -> None:
        anyio.to_thread.current_default_thread_limiter().total_tokens = 1
        holder = asyncio.create_task(run_in_worker(release.wait, 5))
        await asyncio.sleep(0.02)
        waiter = asyncio.create_task(run_in_worker(ran.append, "waiter"))
        await asyncio.sleep(0.02)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        release.set()
        assert await holder is True

    asyncio.run(main())
    assert ran == []


def test_event_loops_in_several_threads_each_use_their_own_limiter() -> None:
    held: dict[str, list[int]] = {}
    start = threading.Barrier(3)

    def loop_in_thread(name: str) -> None:
        async def main() -> None:
            own = anyio.to_thread.current_default_thread_limiter()
            start.wait()
            for _ in range(200):
                # While the call runs, it holds one token: of its own loop's limiter.
                held.setdefault(name, []).append(await run_in_worker(lambda: own.borrowed_tokens))
            assert own.borrowed_tokens == 0

        asyncio.run(main())

    threads = [threading.Thread(target=loop_in_thread, args=(f"t{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(held) == ["t0", "t1", "t2"]
    assert {n for tokens in held.values() for n in tokens} == {1}


def _engine_of(dialect: str) -> Engine:
    """Just what run_short_read reads of an engine: its dialect's name."""
    return cast(Engine, SimpleNamespace(dialect=SimpleNamespace(name=dialect)))


def _where_and_how(*, may_write: bool = True) -> tuple[str, bool]:
    return threading.current_thread().name, may_write


def test_a_short_read_on_sqlite_runs_here_and_may_not_write() -> None:
    async def main() -> tuple[str, bool]:
        return await run_short_read(_engine_of("sqlite"), _where_and_how)

    assert asyncio.run(main()) == (threading.current_thread().name, False)


def test_a_short_read_that_must_write_goes_to_a_worker_thread_and_may_write_there() -> None:
    tries: list[tuple[str, bool]] = []

    def stamps_due(*, may_write: bool = True) -> str:
        tries.append((threading.current_thread().name, may_write))
        if not may_write:
            raise StampsDue()
        return "written"

    async def main() -> str:
        return await run_short_read(_engine_of("sqlite"), stamps_due)

    assert asyncio.run(main()) == "written"
    here = threading.current_thread().name
    assert tries[0] == (here, False)
    assert tries[1][0] != here
    assert tries[1][1] is True
    assert len(tries) == 2


def test_a_short_read_on_postgresql_runs_in_a_worker_thread() -> None:
    async def main() -> tuple[str, bool]:
        return await run_short_read(_engine_of("postgresql"), _where_and_how)

    thread, may_write = asyncio.run(main())
    assert thread != threading.current_thread().name
    assert may_write is True
