"""The audit chain's bytes: the documented JSON array; admin actions add their kind
and changes, so status entries hash as they did before kinds existed."""

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from roster.domain.audit import AuditEntry, AuditKind, ChainHead, chain_hash, extend
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
    expected, head = [], previous
    for seq, e in enumerate(batch, 8):
        head = chain_hash(head, e, seq)
        expected.append(ChainHead(seq, head))
    assert [link for _, link in extend(ChainHead(7, previous), batch)] == expected


changes = st.dictionaries(text, st.lists(st.none() | text | st.booleans(), min_size=2, max_size=2))


@given(previous=text, e=entries, kind=st.sampled_from(AuditKind), changed=changes)
def test_an_admin_action_hashes_its_kind_and_changes_too(
    previous: str, e: AuditEntry, kind: AuditKind, changed: dict[str, list[object]]
) -> None:
    action = replace(e, kind=kind, changes=changed)
    sorted_changes = json.dumps(changed, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    fields = [*json.loads(_payload(previous, action)), kind.value, sorted_changes]
    payload = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    assert chain_hash(previous, action) == hashlib.sha256(payload.encode()).hexdigest()


def test_a_changed_kind_or_change_changes_the_hash() -> None:
    e = replace(
        _example(), kind=AuditKind.SETTINGS_CHANGED, changes={"allow_api_unblock": [False, True]}
    )
    assert chain_hash("", e) != chain_hash("", replace(e, kind=AuditKind.STATUS))
    assert chain_hash("", e) != chain_hash(
        "", replace(e, changes={"allow_api_unblock": [True, False]})
    )
    assert chain_hash("", e) != chain_hash("", replace(e, kind=AuditKind.STATUS, changes=None))


def _payload(previous: str, e: AuditEntry) -> str:
    """The documented array of a status entry (what `documented` hashes)."""
    fields = [
        previous, e.workspace_id, str(e.seq), e.id, e.user_id or "", e.from_status or "",
        e.to_status or "", e.route, e.actor_id or "", e.actor_name, e.reason_code or "",
        e.note or "", e.request_id or "", e.batch_id or "", e.at.astimezone(UTC).isoformat(),
        e.outcome,
    ]  # fmt: skip
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":"))


def _example() -> AuditEntry:
    return AuditEntry(
        workspace_id="ws_1", user_id=None, from_status=None, to_status=None,
        route=Route.ADMIN_API, actor_id="usr_1", actor_name="Ada", reason_code=None,
        note=None, at=datetime(2026, 12, 7, tzinfo=UTC), outcome="applied", id="evt_1", seq=1,
    )  # fmt: skip
