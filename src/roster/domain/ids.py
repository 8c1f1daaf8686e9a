"""Opaque, time-ordered ids, so primary-key order is creation order."""

import secrets
import time


def new_id(prefix: str) -> str:
    """`prefix_` + 12 hex digits of milliseconds + 16 random hex digits."""
    return f"{prefix}_{time.time_ns() // 1_000_000:012x}{secrets.token_hex(8)}"


def new_ids(prefix: str, n: int) -> list[str]:
    """`n` ids of `new_id`'s form at once (one clock read, one draw of randomness), in
    ascending order, so rows inserted in this order append to their primary key."""
    stamp = f"{prefix}_{time.time_ns() // 1_000_000:012x}"
    random = secrets.token_hex(8 * n)
    return sorted(stamp + random[i : i + 16] for i in range(0, 16 * n, 16))
