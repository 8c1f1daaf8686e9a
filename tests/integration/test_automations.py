"""Automation rules on real SQLite and PostgreSQL: runs, dry runs, events, loops."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from roster.adapters.tables import audit_events, automation_rules
from roster.bootstrap import Container
from roster.domain import errors
from roster.domain.rules.definition import MAX_DEPTH, RuleInvalid, dormant_template
from roster.domain.rules.runs import Rule, Run
from roster.domain.users import Actor
from roster.domain.vocabulary import ReasonCode, Role, Route, Status
from roster.services import automations as auto
from roster.services import queries
from roster.services.jobs import Targets, Tuning
from roster.services.status import change_status
from roster.services.users import NewUser, create_user
from tests.conftest import Tenant

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
LATER = T0 + timedelta(days=100)
CLI = Actor(id=None, name="cli:test")
TUNING = Tuning()
ADMIN = Actor(id="usr_admin", name="Ada Admin", user_id=None)


def at(moment: datetime) -> auto.Clock:
    return lambda: moment


def user(
    c: Container,
    t: Tenant,
    email: str,
    *,
    status: Status = Status.ACTIVE,
    seen: datetime | None = T0,
    role: Role = Role.MEMBER,
) -> str:
    reason = ReasonCode.PAYMENT_DISPUTE if status == Status.BLOCKED else None
    return create_user(
        c.uow(),
        workspace_id=t.id,
        new=NewUser(
            email, email.split("@", maxsplit=1)[0], role, status, reason, last_seen_at=seen
        ),
        route=Route.CLI,
        actor=CLI,
        now=T0,
    ).id


def status_of(c: Container, t: Tenant, user_id: str) -> Status:
    with c.engine.connect() as conn:
        return queries.user_by_id(conn, t.id, user_id).user.status


def rule(c: Container, t: Tenant, data: dict[str, Any], now: datetime = T0) -> Rule:
    return auto.create_rule(
        c.uow(), workspace_id=t.id, data=data, route=Route.CLI, created_by=ADMIN, now=now
    )


def start(
    c: Container, t: Tenant, r: Rule, when: datetime, *, dry_run: bool, tuning: Tuning = TUNING
) -> Run:
    """Run the rule now (by hand), as judged at `when`."""
    return auto.start_run(
        c.uow(), workspace_id=t.id, rule_id=r.id, dry_run=dry_run, clock=at(when), tuning=tuning
    )


def outcomes(c: Container, t: Tenant, r: Run) -> set[tuple[str, str, str | None]]:
    found = auto.list_outcomes(c.uow(), t.id, r.rule_id, r.id, after=None, limit=10_000)
    return {(o.user_id, o.result, o.code) for o in found}


def dormant_world(c: Container, t: Tenant) -> dict[str, str]:
    return {
        "old": user(c, t, f"old@{t.workspace.slug}.example", seen=T0),
        "fresh": user(c, t, f"fresh@{t.workspace.slug}.example", seen=LATER - timedelta(days=2)),
        "never": user(c, t, f"never@{t.workspace.slug}.example", seen=None),
        "blocked": user(c, t, f"blocked@{t.workspace.slug}.example", status=Status.BLOCKED),
        "gone": user(c, t, f"gone@{t.workspace.slug}.example", status=Status.INACTIVE),
    }


SWEEP = {
    "name": "Sweep",
    "trigger": {"type": "schedule", "daily_at": "03:00"},
    "conditions": [
        {"field": "status", "op": "in", "value": ["active", "blocked"]},
        {"field": "role", "op": "eq", "value": "member"},
        {"field": "last_seen_days", "op": "gt", "value": 90},
    ],
    "action": {"type": "set_status", "status": "inactive", "note": "Dormant"},
}


def test_a_dormant_sweep_deactivates_the_dormant_and_refuses_the_blocked(
    container: Container, tenant: Tenant
) -> None:
    users = dormant_world(container, tenant)
    r = rule(container, tenant, SWEEP)
    run = start(container, tenant, r, LATER, dry_run=False)
    assert run.state == "succeeded"
    assert (run.matched, run.applied, run.refused, run.active_delta) == (3, 2, 1, -2)
    assert outcomes(container, tenant, run) == {
        (users["old"], "applied", None),
        (users["never"], "applied", None),
        (users["blocked"], "refused", "user_blocked"),
    }
    assert status_of(container, tenant, users["old"]) == Status.INACTIVE
    assert status_of(container, tenant, users["fresh"]) == Status.ACTIVE
    assert status_of(container, tenant, users["blocked"]) == Status.BLOCKED
    with container.engine.connect() as conn:
        view = auto.read_run(container.uow(), tenant.id, r.id, run.id)
        audit = queries.audit_for_user(conn, tenant.id, users["blocked"])
    assert view.refused_by_code == {"user_blocked": 1}
    refused = audit[-1]
    assert (refused.route, refused.outcome, refused.batch_id) == (
        Route.AUTOMATION,
        "user_blocked",
        run.id,
    )


def test_dry_run_equals_the_real_run_and_changes_nothing(
    container: Container, tenant: Tenant
) -> None:
    users = dormant_world(container, tenant)
    r = rule(container, tenant, SWEEP)
    dry = start(container, tenant, r, LATER, dry_run=True)
    assert dry.dry_run
    assert dry.state == "succeeded"
    assert status_of(container, tenant, users["old"]) == Status.ACTIVE
    real = start(container, tenant, r, LATER, dry_run=False)
    assert outcomes(container, tenant, dry) == outcomes(container, tenant, real)
    assert (dry.applied, dry.refused, dry.active_delta) == (
        real.applied,
        real.refused,
        real.active_delta,
    )


def test_running_a_sweep_twice_changes_nothing_the_second_time(
    container: Container, tenant: Tenant
) -> None:
    dormant_world(container, tenant)
    r = rule(container, tenant, dormant_template(90))
    first = start(container, tenant, r, LATER, dry_run=False)
    second = start(container, tenant, r, LATER, dry_run=False)
    assert first.applied == 2  # old and never (blocked and inactive are not selected)
    assert second.applied == 0
    assert second.matched == 0


def test_payment_succeeded_never_lifts_a_block(container: Container, tenant: Tenant) -> None:
    blocked = user(container, tenant, f"b@{tenant.workspace.slug}.example", status=Status.BLOCKED)
    r = rule(
        container,
        tenant,
        {
            "name": "Reactivate on payment",
            "trigger": {"type": "event", "event": "payment.succeeded"},
            "action": {"type": "set_status", "status": "active", "note": "Paid"},
        },
    )
    auto.post_event(
        container.uow(),
        workspace_id=tenant.id,
        type="payment.succeeded",
        user_id=blocked,
        email=None,
        data={"amount": 10},
        now=T0,
    )
    [run] = auto.dispatch_workspace(container.uow(), tenant.id, at(T0))
    assert (run.rule_id, run.state, run.refused, run.applied) == (r.id, "succeeded", 1, 0)
    assert outcomes(container, tenant, run) == {(blocked, "refused", "user_blocked")}
    assert status_of(container, tenant, blocked) == Status.BLOCKED
    with container.engine.connect() as conn:
        last = queries.audit_for_user(conn, tenant.id, blocked)[-1]
    assert (last.route, last.to_status, last.outcome) == (
        Route.AUTOMATION,
        Status.ACTIVE,
        "user_blocked",
    )
    assert auto.dispatch_workspace(container.uow(), tenant.id, at(T0)) == []  # done once


def test_external_event_conditions_read_the_event_data(
    container: Container, tenant: Tenant
) -> None:
    u = user(container, tenant, f"p@{tenant.workspace.slug}.example")
    rule(
        container,
        tenant,
        {
            "name": "Block on dispute",
            "trigger": {"type": "event", "event": "payment.failed"},
            "conditions": [
                {"field": "event.data.reason", "op": "eq", "value": "dispute"},
                {"field": "event.data.amount", "op": "gt", "value": 100},
            ],
            "action": {"type": "set_status", "status": "blocked", "reason_code": "payment_dispute"},
        },
    )
    for data in ({"reason": "expired", "amount": 500}, {"reason": "dispute", "amount": 5}):
        auto.post_event(
            container.uow(),
            workspace_id=tenant.id,
            type="payment.failed",
            user_id=None,
            email=f"P@{tenant.workspace.slug}.example",
            data=data,
            now=T0,
        )
    assert auto.dispatch_workspace(container.uow(), tenant.id, at(T0)) == []
    assert status_of(container, tenant, u) == Status.ACTIVE
    auto.post_event(
        container.uow(),
        workspace_id=tenant.id,
        type="payment.failed",
        user_id=u,
        email=None,
        data={"reason": "dispute", "amount": 500},
        now=T0,
    )
    [run] = auto.dispatch_workspace(container.uow(), tenant.id, at(T0))
    assert run.applied == 1
    assert run.event == "payment.failed"
    assert status_of(container, tenant, u) == Status.BLOCKED


def test_user_created_and_status_changed_events_trigger_rules(
    container: Container, tenant: Tenant
) -> None:
    slug = tenant.workspace.slug
    rule(
        container,
        tenant,
        {
            "name": "Contractors start inactive",
            "trigger": {"type": "event", "event": "user.created"},
            "conditions": [{"field": "email_domain", "op": "eq", "value": "contractor.example"}],
            "action": {"type": "set_status", "status": "inactive"},
        },
    )
    rule(
        container,
        tenant,
        {
            "name": "Review what admins deactivate",
            "trigger": {"type": "event", "event": "user.status_changed"},
            "conditions": [
                {"field": "event.data.to", "op": "eq", "value": "inactive"},
                {"field": "event.data.route", "op": "eq", "value": "cli"},
            ],
            "action": {"type": "set_status", "status": "blocked", "reason_code": "needs_review"},
        },
    )
    contractor = user(container, tenant, f"c-{slug}@contractor.example")
    staff = user(container, tenant, f"s@{slug}.example")
    runs = auto.dispatch_workspace(container.uow(), tenant.id, at(T0))
    assert [r.event for r in runs] == ["user.created"]
    assert status_of(container, tenant, contractor) == Status.INACTIVE
    assert status_of(container, tenant, staff) == Status.ACTIVE
    # The rule's own change is route automation, so the route=cli rule ignores it.
    assert auto.dispatch_workspace(container.uow(), tenant.id, at(T0)) == []
    change_status(
        container.uow(),
        workspace_id=tenant.id,
        user_id=staff,
        to=Status.INACTIVE,
        route=Route.CLI,
        actor=CLI,
        now=T0,
    )
    [run] = auto.dispatch_workspace(container.uow(), tenant.id, at(T0))
    assert run.event == "user.status_changed"
    assert run.applied == 1
    assert status_of(container, tenant, staff) == Status.BLOCKED


def test_user_signed_in_events_trigger_rules(container: Container, tenant: Tenant) -> None:
    from roster.services.access import sign_in
    from tests.e2e.conftest import PASSWORD, PASSWORD_HASH

    slug = tenant.workspace.slug
    create_user(
        container.uow(),
        workspace_id=tenant.id,
        new=NewUser(f"x@{slug}.example", "X", password_hash=PASSWORD_HASH),
        route=Route.CLI,
        actor=CLI,
        now=T0,
    )
    r = rule(
        container,
        tenant,
        {
            "name": "Tell the CRM",
            "trigger": {"type": "event", "event": "user.signed_in"},
            "action": {"type": "webhook", "url": "https://crm.example/hook"},
        },
    )
    sign_in(container.uow(), workspace=slug, email=f"x@{slug}.example", password=PASSWORD, now=T0)
    [run] = auto.dispatch_workspace(container.uow(), tenant.id, at(T0))
    assert (run.rule_id, run.event, run.applied) == (r.id, "user.signed_in", 1)


def test_event_rules_that_trigger_each_other_stop_at_the_fixed_depth(
    container: Container, tenant: Tenant
) -> None:
    u = user(container, tenant, f"ping@{tenant.workspace.slug}.example")
    for to, other in (("inactive", "active"), ("active", "inactive")):
        rule(
            container,
            tenant,
            {
                "name": f"Flip to {to}",
                "trigger": {"type": "event", "event": "user.status_changed"},
                "conditions": [{"field": "event.data.to", "op": "eq", "value": other}],
                "action": {"type": "set_status", "status": to},
            },
        )
    change_status(
        container.uow(),
        workspace_id=tenant.id,
        user_id=u,
        to=Status.INACTIVE,
        route=Route.CLI,
        actor=CLI,
        now=T0,
    )
    runs: list[Run] = []
    for _ in range(MAX_DEPTH + 3):
        runs += auto.dispatch_workspace(container.uow(), tenant.id, at(T0))
    assert [r.depth for r in runs] == list(range(MAX_DEPTH + 1))
    assert [r.state for r in runs] == ["succeeded"] * MAX_DEPTH + ["stopped"]
    assert "loop protection" in (runs[-1].reason or "")


def test_a_due_schedule_runs_once_and_moves_to_its_next_time(
    container: Container, tenant: Tenant
) -> None:
    dormant_world(container, tenant)
    r = rule(container, tenant, SWEEP | {"trigger": {"type": "schedule", "every_minutes": 60}})
    assert r.next_run_at == T0 + timedelta(minutes=60)
    assert _mine(auto.run_due(container.uow(), at(T0), holder="a", tuning=TUNING), r) == []
    due = r.next_run_at + timedelta(days=100)
    [run] = _mine(auto.run_due(container.uow(), at(due), holder="a", tuning=TUNING), r)
    assert run.trigger == "schedule"
    assert run.applied == 2
    assert _mine(auto.run_due(container.uow(), at(due), holder="b", tuning=TUNING), r) == []
    assert auto.get_rule(container.uow(), tenant.id, r.id).next_run_at == due + timedelta(
        minutes=60
    )


def _mine(runs: list[Run], r: Rule) -> list[Run]:
    return [x for x in runs if x.rule_id == r.id]


def test_a_daily_rule_is_due_at_its_time_in_the_workspace_zone(
    container: Container, tenant: Tenant
) -> None:
    r = rule(container, tenant, SWEEP, now=datetime(2026, 1, 1, 2, 0, tzinfo=UTC))
    assert r.next_run_at == datetime(2026, 1, 1, 3, 0, tzinfo=UTC)


class DiesInSecondChunk(auto.Runs):
    """The process dies in the middle of its second chunk, after the changes were
    made and before the commit: nothing records it."""

    def act(self, uow: Any, job: Any, targets: Targets[Any], now: datetime) -> None:
        super().act(uow, job, targets, now)
        if job[0].cursor is not None:
            raise KeyboardInterrupt


def test_a_crashed_run_resumes_after_its_cursor_without_doubling(
    container: Container, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    dormant_world(container, tenant)
    for i in range(5):
        user(container, tenant, f"more{i}@{tenant.workspace.slug}.example")
    r = rule(container, tenant, SWEEP, now=LATER)  # next due tomorrow: only resumed here
    small = Tuning(chunk=3)
    monkeypatch.setattr(auto, "Runs", DiesInSecondChunk)
    with pytest.raises(KeyboardInterrupt):
        start(container, tenant, r, LATER, dry_run=False, tuning=small)
    monkeypatch.undo()
    before_the_lease_ends = at(LATER + small.lease / 2)
    assert (
        _mine(auto.run_due(container.uow(), before_the_lease_ends, holder="b", tuning=small), r)
        == []
    )
    after = at(LATER + small.lease * 2)
    [run] = _mine(auto.run_due(container.uow(), after, holder="b", tuning=small), r)
    assert run.state == "succeeded"
    assert run.holder == "b"
    assert (run.applied, run.refused) == (7, 1)  # old, never, 5 more; the blocked one
    assert len(outcomes(container, tenant, run)) == 8


def test_a_run_that_fails_is_marked_failed_with_its_reason(
    container: Container, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    dormant_world(container, tenant)
    r = rule(container, tenant, SWEEP)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(auto, "apply_changes", broken)
    with pytest.raises(RuntimeError):
        start(container, tenant, r, LATER, dry_run=False)
    [run] = auto.list_runs(container.uow(), tenant.id, r.id, before=None)
    assert run.state == "failed"
    assert "disk on fire" in (run.reason or "")
    assert run.applied == 0


def test_personal_automations_stop_when_their_owner_leaves_active(
    container: Container, tenant: Tenant
) -> None:
    admin = user(container, tenant, f"a@{tenant.workspace.slug}.example", role=Role.ADMIN)
    mine = auto.create_rule(
        container.uow(),
        workspace_id=tenant.id,
        data=SWEEP | {"personal": True},
        route=Route.CLI,
        created_by=Actor(id=admin, name="A", user_id=admin),
        now=T0,
    )
    result = change_status(
        container.uow(),
        workspace_id=tenant.id,
        user_id=admin,
        to=Status.INACTIVE,
        route=Route.CLI,
        actor=CLI,
        now=T0,
    )
    assert result.revoked.automations == 1
    with container.engine.connect() as conn:
        row = conn.execute(
            select(automation_rules.c.enabled, automation_rules.c.disabled_reason).where(
                automation_rules.c.workspace_id == tenant.id, automation_rules.c.id == mine.id
            )
        ).one()
    assert row.enabled is False
    assert "left Active" in row.disabled_reason


def test_bad_rules_are_refused_naming_the_field(container: Container, tenant: Tenant) -> None:
    bad = SWEEP | {"trigger": {"type": "schedule", "daily_at": "25:00"}}
    with pytest.raises(RuleInvalid) as refused:
        rule(container, tenant, bad)
    assert refused.value.field == "trigger.daily_at"
    assert auto.list_rules(container.uow(), tenant.id) == []


def test_event_rules_cannot_be_run_by_hand_but_can_be_dry_run(
    container: Container, tenant: Tenant
) -> None:
    blocked = user(container, tenant, f"b@{tenant.workspace.slug}.example", status=Status.BLOCKED)
    r = rule(
        container,
        tenant,
        {
            "name": "Reactivate on payment",
            "trigger": {"type": "event", "event": "payment.succeeded"},
            "conditions": [{"field": "status", "op": "in", "value": ["blocked", "inactive"]}],
            "action": {"type": "set_status", "status": "active", "note": "Paid"},
        },
    )
    with pytest.raises(errors.InvalidInput):
        start(container, tenant, r, T0, dry_run=False)
    dry = start(container, tenant, r, T0, dry_run=True)
    assert outcomes(container, tenant, dry) == {(blocked, "refused", "user_blocked")}


def test_runs_that_touched_a_user_are_listed_for_their_profile(
    container: Container, tenant: Tenant
) -> None:
    users = dormant_world(container, tenant)
    r = rule(container, tenant, SWEEP)
    start(container, tenant, r, LATER, dry_run=True)
    run = start(container, tenant, r, LATER, dry_run=False)
    with container.engine.connect() as conn:
        touched = auto.runs_for_user(container.uow(), tenant.id, users["old"])
        audit = conn.execute(
            select(audit_events.c.batch_id).where(
                audit_events.c.workspace_id == tenant.id, audit_events.c.user_id == users["old"]
            )
        ).all()
    assert [(x.id, o.result, name) for x, o, name in touched] == [(run.id, "applied", "Sweep")]
    assert (run.id,) in audit
