"""The services ask the domain's identity rules and audit each refusal, with the
in-memory fakes: a Blocked user's role through the API, and their address for a
new account by every route."""

from datetime import UTC, datetime

import pytest

from roster.domain import errors
from roster.domain.users import Actor
from roster.domain.vocabulary import ReasonCode, Role, Route, Status
from roster.services.users import NewUser, add_users, create_user, update_user
from roster.services.workspaces import create_workspace, update_settings
from tests.fakes import FakeStore, FakeUnitOfWork

NOW = datetime(2026, 12, 7, tzinfo=UTC)
ADMIN = Actor(id="tok_1", name="Ada (token)", user_id="usr_admin")
OPERATOR = Actor(id=None, name="cli:test")  # above the owner rule, as at the CLI


def _world() -> tuple[FakeStore, str, str]:
    store = FakeStore()
    workspace, _ = create_workspace(
        FakeUnitOfWork(store),
        slug="w",
        name=None,
        owner=NewUser("o@x.example", "O"),
        route=Route.CLI,
        actor=OPERATOR,
        now=NOW,
    )
    blocked = create_user(
        FakeUnitOfWork(store),
        workspace_id=workspace.id,
        new=NewUser("blk@x.example", "B", status=Status.BLOCKED, reason_code=ReasonCode.OTHER),
        route=Route.CLI,
        actor=ADMIN,
        now=NOW,
    )
    return store, workspace.id, blocked.id


def _refused(store: FakeStore, user_id: str) -> list[tuple[str, str]]:
    return [(e.route.value, e.outcome) for e in store.audit if e.user_id == user_id][1:]


def test_a_blocked_users_role_is_refused_through_the_api_and_audited() -> None:
    store, workspace_id, user_id = _world()
    with pytest.raises(errors.UserBlocked):
        update_user(
            FakeUnitOfWork(store),
            workspace_id=workspace_id,
            user_id=user_id,
            role=Role.ADMIN,
            route=Route.ADMIN_API,
            actor=ADMIN,
            now=NOW,
        )
    assert store.users[(workspace_id, user_id)].role == Role.MEMBER
    assert _refused(store, user_id) == [("admin_api", "user_blocked")]
    update_user(
        FakeUnitOfWork(store),
        workspace_id=workspace_id,
        user_id=user_id,
        role=Role.ADMIN,
        route=Route.CLI,
        actor=ADMIN,
        now=NOW,
    )
    assert store.users[(workspace_id, user_id)].role == Role.ADMIN


@pytest.mark.parametrize("route", list(Route))
@pytest.mark.parametrize("spelling", ["blk@x.example", "BLK@X.example.", "b\u200blk@x.example"])
def test_no_route_gives_a_blocked_users_address_to_a_new_account(
    route: Route, spelling: str
) -> None:
    store, workspace_id, user_id = _world()
    with pytest.raises(errors.UserBlocked):
        create_user(
            FakeUnitOfWork(store),
            workspace_id=workspace_id,
            new=NewUser(spelling, "Again"),
            route=route,
            actor=ADMIN,
            now=NOW,
        )
    assert len(store.users) == 2
    assert _refused(store, user_id) == [(route.value, "user_blocked")]


def test_an_import_chunk_skips_and_reports_a_blocked_address_and_adds_the_rest() -> None:
    store, workspace_id, user_id = _world()
    update_settings(
        FakeUnitOfWork(store),
        workspace_id=workspace_id,
        seat_limit=2,
        route=Route.CLI,
        actor=OPERATOR,
        now=NOW,
    )
    refused: list[tuple[int, str]] = []
    with FakeUnitOfWork(store) as uow:
        made = add_users(
            uow,
            workspace_id=workspace_id,
            new=[
                NewUser("a@x.example", "A"),
                NewUser("BLK@x.example", "B"),
                NewUser("c@x.example", "C", status=Status.INACTIVE),
                NewUser("d@x.example", "D"),  # past the seat limit
            ],
            route=Route.BULK,
            actor=ADMIN,
            now=NOW,
            batch_id="bat_1",
            refused=lambda i, e: refused.append((i, e.code)),
        )
        uow.commit()
    assert [u.email for u in made] == ["a@x.example", "c@x.example"]
    assert refused == [(1, "user_blocked"), (3, "seat_limit_reached")]  # indexes as sent
    assert _refused(store, user_id) == [("bulk", "user_blocked")]
