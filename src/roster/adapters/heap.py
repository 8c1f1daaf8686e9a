"""Python's cyclic garbage collector while a long batch runs.

A bulk job's chunk allocates and drops tens of thousands of short-lived objects, so
the collector runs a full collection every few chunks, and each one walks the whole
process's heap (the modules, the app, the caches: ~90,000 objects), which is nearly
all long-lived: ~5 % of a job's time on SQLite. `settled_heap` moves the objects alive
when a batch starts to the collector's permanent generation (`gc.freeze`) for the
batch's length, so its collections walk only what the batch made, and gives them
back (`gc.unfreeze`) when the last batch in the process ends.

Process-wide, like the collector itself, so other threads' objects are frozen too
while a batch runs: nothing leaks, a cycle among them is freed by the first full
collection after the batch (reference counting frees everything else at once).
Nested or concurrent batches share one freeze.

Within a batch, each chunk's own objects (a row, a subject, a decision, an outcome
for each of its thousands of users, alive until the chunk commits) still set off a
young collection every 700 allocations, which walks them again and again: ~10 % of
an automation run's time on SQLite. `paused_collector` turns the collector off for
one chunk's length (a fraction of a second) and back on after it, when those
objects are gone: they hold no cycles, reference counting frees them. Other
threads' cycles made meanwhile wait for the next collection after the chunk.
Concurrent chunks share one pause; it ends with the last of them, and it leaves a
collector that was already off (someone else's choice) off.
"""

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _Running:
    """How many batches (or chunks) of this process run now: the first one in changes
    the collector, the last one out gives it back; `was_on`: whether the collector
    was on when the first chunk paused it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.was_on = False


_batches, _pauses = _Running(), _Running()


@contextmanager
def settled_heap() -> Iterator[None]:
    with _batches.lock:
        _batches.running += 1
        if _batches.running == 1:
            gc.freeze()
    try:
        yield
    finally:
        with _batches.lock:
            _batches.running -= 1
            if _batches.running == 0:
                gc.unfreeze()


@contextmanager
def paused_collector() -> Iterator[None]:
    with _pauses.lock:
        _pauses.running += 1
        if _pauses.running == 1:
            _pauses.was_on = gc.isenabled()
            gc.disable()
    try:
        yield
    finally:
        with _pauses.lock:
            _pauses.running -= 1
            if _pauses.running == 0 and _pauses.was_on:
                gc.enable()
