"""A batch freezes the heap only while it runs: nothing stays frozen after it."""

import gc
import threading

from roster.adapters.heap import settled_heap


def test_the_heap_is_frozen_while_a_batch_runs_and_given_back_after() -> None:
    before = gc.get_freeze_count()
    with settled_heap():
        assert gc.get_freeze_count() > before
        with settled_heap():  # a second batch shares the freeze
            pass
        assert gc.get_freeze_count() > before
    assert gc.get_freeze_count() == before == 0


def test_concurrent_batches_thaw_when_the_last_one_ends() -> None:
    started, release = threading.Barrier(3), threading.Event()

    def batch() -> None:
        with settled_heap():
            started.wait()
            release.wait()

    workers = [threading.Thread(target=batch) for _ in range(2)]
    for w in workers:
        w.start()
    started.wait()
    assert gc.get_freeze_count() > 0
    release.set()
    for w in workers:
        w.join()
    assert gc.get_freeze_count() == 0


def test_a_failing_batch_thaws_too() -> None:
    try:
        with settled_heap():
            raise RuntimeError("chunk crashed")
    except RuntimeError:
        pass
    assert gc.get_freeze_count() == 0
