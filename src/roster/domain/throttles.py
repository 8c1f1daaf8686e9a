"""A failed sign-in counter: how many failures in the window, and any block."""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Counter:
    failures: int
    window_started_at: datetime
    blocked_until: datetime | None
