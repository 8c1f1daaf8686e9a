"""Work that `roster serve` does beside answering requests: bulk jobs, scheduled
automations, the outbox. Each is a `tick(container)` that does a bounded amount
of work and returns; a daemon thread calls every registered tick in turn.

All coordination goes through the database (leases, claimed chunks), so any
number of server processes may run these loops at once.
"""

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from roster.bootstrap import Container

log = logging.getLogger("roster.background")

Tick = Callable[[Container], None]
TICKS: list[tuple[str, Tick]] = []
"""(name, tick) pairs, registered at import time by the features that need them."""


class Every:
    """Lets a tick through once per `period` in this process. For jobs that need no
    lease across processes: running them twice at once does no harm."""

    def __init__(self, period: timedelta) -> None:
        self.period = period
        self.next: datetime | None = None

    def due(self, now: datetime) -> bool:
        if self.next is not None and now < self.next:
            return False
        self.next = now + self.period
        return True


def register(name: str) -> Callable[[Tick], Tick]:
    def add(tick: Tick) -> Tick:
        TICKS.append((name, tick))
        return tick

    return add


def start(container: Container, interval: float = 1.0) -> Callable[[], None]:
    """Run every tick each `interval` seconds in a daemon thread; returns `stop`."""
    stopping = threading.Event()

    def loop() -> None:
        while not stopping.wait(interval):
            for name, tick in TICKS:
                try:
                    tick(container)
                except Exception:  # one failing feature must not stop the others
                    log.exception("background tick %s failed", name)

    thread = threading.Thread(target=loop, name="roster-background", daemon=True)
    thread.start()

    def stop() -> None:
        stopping.set()
        thread.join(timeout=10)

    return stop
