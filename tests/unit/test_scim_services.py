"""The SCIM use cases' rules, on the in-memory fakes: what an identity provider may
do to a user's status and identity, and what it may never undo (a block)."""

from datetime import UTC, datetime, timedelta

import pytest

from roster.domain import errors
from roster.domain.audit import APPLIED, AuditEntry
from roster.domain.scim import ScimUser
from roster.domain.users import Actor
from roster.domain.vocabulary import ReasonCode, Role, Route, Status
from roster.services import scim
from roster.services.scim import GroupWrite, Uniqueness, UserWrite
from roster.services.users import NewUser, create_user
from roster.services.workspaces import create_workspace
from tests.fakes import FakeStore, FakeUnitOfWork

NOW = datetime(2026, 12, 7, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
OPERATOR = Actor(id=None, name="cli:test")
IDP = Actor(id="tok_scim", name="Entra")


def _world() -> tuple[FakeStore, str]:
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
    return store, workspace.id


def _blocked(store: FakeStore, workspace_id: str, email: str) -> str:
    new = NewUser(email, "Blocked", Role.MEMBER, Status.BLOCKED, ReasonCode.OTHER)
    uow = FakeUnitOfWork(store)
    return create_user(
        uow, workspace_id=workspace_id, new=new, route=Route.CLI, actor=OPERATOR, now=NOW
    ).id


def _write(user_name: str, active: bool | None = None, **attributes: object) -> UserWrite:
    return UserWrite(user_name, None, None, active, dict(attributes))


def _provision(store: FakeStore, workspace_id: str, user_name: str) -> ScimUser:
    return scim.create_user(
        FakeUnitOfWork(store),
        workspace_id=workspace_id,
        actor=IDP,
        write=_write(user_name),
        now=NOW,
    )


def _history(store: FakeStore, user_id: str) -> list[AuditEntry]:
    return [e for e in store.audit if e.user_id == user_id]


def test_scim_create_refuses_a_blocked_users_address_as_taken_and_audits_it_on_their_history() -> (
    None
):
    store, ws = _world()
    blocked = _blocked(store, ws, "bo@x.example")
    users_before = len(store.users)
    with pytest.raises(Uniqueness) as refused:
        scim.create_user(
            FakeUnitOfWork(store), workspace_id=ws, actor=IDP, write=_write("BO@X.example"), now=NOW
        )
    assert (refused.value.code, refused.value.http_status) == ("uniqueness", 409)
    assert len(store.users) == users_before
    last = _history(store, blocked)[-1]
    assert (last.route, last.outcome, last.to_status) == (
        Route.SCIM,
        "user_blocked",
        Status.BLOCKED,
    )


def test_scim_create_refuses_an_address_a_blocked_user_holds_in_emails_too() -> None:
    store, ws = _world()
    _blocked(store, ws, "bo@x.example")
    write = _write("someone-else", emails=[{"value": "bo@x.example", "primary": True}])
    with pytest.raises(Uniqueness):
        scim.create_user(FakeUnitOfWork(store), workspace_id=ws, actor=IDP, write=write, now=NOW)


def test_scim_create_makes_an_active_user_with_their_attributes() -> None:
    store, ws = _world()
    made = _provision(store, ws, "ann@x.example")
    assert (made.user.status, made.active, made.user_name) == (Status.ACTIVE, True, "ann@x.example")
    assert _history(store, made.user.id)[-1].route == Route.SCIM


def test_scim_create_refuses_a_user_name_already_taken() -> None:
    store, ws = _world()
    _provision(store, ws, "ann@x.example")
    with pytest.raises(Uniqueness):
        _provision(store, ws, "Ann@X.example")


def test_scim_setting_active_true_on_a_blocked_user_is_refused_and_audited() -> None:
    store, ws = _world()
    blocked = _blocked(store, ws, "bo@x.example")
    with FakeUnitOfWork(store) as reads:
        found = reads.scim.get_user(ws, blocked)
    assert found is not None
    with pytest.raises(errors.UserBlocked):
        scim.set_active(FakeUnitOfWork(store), found, True, actor=IDP, now=LATER)
    assert store.users[(ws, blocked)].status == Status.BLOCKED
    last = _history(store, blocked)[-1]
    assert (last.route, last.outcome, last.to_status) == (Route.SCIM, "user_blocked", Status.ACTIVE)


def test_scim_setting_active_false_deactivates_an_active_user() -> None:
    store, ws = _world()
    made = _provision(store, ws, "ann@x.example")
    after = scim.set_active(FakeUnitOfWork(store), made, False, actor=IDP, now=LATER)
    assert (after.user.status, after.active) == (Status.INACTIVE, False)
    assert _history(store, made.user.id)[-1].outcome == APPLIED


def test_scim_may_not_change_a_blocked_users_user_name_and_the_attempt_is_audited() -> None:
    store, ws = _world()
    blocked = _blocked(store, ws, "bo@x.example")
    with FakeUnitOfWork(store) as reads:
        found = reads.scim.get_user(ws, blocked)
    assert found is not None
    with pytest.raises(errors.IdentityFrozen):
        scim.update_user(
            FakeUnitOfWork(store), found, actor=IDP, write=_write("new@x.example"), now=LATER
        )
    assert store.users[(ws, blocked)].email == "bo@x.example"
    assert _history(store, blocked)[-1].outcome == "user_blocked"


def test_a_stale_version_changes_nothing() -> None:
    store, ws = _world()
    made = _provision(store, ws, "ann@x.example")
    with pytest.raises(errors.VersionConflict):
        scim.set_active(
            FakeUnitOfWork(store), made, False, actor=IDP, now=LATER, if_match='W/"99-99"'
        )
    assert store.users[(ws, made.user.id)].status == Status.ACTIVE


def test_delete_makes_a_user_inactive_deprovisioned_and_out_of_their_groups() -> None:
    store, ws = _world()
    made = _provision(store, ws, "ann@x.example")
    group = scim.create_group(
        FakeUnitOfWork(store),
        workspace_id=ws,
        write=GroupWrite("Staff", None, [{"value": made.user.id}]),
        now=NOW,
    )
    uow = FakeUnitOfWork(store)
    scim.deactivate_user(uow, workspace_id=ws, user_id=made.user.id, actor=IDP, now=LATER)
    assert uow.commits == 1  # the status and the deprovisioning land together
    assert store.users[(ws, made.user.id)].status == Status.INACTIVE
    assert store.groups[(ws, group.id)].members == []
    with FakeUnitOfWork(store) as reads:
        assert reads.scim.get_user(ws, made.user.id) is None


def test_a_deprovisioned_user_is_linked_again_not_duplicated() -> None:
    store, ws = _world()
    made = _provision(store, ws, "ann@x.example")
    scim.deactivate_user(
        FakeUnitOfWork(store), workspace_id=ws, user_id=made.user.id, actor=IDP, now=NOW
    )
    users_before = len(store.users)
    again = _provision(store, ws, "ann@x.example")
    assert again.user.id == made.user.id
    assert len(store.users) == users_before
    assert (again.user.status, again.linked) == (Status.ACTIVE, True)
    assert not store.scim_users[(ws, made.user.id)]["deprovisioned_at"]


def test_a_deprovisioned_blocked_user_linked_again_stays_blocked() -> None:
    store, ws = _world()
    blocked = _blocked(store, ws, "bo@x.example")
    scim.deactivate_user(
        FakeUnitOfWork(store), workspace_id=ws, user_id=blocked, actor=IDP, now=NOW
    )
    with pytest.raises(errors.UserBlocked):
        _provision(store, ws, "bo@x.example")
    assert store.users[(ws, blocked)].status == Status.BLOCKED
    assert _history(store, blocked)[-1].outcome == "user_blocked"


def test_a_group_refuses_a_member_who_is_not_in_the_workspace() -> None:
    store, ws = _world()
    write = GroupWrite("Staff", None, [{"value": "usr_nobody"}])
    with pytest.raises(errors.InvalidInput):
        scim.create_group(FakeUnitOfWork(store), workspace_id=ws, write=write, now=NOW)
    assert store.groups == {}


def test_a_group_is_renamed_then_deleted_for_real() -> None:
    store, ws = _world()
    made = _provision(store, ws, "ann@x.example")
    members = [{"value": made.user.id}]
    group = scim.create_group(
        FakeUnitOfWork(store), workspace_id=ws, write=GroupWrite("Staff", None, members), now=NOW
    )
    renamed = scim.update_group(
        FakeUnitOfWork(store),
        workspace_id=ws,
        group_id=group.id,
        write=GroupWrite("Crew", None, members),
        now=LATER,
        if_match=group.etag,
    )
    assert (renamed.display_name, renamed.version) == ("Crew", 2)
    assert renamed.members == [(made.user.id, "User")]
    scim.delete_group(FakeUnitOfWork(store), workspace_id=ws, group_id=group.id)
    with pytest.raises(errors.NotFound):
        scim.delete_group(FakeUnitOfWork(store), workspace_id=ws, group_id=group.id)
