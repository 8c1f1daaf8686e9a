"""The daily review digest as a service, on in-memory fakes: one message per Active
owner and admin when a review is due, none again the same day, none when off."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from roster.domain.users import Actor
from roster.domain.vocabulary import ReasonCode, Role, Route, Status
from roster.services.review_digest import queue_digest, queue_digests
from roster.services.status import change_status
from roster.services.users import NewUser, add_users
from roster.services.workspaces import create_workspace
from tests.fakes import FakeStore, FakeUnitOfWork

NOW = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)
CLI = Actor(id=None, name="cli:test")
URL = "https://roster.example"


def _workspace(uow: FakeUnitOfWork) -> tuple[str, list[str]]:
    ws, _ = create_workspace(
        uow, slug="acme", name="Acme", route=Route.CLI, actor=CLI, now=NOW - timedelta(days=30),
        owner=NewUser("o@x.example", "Olga"),
    )  # fmt: skip
    with uow:
        users = add_users(
            uow, workspace_id=ws.id, route=Route.CLI, actor=CLI, now=NOW - timedelta(days=30),
            batch_id=None,
            new=[NewUser("a@x.example", "Ada", role=Role.ADMIN),
                 NewUser("m@x.example", "Max"), NewUser("b@x.example", "Bo")],
        )  # fmt: skip
        uow.commit()
    change_status(
        uow, workspace_id=ws.id, user_id=users[2].id, to=Status.BLOCKED, route=Route.CLI,
        actor=CLI, reason_code=ReasonCode.NEEDS_REVIEW, now=NOW - timedelta(days=10),
    )  # fmt: skip
    return ws.id, [u.id for u in users]


def test_owners_and_admins_get_one_digest_a_day() -> None:
    uow = FakeUnitOfWork(FakeStore())
    _workspace(uow)

    assert queue_digests(uow, NOW, URL) == 2
    assert sorted(m["to_address"] for m in uow.store.mail if m["kind"] == "review_digest") == [
        "a@x.example",
        "o@x.example",
    ]
    assert queue_digests(uow, NOW + timedelta(hours=3), URL) == 0  # the same day
    assert queue_digests(uow, NOW + timedelta(days=1), URL) == 2  # the next day


def test_no_digest_when_the_workspace_turned_it_off() -> None:
    uow = FakeUnitOfWork(FakeStore())
    ws, _ = _workspace(uow)
    workspace = replace(uow.store.workspaces[ws], review_digest=False)
    uow.store.workspaces[ws] = workspace

    assert queue_digests(uow, NOW, URL) == 0
    assert queue_digest(uow, workspace, NOW, URL) == 0
    assert [m for m in uow.store.mail if m["kind"] == "review_digest"] == []
