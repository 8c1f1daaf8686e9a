"""The rules of API tokens and invitations, on the in-memory fakes: who may hold a
personal token, what is audited, and what accepting an invitation does to whom."""

from datetime import UTC, datetime, timedelta

import pytest

from roster.domain import errors
from roster.domain.audit import AuditKind
from roster.domain.credentials import CredentialKind
from roster.domain.users import Actor
from roster.domain.vocabulary import ReasonCode, Role, Route, Status
from roster.services.access import create_token, revoke_credential
from roster.services.invitations import (
    accept_invitation,
    create_invitation,
    revoke_invitation,
)
from roster.services.users import NewUser, create_user
from roster.services.workspaces import create_workspace, update_settings
from tests.fakes import FakeStore, FakeUnitOfWork

NOW = datetime(2026, 12, 7, tzinfo=UTC)
OPERATOR = Actor(id=None, name="cli:test")
PASSWORD = "a long enough password"


def _world() -> tuple[FakeStore, str, Actor]:
    store = FakeStore()
    workspace, owner = create_workspace(
        FakeUnitOfWork(store),
        slug="w",
        name=None,
        owner=NewUser("o@x.example", "O"),
        route=Route.CLI,
        actor=OPERATOR,
        now=NOW,
    )
    return store, workspace.id, Actor(id="tok_1", name="O", user_id=owner.id, role=Role.OWNER)


def _add(
    store: FakeStore,
    workspace_id: str,
    email: str,
    role: Role = Role.MEMBER,
    status: Status = Status.ACTIVE,
    reason_code: ReasonCode | None = None,
) -> str:
    new = NewUser(email, email.split("@", maxsplit=1)[0], role, status, reason_code)
    user = create_user(
        FakeUnitOfWork(store),
        workspace_id=workspace_id,
        new=new,
        route=Route.CLI,
        actor=OPERATOR,
        now=NOW,
    )
    return user.id


def _token(
    store: FakeStore,
    workspace_id: str,
    kind: CredentialKind,
    name: str | None = "ci",
    user_id: str | None = None,
) -> str:
    credential_id, _ = create_token(
        FakeUnitOfWork(store),
        workspace_id=workspace_id,
        kind=kind,
        name=name,
        user_id=user_id,
        now=NOW,
        route=Route.CLI,
        actor=OPERATOR,
    )
    return credential_id


def _revoke(store: FakeStore, workspace_id: str, credential_id: str) -> None:
    revoke_credential(
        FakeUnitOfWork(store),
        workspace_id=workspace_id,
        credential_id=credential_id,
        now=NOW,
        route=Route.CLI,
        actor=OPERATOR,
    )


def _kinds(store: FakeStore) -> list[AuditKind]:
    return [e.kind for e in store.audit if e.kind != AuditKind.STATUS]


def test_a_personal_token_is_only_for_an_active_owner_or_admin() -> None:
    store, ws, owner = _world()
    member = _add(store, ws, "m@x.example")
    inactive_admin = _add(store, ws, "a@x.example", Role.ADMIN, Status.INACTIVE)
    for user_id in (member, inactive_admin):
        with pytest.raises(errors.InvalidInput, match="Active owners and admins"):
            _token(store, ws, CredentialKind.PERSONAL, user_id=user_id)
    with pytest.raises(errors.NotFound):
        _token(store, ws, CredentialKind.PERSONAL, user_id="usr_nobody")
    assert store.credentials == {}
    mine = _token(store, ws, CredentialKind.PERSONAL, user_id=owner.user_id, name=None)
    assert store.credentials[mine].user_id == owner.user_id


def test_a_service_or_scim_token_needs_a_name_of_at_most_200_characters() -> None:
    store, ws, _ = _world()
    with pytest.raises(errors.InvalidInput, match="needs a name"):
        _token(store, ws, CredentialKind.SERVICE, name="  ")
    with pytest.raises(errors.InvalidInput, match="200 characters"):
        _token(store, ws, CredentialKind.SCIM, name="x" * 201)
    with pytest.raises(errors.InvalidInput, match="personal, service or scim"):
        _token(store, ws, CredentialKind.SESSION)
    assert store.credentials == {}
    assert _kinds(store) == []


def test_making_a_token_is_audited_with_its_kind_and_name_but_never_its_secret() -> None:
    store, ws, _ = _world()
    expires = NOW + timedelta(days=30)
    credential_id, token = create_token(
        FakeUnitOfWork(store),
        workspace_id=ws,
        kind=CredentialKind.SERVICE,
        name=" ci ",
        user_id=None,
        now=NOW,
        expires_at=expires,
        route=Route.CLI,
        actor=OPERATOR,
    )
    [made] = [e for e in store.audit if e.kind == AuditKind.CREDENTIAL_CREATED]
    assert made.note == credential_id
    assert made.changes == {
        "kind": [None, "service"],
        "name": [None, "ci"],
        "expires_at": [None, expires.isoformat()],
    }
    assert token not in repr(store.audit)


def test_revoking_a_token_is_audited_once_and_a_second_revoke_finds_nothing() -> None:
    store, ws, _ = _world()
    credential_id = _token(store, ws, CredentialKind.SERVICE)
    _revoke(store, ws, credential_id)
    assert store.credentials[credential_id].revoked_at == NOW
    with pytest.raises(errors.NotFound):
        _revoke(store, ws, credential_id)
    with pytest.raises(errors.NotFound):  # nor is it another workspace's to revoke
        _revoke(store, "ws_other", credential_id)
    assert _kinds(store) == [AuditKind.CREDENTIAL_CREATED, AuditKind.CREDENTIAL_REVOKED]


def test_signing_out_ends_the_session_without_an_audit_entry() -> None:
    store, ws, owner = _world()
    session = _token(store, ws, CredentialKind.PERSONAL, user_id=owner.user_id)
    store.credentials[session].kind = CredentialKind.SESSION
    _revoke(store, ws, session)
    assert store.credentials[session].revoked_at == NOW
    assert _kinds(store) == [AuditKind.CREDENTIAL_CREATED]


def _invite(store: FakeStore, ws: str, actor: Actor, email: str, role: Role = Role.MEMBER) -> str:
    made = create_invitation(
        FakeUnitOfWork(store),
        workspace_id=ws,
        email=email,
        role=role,
        actor=actor,
        now=NOW,
        public_url="https://roster.example",
    )
    return made.token


def _accept(store: FakeStore, token: str, password: str | None = PASSWORD) -> Status:
    accepted = accept_invitation(FakeUnitOfWork(store), token=token, password=password, now=NOW)
    return accepted.user.status


def test_accepting_an_invitation_creates_an_active_user_with_its_role_once() -> None:
    store, ws, owner = _world()
    token = _invite(store, ws, owner, "New@X.example", Role.ADMIN)
    with pytest.raises(errors.InvalidInput, match="Choose a password"):
        _accept(store, token, password=None)
    assert _accept(store, token) == Status.ACTIVE
    [user] = [u for u in store.users.values() if u.email == "new@x.example"]
    assert (user.role, user.status) == (Role.ADMIN, Status.ACTIVE)
    assert store.passwords[user.id].startswith("$argon2id$")
    with pytest.raises(errors.NotFound):  # an invitation is spent once accepted
        _accept(store, token)


def test_accepting_reactivates_an_inactive_user_and_sets_their_new_password() -> None:
    store, ws, owner = _world()
    user_id = _add(store, ws, "i@x.example", status=Status.INACTIVE)
    assert _accept(store, _invite(store, ws, owner, "i@x.example")) == Status.ACTIVE
    assert store.users[(ws, user_id)].status == Status.ACTIVE
    assert user_id in store.passwords


def test_a_blocked_user_cannot_be_invited_and_the_refusal_is_in_their_history() -> None:
    store, ws, owner = _world()
    blocked = _add(store, ws, "b@x.example", Role.MEMBER, Status.BLOCKED, ReasonCode.OTHER)
    with pytest.raises(errors.UserBlocked):
        _invite(store, ws, owner, "B@x.example")
    assert store.invitations == {}
    refused = [e for e in store.audit if e.user_id == blocked][-1]
    assert (refused.route, refused.outcome) == (Route.INVITATION, "user_blocked")


def test_a_full_workspace_refuses_the_acceptance_and_the_invitation_stays_pending() -> None:
    store, ws, owner = _world()
    user_id = _add(store, ws, "i@x.example", status=Status.INACTIVE)
    token = _invite(store, ws, owner, "i@x.example")
    update_settings(
        FakeUnitOfWork(store),
        workspace_id=ws,
        seat_limit=1,
        route=Route.CLI,
        actor=OPERATOR,
        now=NOW,
    )
    with pytest.raises(errors.SeatLimitReached):
        _accept(store, token)
    assert store.users[(ws, user_id)].status == Status.INACTIVE
    update_settings(
        FakeUnitOfWork(store),
        workspace_id=ws,
        seat_limit=None,
        route=Route.CLI,
        actor=OPERATOR,
        now=NOW,
    )
    assert _accept(store, token) == Status.ACTIVE


def test_a_new_invitation_replaces_the_pending_one_and_a_revoked_one_cannot_be_accepted() -> None:
    store, ws, owner = _world()
    first = _invite(store, ws, owner, "n@x.example")
    second = _invite(store, ws, owner, "n@x.example")
    with pytest.raises(errors.NotFound):
        _accept(store, first)
    [pending] = [i for i, _ in store.invitations.values() if i.state(NOW) == "pending"]
    revoke_invitation(FakeUnitOfWork(store), workspace_id=ws, invitation_id=pending.id, now=NOW)
    with pytest.raises(errors.NotFound):
        _accept(store, second)
    with pytest.raises(errors.NotFound):  # nothing pending is left to revoke
        revoke_invitation(FakeUnitOfWork(store), workspace_id=ws, invitation_id=pending.id, now=NOW)
