"""Work that `roster serve` does beside answering requests: bulk jobs, scheduled
automations, the outbox, webhook deliveries, throttle pruning, billing snapshots, account expiry and
the daily review digest. Each is a
`tick(container)` that does a bounded amount of work and returns; a daemon thread
calls every tick in TICKS in turn. This module is the one place they are listed.

All coordination goes through the database (leases, claimed chunks), so any
number of server processes may run these loops at once.
"""

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from roster.bootstrap import Container
from roster.services import (
    automations,
    billing,
    bulk,
    expiry,
    mail,
    review_digest,
    throttle,
    webhooks,
)
from roster.services.jobs import hand_back, this_process

log = logging.getLogger("roster.background")

Tick = Callable[[Container], None]


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


BULK_BUDGET = 2.0  # seconds of chunks per bulk tick, so other ticks get their turn
PRUNE = Every(timedelta(minutes=5))
SNAPSHOTS = Every(timedelta(minutes=10))
DIGESTS = Every(timedelta(minutes=5))


def run_bulk_jobs(container: Container) -> None:
    """Run chunks of queued bulk actions (any number of server processes may)."""
    bulk.run_pending(
        container.uow, clock=container.clock, tuning=container.jobs, budget=BULK_BUDGET
    )


def run_due_rules(container: Container) -> None:
    """Start due schedule rules (each once across every server) and resume dead runs."""
    automations.run_due(
        container.uow(), container.clock, holder=this_process(), tuning=container.jobs
    )


def act_on_events(container: Container) -> None:
    """Act on user.* and external events with the event rules."""
    automations.dispatch(container.uow(), container.clock)


def send_webhooks(container: Container) -> None:
    """Deliver due webhooks (subscriptions' events and automation rules' webhooks),
    after the commits that queued them; each attempt is recorded."""
    webhooks.deliver_configured(container.uow(), container.clock, container.settings)


def send_mail(container: Container) -> None:
    """Send due emails over SMTP (none without ROSTER_SMTP_URL: they stay on the Emails page)."""
    settings = container.settings
    mail.deliver(
        container.uow(),
        container.clock(),
        smtp_url=settings.smtp_url,
        mail_from=settings.mail_from,
    )


def prune_throttles(container: Container) -> None:
    """Forget sign-in throttle counters whose window has ended."""
    now = container.clock()
    if PRUNE.due(now):
        throttle.prune(container.uow(), now)


def snapshot_billing(container: Container) -> None:
    """Save each workspace's newly sealed days. A day seals once the audit log has
    moved past its end, so most nights this writes yesterday's row per workspace."""
    now = container.clock()
    if SNAPSHOTS.due(now):
        billing.build_all_snapshots(container.uow(), now)


def expire_accounts(container: Container) -> None:
    """Make the users whose `expires_at` has passed Inactive. Every tick (one indexed
    read when none is due), so an account ends within a minute of its date."""
    expiry.expire_due(container.uow(), container.clock())


def queue_review_digests(container: Container) -> None:
    """Queue each workspace's daily review digest, early in its day (each message is
    keyed by day and recipient, so every server may try and each goes once)."""
    now = container.clock()
    if DIGESTS.due(now):
        review_digest.queue_digests(container.uow(), now, container.settings.public_url)


TICKS: list[tuple[str, Tick]] = [
    ("bulk", run_bulk_jobs),
    ("automations", run_due_rules),
    ("automation-events", act_on_events),
    ("webhooks", send_webhooks),
    ("mail", send_mail),
    ("throttles", prune_throttles),
    ("billing", snapshot_billing),
    ("expiry", expire_accounts),
    ("review-digest", queue_review_digests),
]


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
        """Stop after the tick in flight and hand back this process's job leases:
        once at once (a long automation run then stops at its next chunk), and again
        after the loop ended, for any job it took in between."""
        stopping.set()
        holder = this_process()
        released = hand_back(container.uow(), holder)
        thread.join(timeout=10)
        released += hand_back(container.uow(), holder)
        log.info("background stopped; %d job lease(s) handed back", released)

    return stop
