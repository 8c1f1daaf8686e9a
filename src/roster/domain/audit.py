"""Audit entries: one per attempt at a status change, applied or refused, and one per
admin action, all in one hash chain per workspace."""

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any, NamedTuple

from roster.domain.users import Actor
from roster.domain.vocabulary import ReasonCode, Route, Status

APPLIED = "applied"


class AuditKind(StrEnum):
    """What an audit entry records: a status attempt, or which admin action."""

    STATUS = "status"
    SETTINGS_CHANGED = "workspace.settings_changed"
    ROLE_CHANGED = "user.role_changed"
    CREDENTIAL_CREATED = "credential.created"
    CREDENTIAL_REVOKED = "credential.revoked"
    AUTOMATION_CHANGED = "automation.changed"
    REVIEW_RECORDED = "user.review_recorded"
    EXPIRY_CHANGED = "user.expiry_changed"
    WEBHOOK_CHANGED = "webhook.changed"  # an endpoint made, changed, re-keyed or deleted


Changes = Mapping[str, Sequence[Any]]
"""An admin action's changed fields: name → [before, after] (None where absent)."""


@dataclass(slots=True)
class AuditEntry:
    """One attempt at a status change or one admin action. (Not frozen: a bulk job
    makes one per user, and a frozen dataclass's __init__ costs three times as much;
    nothing changes an entry once made.)"""

    workspace_id: str
    user_id: str | None  # None: an action on the workspace, not on one user
    from_status: Status | None  # None: the user was created with `to_status`
    to_status: Status | None  # None: an admin action, which changes no status
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
    kind: AuditKind = AuditKind.STATUS
    changes: Changes | None = None


def admin_action(
    kind: AuditKind,
    changes: Changes,
    *,
    workspace_id: str,
    route: Route,
    actor: Actor,
    at: datetime,
    entry_id: str,
    request_id: str | None,
    user_id: str | None = None,
    note: str | None = None,
) -> AuditEntry:
    """The entry of an applied admin action: no status, its `changes` instead. `note`
    names what it acted on (a token, a rule) where `user_id` cannot."""
    return AuditEntry(
        workspace_id=workspace_id,
        user_id=user_id,
        from_status=None,
        to_status=None,
        route=route,
        actor_id=actor.id,
        actor_name=actor.name,
        reason_code=None,
        note=note,
        at=at,
        outcome=APPLIED,
        request_id=request_id,
        id=entry_id,
        kind=kind,
        changes=changes,
    )


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """The fields whose values differ, as `changes` holds them (a field missing on one
    side, as before a creation or after a deletion, is None there)."""
    fields = {**before, **after}
    return {k: [before.get(k), after.get(k)] for k in fields if before.get(k) != after.get(k)}


def replay(entries: Iterable[AuditEntry]) -> dict[str, Status]:
    """Each user's status from their applied status entries, taken in `seq` order."""
    state: dict[str, Status] = {}
    for e in sorted(entries, key=lambda e: e.seq):
        if e.outcome == APPLIED and e.user_id is not None and e.to_status is not None:
            state[e.user_id] = e.to_status
    return state


GENESIS = ""


class ChainHead(NamedTuple):
    """Where a workspace's audit chain ends: the last sequence number handed out and
    the hash of that entry (GENESIS before the first). (A tuple: `extend` makes one
    per entry.)"""

    seq: int = 0
    hash: str = GENESIS


def extend(
    head: ChainHead, entries: Iterable[AuditEntry]
) -> Iterator[tuple[AuditEntry, ChainHead]]:
    """Each entry with its place when appended, in order, after `head`: its seq and
    hash. Lazily: a batch's entries can be made, hashed and written one at a time."""
    for seq, e in enumerate(entries, start=head.seq + 1):
        head = ChainHead(seq, chain_hash(head.hash, e, seq))
        yield e, head


def chain_hash(previous: str, e: AuditEntry, seq: int | None = None) -> str:
    """The hash of an entry chained to the one before it in its workspace (`seq`, when
    given, stands for `e.seq`: the log hashes entries as it numbers them).

    Any edit, removal or reordering of an earlier entry changes every later hash,
    so `roster audit verify` can name the first entry that does not match. The hashed
    bytes are the compact JSON array (UTF-8, not ASCII-escaped) of strings: the
    previous hash, workspace, seq, id, user, from status, to status, route, actor id,
    actor name, reason code, note, request id, batch id, time (ISO 8601, UTC) and
    outcome, absent values as "". An entry that is not a plain status entry (its kind
    is not `status`, or it has changes) adds its kind and its changes (as compact JSON
    with sorted keys), so status entries written before kinds existed still verify.
    """
    own = [
        previous,
        e.workspace_id,
        str(e.seq if seq is None else seq),
        e.id,
        e.user_id or "",
        e.from_status or "",
    ]
    shared = _shared(
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
    payload = "[" + ",".join(map(_json_string, own)) + "," + shared
    if e.kind != AuditKind.STATUS or e.changes is not None:
        payload += "," + _json_string(e.kind) + "," + _json_string(canonical_changes(e.changes))
    return hashlib.sha256((payload + "]").encode()).hexdigest()


@lru_cache(maxsize=64)
def _shared(
    to_status: Status | None,
    route: Route,
    actor_id: str | None,
    actor_name: str,
    reason_code: ReasonCode | None,
    note: str | None,
    request_id: str | None,
    batch_id: str | None,
    at: datetime,
    outcome: str,
) -> str:
    """The hashed JSON of the fields after the from status, which the entries of a
    batch share: encoded once for the batch, not once per entry."""
    fields = [
        to_status or "",
        route,
        actor_id or "",
        actor_name,
        reason_code or "",
        note or "",
        request_id or "",
        batch_id or "",
        at.astimezone(UTC).isoformat(),
        outcome,
    ]
    return ",".join(map(_json_string, fields))


def canonical_changes(changes: Changes | None) -> str:
    """`changes` as the chain hashes it: compact JSON, keys sorted ("" for none)."""
    if changes is None:
        return ""
    return json.dumps(changes, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


# What json.dumps(..., ensure_ascii=False) writes for one string, without its overhead.
_json_string: Callable[[str], str] = json.encoder.encode_basestring
