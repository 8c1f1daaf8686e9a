"""Audit entries: one per attempt, applied or refused."""

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from roster.domain.vocabulary import ReasonCode, Route, Status

APPLIED = "applied"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    workspace_id: str
    user_id: str
    from_status: Status | None  # None: the user was created with `to_status`
    to_status: Status
    route: Route
    actor_id: str | None
    actor_name: str
    reason_code: ReasonCode | None
    note: str | None
    at: datetime
    outcome: str  # APPLIED or the refusal's code
    request_id: str | None = None
    batch_id: str | None = None
    id: str = ""
    seq: int = 0  # given by the audit log when written: the workspace's order of events
    hash: str = ""  # given by the audit log: chain_hash of the previous entry's hash and this


def replay(entries: Iterable[AuditEntry]) -> dict[str, Status]:
    """Each user's status from their applied entries, taken in `seq` order."""
    state: dict[str, Status] = {}
    for e in sorted(entries, key=lambda e: e.seq):
        if e.outcome == APPLIED:
            state[e.user_id] = e.to_status
    return state


GENESIS = ""


@dataclass(frozen=True, slots=True)
class ChainHead:
    """Where a workspace's audit chain ends: the last sequence number handed out and
    the hash of that entry (GENESIS before the first)."""

    seq: int = 0
    hash: str = GENESIS


def chain_hash(previous: str, e: AuditEntry, seq: int | None = None) -> str:
    """The hash of an entry chained to the one before it in its workspace (`seq`, when
    given, stands for `e.seq`: the log hashes entries as it numbers them).

    Any edit, removal or reordering of an earlier entry changes every later hash,
    so `roster audit verify` can name the first entry that does not match. The hashed
    bytes are the compact JSON array (UTF-8, not ASCII-escaped) of the previous hash
    and the fields below, each a string.
    """
    fields = (
        previous,
        e.workspace_id,
        str(e.seq if seq is None else seq),
        e.id,
        e.user_id,
        e.from_status or "",
        e.to_status,
        e.route,
        e.actor_id or "",
        e.actor_name,
        e.reason_code or "",
        e.note or "",
        e.request_id or "",
        e.batch_id or "",
        _iso(e.at),
        e.outcome,
    )
    payload = "[" + ",".join(map(_json_string, fields)) + "]"
    return hashlib.sha256(payload.encode()).hexdigest()


# What json.dumps(..., ensure_ascii=False) writes for one string, without its overhead.
_json_string: Callable[[str], str] = json.encoder.encode_basestring


@lru_cache(maxsize=64)
def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()  # a batch's entries share one instant
