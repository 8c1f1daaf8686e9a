"""The `invitation` flow: admins invite an email; accepting it creates an Active
user, or makes an existing Inactive user Active (route invitation).

A Blocked user's invitation can be neither created nor accepted (`user_blocked`),
and both steps respect the seat limit; each refusal about an existing user is
audited like any other attempt. Acceptance is one transaction: the invitation,
the user and their audit entry land together or not at all.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from roster.adapters.invitation_store import SqlInvitations
from roster.adapters.passwords import hash_password
from roster.adapters.tokens import new_token, token_hash, workspace_of
from roster.domain import errors
from roster.domain.audit import AuditEntry
from roster.domain.emails import address_key, normalize_email
from roster.domain.ids import new_id
from roster.domain.invitations import Invitation, check_invitation
from roster.domain.users import Actor, User, check_owners_only
from roster.domain.vocabulary import Role, Route, Status
from roster.services import mail
from roster.services.ports import UnitOfWork
from roster.services.status import change_in_transaction
from roster.services.users import NewUser, add_users

INVITATION_TTL = timedelta(days=7)
MIN_PASSWORD = 10
NOT_VALID = "This invitation is not valid: it may have expired, been revoked, or been used already."


@dataclass(frozen=True, slots=True)
class CreatedInvitation:
    invitation: Invitation
    token: str  # shown once; only its hash is kept


@dataclass(frozen=True, slots=True)
class Accepted:
    user: User
    created: bool  # a new account, rather than an existing one made Active
    workspace_id: str


def create_invitation(
    uow: UnitOfWork,
    *,
    workspace_id: str,
    email: str,
    role: Role = Role.MEMBER,
    name: str | None = None,
    actor: Actor,
    now: datetime,
    public_url: str,
    ttl: timedelta = INVITATION_TTL,
) -> CreatedInvitation:
    """Invite `email`, replacing any pending invitation of it; the token is returned once,
    and the email with the accept link (under `public_url`) is queued with it.

    A Blocked user is found by any spelling of their address (`address_key`), so a
    look-alike of it is refused as they are (`user_blocked`, audited); any other
    look-alike is refused as input. Only an owner invites an owner.
    """
    check_owners_only(actor, role)
    with uow:
        workspace = uow.workspaces.get(workspace_id)
        if workspace is None:
            raise errors.NotFound("No such workspace.")
        counts = uow.counts.lock(workspace_id)
        invitee = uow.users.get_by_email(workspace_id, address_key(email))
        blocked = invitee is not None and invitee.status == Status.BLOCKED
        # Otherwise the address must be a clean one; its key is then the address.
        address = invitee.email if invitee and blocked else normalize_email(email)
        try:
            check_invitation(
                invitee,
                actor=actor,
                policy=workspace.policy,
                counts=counts,
            )
        except errors.DomainError as refusal:
            if invitee is not None and not isinstance(refusal, errors.InvalidInput):
                uow.audit.append([_refused(invitee, actor, now, refusal)])
                uow.commit()
            raise
        uow.invitations.revoke_for_email(workspace_id, address, now)
        token = new_token(workspace_id)
        invitation = Invitation(
            id=new_id("inv"),
            workspace_id=workspace_id,
            email=address,
            name=name.strip() if name and name.strip() else None,
            role=role,
            invited_by=actor.user_id,
            created_at=now,
            expires_at=now + ttl,
        )
        uow.invitations.add(invitation, token_hash(token))
        link = accept_link(public_url, token)
        mail.queue(uow, workspace_id, [_email(workspace.name, invitation, actor, link)], now)
        uow.commit()
    return CreatedInvitation(invitation, token)


def accept_link(public_url: str, token: str) -> str:
    """The absolute address of an invitation's accept page."""
    return f"{public_url.rstrip('/')}/invitations/{token}"


def _email(workspace: str, invitation: Invitation, actor: Actor, link: str) -> mail.Draft:
    return mail.compose(
        mail.Kind.INVITATION,
        key=invitation.id,
        to=invitation.email,
        subject=f"You are invited to {workspace}",
        name=invitation.name,
        workspace=workspace,
        inviter=actor.name,
        role=invitation.role.value,
        link=link,
        expires=f"{invitation.expires_at:%Y-%m-%d %H:%M}",
    )


def pending_invitation(conn: Connection, token: str, now: datetime) -> Invitation:
    """The pending invitation behind `token`, or `not_found`."""
    workspace_id = workspace_of(token)
    found = (
        SqlInvitations(conn).live_by_hash(workspace_id, token_hash(token), now)
        if workspace_id
        else None
    )
    if found is None:
        raise errors.NotFound(NOT_VALID)
    return found


def accept_invitation(
    uow: UnitOfWork,
    *,
    token: str,
    password: str | None,
    name: str | None = None,
    now: datetime,
) -> Accepted:
    """Accept an invitation: create the invitee Active, or make them Active.

    A new account needs a password; an existing one keeps theirs unless a new one
    is given. A refusal (Blocked user, full workspace) leaves the invitation
    pending and the refusal in the audit log.
    """
    workspace_id = workspace_of(token)
    if workspace_id is None:
        raise errors.NotFound(NOT_VALID)
    if password is not None and len(password) < MIN_PASSWORD:
        raise errors.InvalidInput(f"Choose a password of at least {MIN_PASSWORD} characters.")
    hashed = hash_password(password) if password else None  # slow: outside the transaction
    with uow:
        uow.counts.lock(workspace_id)  # the workspace lock first, as every writer does
        invitation = uow.invitations.live_by_hash(workspace_id, token_hash(token), now, lock=True)
        if invitation is None:
            raise errors.NotFound(NOT_VALID)
        invitee = uow.users.get_by_email(workspace_id, invitation.email)
        if invitee is None:
            user = _create(uow, invitation, name, hashed, now)
        else:
            user = _reactivate(uow, invitation, invitee, now)
            if hashed:
                uow.users.set_password(user, hashed)
        uow.invitations.mark_accepted(invitation, now)
        uow.commit()
    return Accepted(user, created=invitee is None, workspace_id=workspace_id)


def _create(
    uow: UnitOfWork, invitation: Invitation, name: str | None, hashed: str | None, now: datetime
) -> User:
    if hashed is None:
        raise errors.InvalidInput("Choose a password to create your account.")
    chosen = (name or "").strip() or invitation.name or invitation.email.split("@")[0]
    [user] = add_users(
        uow,
        workspace_id=invitation.workspace_id,
        new=[
            NewUser(
                invitation.email, chosen[:200], invitation.role, Status.ACTIVE, password_hash=hashed
            )
        ],
        route=Route.INVITATION,
        actor=Actor(id=None, name=f"{invitation.email} (invitation)"),
        now=now,
        batch_id=None,
    )
    return user


def _reactivate(uow: UnitOfWork, invitation: Invitation, invitee: User, now: datetime) -> User:
    """Make the invitee Active through the one door; an audited refusal is committed
    and raised, and the invitation stays pending."""
    try:
        result = change_in_transaction(
            uow,
            workspace_id=invitation.workspace_id,
            user_id=invitee.id,
            to=Status.ACTIVE,
            route=Route.INVITATION,
            actor=Actor(id=invitee.id, name=invitee.name, user_id=invitee.id),
            now=now,
        )
    except errors.DomainError:
        uow.commit()  # the refusal's audit entry
        raise
    return result.user


def _refused(user: User, actor: Actor, now: datetime, refusal: errors.DomainError) -> AuditEntry:
    return AuditEntry(
        workspace_id=user.workspace_id,
        user_id=user.id,
        from_status=user.status,
        to_status=Status.ACTIVE,
        route=Route.INVITATION,
        actor_id=actor.id,
        actor_name=actor.name,
        reason_code=None,
        note="The invitation was not created.",
        at=now,
        outcome=refusal.code,
        id=new_id("evt"),
    )


def revoke_invitation(
    uow: UnitOfWork, *, workspace_id: str, invitation_id: str, now: datetime
) -> None:
    with uow:
        if not uow.invitations.revoke(workspace_id, invitation_id, now):
            raise errors.NotFound("No such pending invitation in this workspace.")
        uow.commit()


def resend_invitation(
    uow: UnitOfWork,
    *,
    workspace_id: str,
    invitation_id: str,
    actor: Actor,
    now: datetime,
    public_url: str,
) -> CreatedInvitation:
    """Send a pending invitation again. Its token is kept only hashed, so the link
    cannot be sent twice: a new invitation (new link, new week) replaces it, checked
    and emailed as any other, and the old link stops working."""
    with uow:
        old = uow.invitations.live_by_id(workspace_id, invitation_id, now)
    if old is None:
        raise errors.NotFound("No such pending invitation in this workspace.")
    return create_invitation(
        uow,
        workspace_id=workspace_id,
        email=old.email,
        role=old.role,
        name=old.name,
        actor=actor,
        now=now,
        public_url=public_url,
    )


def list_invitations(
    conn: Connection, workspace_id: str, *, after: str | None = None, limit: int = 50
) -> list[Invitation]:
    return SqlInvitations(conn).page(workspace_id, after=after, limit=limit)
