"""Throttling failed sign-ins, per account and per client address.

Counters live in the database, so every server process behind a load balancer
sees the same ones. A throttle is not a status: it answers 429 for a while and
never changes a user. Only failures count; a right password clears its account's
counter (not its address's: one good account must not launder a spray).
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from roster.domain import errors
from roster.domain.throttles import Counter
from roster.services.ports import ThrottleRepository, UnitOfWork

UNKNOWN_WORKSPACE = "?"


@dataclass(frozen=True, slots=True)
class Limits:
    """How many failures a window allows before a block, and how long blocks last.

    Each failure past the limit doubles the block, up to `max_block`.
    """

    account_failures: int = 5
    address_failures: int = 20
    window: timedelta = timedelta(minutes=15)
    first_block: timedelta = timedelta(minutes=1)
    max_block: timedelta = timedelta(minutes=15)


DEFAULT_LIMITS = Limits()


class TooManyAttempts(errors.Unauthenticated):
    """Not signed in, and not allowed to try again yet. A kind of `Unauthenticated`,
    so any sign-in form that shows refusals shows this one too."""

    code = "too_many_requests"
    http_status = 429
    title = "Too many sign-in attempts"

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(
            "Too many failed sign-ins from this account or address. "
            f"Try again in {retry_after} seconds."
        )


@dataclass(frozen=True, slots=True)
class Keys:
    """The counters one sign-in attempt touches."""

    workspace_id: str
    account: str
    address: str | None

    @classmethod
    def of(cls, workspace_id: str | None, email: str, address: str | None) -> "Keys":
        return cls(
            workspace_id or UNKNOWN_WORKSPACE,
            f"account:{email}",
            f"address:{address}" if address else None,
        )

    def all(self) -> list[str]:
        return [self.account] + ([self.address] if self.address else [])


def check(throttles: ThrottleRepository, keys: Keys, now: datetime) -> bool:
    """Raise `TooManyAttempts` (with seconds to wait) while any counter is blocked.

    Answers whether the account has a counter, so a right password clears it
    only when there is something to clear (no write on an ordinary sign-in).
    """
    counters = throttles.read(keys.workspace_id, keys.all())
    blocks = [
        c.blocked_until for c in counters.values() if c.blocked_until and c.blocked_until > now
    ]
    if blocks:
        raise TooManyAttempts(max(1, math.ceil((max(blocks) - now).total_seconds())))
    return keys.account in counters


def record_failure(
    uow: UnitOfWork, keys: Keys, now: datetime, limits: Limits = DEFAULT_LIMITS
) -> None:
    """Count one failure on the account and the address, in one transaction."""
    with uow:
        for key, limit in (
            (keys.account, limits.account_failures),
            (keys.address, limits.address_failures),
        ):
            if key is None:
                continue
            counter = uow.throttles.counter_for_update(keys.workspace_id, key, now)
            uow.throttles.save(keys.workspace_id, key, failed(counter, now, limit, limits))
        uow.commit()


def failed(counter: Counter, now: datetime, limit: int, limits: Limits) -> Counter:
    """The counter after one more failure: a fresh window once the old one (and any
    block) is over; a block, doubling each time, once the window holds `limit`."""
    window_over = counter.window_started_at + limits.window <= now
    block_over = counter.blocked_until is None or counter.blocked_until <= now
    if window_over and block_over:
        counter = Counter(0, now, None)
    failures = counter.failures + 1
    blocked = counter.blocked_until
    if failures >= limit:
        block = min(limits.max_block, limits.first_block * 2 ** min(failures - limit, 16))
        blocked = now + block
    return Counter(failures, counter.window_started_at, blocked)


def succeeded(uow: UnitOfWork, keys: Keys) -> None:
    """A right password clears its account's counter."""
    with uow:
        uow.throttles.clear(keys.workspace_id, keys.account)
        uow.commit()


def prune(uow: UnitOfWork, now: datetime, limits: Limits = DEFAULT_LIMITS) -> int:
    """Forget counters that no longer count: their window and any block are over, so
    the next failure would start afresh anyway. Returns how many were dropped
    (housekeeping across every workspace: a background tick)."""
    with uow:
        dropped = uow.throttles.forget_ended(now - limits.window, now)
        uow.commit()
    return dropped
