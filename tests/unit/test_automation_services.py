"""Automations and account expiry as services, on in-memory fakes: a rule's run goes
through the one door (a Blocked user is refused, not changed), a dry run writes no
status, an event rule never lifts a block, saving a rule is audited, and an expired
account becomes Inactive while a Blocked one stays Blocked."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from roster.domain.audit import AuditKind
from roster.domain.rules.definition import dormant_template
from roster.domain.rules.runs import Rule, Run
from roster.domain.users import Actor
from roster.domain.vocabulary import ReasonCode, Route, Status
from roster.services import automations as auto
from roster.services.expiry import expire_due
from roster.services.jobs import Tuning
from roster.services.status import change_status
from roster.services.users import NewUser, add_users
from roster.services.workspaces import create_workspace
from tests.fakes import FakeStore, FakeUnitOfWork

THEN = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
NOW = THEN + timedelta(days=120)
CLI = Actor(id=None, name="cli:test")
TUNING = Tuning(chunk=2, poll=0)  # chunks of two: a run of five users takes three


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork(FakeStore())


def _workspace(uow: FakeUnitOfWork, n: int = 5) -> tuple[str, list[str]]:
    ws, _ = create_workspace(
        uow, slug="acme", name=None, route=Route.CLI, actor=CLI, now=THEN,
        owner=NewUser("o@x.example", "O"),
    )  # fmt: skip
    with uow:
        users = add_users(
            uow, workspace_id=ws.id, route=Route.CLI, actor=CLI, now=THEN, batch_id=None,
            new=[NewUser(f"u{i}@x.example", f"U{i}") for i in range(n)],
        )  # fmt: skip
        uow.commit()
    return ws.id, [u.id for u in users]


def _block(uow: FakeUnitOfWork, ws: str, user: str) -> None:
    change_status(
        uow, workspace_id=ws, user_id=user, to=Status.BLOCKED, route=Route.CLI, actor=CLI,
        reason_code=ReasonCode.PAYMENT_DISPUTE, now=THEN,
    )  # fmt: skip


def _status(uow: FakeUnitOfWork, ws: str, user: str) -> Status:
    return uow.store.users[(ws, user)].status


def _rule(uow: FakeUnitOfWork, ws: str, data: dict[str, Any]) -> Rule:
    return auto.create_rule(
        uow, workspace_id=ws, data=data, created_by=CLI, route=Route.CLI, now=NOW
    )


def _start(uow: FakeUnitOfWork, ws: str, rule: Rule, *, dry_run: bool) -> Run:
    return auto.start_run(
        uow, workspace_id=ws, rule_id=rule.id, dry_run=dry_run, clock=lambda: NOW, tuning=TUNING
    )


def test_a_run_changes_the_dormant_and_refuses_the_blocked(uow: FakeUnitOfWork) -> None:
    ws, users = _workspace(uow)
    _block(uow, ws, users[0])
    rule = _rule(uow, ws, dormant_template(90) | {"conditions": []})

    run = _start(uow, ws, rule, dry_run=False)

    assert run.state == "succeeded"
    assert (run.matched, run.applied, run.refused) == (6, 4, 2)  # the owner is dormant too
    assert _status(uow, ws, users[0]) is Status.BLOCKED
    assert {_status(uow, ws, u) for u in users[1:]} == {Status.INACTIVE}
    [owner] = [u for u in uow.store.users.values() if u.email == "o@x.example"]
    assert owner.status is Status.ACTIVE  # the last owner is never made Inactive
    refusals = [e for e in uow.store.audit if e.outcome == "user_blocked"]
    assert [(e.user_id, e.route) for e in refusals] == [(users[0], Route.AUTOMATION)]
    assert auto.read_run(uow, ws, rule.id, run.id).refused_by_code == {
        "user_blocked": 1,
        "last_owner": 1,
    }


def test_a_dry_run_writes_no_status(uow: FakeUnitOfWork) -> None:
    ws, users = _workspace(uow)
    _block(uow, ws, users[0])
    rule = _rule(uow, ws, dormant_template(90))
    audited = len(uow.store.audit)

    run = _start(uow, ws, rule, dry_run=True)

    assert (run.dry_run, run.applied, run.refused) == (True, 4, 1)  # 4 Active, the owner
    assert {_status(uow, ws, u) for u in users[1:]} == {Status.ACTIVE}
    assert len(uow.store.audit) == audited
    outcomes = auto.list_outcomes(uow, ws, rule.id, run.id, after=None, limit=100)
    assert {o.to_status for o in outcomes} == {Status.INACTIVE}


def test_an_event_rule_never_lifts_a_block(uow: FakeUnitOfWork) -> None:
    ws, users = _workspace(uow, n=2)
    _block(uow, ws, users[0])
    change_status(
        uow, workspace_id=ws, user_id=users[1], to=Status.INACTIVE, route=Route.CLI, actor=CLI,
        now=THEN,
    )  # fmt: skip
    rule = _rule(
        uow,
        ws,
        {
            "name": "Paid: back to Active",
            "trigger": {"type": "event", "event": "payment.succeeded"},
            "conditions": [],
            "action": {"type": "set_status", "status": "active"},
        },
    )
    for user in users:
        auto.post_event(
            uow, workspace_id=ws, type="payment.succeeded", user_id=user, email=None, data={},
            now=NOW,
        )  # fmt: skip

    runs = auto.dispatch_workspace(uow, ws, lambda: NOW)

    assert [(r.rule_id, r.state) for r in runs] == [(rule.id, "succeeded")] * 2
    assert _status(uow, ws, users[0]) is Status.BLOCKED
    assert _status(uow, ws, users[1]) is Status.ACTIVE
    assert auto.dispatch_workspace(uow, ws, lambda: NOW) == []  # each event acted on once


def test_saving_and_deleting_a_rule_is_audited(uow: FakeUnitOfWork) -> None:
    ws, _ = _workspace(uow, n=0)
    rule = _rule(uow, ws, dormant_template(30))
    auto.delete_rule(uow, workspace_id=ws, rule_id=rule.id, route=Route.CLI, actor=CLI, now=NOW)

    changed = [e for e in uow.store.audit if e.kind == AuditKind.AUTOMATION_CHANGED]
    assert [e.note for e in changed] == [rule.id, rule.id]
    assert changed[0].changes is not None
    assert changed[0].changes["name"] == [None, rule.definition.name]
    assert auto.list_rules(uow, ws) == []


def test_an_expired_account_becomes_inactive_and_a_blocked_one_stays(
    uow: FakeUnitOfWork,
) -> None:
    ws, users = _workspace(uow, n=3)
    _block(uow, ws, users[0])
    for user in users[:2]:
        uow.store.users[(ws, user)].expires_at = NOW - timedelta(days=1)

    outcomes = expire_due(uow, NOW)

    assert sorted((o.user_id, o.result) for o in outcomes) == sorted(
        [(users[0], "refused"), (users[1], "applied")]
    )
    assert [_status(uow, ws, u) for u in users] == [
        Status.BLOCKED,
        Status.INACTIVE,
        Status.ACTIVE,
    ]
    assert uow.store.users[(ws, users[0])].expires_at is None  # a refused expiry is spent
    assert expire_due(uow, NOW) == []
