"""A new copy of a seeded SQLite file for one contender of a benchmark, so that no
contender inherits another's rows, page cache, WAL or heap; and written out to the
disk before the contender starts, so none pays for another's copy (or its writes)
when the kernel flushes dirty pages older than 30 s in the middle of its run."""

import os
import shutil
from pathlib import Path


def fresh_copy(url: str) -> str:
    """The URL of `contender.db`, copied anew from the SQLite file at `url` beside it
    (an earlier contender's copy, WAL and shared memory removed first), with every
    dirty page of the machine written out (`sync`) before it returns."""
    seeded = Path(url.removeprefix("sqlite:///"))
    copy = seeded.with_name("contender.db")
    for leftover in (copy, Path(f"{copy}-wal"), Path(f"{copy}-shm")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(seeded, copy)
    os.sync()
    return f"sqlite:///{copy}"
