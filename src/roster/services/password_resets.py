"""Password reset: a standard flow that never changes a status.

Asking for a reset answers the same whatever the address (no enumeration). For an
Active or Inactive user it emails a single-use link valid 30 minutes (the token is
kept only as a hash); a Blocked user's password is frozen (only an admin on the
profile or the CLI may change what empowers them), so no email is sent and the
attempt is a refused one in the audit log (route `password_reset`, `user_blocked`).
Requests are throttled per address asked for and per client, as sign-ins are.
Setting the new password spends every live link of the user and ends their
sessions; it makes no one Active (an Inactive user still cannot sign in).
"""

from datetime import datetime, timedelta

from roster.adapters.passwords import hash_password
from roster.adapters.tokens import new_token, token_hash, workspace_of
from roster.domain import errors
from roster.domain.emails import address_key
from roster.domain.ids import new_id
from roster.domain.users import Actor, User, check_identity_change
from roster.domain.vocabulary import Route
from roster.domain.workspaces import Workspace
from roster.services import mail, throttle
from roster.services.invitations import MIN_PASSWORD
from roster.services.ports import UnitOfWork
from roster.services.status import audit_refusal

RESET_TTL = timedelta(minutes=30)
NOT_VALID = "This link is not valid: it may have expired or been used already."


def request_reset(
    uow: UnitOfWork,
    *,
    workspace: str,
    email: str,
    address: str | None,
    now: datetime,
    public_url: str,
) -> None:
    """Email a reset link to `email` in workspace `workspace` (a slug) if it is a user
    who may have one; otherwise do nothing visible. Raises only `TooManyAttempts`."""
    key = _key(email)
    with uow.read_only() as reads:
        found: Workspace | None = reads.workspaces.get_by_slug(workspace)
        keys = throttle.Keys(
            found.id if found else throttle.UNKNOWN_WORKSPACE,
            f"reset:{key}",
            f"reset-address:{address}" if address else None,
        )
        throttle.check(reads.throttles, keys, now)
    throttle.record_failure(uow, keys, now)  # every request counts towards the limit
    if found is None or key is None:
        return
    with uow:
        user = uow.users.get_by_email(found.id, key)
        if user is None:
            return
        if (refusal := _frozen(user)) is not None:
            _refuse(uow, user, email, refusal, now)
        else:
            token = new_token(found.id)
            _add(uow, found, user, token, now, public_url)
        uow.commit()


def reset_password(uow: UnitOfWork, *, token: str, password: str, now: datetime) -> User:
    """Set the password of the link's user and end their sessions; the link is spent.
    A user Blocked since the link was sent is refused (`user_blocked`, audited)."""
    workspace_id = workspace_of(token)
    if workspace_id is None:
        raise errors.NotFound(NOT_VALID)
    if len(password) < MIN_PASSWORD:
        raise errors.InvalidInput(f"Choose a password of at least {MIN_PASSWORD} characters.")
    hashed = hash_password(password)  # slow: outside the transaction
    with uow:
        user_id = uow.password_resets.live_user(workspace_id, token_hash(token), now)
        user = uow.users.get_for_update(workspace_id, user_id) if user_id else None
        if user is None:
            raise errors.NotFound(NOT_VALID)
        if (refusal := _frozen(user)) is not None:
            _refuse(uow, user, user.email, refusal, now)
            uow.commit()
            raise refusal
        uow.users.set_password(user, hashed)
        uow.password_resets.finish(workspace_id, user.id, now)
        uow.commit()
    return user


def reset_link(public_url: str, token: str) -> str:
    """The absolute address of the page where a reset link's password is chosen."""
    return f"{public_url.rstrip('/')}/admin/password-reset/{token}"


def _key(email: str) -> str | None:
    try:
        return address_key(email)
    except errors.InvalidInput:
        return None


def _add(
    uow: UnitOfWork, workspace: Workspace, user: User, token: str, now: datetime, public_url: str
) -> None:
    reset_id = new_id("rst")
    uow.password_resets.add(
        workspace_id=workspace.id,
        reset_id=reset_id,
        user_id=user.id,
        token_hash=token_hash(token),
        now=now,
        expires_at=now + RESET_TTL,
    )
    draft = mail.compose(
        mail.Kind.PASSWORD_RESET,
        key=reset_id,
        to=user.email,
        subject=f"Reset your {workspace.name} password",
        name=user.name,
        workspace=workspace.name,
        link=reset_link(public_url, token),
    )
    mail.queue(uow, workspace.id, [draft], now)


def _frozen(user: User) -> errors.IdentityFrozen | None:
    """The domain's refusal of a new password for `user` by this flow (a Blocked
    user's password is frozen but on the profile and the CLI), or None."""
    try:
        check_identity_change(user, ("password",), route=Route.PASSWORD_RESET)
    except errors.IdentityFrozen as refusal:
        return refusal
    return None


def _refuse(
    uow: UnitOfWork, user: User, asked_by: str, refusal: errors.DomainError, now: datetime
) -> None:
    audit_refusal(
        uow,
        user,
        route=Route.PASSWORD_RESET,
        actor=Actor(id=None, name=f"{asked_by} (password reset)"),
        refusal=refusal,
        note="A password reset was asked for; no email was sent.",
        now=now,
    )
