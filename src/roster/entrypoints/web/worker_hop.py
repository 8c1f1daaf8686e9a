"""One worker-thread hop for a view's blocking database work, leaner than anyio's.

`starlette.concurrency.run_in_threadpool` (anyio's `to_thread.run_sync`) costs
~115 µs of CPU a call, against ~45 µs for a bare executor hop: a checkpoint (one
more turn of the event loop), a cancel scope, the worker bookkeeping. The hot
reads (the users list, the users page) hop once a request, so they use this one;
everything else keeps anyio's. It keeps anyio's guarantees:

- **Context variables** reach the function: it runs in a copy of the caller's
  context (and, as with anyio, what it sets there does not leak back).
- **The same thread limit**: each call holds a token of anyio's default thread
  limiter (the one FastAPI's own threadpool calls take, 40 by default) while it
  runs, so both kinds of call together never exceed it. When no token is free
  (or others already wait for one) the call goes anyio's way and queues fairly.
- **Cancellation waits for the call**: a cancelled request (a client gone) does
  not abandon the function mid-way; it waits until the call has finished (its
  connection back in the pool, its transaction ended) and then raises
  CancelledError, as anyio's shielded hop does.
"""

import asyncio
import contextlib
import contextvars
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import anyio
import anyio.to_thread
from anyio import CapacityLimiter
from sqlalchemy import Engine

from roster.services.access import StampsDue

T = TypeVar("T")

# Bounded by the limiter's tokens, not by the pool: the pool only needs as many
# threads as tokens can be held at once (anyio's default is 40).
_POOL = ThreadPoolExecutor(max_workers=64, thread_name_prefix="roster-worker")
# anyio's default limiter is one per event loop; looking it up costs ~4 µs.
_limiter_of: tuple[asyncio.AbstractEventLoop, CapacityLimiter] | None = None


def _limiter(loop: asyncio.AbstractEventLoop) -> CapacityLimiter:
    """anyio's default thread limiter of `loop`. The cache is read once: with event
    loops in several threads (test clients), each gets its own loop's limiter."""
    global _limiter_of  # noqa: PLW0603 - a one-entry cache
    cached = _limiter_of
    if cached is not None and cached[0] is loop:
        return cached[1]
    limiter = anyio.to_thread.current_default_thread_limiter()
    _limiter_of = (loop, limiter)
    return limiter


async def run_in_worker(func: Callable[..., T], *args: object) -> T:
    """`func(*args)` in a worker thread, awaited without blocking the event loop."""
    loop = asyncio.get_running_loop()
    limiter = _limiter(loop)
    borrower = object()
    try:
        limiter.acquire_on_behalf_of_nowait(borrower)
    except anyio.WouldBlock:
        return await anyio.to_thread.run_sync(func, *args)  # wait for a token in turn
    try:
        done: asyncio.Future[T] = loop.create_future()

        def settle(call: Future[T]) -> None:  # on the event loop
            if done.cancelled():
                return
            error = call.exception()
            if error is not None:
                done.set_exception(error)
            else:
                done.set_result(call.result())

        call = _POOL.submit(contextvars.copy_context().run, func, *args)
        call.add_done_callback(lambda call: loop.call_soon_threadsafe(settle, call))
        try:
            return await done
        except asyncio.CancelledError:
            # The call runs on in its thread (or is dropped if it had not started):
            # wait for it to end, then give up. Repeated cancellations wait too.
            if not call.cancel():
                finished = asyncio.wrap_future(call)
                while not finished.done():
                    with contextlib.suppress(asyncio.CancelledError):
                        await asyncio.wait((finished,))
                if not finished.cancelled():
                    finished.exception()  # retrieved: the request is cancelled anyway
            raise
    finally:
        limiter.release_on_behalf_of(borrower)


async def run_short_read(engine: Engine, func: Callable[..., T], *args: object) -> T:
    """`func(*args)`, a short read that may also want to write the caller's last-used
    stamps: on SQLite run here, on the event loop's thread, as `func(*args,
    may_write=False)`; if that raises StampsDue (the stamps are due: a write, which
    may wait for SQLite's write lock), and on PostgreSQL (a network round trip),
    in a worker thread (`run_in_worker`), as `func(*args)`.

    Only for reads bounded by an index (a keyset page, a counter row, a credential):
    SQLite answers those from its page cache in ~0.1-0.4 ms, less than the hop's
    two thread wake-ups cost on this machine (~0.1 ms wall and as much CPU), and
    the Python they run holds the GIL in a worker thread too, so the loop would not
    have run much meanwhile. Never for a text search or a scan.
    """
    if engine.dialect.name == "sqlite":
        try:
            return func(*args, may_write=False)
        except StampsDue:
            pass
    return await run_in_worker(func, *args)
