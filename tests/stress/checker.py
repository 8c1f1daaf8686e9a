"""After the load: prove the rules held, from the database alone plus what the
driver saw."""

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select

from roster.adapters.tables import (
    audit_events,
    automation_outcomes,
    automation_runs,
    bulk_job_targets,
    bulk_jobs,
    bulk_results,
    scim_attributes,
    user_counts,
    users,
)
from roster.domain.audit import APPLIED
from roster.domain.emails import address_key
from roster.services.audit_chain import verify_chain
from tests.stress.driver import Record

UNBLOCK_ROUTES = {"admin_profile", "cli"}


def check(conn: Connection, workspace_id: str, record: Record) -> tuple[list[str], Counter[str]]:
    """Every violation found, in plain words (an empty list means the rules held),
    and what was verified: `operations` (status-change attempts with their audit
    event: applied or refused), `applied`, `refused`, `bulk_jobs`, `runs`."""
    events = conn.execute(  # status events: admin actions change no status
        select(audit_events)
        .where(audit_events.c.workspace_id == workspace_id, audit_events.c.kind == "status")
        .order_by(audit_events.c.seq)
    ).all()
    current = {
        r.id: r.status
        for r in conn.execute(
            select(users.c.id, users.c.status).where(users.c.workspace_id == workspace_id)
        )
    }
    chain = verify_chain(conn, workspace_id)
    jobs = set(
        conn.execute(
            select(bulk_jobs.c.id).where(bulk_jobs.c.workspace_id == workspace_id)
        ).scalars()
    ) | set(
        conn.execute(
            select(automation_runs.c.id).where(automation_runs.c.workspace_id == workspace_id)
        ).scalars()
    )
    # A job's or a run's events are checked against its results; the rest (an
    # invitation's batch id is the invitation) against what the driver was told.
    batched: dict[str, list[Any]] = defaultdict(list)
    for e in events:
        if e.batch_id in jobs:
            batched[e.batch_id].append(e)
    violations = [
        *_blocks_and_replay(events, current),
        *_counters(conn, workspace_id, current),
        *_blocked_addresses(conn, workspace_id),
        *_agreement([e for e in events if e.batch_id not in jobs], record),
        *_confirmations(events, record),
        *_bulk_jobs(conn, workspace_id, batched, record),
        *_runs(conn, workspace_id, batched, record),
    ]
    if not chain.ok:
        violations.append(f"audit chain broken at {chain.broken_seq}: {chain.reason}")
    attempts = [e for e in events if e.from_status is not None]
    stats = Counter(
        operations=len(attempts),
        applied=sum(e.outcome == APPLIED for e in attempts),
        refused=sum(e.outcome != APPLIED for e in attempts),
        batched=sum(len(v) for v in batched.values()),
    )
    for e in attempts:
        stats[f"route:{e.route}"] += 1
        stats["user_blocked"] += e.outcome == "user_blocked"
    return violations, stats


def _blocks_and_replay(events: Sequence[Any], current: dict[str, str]) -> list[str]:
    violations: list[str] = []
    replayed: dict[str, str] = {}
    for e in events:
        if e.outcome != APPLIED:
            continue
        if (
            e.from_status == "blocked"
            and e.to_status != "blocked"
            and e.route not in UNBLOCK_ROUTES
        ):
            violations.append(f"event {e.seq}: route {e.route} lifted a block")
        if e.from_status is not None and replayed.get(e.user_id) != e.from_status:
            violations.append(
                f"event {e.seq}: {e.user_id} changed from {e.from_status}, "
                f"but the audit before it says {replayed.get(e.user_id)}"
            )
        replayed[e.user_id] = e.to_status
    violations += [
        f"user {uid}: status {status} but the audit replays {replayed.get(uid)}"
        for uid, status in current.items()
        if replayed.get(uid) != status
    ]
    return violations


def _blocked_addresses(conn: Connection, workspace_id: str) -> list[str]:
    """No Active user shares a Blocked user's normalised address: each user's
    addresses are their email's key and their SCIM userName key."""
    a = scim_attributes.c
    rows = conn.execute(
        select(users.c.id, users.c.email, users.c.status, a.user_name_key)
        .outerjoin(
            scim_attributes, (a.workspace_id == users.c.workspace_id) & (a.user_id == users.c.id)
        )
        .where(users.c.workspace_id == workspace_id)
    ).all()
    holders: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for r in rows:
        for key in {address_key(r.email), r.user_name_key} - {None}:
            holders[key][r.status].add(r.id)
    return [
        f"address {key}: Active {sorted(by['active'])} beside Blocked {sorted(by['blocked'])}"
        for key, by in holders.items()
        if by["active"] and by["blocked"]
    ]


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
    """Single changes (no batch): every change the driver saw applied, and every
    refusal it was told of, is in the audit log. A request that got no answer (a
    killed server, a restarting database) may or may not have landed, and a 2xx
    that does not say whether it changed anything (SCIM, sign-in, invitation) may
    have been a no-op: the audit may hold up to that many more, never fewer."""
    applied: Counter[str] = Counter(
        e.route for e in events if e.outcome == APPLIED and e.from_status is not None
    )
    refused: Counter[str] = Counter(e.route for e in events if e.outcome != APPLIED)
    told: Counter[str] = Counter()
    for (route, _code), n in record.refused.items():
        told[route] += n
    violations = []
    for route in set(applied) | set(record.applied) | set(record.maybe_applied):
        low = record.applied[route]
        high = low + record.maybe_applied[route] + record.uncertain[route]
        if not low <= applied[route] <= high:
            violations.append(
                f"{route}: {low}..{high} changes answered applied, {applied[route]} audited"
            )
    for route in set(refused) | set(told):
        if not told[route] <= refused[route] <= told[route] + record.uncertain[route]:
            violations.append(
                f"{route}: {told[route]} refusals answered, {refused[route]} audited"
                f" ({record.uncertain[route]} requests unanswered)"
            )
    return violations


def _confirmations(events: Sequence[Any], record: Record) -> list[str]:
    """Every wrong password confirming a lift on the profile is a refused attempt
    (`password_mismatch`) in the user's history; none lifted a block (the replay)."""
    audited = sum(e.outcome == "password_mismatch" for e in events)
    told = record.refused[("admin_profile", "password_mismatch")]
    if told <= audited <= told + record.uncertain["admin_profile"]:
        return []
    return [f"{told} wrong confirmations answered, {audited} audited as password_mismatch"]


def _against_audit(
    kind: str, batch: str, results: dict[str, tuple[str, str | None]], events: Sequence[Any]
) -> list[str]:
    """A batch's per-user results and its audit events say the same, one each."""
    violations = []
    seen: Counter[str] = Counter(e.user_id for e in events)
    violations += [f"{kind} {batch}: {uid} audited {n} times" for uid, n in seen.items() if n > 1]
    audited = {e.user_id: e.outcome for e in events}
    for uid, (result, code) in results.items():
        expected = APPLIED if result == "applied" else code if result == "refused" else None
        if audited.get(uid) != expected:
            violations.append(
                f"{kind} {batch}: {uid} result {result}/{code}, audit {audited.get(uid)}"
            )
    violations += [
        f"{kind} {batch}: {uid} audited without a result" for uid in audited if uid not in results
    ]
    return violations


def _bulk_jobs(
    conn: Connection, workspace_id: str, batched: dict[str, list[Any]], record: Record
) -> list[str]:
    """Every job the API accepted is done; each target has exactly one result; the
    counts, the results and the audit events agree."""
    jobs = {
        j.id: j
        for j in conn.execute(select(bulk_jobs).where(bulk_jobs.c.workspace_id == workspace_id))
    }
    violations = [f"bulk job {j} accepted but not stored" for j in record.jobs if j not in jobs]
    targets: dict[str, set[str]] = defaultdict(set)
    for t in conn.execute(
        select(bulk_job_targets.c.job_id, bulk_job_targets.c.user_id).where(
            bulk_job_targets.c.workspace_id == workspace_id
        )
    ):
        targets[t.job_id].add(t.user_id)
    results: dict[str, dict[str, tuple[str, str | None]]] = defaultdict(dict)
    for r in conn.execute(select(bulk_results).where(bulk_results.c.workspace_id == workspace_id)):
        results[r.job_id][r.user_id] = (r.outcome, r.code)
    for job in jobs.values():
        mine = results[job.id]
        if job.state != "done":
            violations.append(f"bulk job {job.id} is {job.state} ({job.error})")
        if set(mine) != targets[job.id]:
            violations.append(
                f"bulk job {job.id}: {len(targets[job.id])} targets, {len(mine)} results"
            )
        tally = Counter(outcome for outcome, _ in mine.values())
        for name in ("applied", "unchanged", "refused"):
            if getattr(job, name) != tally[name]:
                violations.append(
                    f"bulk job {job.id}: counts {name}={getattr(job, name)}, results {tally[name]}"
                )
        if job.processed != len(mine):
            violations.append(f"bulk job {job.id}: processed {job.processed}, {len(mine)} results")
        violations += _against_audit("bulk job", job.id, mine, batched.get(job.id, []))
    return violations


def _runs(
    conn: Connection, workspace_id: str, batched: dict[str, list[Any]], record: Record
) -> list[str]:
    """Every automation run finished (none left running or failed), one outcome per
    matched user, counts and audit events agreeing with the outcomes."""
    runs = {
        r.id: r
        for r in conn.execute(
            select(automation_runs).where(automation_runs.c.workspace_id == workspace_id)
        )
    }
    violations = [f"run {r} answered but not stored" for r in record.runs if r not in runs]
    outcomes: dict[str, dict[str, tuple[str, str | None]]] = defaultdict(dict)
    for o in conn.execute(
        select(automation_outcomes).where(automation_outcomes.c.workspace_id == workspace_id)
    ):
        outcomes[o.run_id][o.user_id] = (o.result, o.code)
    for run in runs.values():
        mine = outcomes[run.id]
        if run.state not in ("succeeded", "stopped"):
            violations.append(f"run {run.id} is {run.state} ({run.reason})")
        tally = Counter(result for result, _ in mine.values())
        if run.matched != len(mine) and run.state == "succeeded":
            violations.append(f"run {run.id}: matched {run.matched}, {len(mine)} outcomes")
        for name in ("applied", "unchanged", "refused"):
            if getattr(run, name) != tally[name]:
                violations.append(
                    f"run {run.id}: counts {name}={getattr(run, name)}, outcomes {tally[name]}"
                )
        if not run.dry_run:
            violations += _against_audit("run", run.id, mine, batched.get(run.id, []))
    return violations
