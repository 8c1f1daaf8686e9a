"""Automations: saving rules, running them, and reacting to events (PRODUCT §8).

A rule never writes a status itself: its changes go through `apply_changes` on route
`automation`, so the domain decides each user, and a Blocked user comes back as the
outcome `refused: user_blocked` (audited) while the run itself succeeds.

Scheduled and manual runs are jobs of the one job runner (services/jobs.py): users
in id order, one chunk per transaction, a lease that a dead runner's successor
takes over; this module says which users a rule selects and what a run records.
Event runs happen inside the dispatcher's transaction that also moves the event
cursor, so an event is acted on exactly once.
"""

import secrets
from base64 import b64encode
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import Connection, Engine, Row

from roster.adapters import automation_store as store
from roster.adapters.database import database_away
from roster.adapters.job_leases import AUTOMATION_RUNS, SqlJobLeases
from roster.adapters.outbox import SqlOutbox
from roster.adapters.unit_of_work import SqlUnitOfWork
from roster.domain import errors
from roster.domain.audit import AuditKind, admin_action, changed_fields
from roster.domain.emails import normalize_email
from roster.domain.ids import new_id
from roster.domain.jobs import JobRef, Lease, ResultRow
from roster.domain.rules.definition import MAX_DEPTH
from roster.domain.rules.match import event_matches, user_filter
from roster.domain.rules.parse import EVENT_NAME, check_destination, parse_rule
from roster.domain.rules.runs import Rule, Run, Subject
from roster.domain.rules.schedule import next_run
from roster.domain.users import Actor, Target, decide
from roster.domain.vocabulary import Role, Route, Status
from roster.domain.workspaces import UserCounts, Workspace
from roster.services import jobs
from roster.services.ports import Leases
from roster.services.status import Outcome, apply_changes

Clock = Callable[[], datetime]

EVENT_BATCH = 200
AUDIT_TOPICS = ("user.created", "user.status_changed")


def actor_of(rule: Rule) -> Actor:
    return Actor(id=rule.id, name=f"automation: {rule.definition.name}"[:200])


# ----------------------------------------------------------------- rules


def create_rule(
    engine: Engine,
    *,
    workspace_id: str,
    data: Any,
    created_by: Actor,
    route: Route,
    now: datetime,
    allow_private_webhooks: bool = False,
    request_id: str | None = None,
) -> Rule:
    """Save a new rule from its JSON shape (`RuleInvalid` names a wrong field).

    A personal rule belongs to the admin who made it and stops when they leave Active.
    A webhook's address must be public unless `allow_private_webhooks` (the setting).
    """
    definition = parse_rule(data)
    check_destination(definition.action, allow_private=allow_private_webhooks)
    if definition.personal and created_by.user_id is None:
        raise errors.InvalidInput("personal: only a signed-in admin can own a personal rule.")
    with SqlUnitOfWork(engine) as uow:
        workspace = _workspace(uow, workspace_id)
        rule = Rule(
            id=new_id("rule"),
            workspace_id=workspace_id,
            definition=definition,
            created_by=created_by.name,
            created_at=now,
            updated_at=now,
            owner_user_id=created_by.user_id if definition.personal else None,
            webhook_secret=_secret() if definition.action.kind == "webhook" else None,
        )
        rule = _scheduled(rule, workspace, now)
        store.insert_rule(uow.conn, rule)
        _watch_events(uow.conn, rule)
        _audit(uow, None, rule, route, created_by, now, request_id)
        uow.commit()
        return rule


def update_rule(
    engine: Engine,
    *,
    workspace_id: str,
    rule_id: str,
    data: Any,
    route: Route,
    actor: Actor,
    now: datetime,
    allow_private_webhooks: bool = False,
    request_id: str | None = None,
) -> Rule:
    """Replace a rule's definition; its schedule restarts from now. A webhook address
    is judged when it changes (as `create_rule` does); a kept one at each delivery."""
    definition = parse_rule(data)
    with SqlUnitOfWork(engine) as uow:
        workspace = _workspace(uow, workspace_id)
        rule = before = _rule(uow.conn, workspace_id, rule_id)
        if definition.action.url != rule.definition.action.url:
            check_destination(definition.action, allow_private=allow_private_webhooks)
        secret = rule.webhook_secret or (_secret() if definition.action.kind == "webhook" else None)
        rule = replace(
            rule,
            definition=replace(definition, personal=rule.owner_user_id is not None),
            updated_at=now,
            webhook_secret=secret,
            disabled_reason=None if definition.enabled else rule.disabled_reason,
        )
        rule = _scheduled(rule, workspace, now)
        store.save_rule(uow.conn, rule)
        _watch_events(uow.conn, rule)
        _audit(uow, before, rule, route, actor, now, request_id)
        uow.commit()
        return rule


def set_enabled(
    engine: Engine,
    *,
    workspace_id: str,
    rule_id: str,
    enabled: bool,
    route: Route,
    actor: Actor,
    now: datetime,
    request_id: str | None = None,
) -> Rule:
    with SqlUnitOfWork(engine) as uow:
        rule = _rule(uow.conn, workspace_id, rule_id)
        data = rule.definition.as_json() | {"enabled": enabled}
    return update_rule(
        engine,
        workspace_id=workspace_id,
        rule_id=rule_id,
        data=data,
        route=route,
        actor=actor,
        now=now,
        request_id=request_id,
    )


def delete_rule(
    engine: Engine,
    *,
    workspace_id: str,
    rule_id: str,
    route: Route,
    actor: Actor,
    now: datetime,
    request_id: str | None = None,
) -> None:
    with SqlUnitOfWork(engine) as uow:
        rule = _rule(uow.conn, workspace_id, rule_id)
        store.delete_rule(uow.conn, workspace_id, rule_id)
        _audit(uow, rule, None, route, actor, now, request_id)
        uow.commit()


def _audit(
    uow: SqlUnitOfWork,
    before: Rule | None,
    after: Rule | None,
    route: Route,
    actor: Actor,
    now: datetime,
    request_id: str | None,
) -> None:
    """`automation.changed` with each field of the definition that changed: all of
    them from None when made, to None when deleted (the signing secret never)."""
    changes = changed_fields(
        before.definition.as_json() if before else {}, after.definition.as_json() if after else {}
    )
    rule = after or before
    if not changes or rule is None:
        return
    entry = admin_action(
        AuditKind.AUTOMATION_CHANGED,
        changes,
        workspace_id=rule.workspace_id,
        route=route,
        actor=actor,
        at=now,
        entry_id=new_id("evt"),
        request_id=request_id,
        note=rule.id,
    )
    uow.audit.append([entry])


def _secret() -> str:
    """A Standard Webhooks signing secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + b64encode(secrets.token_bytes(32)).decode()


def _scheduled(rule: Rule, workspace: Workspace, now: datetime) -> Rule:
    due = next_run(rule.definition.trigger, now, workspace.timezone) if rule.enabled else None
    return replace(rule, next_run_at=due)


def _watch_events(conn: Connection, rule: Rule) -> None:
    if rule.enabled and rule.definition.trigger.event in AUDIT_TOPICS:
        store.ensure_cursor(conn, rule.workspace_id)


def _workspace(uow: SqlUnitOfWork, workspace_id: str) -> Workspace:
    workspace = uow.workspaces.get(workspace_id)
    if workspace is None:
        raise errors.NotFound("No such workspace.")
    return workspace


def _rule(conn: Connection, workspace_id: str, rule_id: str) -> Rule:
    rule = store.get_rule(conn, workspace_id, rule_id)
    if rule is None:
        raise errors.NotFound("No such automation in this workspace.")
    return rule


# ----------------------------------------------------------------- runs


def start_run(
    engine: Engine,
    *,
    workspace_id: str,
    rule_id: str,
    dry_run: bool,
    clock: Clock,
    tuning: jobs.Tuning,
) -> Run:
    """Run a rule now over every user it selects, to the end, and return the run.

    A dry run records what would happen (outcomes and counts) and changes nothing.
    An event rule acts when its event arrives; it can only be dry-run by hand, which
    judges its user conditions over everyone.
    """
    now = clock()
    with SqlUnitOfWork(engine) as uow:
        rule = _rule(uow.conn, workspace_id, rule_id)
        if rule.definition.trigger.kind == "event" and not dry_run:
            raise errors.InvalidInput(
                "An event rule runs when its event arrives (POST /api/v1/events); "
                "it can only be dry-run by hand."
            )
        run = _new_run(rule, "manual", dry_run, now, depth=0)
        run = replace(run, holder=jobs.this_process(), lease_until=now + tuning.lease)
        store.insert_run(uow.conn, run)
        uow.commit()
    return execute(engine, run, clock, tuning)


def _new_run(
    rule: Rule,
    trigger: str,
    dry_run: bool,
    now: datetime,
    *,
    depth: int,
    event: str | None = None,
    event_id: str | None = None,
) -> Run:
    return Run(
        id=new_id("run"),
        workspace_id=rule.workspace_id,
        rule_id=rule.id,
        trigger=trigger,
        dry_run=dry_run,
        state="running",
        depth=depth,
        started_at=now,
        event=event,
        event_id=event_id,
    )


def execute(engine: Engine, run: Run, clock: Clock, tuning: jobs.Tuning) -> Run:
    """Do the remaining chunks of a run this process holds, and return the run as
    they left it. A chunk that fails rolls back alone and marks the run failed with
    the reason; chunks before it stay, with outcomes."""
    assert run.holder is not None
    assert run.lease_until is not None
    ref = JobRef(run.workspace_id, run.id)
    runner = jobs.Runner(partial(SqlUnitOfWork, engine), Runs(), run.holder, clock, tuning)
    runner.run(Lease(ref, run.holder, run.lease_until))
    return _run(engine, ref)


def _run(engine: Engine, ref: JobRef) -> Run:
    with engine.connect() as conn:
        return _run_in(conn, ref)


def _run_in(conn: Connection, ref: JobRef) -> Run:
    run = store.get_run(conn, ref.workspace_id, ref.job_id)
    assert run is not None
    return run


class Runs(jobs.Kind[SqlUnitOfWork, tuple[Run, Rule], Subject]):
    """Automation runs for the job runner: the users after the cursor that the
    rule's user conditions select (as of the run's start, so a resumed run and its
    dry run select exactly the same users; an event rule dry-run by hand leaves its
    event.data conditions out), acted on, one outcome row each."""

    def __init__(self) -> None:
        # A dry run's running headcount, carried from chunk to chunk as the real
        # run's counter would carry it (a dry run taken over starts it afresh).
        self.simulated: dict[str, UserCounts] = {}

    def leases(self, uow: SqlUnitOfWork) -> Leases:
        return SqlJobLeases(uow.conn, AUTOMATION_RUNS)

    def load(self, uow: SqlUnitOfWork, ref: JobRef) -> tuple[Run, Rule]:
        run = _run_in(uow.conn, ref)
        return run, _rule(uow.conn, run.workspace_id, run.rule_id)

    def next_targets(
        self, uow: SqlUnitOfWork, job: tuple[Run, Rule], after: str | None, size: int
    ) -> jobs.Targets[Subject]:
        run, rule = job
        if not run.dry_run:
            uow.counts.lock(run.workspace_id)  # the workspace lock first, as everywhere
        chosen = store.candidates(
            uow.conn,
            run.workspace_id,
            user_filter(rule.definition.conditions, run.started_at),
            after=after,
            limit=size,
            lock=not run.dry_run,
        )
        return jobs.Targets(
            chosen,
            chosen[-1].user_id if chosen else None,
            len(chosen) == size,
            {u.user_id: (u.status, u.role) for u in chosen},
        )

    def act(
        self,
        uow: SqlUnitOfWork,
        job: tuple[Run, Rule],
        targets: jobs.Targets[Subject],
        now: datetime,
    ) -> None:
        run, rule = job
        if run.dry_run:
            workspace = _workspace(uow, run.workspace_id)
            running = self.simulated.get(run.id) or uow.counts.lock(run.workspace_id)
            outcomes, self.simulated[run.id] = simulate(rule, workspace, targets.items, running)
        else:
            outcomes = act(uow, rule, run, targets.items, now, locked=targets.known)
        _record(uow.conn, rule, run, outcomes)


def _record(conn: Connection, rule: Rule, run: Run, outcomes: Sequence[Outcome]) -> None:
    to = rule.definition.action.status
    store.add_counts(conn, run, counts(outcomes, to))
    store.insert_outcomes(conn, run.workspace_id, run.id, outcomes, to)


def counts(outcomes: Iterable[Outcome], to: Status | None) -> dict[str, int]:
    """A run's counts of `outcomes`; `to`, the status the rule sets (None: a webhook,
    which changes no status)."""
    out = {"matched": 0, "applied": 0, "unchanged": 0, "refused": 0, "active_delta": 0}
    for o in outcomes:
        out["matched"] += 1
        out[o.result] += 1
        if o.result == "applied" and to is not None and o.from_status != to:
            out["active_delta"] += int(to == Status.ACTIVE) - int(o.from_status == Status.ACTIVE)
    return out


def act(
    uow: SqlUnitOfWork,
    rule: Rule,
    run: Run,
    users: Sequence[Subject],
    now: datetime,
    event: Mapping[str, Any] | None = None,
    *,
    locked: Mapping[str, tuple[Status, Role]] | None = None,
) -> list[Outcome]:
    """Do the rule's action for these users inside the caller's transaction.

    `locked`: the users' status and role as read with their rows locked in this
    transaction, after the workspace's counter row, so the change need not read
    and lock them again."""
    action = rule.definition.action
    if not users:
        return []
    if action.kind == "webhook":
        return _queue_webhooks(uow, rule, run, users, now, event)
    assert action.status is not None
    outcomes, _ = apply_changes(
        uow,
        workspace_id=rule.workspace_id,
        targets=[(u.user_id, action.status) for u in users],
        route=Route.AUTOMATION,
        actor=actor_of(rule),
        reason_code=action.reason_code,
        note=action.note,
        now=now,
        batch_id=run.id,
        locked=locked,
    )
    return outcomes


def simulate(
    rule: Rule, workspace: Workspace, users: Sequence[Subject], running: UserCounts
) -> tuple[list[Outcome], UserCounts]:
    """What `act` would do, decided by the same domain call (`decide`, as
    `apply_changes` decides), writing nothing. `running` carries the headcount from
    chunk to chunk, as the real run's lock would."""
    action = rule.definition.action
    if action.kind == "webhook":
        return [Outcome(u.user_id, "applied", None, u.status) for u in users], running
    assert action.status is not None
    asks = [
        Target(u.user_id, u.status, u.role, action.status, action.reason_code, action.note)
        for u in users
    ]
    verdicts, running = decide(
        asks,
        route=Route.AUTOMATION,
        actor=actor_of(rule),
        policy=workspace.policy,
        counts=running,
    )
    return [
        Outcome(a.user_id, v.result, v.refusal.code if v.refusal else None, a.status)
        for a, v in zip(asks, verdicts, strict=True)
    ], running


def _queue_webhooks(
    uow: SqlUnitOfWork,
    rule: Rule,
    run: Run,
    users: Sequence[Subject],
    now: datetime,
    event: Mapping[str, Any] | None,
) -> list[Outcome]:
    """Webhooks leave after commit: here they only become outbox rows."""
    kind = event["type"] if event else "automation.matched"
    SqlOutbox(uow.conn).add(
        rule.workspace_id,
        store.WEBHOOK_TOPIC,
        (
            {
                "url": rule.definition.action.url,
                "rule_id": rule.id,
                "run_id": run.id,
                "type": kind,
                "data": {
                    "rule": {"id": rule.id, "name": rule.definition.name},
                    "user": {
                        "id": u.user_id,
                        "email": u.email,
                        "status": u.status.value,
                        "role": u.role.value,
                    },
                    "event": dict(event) if event else None,
                },
            }
            for u in users
        ),
        now,
    )
    return [Outcome(u.user_id, "applied", None, u.status) for u in users]


# ----------------------------------------------------------------- the scheduler


def run_due(
    engine: Engine, clock: Clock, *, holder: str, tuning: jobs.Tuning, limit: int = 20
) -> list[Run]:
    """Start every due schedule rule (each exactly once across all processes) and
    go on with runs whose runner died. For `roster serve`'s loop and for cron."""
    done: list[Run] = []
    with engine.connect() as conn:
        due = store.due_rules(conn, clock(), limit)
    for workspace_id, rule_id, seen in due:
        run = _claim(engine, workspace_id, rule_id, seen, holder, clock, tuning)
        if run is not None:
            done.append(execute(engine, run, clock, tuning))
    runner = jobs.Runner(partial(SqlUnitOfWork, engine), Runs(), holder, clock, tuning)
    resumed = runner.run_pending(limit=limit)
    return done + [_run(engine, ref) for ref in resumed]


def _claim(
    engine: Engine,
    workspace_id: str,
    rule_id: str,
    seen: datetime,
    holder: str,
    clock: Clock,
    tuning: jobs.Tuning,
) -> Run | None:
    """Win the due rule (compare-and-set on next_run_at) and open its run, leased to
    `holder`, together."""
    now = clock()
    with SqlUnitOfWork(engine) as uow:
        rule = store.get_rule(uow.conn, workspace_id, rule_id)
        workspace = uow.workspaces.get(workspace_id)
        if rule is None or workspace is None:
            return None
        following = next_run(rule.definition.trigger, now, workspace.timezone)
        if not store.claim_due(uow.conn, workspace_id, rule_id, seen, following):
            return None
        run = _new_run(rule, "schedule", False, now, depth=0)
        run = replace(run, holder=holder, lease_until=now + tuning.lease)
        store.insert_run(uow.conn, run)
        uow.commit()
        return run


def dry_run_all(
    engine: Engine, *, workspace_id: str, clock: Clock, tuning: jobs.Tuning
) -> list[Run]:
    """Dry-run every enabled schedule rule of a workspace (`roster automations run
    --dry-run`)."""
    with engine.connect() as conn:
        rules = store.list_rules(conn, workspace_id)
    dry_run = partial(start_run, engine, workspace_id=workspace_id, dry_run=True, clock=clock)
    return [
        dry_run(rule_id=r.id, tuning=tuning)
        for r in rules
        if r.enabled and r.definition.trigger.kind == "schedule"
    ]


# ----------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    type: str
    user_id: str
    data: Mapping[str, Any]
    depth: int


def post_event(
    engine: Engine,
    *,
    workspace_id: str,
    type: str,
    user_id: str | None,
    email: str | None,
    data: Mapping[str, Any],
    now: datetime,
) -> str:
    """Record an external event (`payment.failed`, …) about one user, for the event
    rules to act on after commit; returns the event's id."""
    if not isinstance(type, str) or not EVENT_NAME.match(type) or type.startswith("user."):
        raise errors.InvalidInput(
            "type: name an event such as payment.failed; user.* events are Roster's own."
        )
    if (user_id is None) == (email is None):
        raise errors.InvalidInput("Name the user by user_id or by email (one of them).")
    with SqlUnitOfWork(engine) as uow:
        user = (
            uow.users.get(workspace_id, user_id)
            if user_id is not None
            else uow.users.get_by_email(workspace_id, normalize_email(email or ""))
        )
        if user is None:
            raise errors.NotFound("No such user in this workspace.")
        event_id = new_id("msg")
        payload = {"event_id": event_id, "user_id": user.id, "data": dict(data)}
        SqlOutbox(uow.conn).add(workspace_id, type, [payload], now)
        uow.commit()
        return event_id


def dispatch(engine: Engine, clock: Clock, *, limit: int = 20) -> list[Run]:
    """Act on the events waiting in every workspace (a `roster serve` tick)."""
    with engine.connect() as conn:
        workspaces = store.workspaces_with_events(conn, limit)
    return [run for w in workspaces for run in dispatch_workspace(engine, w, clock)]


def dispatch_workspace(engine: Engine, workspace_id: str, clock: Clock) -> list[Run]:
    """One transaction: the next events of a workspace, each matched against its
    enabled event rules, acted on, and marked done. A rule's failure is its run's
    (rolled back to a savepoint and recorded), never the other rules'."""
    now = clock()
    with SqlUnitOfWork(engine) as uow:
        conn = uow.conn
        seq = store.lock_cursor(conn, workspace_id)
        audited = (
            store.applied_events_after(conn, workspace_id, seq, EVENT_BATCH)
            if seq is not None
            else []
        )
        queued = store.pending_events(conn, workspace_id, EVENT_BATCH)
        events = [_audit_event(conn, workspace_id, r) for r in audited]
        events += [_queued_event(r) for r in queued]
        rules = store.event_rules(conn, workspace_id, {e.type for e in events})
        workspace = _workspace(uow, workspace_id)
        runs = [
            run
            for e in events
            for rule in rules
            if rule.definition.trigger.event == e.type
            and (run := _event_run(uow, rule, workspace, e, now)) is not None
        ]
        if audited:
            store.set_cursor(conn, workspace_id, audited[-1].seq)
        store.mark_sent(conn, workspace_id, [r.id for r in queued], now)
        uow.commit()
        return runs


def _audit_event(conn: Connection, workspace_id: str, r: Row[Any]) -> Event:
    parent = store.run_depth(conn, workspace_id, r.batch_id)
    if r.from_status is None:
        kind, data = "user.created", {"status": r.to_status, "route": r.route}
    else:
        kind = "user.status_changed"
        data = {
            "from": r.from_status,
            "to": r.to_status,
            "route": r.route,
            "reason_code": r.reason_code,
        }
    return Event(r.id, kind, r.user_id, data, 0 if parent is None else parent + 1)


def _queued_event(r: Row[Any]) -> Event:
    p = r.payload
    return Event(p.get("event_id") or r.id, r.topic, p["user_id"], p.get("data") or {}, 0)


def _event_run(
    uow: SqlUnitOfWork, rule: Rule, workspace: Workspace, e: Event, now: datetime
) -> Run | None:
    """The rule's run for one event, or None when its conditions do not hold."""
    conn = uow.conn
    conditions = rule.definition.conditions
    if not event_matches(conditions, e.data):
        return None
    subject = store.subject(conn, workspace.id, e.user_id, user_filter(conditions, now))
    if subject is None:
        return None
    run = _new_run(rule, "event", False, now, depth=e.depth, event=e.type, event_id=e.id)
    if e.depth >= MAX_DEPTH:
        stopped = replace(
            run,
            state="stopped",
            finished_at=now,
            reason=f"loop protection: {MAX_DEPTH} event rules in a row; the chain stops here.",
        )
        store.insert_run(conn, stopped)
        return stopped
    store.insert_run(conn, run)
    savepoint = conn.begin_nested()
    try:
        event = {"type": e.type, "id": e.id, "data": dict(e.data)}
        _record(conn, rule, run, act(uow, rule, run, [subject], now, event))
        savepoint.commit()
    except Exception as crash:
        if database_away(crash):
            raise  # nothing is committed: the event is acted on when the database is back
        savepoint.rollback()
        store.end_run(conn, run, "failed", jobs.reason(crash), now)
        return _run_in(conn, JobRef(run.workspace_id, run.id))
    store.end_run(conn, run, "succeeded", None, now)
    return _run_in(conn, JobRef(run.workspace_id, run.id))


# ----------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class RunView:
    run: Run
    refused_by_code: dict[str, int]


def read_run(conn: Connection, workspace_id: str, rule_id: str, run_id: str) -> RunView:
    run = store.get_run(conn, workspace_id, run_id)
    if run is None or run.rule_id != rule_id:
        raise errors.NotFound("No such run of this automation.")
    return RunView(run, store.refused_by_code(conn, workspace_id, run_id))


def get_rule(conn: Connection, workspace_id: str, rule_id: str) -> Rule:
    return _rule(conn, workspace_id, rule_id)


def list_rules(conn: Connection, workspace_id: str) -> list[Rule]:
    return store.list_rules(conn, workspace_id)


def list_runs(
    conn: Connection, workspace_id: str, rule_id: str, *, limit: int = 50, before: str | None
) -> list[Run]:
    _rule(conn, workspace_id, rule_id)
    return store.list_runs(conn, workspace_id, rule_id, limit=limit, before=before)


def list_outcomes(
    conn: Connection, workspace_id: str, rule_id: str, run_id: str, *, after: str | None, limit: int
) -> list[ResultRow]:
    read_run(conn, workspace_id, rule_id, run_id)
    return store.list_outcomes(conn, workspace_id, run_id, after=after, limit=limit)


def runs_for_user(
    conn: Connection, workspace_id: str, user_id: str, limit: int = 20
) -> list[tuple[Run, ResultRow, str]]:
    """The automation runs that touched a user, newest first: for their profile."""
    return store.runs_for_user(conn, workspace_id, user_id, limit)
