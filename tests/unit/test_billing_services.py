"""Billing's snapshot builder and check as services, on in-memory fakes: sealed days
are saved once, a day is sealed only when it has ended in the workspace's zone, and
the check finds a counter that disagrees with the users and the audit log."""

from datetime import UTC, datetime, timedelta

import pytest

from roster.domain.users import Actor
from roster.domain.vocabulary import Route, Status
from roster.domain.workspaces import UserCounts
from roster.services import billing
from roster.services.status import change_status
from roster.services.users import NewUser, add_users
from roster.services.workspaces import create_workspace
from tests.fakes import FakeStore, FakeUnitOfWork

DAY1 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
CLI = Actor(id=None, name="cli:test")


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork(FakeStore())


def _workspace(uow: FakeUnitOfWork) -> tuple[str, list[str]]:
    ws, _ = create_workspace(
        uow, slug="acme", name=None, route=Route.CLI, actor=CLI, now=DAY1,
        owner=NewUser("o@x.example", "O"),
    )  # fmt: skip
    with uow:
        users = add_users(
            uow, workspace_id=ws.id, route=Route.CLI, actor=CLI, now=DAY1, batch_id=None,
            new=[NewUser(f"u{i}@x.example", f"U{i}") for i in range(3)],
        )  # fmt: skip
        uow.commit()
    return ws.id, [u.id for u in users]


def test_sealed_days_are_saved_once_and_agree_with_the_log(uow: FakeUnitOfWork) -> None:
    ws, users = _workspace(uow)
    change_status(
        uow, workspace_id=ws, user_id=users[0], to=Status.INACTIVE, route=Route.CLI,
        actor=CLI, now=DAY1 + timedelta(days=1),
    )  # fmt: skip

    # The day of the last change has not ended: only the first day is sealed.
    assert billing.build_snapshots(uow, ws, DAY1 + timedelta(days=1, hours=1)) == 1
    assert billing.build_snapshots(uow, ws, DAY1 + timedelta(days=1, hours=2)) == 0
    [saved] = uow.store.snapshots.values()
    assert (saved.day, saved.peak, saved.closing) == (DAY1.date(), 4, 4)
    assert billing.verify(uow, ws).ok


def test_the_check_names_a_counter_that_disagrees(uow: FakeUnitOfWork) -> None:
    ws, _ = _workspace(uow)
    uow.store.counts[ws] = UserCounts(active=5, active_owners=1)

    check = billing.verify(uow, ws)

    assert not check.ok
    assert check.differences == ["active: counter 5, users table 4, audit log 4"]
