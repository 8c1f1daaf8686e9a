"""Signing in, and the credentials that prove it.

A sign-in costs one Argon2id verification whether or not the email exists, so
its timing does not tell which emails have accounts.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Connection

from roster.adapters import credential_store
from roster.adapters.credential_store import Checked
from roster.adapters.database import WRITE
from roster.adapters.passwords import DUMMY_HASH, hash_password, needs_rehash, verify_password
from roster.adapters.tokens import new_token, workspace_of
from roster.domain import errors
from roster.domain.audit import AuditKind, admin_action, changed_fields
from roster.domain.credentials import CredentialKind, Principal
from roster.domain.emails import normalize_email
from roster.domain.ids import new_id
from roster.domain.users import Actor, User
from roster.domain.vocabulary import ADMIN_ROLES, ReasonCode, Route, Status
from roster.domain.workspaces import Workspace
from roster.services import throttle
from roster.services.ports import UnitOfWork
from roster.services.status import ChangeResult, change_status, refuse

SESSION_TTL = timedelta(hours=12)
SESSION_KINDS = frozenset({CredentialKind.SESSION, CredentialKind.API_SESSION})
TOUCH_EVERY = timedelta(minutes=5)
"""last_used_at / last_seen_at are stamped at most this often, not on every request."""
WRONG_CREDENTIALS = "The workspace, email or password is not right."


class AccountNotActive(errors.Forbidden):
    """A right password for an account that may not sign in. Only a caller who knows
    the password hears which status stops them: a wrong one is WRONG_CREDENTIALS."""


class AccountInactive(AccountNotActive):
    code = "user_inactive"
    title = "Account is inactive"


class AccountBlocked(AccountNotActive):
    code = errors.UserBlocked.code
    title = errors.UserBlocked.title


@dataclass(frozen=True, slots=True)
class SignedIn:
    token: str
    expires_at: datetime
    user: User
    reactivated: bool


def sign_in(
    uow: UnitOfWork,
    *,
    workspace: str,
    email: str,
    password: str,
    now: datetime,
    kind: CredentialKind = CredentialKind.API_SESSION,
    address: str | None = None,
    limits: throttle.Limits = throttle.DEFAULT_LIMITS,
) -> SignedIn:
    """Check a password and open a session (cookie or bearer), or refuse.

    Every attempt that is not throttled costs exactly one Argon2id verification,
    against the account's hash or a dummy one at the same parameters: an unknown
    workspace or email takes the same path and the same time as a wrong password,
    and gets the same message. Failures count per account and per client
    `address` (429 once too many). A right password for an Inactive or Blocked
    account says which, and whom to ask; where the workspace allows it, an
    Inactive user comes back Active (route sign_in), a Blocked one never.

    The account and its counters are read in a read-only unit of work (no write
    lock while the password is verified); each write is a short one of its own.
    """
    account = _normalized(email)
    with uow.read_only() as reads:
        found = _account(reads, workspace, account)
        keys = throttle.Keys.of(found.workspace.id if found else None, account, address)
        had_failures = throttle.check(reads.throttles, keys, now)
    stored = found.password_hash if found is not None and found.password_hash else DUMMY_HASH
    if not verify_password(stored, password) or stored is DUMMY_HASH:
        throttle.record_failure(uow, keys, now, limits)
        raise errors.Unauthenticated(WRONG_CREDENTIALS)
    assert found is not None  # a real hash came from a real user
    user = found.user
    assert user is not None
    if had_failures:
        throttle.succeeded(uow, keys)
    admitted = _admit(uow, found.workspace, user, now)
    rehashed = hash_password(password) if needs_rehash(stored) else None
    return _open_session(uow, admitted, kind, now, admitted is not user, rehashed)


def _normalized(email: str) -> str:
    try:
        return normalize_email(email)
    except errors.InvalidInput:
        return email.strip().lower()[:320]


class _Account(NamedTuple):
    workspace: Workspace
    user: User | None
    password_hash: str | None


def _account(reads: UnitOfWork, workspace: str, email: str) -> _Account | None:
    """The workspace named by `workspace`, the user with `email` in it (if any) and
    their password hash; None when there is no such workspace."""
    ws = reads.workspaces.get_by_slug(workspace.strip().lower())
    if ws is None:
        return None
    user = reads.users.get_by_email(ws.id, email)
    return _Account(ws, user, reads.users.password_hash(ws.id, user.id) if user else None)


def _admit(uow: UnitOfWork, ws: Workspace, user: User, now: datetime) -> User:
    """The user as they sign in (a new User when this sign-in reactivated them);
    raise when they may not sign in.

    Reactivation goes through the domain (route sign_in), which refuses a Blocked
    user and a full workspace; the refusal is audited like any other. A Blocked
    user's sign-in is put to the domain whatever the workspace's reactivation
    setting, so every refused sign-in of a Blocked user is in their history.
    """
    if user.status == Status.ACTIVE:
        return user
    if not ws.reactivate_on_sign_in and user.status != Status.BLOCKED:
        raise AccountInactive(_not_active_message(user.status, ws.name))
    try:
        result = change_status(
            uow,
            workspace_id=user.workspace_id,
            user_id=user.id,
            to=Status.ACTIVE,
            route=Route.SIGN_IN,
            actor=Actor(id=user.id, name=user.name, user_id=user.id),
            now=now,
        )
    except errors.SeatLimitReached as full:
        raise AccountInactive(
            f"This account is Inactive in {ws.name}, and the workspace has no free "
            f"seat to reactivate it. Ask an admin of {ws.name}."
        ) from full
    except errors.DomainError as refusal:
        raise _not_active(user.status, ws.name) from refusal
    return result.user


def _not_active(status: Status, workspace_name: str) -> AccountNotActive:
    message = _not_active_message(status, workspace_name)
    return AccountBlocked(message) if status == Status.BLOCKED else AccountInactive(message)


def _not_active_message(status: Status, workspace_name: str) -> str:
    if status == Status.BLOCKED:
        return (
            f"This account is Blocked in {workspace_name}. Only an admin of "
            f"{workspace_name} can lift the block: please contact them."
        )
    return (
        f"This account is Inactive in {workspace_name}. Ask an admin of "
        f"{workspace_name} to reactivate it."
    )


def _open_session(
    uow: UnitOfWork,
    user: User,
    kind: CredentialKind,
    now: datetime,
    reactivated: bool,
    rehashed: str | None,
) -> SignedIn:
    token = new_token(user.workspace_id)
    expires = now + SESSION_TTL
    with uow:
        uow.credentials.add(
            workspace_id=user.workspace_id,
            kind=kind,
            token=token,
            user_id=user.id,
            name=None,
            now=now,
            expires_at=expires,
        )
        # `rehashed`: the hashing parameters changed since this password was set.
        uow.users.signed_in(user, now, rehashed)
        # For automations triggered by user.signed_in, acted on after commit.
        uow.outbox.add(user.workspace_id, "user.signed_in", [{"user_id": user.id}], now)
        uow.commit()
    return SignedIn(token, expires, user, reactivated)


class PasswordMismatch(errors.InvalidInput):
    """The password confirming a deliberate act is not the admin's own."""

    code = "password_mismatch"
    title = "Password does not match"

    def default_detail(self) -> str:
        return "That is not your password. Nothing was changed."


def change_on_profile(
    uow: UnitOfWork,
    *,
    workspace_id: str,
    user_id: str,
    to: Status,
    actor: Actor,
    route: Route,
    confirm_with: str | None,
    reason_code: ReasonCode | None = None,
    note: str | None = None,
    now: datetime,
    expected_version: int | None = None,
    request_id: str | None = None,
    limits: throttle.Limits = throttle.DEFAULT_LIMITS,
    review_by: date | None = None,
) -> ChangeResult:
    """`change_status` for an admin on a user's profile (a block may give its
    `review_by` date); where `confirm_with` is given
    (lifting a block, PRODUCT §3: it is deliberate), only once it is the acting
    admin's own password.

    The confirmation spends the admin's sign-in throttle budget: a stolen session
    cookie must not guess the password faster than the sign-in form lets it, so while
    the account is throttled even the right password answers 429. A wrong password
    counts as a failed sign-in and is a refused attempt (`password_mismatch`) in the
    target user's history.
    """
    if confirm_with is not None and not _confirms(
        uow, workspace_id, actor.user_id, confirm_with, now, limits
    ):
        refuse(
            uow,
            workspace_id=workspace_id,
            user_id=user_id,
            to=to,
            route=route,
            actor=actor,
            reason_code=reason_code,
            note=note,
            now=now,
            refusal=PasswordMismatch(),
            request_id=request_id,
        )
    return change_status(
        uow,
        workspace_id=workspace_id,
        user_id=user_id,
        to=to,
        route=route,
        actor=actor,
        reason_code=reason_code,
        note=note,
        now=now,
        expected_version=expected_version,
        request_id=request_id,
        review_by=review_by,
    )


def _confirms(
    uow: UnitOfWork,
    workspace_id: str,
    user_id: str | None,
    password: str,
    now: datetime,
    limits: throttle.Limits,
) -> bool:
    """Whether `password` is this user's, checked as a sign-in is: throttled per
    account (`TooManyAttempts`), one Argon2id verification, a failure counted."""
    with uow.read_only() as reads:
        user = reads.users.get(workspace_id, user_id or "")
        if user is None:
            raise errors.NotFound("No such user in this workspace.")
        keys = throttle.Keys.of(workspace_id, user.email, None)
        had_failures = throttle.check(reads.throttles, keys, now)
        stored = reads.users.password_hash(workspace_id, user.id) or DUMMY_HASH
    if not verify_password(stored, password) or stored is DUMMY_HASH:
        throttle.record_failure(uow, keys, now, limits)
        return False
    if had_failures:
        throttle.succeeded(uow, keys)
    return True


def authenticate(conn: Connection, token: str | None, now: datetime) -> Principal:
    """The caller behind a bearer token or session cookie, or `unauthenticated`.

    One query reads the credential and the user's status as it is now. The
    last-used stamps are written at most every TOUCH_EVERY, in their own short
    transaction, so a busy token does not turn every read into a write.

    A read-side query on the caller's connection, not a unit of work: it runs on
    every request, and the route reuses the connection it was checked on (one
    checkout per request); a unit of work would take SQLite's write lock for a read.
    """
    found = credential_store.lookup(conn, token, now) if token else None
    if found is None:
        raise errors.Unauthenticated("A valid credential is needed: sign in or send a token.")
    if found.last_used_at is None or now - found.last_used_at >= TOUCH_EVERY:
        _stamp(conn, found.principal, now)
    return found.principal


def _stamp(conn: Connection, principal: Principal, now: datetime) -> None:
    """Write the last-used stamps on the caller's own connection, after ending its
    read. Never a second connection: a request holding one while it waits for
    another deadlocks the pool once as many requests stamp at once as it has
    connections (64 writers on one worker stalled every request for the pool's
    30-second timeout)."""
    conn.rollback()
    conn.execution_options(**WRITE)  # on SQLite, the write lock up front
    try:
        with conn.begin():
            credential_store.touch(conn, principal, now)
    finally:
        conn.execution_options(roster_write=False)  # the caller reads on


def introspect(conn: Connection, caller: Principal, token: str, now: datetime) -> Checked | None:
    """The live credential behind `token` for RFC 7662, or None (`active: false`).

    A token of another workspace is as unknown as a made-up one. A read-side query,
    like `authenticate`: it writes nothing.
    """
    if workspace_of(token) != caller.workspace_id:
        return None
    return credential_store.lookup(conn, token, now)


def list_tokens(
    conn: Connection, workspace_id: str, *, before: str | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """A workspace's API tokens (not sessions), newest first, below the id `before`
    (`limit` of them; None: all); never their secrets. A read-side query for the
    tokens page: it writes nothing, so it needs no unit of work."""
    return credential_store.list_tokens(conn, workspace_id, before=before, limit=limit)


def create_token(
    uow: UnitOfWork,
    *,
    workspace_id: str,
    kind: CredentialKind,
    name: str | None,
    user_id: str | None,
    now: datetime,
    expires_at: datetime | None = None,
    route: Route,
    actor: Actor,
    request_id: str | None = None,
) -> tuple[str, str]:
    """A new API token, returned once as (credential id, token). Its making is
    audited (`credential.created`: kind, name, expiry; never the secret)."""
    if kind not in (CredentialKind.PERSONAL, CredentialKind.SERVICE, CredentialKind.SCIM):
        raise errors.InvalidInput("A token's kind is personal, service or scim.")
    if kind != CredentialKind.PERSONAL and not (name and name.strip()):
        raise errors.InvalidInput("A service or scim token needs a name.")
    name = name.strip() if name else None
    if name and len(name) > 200:  # the column's width, as the API takes it
        raise errors.InvalidInput("A token's name has at most 200 characters.")
    token = new_token(workspace_id)
    with uow:
        if kind == CredentialKind.PERSONAL:
            _check_personal_owner(uow.users.get(workspace_id, user_id or ""))
        credential_id = uow.credentials.add(
            workspace_id=workspace_id,
            kind=kind,
            token=token,
            user_id=user_id,
            name=name,
            now=now,
            expires_at=expires_at,
        )
        made = {"kind": kind.value, "name": name}
        made["expires_at"] = expires_at.isoformat() if expires_at else None
        entry = admin_action(
            AuditKind.CREDENTIAL_CREATED,
            changed_fields({}, made),
            workspace_id=workspace_id,
            route=route,
            actor=actor,
            at=now,
            entry_id=new_id("evt"),
            request_id=request_id,
            user_id=user_id,
            note=credential_id,
        )
        uow.audit.append([entry])
        uow.commit()
    return credential_id, token


def _check_personal_owner(owner: User | None) -> None:
    if owner is None:
        raise errors.NotFound("No such user in this workspace.")
    if owner.role not in ADMIN_ROLES or owner.status != Status.ACTIVE:
        raise errors.InvalidInput("Personal tokens are for Active owners and admins.")


def revoke_credential(
    uow: UnitOfWork,
    *,
    workspace_id: str,
    credential_id: str,
    now: datetime,
    route: Route,
    actor: Actor,
    request_id: str | None = None,
) -> None:
    """Revoke a live credential. Revoking an API token is audited
    (`credential.revoked`); ending one's own session (signing out) is not."""
    with uow:
        revoked = uow.credentials.revoke(
            workspace_id=workspace_id, credential_id=credential_id, now=now
        )
        if revoked is None:
            raise errors.NotFound("No such live credential in this workspace.")
        kind, owner = revoked
        if kind not in SESSION_KINDS:
            entry = admin_action(
                AuditKind.CREDENTIAL_REVOKED,
                {"revoked_at": [None, now.isoformat()]},
                workspace_id=workspace_id,
                route=route,
                actor=actor,
                at=now,
                entry_id=new_id("evt"),
                request_id=request_id,
                user_id=owner,
                note=credential_id,
            )
            uow.audit.append([entry])
        uow.commit()
