"""The audit chain's bytes: the documented JSON array, the same for one entry and for
a batch hashed together."""

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from roster.domain.audit import Attempt, AuditEntry, chain_attempts, chain_hash
from roster.domain.vocabulary import ReasonCode, Route, Status

text = st.text(max_size=12)
entries = st.builds(
    AuditEntry,
    workspace_id=text,
    user_id=text,
    from_status=st.none() | st.sampled_from(Status),
    to_status=st.sampled_from(Status),
    route=st.sampled_from(Route),
    actor_id=st.none() | text,
    actor_name=text,
    reason_code=st.none() | st.sampled_from(ReasonCode),
    note=st.none() | text,
    at=st.sampled_from(
        [
            datetime(2026, 11, 28, tzinfo=UTC),
            datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=2))),
        ]
    ),
    outcome=st.sampled_from(["applied", "user_blocked"]),
    request_id=st.none() | text,
    batch_id=st.none() | text,
    id=text,
    seq=st.integers(1, 10**9),
)


def documented(previous: str, e: AuditEntry) -> str:
    fields = [
        previous,
        e.workspace_id,
        str(e.seq),
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
        e.at.astimezone(UTC).isoformat(),
        e.outcome,
    ]
    payload = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


@given(previous=text, e=entries)
def test_an_entry_hashes_as_the_documented_json_array(previous: str, e: AuditEntry) -> None:
    assert chain_hash(previous, e) == documented(previous, e)


@given(previous=text, batch=st.lists(entries, min_size=1, max_size=6))
def test_a_batch_chains_as_its_entries_one_by_one(previous: str, batch: list[AuditEntry]) -> None:
    entries = [(e.user_id, e.from_status, Attempt.of(e)) for e in batch]
    workspace_id, first = batch[0].workspace_id, batch[0].seq
    expected, head = [], previous
    for seq, e in enumerate(batch, first):
        head = chain_hash(head, replace(e, workspace_id=workspace_id), seq)
        expected.append(head)
    assert chain_attempts(previous, workspace_id, first, [e.id for e in batch], entries) == expected
