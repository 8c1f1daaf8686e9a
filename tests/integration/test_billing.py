"""Billing on real SQLite and PostgreSQL: reports equal the brute force over the
stored audit log whether snapshots were built or not, verify agrees with the
counter, and the counter stays exact under parallel changes."""

import contextlib
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from roster.adapters.audit_log import audit_from_row
from roster.adapters.tables import audit_events, users
from roster.bootstrap import Container
from roster.domain import errors
from roster.domain.audit import AuditEntry
from roster.domain.users import Actor
from roster.domain.vocabulary import ReasonCode, Route, Status
from roster.services import billing, queries
from roster.services.status import change_status
from roster.services.users import NewUser, create_user
from roster.services.workspaces import update_settings
from tests.conftest import Tenant, new_tenant
from tests.unit.test_billing_property import (
    BASE,
    ZONES,
    Expected,
    active_users_at,
    brute_usage,
    period_of,
    play,
    steps_with_snapshots,
    timed,
)

ACTOR = Actor(id=None, name="cli:test")


def stored_log(container: Container, workspace_id: str) -> list[AuditEntry]:
    with container.engine.connect() as conn:
        rows = conn.execute(
            select(audit_events)
            .where(audit_events.c.workspace_id == workspace_id)
            .order_by(audit_events.c.seq)
        )
        return [audit_from_row(r) for r in rows]


def set_timezone(container: Container, workspace_id: str, tz: str) -> None:
    with container.engine.begin() as conn:
        conn.execute(
            text("UPDATE workspaces SET timezone = :tz WHERE id = :id"),
            {"tz": tz, "id": workspace_id},
        )


def table_counts(container: Container, workspace_id: str) -> dict[str, int]:
    with container.engine.connect() as conn:
        rows = conn.execute(
            select(users.c.status, func.count())
            .where(users.c.workspace_id == workspace_id)
            .group_by(users.c.status)
        )
        return {status: n for status, n in rows}


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    history=steps_with_snapshots,
    tz=st.sampled_from(ZONES),
    seat_limit=st.one_of(st.none(), st.integers(1, 5)),
)
def test_reports_equal_brute_force_with_and_without_snapshots(
    container: Container, history: list[tuple[object, ...]], tz: str, seat_limit: int | None
) -> None:
    tenant = new_tenant(container)
    set_timezone(container, tenant.id, tz)
    update_settings(
        container.uow(),
        workspace_id=tenant.id,
        seat_limit=seat_limit,
        route=Route.CLI,
        actor=Actor(None, "cli:test"),
        now=container.clock(),
    )
    play(
        container.uow,
        tenant.id,
        [tenant.owner.id],
        history,
        on_snapshot=lambda now: billing.build_snapshots(container.uow(), tenant.id, now),
    )
    log = stored_log(container, tenant.id)
    first, last = period_of(log, tz)
    expected = brute_usage(log, first, last, tz)

    def report() -> list[Expected]:
        with container.engine.connect() as conn:
            workspace = queries.workspace_by_id(conn, tenant.id)
            got = billing.usage(conn, workspace, first, last).days
        return [Expected(d.day, d.opening, d.peak, d.closing, d.seat_days) for d in got]

    assert report() == expected
    billing.build_snapshots(container.uow(), tenant.id, BASE)
    assert report() == expected  # now mostly from snapshots
    billing.rebuild_snapshots(container.uow(), tenant.id, BASE)
    assert report() == expected

    entries = timed(log)
    with container.engine.connect() as conn:
        workspace = queries.workspace_by_id(conn, tenant.id)
        for instant, _ in entries[-6:]:
            for t in (instant - timedelta(microseconds=1), instant):
                assert billing.active_at(conn, workspace, t) == len(active_users_at(entries, t))
    check = billing.verify(container.uow(), tenant.id)
    assert check.ok, check.differences
    counts = check.counter
    in_table = table_counts(container, tenant.id)
    assert (counts.active, counts.inactive, counts.blocked) == tuple(
        in_table.get(s.value, 0) for s in Status
    )


def add(
    container: Container, tenant: Tenant, email: str, at: datetime, status: Status = Status.ACTIVE
) -> str:
    reason = ReasonCode.OTHER if status == Status.BLOCKED else None
    return create_user(
        container.uow(),
        workspace_id=tenant.id,
        new=NewUser(email, "U", status=status, reason_code=reason),
        route=Route.CLI,
        actor=ACTOR,
        now=at,
    ).id


def move(container: Container, tenant: Tenant, user_id: str, to: Status, at: datetime) -> None:
    change_status(
        container.uow(),
        workspace_id=tenant.id,
        user_id=user_id,
        to=to,
        route=Route.CLI,
        actor=ACTOR,
        reason_code=ReasonCode.OTHER,
        note="test",
        now=at,
    )


def test_a_late_backdated_change_does_not_alter_a_sealed_snapshot(
    container: Container, tenant: Tenant
) -> None:
    day1 = datetime(2031, 5, 1, 9, tzinfo=UTC)
    u = add(container, tenant, "a@x.example", day1)
    move(container, tenant, u, Status.INACTIVE, day1 + timedelta(days=1))  # seals May 1
    assert billing.build_snapshots(container.uow(), tenant.id, day1) >= 1
    # Committed now but stamped on May 1: the log's clock is on May 2 already.
    move(container, tenant, u, Status.ACTIVE, day1 + timedelta(hours=3))
    with container.engine.connect() as conn:
        workspace = queries.workspace_by_id(conn, tenant.id)
        report = billing.usage(conn, workspace, date(2031, 5, 1), date(2031, 5, 2))
    may1, may2 = report.days
    assert (may1.peak, may1.closing) == (2, 2)  # the owner (created earlier) and u
    assert (may2.opening, may2.closing, may2.seat_days) == (2, 2, 2)
    assert billing.verify(container.uow(), tenant.id).ok


def test_verify_reports_a_counter_that_disagrees(container: Container, tenant: Tenant) -> None:
    add(container, tenant, "a@x.example", datetime(2031, 1, 1, tzinfo=UTC))
    assert billing.verify(container.uow(), tenant.id).ok
    with container.engine.begin() as conn:
        conn.execute(
            text("UPDATE user_counts SET active = active + 3 WHERE workspace_id = :w"),
            {"w": tenant.id},
        )
    check = billing.verify(container.uow(), tenant.id)
    assert not check.ok
    assert check.differences == ["active: counter 5, users table 2, audit log 2"]


def test_snapshots_of_another_time_zone_are_rebuilt(container: Container, tenant: Tenant) -> None:
    t0 = datetime(2031, 2, 1, 23, 30, tzinfo=UTC)
    u = add(container, tenant, "a@x.example", t0)
    move(container, tenant, u, Status.INACTIVE, t0 + timedelta(days=3))
    billing.build_snapshots(container.uow(), tenant.id, t0)
    set_timezone(container, tenant.id, "Asia/Kolkata")  # 1 Feb 23:30 UTC is 2 Feb 05:00 there
    billing.build_snapshots(container.uow(), tenant.id, t0)
    with container.engine.connect() as conn:
        workspace = queries.workspace_by_id(conn, tenant.id)
        report = billing.usage(conn, workspace, date(2031, 2, 2), date(2031, 2, 2))
    # In UTC, 2 Feb opened with both users; in Kolkata, u arrived during 2 Feb.
    assert (report.days[0].opening, report.days[0].peak) == (1, 2)
    assert billing.verify(container.uow(), tenant.id).ok


@pytest.mark.postgres_only
def test_parallel_changes_on_postgresql_leave_the_counter_exact(pg_container: Container) -> None:
    tenant = new_tenant(pg_container)
    now = pg_container.clock()
    ids = [add(pg_container, tenant, f"p{i}@x.example", now) for i in range(12)]
    targets = [Status.INACTIVE, Status.ACTIVE, Status.BLOCKED, Status.ACTIVE]
    failures: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for step in range(15):
                user_id = ids[(n * 7 + step) % len(ids)]
                to = targets[(n + step) % len(targets)]
                with contextlib.suppress(errors.DomainError):
                    change_status(
                        pg_container.uow(),
                        workspace_id=tenant.id,
                        user_id=user_id,
                        to=to,
                        route=Route.CLI,
                        actor=ACTOR,
                        reason_code=ReasonCode.OTHER,
                        note="parallel",
                        now=pg_container.clock(),
                    )
        except BaseException as e:  # surfaced below
            failures.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    check = billing.verify(pg_container.uow(), tenant.id)
    assert check.ok, check.differences
    in_table = table_counts(pg_container, tenant.id)
    with pg_container.engine.connect() as conn:
        counts = queries.user_counts_of(conn, tenant.id)
    assert (counts.active, counts.inactive, counts.blocked) == tuple(
        in_table.get(s.value, 0) for s in Status
    )
    assert sum(in_table.values()) == 13
