"""Repositories, the counter and the audit guard on real SQLite and PostgreSQL."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError

from roster.adapters.tables import (
    audit_events,
    automation_rules,
    credentials,
    invitations,
    users,
)
from roster.bootstrap import Container
from roster.domain import errors
from roster.domain.audit import APPLIED, replay
from roster.domain.ids import new_id
from roster.domain.users import Actor
from roster.domain.vocabulary import ReasonCode, Role, Route, Status
from roster.services import queries
from roster.services.status import apply_changes, change_status
from roster.services.users import NewUser, create_user, update_user
from roster.services.workspaces import update_settings
from tests.conftest import CLI_ACTOR, Tenant, new_tenant

ADMIN = Actor(id="usr_someadmin", name="Ada Admin", user_id="usr_someadmin")


def add(
    container: Container,
    tenant: Tenant,
    email: str,
    status: Status = Status.ACTIVE,
    role: Role = Role.MEMBER,
) -> str:
    reason = ReasonCode.OTHER if status == Status.BLOCKED else None
    return create_user(
        container.uow(),
        workspace_id=tenant.id,
        route=Route.CLI,
        actor=ADMIN,
        now=container.clock(),
        new=NewUser(email, email, role, status, reason),
    ).id


def counts(container: Container, tenant: Tenant) -> tuple[int, int, int]:
    with container.engine.connect() as conn:
        c = queries.user_counts_of(conn, tenant.id)
    return c.active, c.inactive, c.blocked


def statuses(container: Container, tenant: Tenant) -> dict[str, Status]:
    with container.engine.connect() as conn:
        rows = conn.execute(
            select(users.c.id, users.c.status).where(users.c.workspace_id == tenant.id)
        )
        return {r.id: Status(r.status) for r in rows}


def history(container: Container, tenant: Tenant, user_id: str) -> list[tuple[str, str, str]]:
    with container.engine.connect() as conn:
        return [
            (str(e.to_status), e.route.value, e.outcome)
            for e in queries.audit_for_user(conn, tenant.id, user_id)
        ]


def test_a_change_writes_status_audit_and_counter_together(
    container: Container, tenant: Tenant
) -> None:
    uid = add(container, tenant, "a@x.example")
    result = change_status(
        container.uow(),
        workspace_id=tenant.id,
        user_id=uid,
        to=Status.BLOCKED,
        route=Route.ADMIN_API,
        actor=ADMIN,
        reason_code=ReasonCode.PAYMENT_DISPUTE,
        note="chargeback",
        now=container.clock(),
        request_id="req-1",
    )
    assert result.changed
    with container.engine.connect() as conn:
        view = queries.user_by_id(conn, tenant.id, uid)
    assert (view.user.status, view.user.status_reason, view.user.status_note) == (
        Status.BLOCKED,
        ReasonCode.PAYMENT_DISPUTE,
        "chargeback",
    )
    assert view.user.status_changed_by == "Ada Admin"
    assert counts(container, tenant) == (1, 0, 1)
    assert history(container, tenant, uid) == [
        ("active", "cli", APPLIED),
        ("blocked", "admin_api", APPLIED),
    ]


def test_a_refused_change_is_audited_and_changes_nothing(
    container: Container, tenant: Tenant
) -> None:
    uid = add(container, tenant, "b@x.example", Status.BLOCKED)
    with pytest.raises(errors.UserBlocked):
        change_status(
            container.uow(),
            workspace_id=tenant.id,
            user_id=uid,
            to=Status.ACTIVE,
            route=Route.AUTOMATION,
            actor=ADMIN,
            now=container.clock(),
        )
    assert statuses(container, tenant)[uid] == Status.BLOCKED
    assert counts(container, tenant) == (1, 0, 1)
    assert history(container, tenant, uid)[-1] == ("active", "automation", "user_blocked")


def test_same_to_same_writes_nothing(container: Container, tenant: Tenant) -> None:
    uid = add(container, tenant, "c@x.example", Status.INACTIVE)
    result = change_status(
        container.uow(),
        workspace_id=tenant.id,
        user_id=uid,
        to=Status.INACTIVE,
        route=Route.SCIM,
        actor=ADMIN,
        now=container.clock(),
    )
    assert not result.changed
    assert len(history(container, tenant, uid)) == 1


def test_leaving_active_revokes_sessions_and_tokens_in_the_same_transaction(
    container: Container, tenant: Tenant
) -> None:
    uid = add(container, tenant, "d@x.example")
    now = container.clock()
    with container.engine.begin() as conn:
        conn.execute(
            insert(credentials),
            [
                {
                    "workspace_id": tenant.id,
                    "id": new_id("crd"),
                    "kind": kind,
                    "user_id": uid,
                    "token_hash": new_id("h"),
                    "created_at": now,
                }
                for kind in ("session", "api_session", "personal")
            ],
        )
    result = change_status(
        container.uow(),
        workspace_id=tenant.id,
        user_id=uid,
        to=Status.INACTIVE,
        route=Route.CLI,
        actor=ADMIN,
        now=now,
    )
    assert (result.revoked.sessions, result.revoked.tokens) == (2, 1)
    with container.engine.connect() as conn:
        live = conn.execute(
            select(credentials.c.id).where(
                credentials.c.workspace_id == tenant.id, credentials.c.revoked_at.is_(None)
            )
        ).all()
    assert live == []


def _give_access(container: Container, tenant: Tenant, uid: str, kinds: set[str]) -> None:
    """Live access of each of `kinds` for `uid`, plus access that is not live (a
    revoked token, an accepted invitation, a disabled automation) to be left alone."""
    now = container.clock()
    credential: dict[str, object] = {"workspace_id": tenant.id, "user_id": uid, "created_at": now}
    rule: dict[str, object] = {
        "workspace_id": tenant.id,
        "name": "r",
        "trigger": {},
        "conditions": {},
    }
    rule |= {"action": {}, "owner_user_id": uid, "created_by": "t", "created_at": now}
    rule |= {"updated_at": now}
    invitation: dict[str, object] = {
        "workspace_id": tenant.id,
        "email": "i@x.example",
        "role": "member",
    }
    invitation |= {"invited_by": uid, "created_at": now, "expires_at": now}
    with container.engine.begin() as conn:
        for kind, live in (("session", "sessions" in kinds), ("personal", "tokens" in kinds)):
            gone: dict[str, object] = {"revoked_at": now}
            for extra in ({}, gone) if live else (gone,):
                row = credential | {"id": new_id("crd"), "kind": kind, "token_hash": new_id("h")}
                conn.execute(insert(credentials).values(row | extra))
        ended: list[dict[str, object]] = [{"accepted_at": now}, {"revoked_at": now}]
        for extra in [ended[0], {}] if "invitations" in kinds else ended:
            row = invitation | {"id": new_id("inv"), "token_hash": new_id("h")}
            conn.execute(insert(invitations).values(row | extra))
        for enabled in (False, True) if "automations" in kinds else (False,):
            conn.execute(
                insert(automation_rules).values(rule | {"id": new_id("aut"), "enabled": enabled})
            )


@pytest.mark.parametrize(
    "kinds",
    [
        *(set(), {"sessions"}, {"tokens"}, {"invitations"}, {"automations"}),
        *({"tokens", "automations"}, {"sessions", "tokens", "invitations", "automations"}),
    ],
)
def test_leaving_active_revokes_exactly_the_access_still_live(
    container: Container, tenant: Tenant, kinds: set[str]
) -> None:
    uid = add(container, tenant, f"live-{'-'.join(sorted(kinds))}@x.example")
    bystander = add(container, tenant, f"by-{'-'.join(sorted(kinds))}@x.example")
    _give_access(container, tenant, uid, kinds)
    _give_access(container, tenant, bystander, {"sessions", "tokens", "invitations", "automations"})
    result = change_status(
        container.uow(),
        workspace_id=tenant.id,
        user_id=uid,
        to=Status.INACTIVE,
        route=Route.SCIM,
        actor=ADMIN,
        now=container.clock(),
    )
    counts = {k: getattr(result.revoked, k) for k in ("sessions", "tokens", "invitations")}
    counts["automations"] = result.revoked.automations
    assert counts == {k: int(k in kinds) for k in counts}
    with container.engine.connect() as conn:
        for who, live in ((uid, 0), (bystander, 1)):
            tokens = conn.execute(
                select(credentials.c.kind).where(
                    credentials.c.user_id == who, credentials.c.revoked_at.is_(None)
                )
            ).all()
            assert len(tokens) == 2 * live
            pending = conn.execute(
                select(invitations.c.id).where(
                    invitations.c.invited_by == who,
                    invitations.c.accepted_at.is_(None),
                    invitations.c.revoked_at.is_(None),
                )
            ).all()
            assert len(pending) == live
            enabled = conn.execute(
                select(automation_rules.c.id).where(
                    automation_rules.c.owner_user_id == who, automation_rules.c.enabled.is_(True)
                )
            ).all()
            assert len(enabled) == live


def test_another_workspaces_user_is_not_found(container: Container, tenant: Tenant) -> None:
    other = new_tenant(container)
    uid = add(container, other, "e@x.example")
    with pytest.raises(errors.NotFound):
        change_status(
            container.uow(),
            workspace_id=tenant.id,
            user_id=uid,
            to=Status.INACTIVE,
            route=Route.CLI,
            actor=ADMIN,
            now=container.clock(),
        )
    assert statuses(container, other)[uid] == Status.ACTIVE


def test_a_stale_version_is_refused_with_version_conflict(
    container: Container, tenant: Tenant
) -> None:
    uid = add(container, tenant, "f@x.example")
    with pytest.raises(errors.VersionConflict):
        change_status(
            container.uow(),
            workspace_id=tenant.id,
            user_id=uid,
            to=Status.INACTIVE,
            route=Route.ADMIN_API,
            actor=ADMIN,
            now=container.clock(),
            expected_version=99,
        )
    assert statuses(container, tenant)[uid] == Status.ACTIVE
    assert history(container, tenant, uid)[-1][2] == "version_conflict"


def test_seat_limit_and_last_owner_hold_in_storage(container: Container, tenant: Tenant) -> None:
    uid = add(container, tenant, "g@x.example", Status.INACTIVE)
    update_settings(
        container.uow(),
        workspace_id=tenant.id,
        seat_limit=1,
        route=Route.CLI,
        actor=Actor(None, "cli:test"),
        now=container.clock(),
    )
    with pytest.raises(errors.SeatLimitReached):
        change_status(
            container.uow(),
            workspace_id=tenant.id,
            user_id=uid,
            to=Status.ACTIVE,
            route=Route.UPGRADE,
            actor=ADMIN,
            now=container.clock(),
        )
    with pytest.raises(errors.LastOwner):
        change_status(
            container.uow(),
            workspace_id=tenant.id,
            user_id=tenant.owner.id,
            to=Status.INACTIVE,
            route=Route.CLI,
            actor=ADMIN,
            now=container.clock(),
        )
    with pytest.raises(errors.LastOwner):
        update_user(
            container.uow(),
            workspace_id=tenant.id,
            user_id=tenant.owner.id,
            role=Role.MEMBER,
            route=Route.CLI,
            actor=CLI_ACTOR,
            now=container.clock(),
        )


def test_a_batch_applies_refuses_and_leaves_unchanged_per_user(
    container: Container, tenant: Tenant
) -> None:
    active = add(container, tenant, "h1@x.example")
    inactive = add(container, tenant, "h2@x.example", Status.INACTIVE)
    blocked = add(container, tenant, "h3@x.example", Status.BLOCKED)
    uow = container.uow()
    with uow:
        outcomes, _ = apply_changes(
            uow,
            workspace_id=tenant.id,
            route=Route.BULK,
            actor=ADMIN,
            now=container.clock(),
            batch_id="bat_1",
            targets=[(u, Status.ACTIVE) for u in (active, inactive, blocked, "usr_missing")],
        )
        uow.commit()
    assert [(o.result, o.code) for o in outcomes] == [
        ("unchanged", None),
        ("applied", None),
        ("refused", "user_blocked"),
        ("refused", "not_found"),
    ]
    assert statuses(container, tenant)[blocked] == Status.BLOCKED
    assert counts(container, tenant) == (3, 0, 1)
    assert history(container, tenant, blocked)[-1] == ("active", "bulk", "user_blocked")


def test_replaying_the_audit_log_gives_every_status(container: Container, tenant: Tenant) -> None:
    ids = [add(container, tenant, f"r{i}@x.example") for i in range(4)]
    for uid, to in zip(
        ids, [Status.INACTIVE, Status.BLOCKED, Status.INACTIVE, Status.ACTIVE], strict=True
    ):
        change_status(
            container.uow(),
            workspace_id=tenant.id,
            user_id=uid,
            to=to,
            route=Route.CLI,
            actor=ADMIN,
            reason_code=ReasonCode.OTHER,
            now=container.clock(),
        )
    with container.engine.connect() as conn:
        entries = [
            e
            for uid in [tenant.owner.id, *ids]
            for e in queries.audit_for_user(conn, tenant.id, uid)
        ]
    assert replay(entries) == statuses(container, tenant)


def test_the_audit_log_refuses_updates_and_deletes(container: Container, tenant: Tenant) -> None:
    for statement in (
        "UPDATE audit_events SET note = 'x' WHERE workspace_id = :w",
        "DELETE FROM audit_events WHERE workspace_id = :w",
    ):
        with pytest.raises(DBAPIError, match="append-only"), container.engine.begin() as conn:
            conn.execute(text(statement), {"w": tenant.id})
    with container.engine.connect() as conn:
        assert (
            conn.execute(
                select(audit_events.c.id).where(audit_events.c.workspace_id == tenant.id)
            ).all()
            != []
        )


def test_times_come_back_as_aware_utc(container: Container, tenant: Tenant) -> None:
    when = datetime(2026, 3, 1, 12, 0, tzinfo=UTC) + timedelta(microseconds=5)
    uid = create_user(
        container.uow(),
        workspace_id=tenant.id,
        route=Route.CLI,
        actor=ADMIN,
        now=when,
        new=NewUser("t@x.example", "T"),
    ).id
    with container.engine.connect() as conn:
        assert queries.user_by_id(conn, tenant.id, uid).created_at == when


def test_two_concurrent_changes_to_one_user_serialize(pg_container: Container) -> None:
    """On PostgreSQL the second change waits for the first and sees its result."""
    tenant = new_tenant(pg_container)
    uid = add(pg_container, tenant, "z@x.example")
    first = pg_container.uow()
    first.__enter__()
    first.conn.execute(
        text("SELECT 1 FROM user_counts WHERE workspace_id = :w FOR UPDATE"), {"w": tenant.id}
    )
    outcome: dict[str, object] = {}

    def second() -> None:
        try:
            change_status(
                pg_container.uow(),
                workspace_id=tenant.id,
                user_id=uid,
                to=Status.ACTIVE,
                route=Route.AUTOMATION,
                actor=ADMIN,
                now=pg_container.clock(),
            )
            outcome["result"] = "applied"
        except errors.DomainError as refusal:
            outcome["result"] = refusal.code

    worker = threading.Thread(target=second)
    worker.start()
    time.sleep(0.3)
    assert worker.is_alive(), "the second change must wait for the first"
    first.conn.execute(
        text(
            "UPDATE users SET status = 'blocked', status_reason = 'other' "
            "WHERE workspace_id = :w AND id = :u"
        ),
        {"w": tenant.id, "u": uid},
    )
    first.conn.execute(
        text(
            "UPDATE user_counts SET active = active - 1, blocked = blocked + 1 "
            "WHERE workspace_id = :w"
        ),
        {"w": tenant.id},
    )
    first.commit()
    first.__exit__(None, None, None)
    worker.join(10)
    assert outcome["result"] == "user_blocked"
    assert statuses(pg_container, tenant)[uid] == Status.BLOCKED
