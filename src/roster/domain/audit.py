"""Audit entries: one per attempt, applied or refused."""

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from itertools import count
from typing import NamedTuple

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


class Attempt(NamedTuple):
    """What the entries of one kind in a batch share: all but seq, id, user and the
    status they were in. Its fields are in the order `chain_hash` hashes them."""

    to_status: Status
    route: Route
    actor_id: str | None
    actor_name: str
    reason_code: ReasonCode | None
    note: str | None
    request_id: str | None
    batch_id: str | None
    at: datetime
    outcome: str

    @classmethod
    def of(cls, e: AuditEntry) -> "Attempt":
        return cls(
            e.to_status,
            e.route,
            e.actor_id,
            e.actor_name,
            e.reason_code,
            e.note,
            e.request_id,
            e.batch_id,
            e.at,
            e.outcome,
        )

    def entry(
        self, workspace_id: str, user_id: str, from_status: Status | None, entry_id: str
    ) -> AuditEntry:
        return AuditEntry(
            workspace_id=workspace_id,
            user_id=user_id,
            from_status=from_status,
            to_status=self.to_status,
            route=self.route,
            actor_id=self.actor_id,
            actor_name=self.actor_name,
            reason_code=self.reason_code,
            note=self.note,
            at=self.at,
            outcome=self.outcome,
            request_id=self.request_id,
            batch_id=self.batch_id,
            id=entry_id,
        )


def chain_hash(previous: str, e: AuditEntry, seq: int | None = None) -> str:
    """The hash of an entry chained to the one before it in its workspace (`seq`, when
    given, stands for `e.seq`: the log hashes entries as it numbers them).

    Any edit, removal or reordering of an earlier entry changes every later hash,
    so `roster audit verify` can name the first entry that does not match. The hashed
    bytes are the compact JSON array (UTF-8, not ASCII-escaped) of the previous hash,
    workspace, seq, id, user, from status and the `Attempt` fields, each a string.
    """
    number = e.seq if seq is None else seq
    return _digest(
        previous, e.workspace_id, number, e.id, e.user_id, e.from_status, _tail(Attempt.of(e))
    )


def chain_attempts(
    previous: str,
    workspace_id: str,
    first_seq: int,
    ids: Sequence[str],
    entries: Sequence[tuple[str, Status | None, Attempt]],
) -> list[str]:
    """`chain_hash` of each entry, given by its id and (user id, from status,
    attempt), numbered from `first_seq`, each onto the one before: a batch's hashes,
    each attempt (shared by the entries alike) encoded once."""
    j = _json_string
    # The same bytes as `_digest` builds, with what a batch repeats encoded once: the
    # workspace, each attempt's tail and each from-status; a hex digest and a number
    # need no escaping, so the previous hash and seq are only quoted.
    workspace = j(workspace_id)
    tails: dict[int, str] = {}  # by id(): the entries share a few attempt objects
    froms: dict[Status | None, str] = {}
    before = j(previous)
    hashes = []
    sha256 = hashlib.sha256
    for seq, entry_id, (user_id, from_status, attempt) in zip(
        count(first_seq), ids, entries, strict=False
    ):
        tail = tails.get(id(attempt)) or tails.setdefault(id(attempt), _tail(attempt))
        status = froms.get(from_status) or froms.setdefault(from_status, j(from_status or ""))
        payload = f'[{before},{workspace},"{seq}",{j(entry_id)},{j(user_id)},{status},{tail}'
        digest = sha256(payload.encode()).hexdigest()
        hashes.append(digest)
        before = f'"{digest}"'
    return hashes


def _digest(
    previous: str,
    workspace_id: str,
    seq: int,
    entry_id: str,
    user_id: str,
    from_status: Status | None,
    tail: str,
) -> str:
    j = _json_string
    payload = (
        f"[{j(previous)},{j(workspace_id)},{j(str(seq))},{j(entry_id)},{j(user_id)},"
        f"{j(from_status or '')},{tail}"
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _tail(a: Attempt) -> str:
    fields = (
        a.to_status,
        a.route,
        a.actor_id or "",
        a.actor_name,
        a.reason_code or "",
        a.note or "",
        a.request_id or "",
        a.batch_id or "",
        _iso(a.at),
        a.outcome,
    )
    return ",".join(map(_json_string, fields)) + "]"


# What json.dumps(..., ensure_ascii=False) writes for one string, without its overhead.
_json_string: Callable[[str], str] = json.encoder.encode_basestring


@lru_cache(maxsize=64)
def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()  # a batch's entries share one instant
