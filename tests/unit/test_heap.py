"""A batch freezes the heap only while it runs, and each chunk pauses the collector
only while it runs: nothing stays frozen or off after them."""

import gc
import threading

from roster.adapters.heap import paused_collector, settled_heap


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


def test_the_collector_is_off_for_a_chunk_and_back_on_after_it() -> None:
    assert gc.isenabled()
    with paused_collector():
        assert not gc.isenabled()
        with paused_collector():  # a nested chunk shares the pause
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_concurrent_chunks_turn_the_collector_back_on_when_the_last_one_ends() -> None:
    started, first_done, release = threading.Barrier(3), threading.Event(), threading.Event()

    def chunk(wait: threading.Event) -> None:
        with paused_collector():
            started.wait()
            wait.wait()

    quick = threading.Thread(target=chunk, args=(first_done,))
    slow = threading.Thread(target=chunk, args=(release,))
    quick.start()
    slow.start()
    started.wait()
    first_done.set()
    quick.join()
    assert not gc.isenabled()  # the slow chunk still runs
    release.set()
    slow.join()
    assert gc.isenabled()


def test_a_failing_chunk_turns_the_collector_back_on() -> None:
    try:
        with paused_collector():
            raise RuntimeError("chunk crashed")
    except RuntimeError:
        pass
    assert gc.isenabled()


def test_a_collector_turned_off_by_someone_else_stays_off() -> None:
    gc.disable()
    try:
        with paused_collector():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
