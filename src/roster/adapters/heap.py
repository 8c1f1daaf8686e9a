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
"""

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _Batches:
    """How many batches of this process run now (the first freezes, the last thaws)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0


_batches = _Batches()


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
