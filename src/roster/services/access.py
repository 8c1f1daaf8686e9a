"""Signing in, and the credentials that prove it.

A sign-in costs one Argon2id verification whether or not the email exists, so
its timing does not tell which emails have accounts.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, select, update

from roster.adapters import credential_store
from roster.adapters.passwords import DUMMY_HASH, verify_password
from roster.adapters.repositories import user_from_row
from roster.adapters.tables import users, workspaces
from roster.adapters.tokens import new_token
from roster.adapters.unit_of_work import SqlUnitOfWork
from roster.domain import errors
from roster.domain.credentials import CredentialKind, Principal
from roster.domain.emails import normalize_email
from roster.domain.users import Actor, User
from roster.domain.vocabulary import ADMIN_ROLES, Route, Status
from roster.services.status import change_status

SESSION_TTL = timedelta(hours=12)
WRONG_CREDENTIALS = "The workspace, email or password is not right."


class AccountNotActive(errors.Forbidden):
    """A right password for an account that may not sign in."""


@dataclass(frozen=True, slots=True)
class SignedIn:
    token: str
    expires_at: datetime
    user: User
    reactivated: bool


def sign_in(
    engine: Engine,
    *,
    workspace: str,
    email: str,
    password: str,
    now: datetime,
    kind: CredentialKind = CredentialKind.API_SESSION,
) -> SignedIn:
    """Check a password and open a session (cookie or bearer), or refuse.

    A wrong password, an unknown email and an unknown workspace all get the same
    message. A right password for an Inactive or Blocked account says which, and
    whom to ask; where the workspace allows it, an Inactive user comes back Active.
    """
    try:
        address = normalize_email(email)
    except errors.InvalidInput:
        address = ""
    with engine.connect() as conn:
        row = conn.execute(
            select(users, workspaces.c.reactivate_on_sign_in, workspaces.c.name.label("ws_name"))
            .join(workspaces, workspaces.c.id == users.c.workspace_id)
            .where(workspaces.c.slug == workspace.strip().lower(), users.c.email == address)
        ).first()
    stored = row.password_hash if row is not None and row.password_hash else DUMMY_HASH
    if not verify_password(stored, password) or row is None or not row.password_hash:
        raise errors.Unauthenticated(WRONG_CREDENTIALS)
    user = user_from_row(row)
    reactivated = False
    if user.status != Status.ACTIVE:
        if not (row.reactivate_on_sign_in and user.status == Status.INACTIVE):
            raise AccountNotActive(_not_active_message(user.status, row.ws_name))
        change_status(
            SqlUnitOfWork(engine),
            workspace_id=user.workspace_id,
            user_id=user.id,
            to=Status.ACTIVE,
            route=Route.SIGN_IN,
            actor=Actor(id=user.id, name=user.name, user_id=user.id),
            now=now,
        )
        reactivated = True
    return _open_session(engine, user, kind, now, reactivated)


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
    engine: Engine, user: User, kind: CredentialKind, now: datetime, reactivated: bool
) -> SignedIn:
    token = new_token(user.workspace_id)
    expires = now + SESSION_TTL
    with engine.begin() as conn:
        credential_store.add(
            conn,
            workspace_id=user.workspace_id,
            kind=kind,
            token=token,
            user_id=user.id,
            name=None,
            now=now,
            expires_at=expires,
        )
        conn.execute(
            update(users)
            .where(users.c.workspace_id == user.workspace_id, users.c.id == user.id)
            .values(last_seen_at=now)
        )
    return SignedIn(token, expires, user, reactivated)


def authenticate(conn: Connection, token: str | None, now: datetime) -> Principal:
    """The caller behind a bearer token or session cookie, or `unauthenticated`."""
    principal = credential_store.check(conn, token, now) if token else None
    if principal is None:
        raise errors.Unauthenticated("A valid credential is needed: sign in or send a token.")
    return principal


def create_token(
    engine: Engine,
    *,
    workspace_id: str,
    kind: CredentialKind,
    name: str | None,
    user_id: str | None,
    now: datetime,
    expires_at: datetime | None = None,
) -> tuple[str, str]:
    """A new API token, returned once as (credential id, token)."""
    if kind not in (CredentialKind.PERSONAL, CredentialKind.SERVICE, CredentialKind.SCIM):
        raise errors.InvalidInput("A token's kind is personal, service or scim.")
    if kind == CredentialKind.PERSONAL:
        _check_personal_owner(engine, workspace_id, user_id)
    elif not (name and name.strip()):
        raise errors.InvalidInput("A service or scim token needs a name.")
    token = new_token(workspace_id)
    with engine.begin() as conn:
        credential_id = credential_store.add(
            conn,
            workspace_id=workspace_id,
            kind=kind,
            token=token,
            user_id=user_id,
            name=name.strip() if name else None,
            now=now,
            expires_at=expires_at,
        )
    return credential_id, token


def _check_personal_owner(engine: Engine, workspace_id: str, user_id: str | None) -> None:
    with engine.connect() as conn:
        row = conn.execute(
            select(users.c.role, users.c.status).where(
                users.c.workspace_id == workspace_id, users.c.id == user_id
            )
        ).first()
    if row is None:
        raise errors.NotFound("No such user in this workspace.")
    if row.role not in ADMIN_ROLES or row.status != Status.ACTIVE:
        raise errors.InvalidInput("Personal tokens are for Active owners and admins.")


def revoke_credential(
    engine: Engine, *, workspace_id: str, credential_id: str, now: datetime
) -> None:
    with engine.begin() as conn:
        if not credential_store.revoke(
            conn, workspace_id=workspace_id, credential_id=credential_id, now=now
        ):
            raise errors.NotFound("No such live credential in this workspace.")
