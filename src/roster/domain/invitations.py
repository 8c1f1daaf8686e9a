"""Invitations: an email asked to join a workspace, accepted through route `invitation`."""

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from roster.domain import errors
from roster.domain.transitions import Policy
from roster.domain.users import Actor, Headcount, User, check_change, check_new_user
from roster.domain.vocabulary import Role, Route, Status

InvitationState = Literal["pending", "accepted", "revoked", "expired"]


@dataclass(frozen=True, slots=True)
class Invitation:
    id: str
    workspace_id: str
    email: str
    name: str | None
    role: Role
    invited_by: str | None
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None = None
    revoked_at: datetime | None = None

    def state(self, now: datetime) -> InvitationState:
        if self.accepted_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= now else "pending"


def check_invitation(
    invitee: User | None, *, actor: Actor, policy: Policy, headcount: Headcount
) -> None:
    """Raise the refusal for inviting `invitee` (None: no account yet).

    A new email must fit under the seat limit; an existing account must be one the
    invitation route may make Active: a Blocked user's invitation is `user_blocked`.
    An Active user needs no invitation.
    """
    if invitee is None:
        check_new_user(Status.ACTIVE, reason_code=None, policy=policy, headcount=headcount)
        return
    if invitee.status == Status.ACTIVE:
        raise errors.InvalidInput(f"{invitee.email} is already an Active user of this workspace.")
    check_change(
        invitee,
        Status.ACTIVE,
        route=Route.INVITATION,
        actor=actor,
        reason_code=None,
        note=None,
        policy=policy,
        headcount=headcount,
    )
