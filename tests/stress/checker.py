"""After the load: prove the rules held, from the database alone plus what the
driver saw."""

from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select

from roster.adapters.tables import audit_events, user_counts, users
from roster.domain.audit import APPLIED
from roster.services.audit_chain import verify_chain
from tests.stress.driver import Record

UNBLOCK_ROUTES = {"admin_profile", "cli"}


def check(conn: Connection, workspace_id: str, record: Record) -> list[str]:
    """Every violation found, in plain words; an empty list means the rules held."""
    events = conn.execute(
        select(audit_events)
        .where(audit_events.c.workspace_id == workspace_id)
        .order_by(audit_events.c.seq)
    ).all()
    current = {
        r.id: r.status
        for r in conn.execute(
            select(users.c.id, users.c.status).where(users.c.workspace_id == workspace_id)
        )
    }
    chain = verify_chain(conn, workspace_id)
    violations = [
        *_blocks_and_replay(events, current),
        *_counters(conn, workspace_id, current),
        *_agreement(events, record),
    ]
    if not chain.ok:
        violations.append(f"audit chain broken at {chain.broken_seq}: {chain.reason}")
    return violations


def _blocks_and_replay(events: Sequence[Any], current: dict[str, str]) -> list[str]:
    violations, replayed = [], {}
    for e in events:
        if e.outcome != APPLIED:
            continue
        if (
            e.from_status == "blocked"
            and e.to_status != "blocked"
            and e.route not in UNBLOCK_ROUTES
        ):
            violations.append(f"event {e.seq}: route {e.route} lifted a block")
        replayed[e.user_id] = e.to_status
    violations += [
        f"user {uid}: status {status} but the audit replays {replayed.get(uid)}"
        for uid, status in current.items()
        if replayed.get(uid) != status
    ]
    return violations


def _counters(conn: Connection, workspace_id: str, current: dict[str, str]) -> list[str]:
    counts = conn.execute(
        select(user_counts).where(user_counts.c.workspace_id == workspace_id)
    ).one()
    real = Counter(current.values())
    return [
        f"counter {s} is {getattr(counts, s)}, users say {real[s]}"
        for s in ("active", "inactive", "blocked")
        if getattr(counts, s) != real[s]
    ]


def _agreement(events: Sequence[Any], record: Record) -> list[str]:
    """Every change the driver saw applied, and every refusal it was told of, is in
    the audit log. A request that got no answer (a killed server, a restarting
    database) may or may not have landed: the audit may hold up to that many more."""
    applied: Counter[str] = Counter(
        e.route for e in events if e.outcome == APPLIED and e.from_status is not None
    )
    refused: Counter[tuple[str, str]] = Counter(
        (e.route, e.outcome) for e in events if e.outcome != APPLIED
    )
    violations = [
        f"{n} changes applied through {route}, {applied[route]} audited"
        for route, n in record.applied.items()
        if not n <= applied[route] <= n + record.uncertain[route]
    ]
    violations += [
        f"{n} refusals {route}/{code} answered, {refused[(route, code)]} audited"
        for (route, code), n in record.refused.items()
        if not n <= refused[(route, code)] <= n + record.uncertain[route]
    ]
    return violations
