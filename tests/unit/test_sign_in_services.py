"""Signing in and confirming a deliberate act with one's password, on the in-memory
fakes: who may sign in, what is audited, and how the throttle counts failures."""

from datetime import UTC, datetime

import pytest

from roster.adapters.passwords import hash_password
from roster.domain import errors
from roster.domain.audit import APPLIED
from roster.domain.credentials import CredentialKind
from roster.domain.users import Actor
from roster.domain.vocabulary import ReasonCode, Role, Route, Status
from roster.services import access, throttle
from roster.services.access import AccountBlocked, AccountInactive, PasswordMismatch
from roster.services.users import NewUser, create_user
from roster.services.workspaces import create_workspace, update_settings
from tests.fakes import FakeStore, FakeUnitOfWork

NOW = datetime(2026, 12, 7, tzinfo=UTC)
OPERATOR = Actor(id=None, name="cli:test")
PASSWORD = "a long enough password"
HASH = hash_password(PASSWORD)
TIGHT = throttle.Limits(account_failures=3, address_failures=100)


def _world() -> tuple[FakeStore, str]:
    store = FakeStore()
    workspace, _ = create_workspace(
        FakeUnitOfWork(store),
        slug="w",
        name="Works",
        owner=NewUser("o@x.example", "O", password_hash=HASH),
        route=Route.CLI,
        actor=OPERATOR,
        now=NOW,
    )
    return store, workspace.id


def _add(store: FakeStore, workspace_id: str, email: str, status: Status, role: Role) -> str:
    reason = ReasonCode.OTHER if status == Status.BLOCKED else None
    new = NewUser(email, "Someone", role, status, reason, password_hash=HASH)
    return create_user(
        FakeUnitOfWork(store),
        workspace_id=workspace_id,
        new=new,
        route=Route.CLI,
        actor=OPERATOR,
        now=NOW,
    ).id


def _sign_in(
    store: FakeStore, email: str, password: str = PASSWORD, limits: throttle.Limits = TIGHT
) -> access.SignedIn:
    return access.sign_in(
        FakeUnitOfWork(store), workspace="W", email=email, password=password, now=NOW, limits=limits
    )


def test_the_right_password_opens_a_session_stamps_the_sign_in_and_tells_automations() -> None:
    store, _ = _world()
    uow = FakeUnitOfWork(store)
    signed = access.sign_in(uow, workspace="w", email="O@x.example", password=PASSWORD, now=NOW)
    assert signed.user.email == "o@x.example"
    assert not signed.reactivated
    assert uow.commits == 1  # the session alone: no throttle write on an ordinary sign-in
    [session] = store.credentials.values()
    assert (session.kind, session.user_id) == (CredentialKind.API_SESSION, signed.user.id)
    assert store.last_seen[signed.user.id] == NOW
    assert store.outbox[-1] == ("user.signed_in", {"user_id": signed.user.id})


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer() -> None:
    store, _ = _world()
    with pytest.raises(errors.Unauthenticated) as wrong:
        _sign_in(store, "o@x.example", "wrong")
    with pytest.raises(errors.Unauthenticated) as unknown:
        _sign_in(store, "nobody@x.example")
    assert wrong.value.detail == unknown.value.detail == access.WRONG_CREDENTIALS
    assert store.credentials == {}


def test_sign_in_of_a_blocked_user_with_the_right_password_is_refused_and_audited() -> None:
    store, ws = _world()
    blocked = _add(store, ws, "bo@x.example", Status.BLOCKED, Role.MEMBER)
    with pytest.raises(AccountBlocked) as refused:
        _sign_in(store, "bo@x.example")
    assert refused.value.code == "user_blocked"
    assert "Works" in refused.value.detail
    assert store.users[(ws, blocked)].status == Status.BLOCKED
    last = [e for e in store.audit if e.user_id == blocked][-1]
    assert (last.route, last.outcome) == (Route.SIGN_IN, "user_blocked")
    assert store.credentials == {}


def test_an_inactive_user_is_told_so_unless_the_workspace_reactivates_on_sign_in() -> None:
    store, ws = _world()
    sleeper = _add(store, ws, "zz@x.example", Status.INACTIVE, Role.MEMBER)
    with pytest.raises(AccountInactive):
        _sign_in(store, "zz@x.example")
    update_settings(
        FakeUnitOfWork(store),
        workspace_id=ws,
        reactivate_on_sign_in=True,
        route=Route.CLI,
        actor=OPERATOR,
        now=NOW,
    )
    signed = _sign_in(store, "zz@x.example")
    assert signed.reactivated
    assert store.users[(ws, sleeper)].status == Status.ACTIVE
    last = [e for e in store.audit if e.user_id == sleeper][-1]
    assert (last.route, last.outcome) == (Route.SIGN_IN, APPLIED)


def test_the_throttle_blocks_even_the_right_password_once_the_budget_is_spent() -> None:
    store, _ = _world()
    for _ in range(TIGHT.account_failures):
        with pytest.raises(errors.Unauthenticated):
            _sign_in(store, "o@x.example", "wrong")
    with pytest.raises(throttle.TooManyAttempts) as slow_down:
        _sign_in(store, "o@x.example")
    assert slow_down.value.retry_after == TIGHT.first_block.total_seconds()
    assert store.credentials == {}


def test_a_right_password_after_failures_clears_the_accounts_counter() -> None:
    store, ws = _world()
    with pytest.raises(errors.Unauthenticated):
        _sign_in(store, "o@x.example", "wrong")
    assert (ws, "account:o@x.example") in store.throttles
    _sign_in(store, "o@x.example")
    assert (ws, "account:o@x.example") not in store.throttles


def _admin(store: FakeStore, ws: str) -> Actor:
    admin = _add(store, ws, "adm@x.example", Status.ACTIVE, Role.ADMIN)
    return Actor(id="crd_1", name="Adm", user_id=admin, role=Role.ADMIN)


def _lift(store: FakeStore, ws: str, user_id: str, admin: Actor, password: str) -> None:
    access.change_on_profile(
        FakeUnitOfWork(store),
        workspace_id=ws,
        user_id=user_id,
        to=Status.ACTIVE,
        actor=admin,
        route=Route.ADMIN_PROFILE,
        confirm_with=password,
        note="Cleared with the customer.",
        now=NOW,
        limits=TIGHT,
    )


def test_lifting_a_block_with_a_wrong_password_is_audited_as_password_mismatch() -> None:
    store, ws = _world()
    admin = _admin(store, ws)
    blocked = _add(store, ws, "bo@x.example", Status.BLOCKED, Role.MEMBER)
    with pytest.raises(PasswordMismatch):
        _lift(store, ws, blocked, admin, "wrong")
    assert store.users[(ws, blocked)].status == Status.BLOCKED
    last = [e for e in store.audit if e.user_id == blocked][-1]
    assert (last.route, last.outcome, last.to_status) == (
        Route.ADMIN_PROFILE,
        "password_mismatch",
        Status.ACTIVE,
    )
    assert store.throttles[(ws, "account:adm@x.example")].failures == 1


def test_lifting_a_block_with_the_admins_password_unblocks() -> None:
    store, ws = _world()
    admin = _admin(store, ws)
    blocked = _add(store, ws, "bo@x.example", Status.BLOCKED, Role.MEMBER)
    _lift(store, ws, blocked, admin, PASSWORD)
    assert store.users[(ws, blocked)].status == Status.ACTIVE


def test_the_confirmation_spends_the_admins_sign_in_budget() -> None:
    store, ws = _world()
    admin = _admin(store, ws)
    blocked = _add(store, ws, "bo@x.example", Status.BLOCKED, Role.MEMBER)
    for _ in range(TIGHT.account_failures):
        with pytest.raises(PasswordMismatch):
            _lift(store, ws, blocked, admin, "wrong")
    with pytest.raises(throttle.TooManyAttempts):
        _lift(store, ws, blocked, admin, PASSWORD)
    with pytest.raises(throttle.TooManyAttempts):
        _sign_in(store, "adm@x.example")
    assert store.users[(ws, blocked)].status == Status.BLOCKED
