"""Invitations: an email asked to join a workspace, accepted through route `invitation`."""

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from roster.domain import errors
from roster.domain.transitions import Policy
from roster.domain.users import Actor, Headcount, Target, User, check_new_user, decide
from roster.domain.vocabulary import Role, Route, Status
from roster.domain.workspaces import UserCounts

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
    invitee: User | None, *, actor: Actor, policy: Policy, counts: UserCounts
) -> None:
    """Raise the refusal for inviting `invitee` (None: no account yet).

    A new email must fit under the seat limit; an existing account must be one the
    invitation route may make Active: a Blocked user's invitation is `user_blocked`.
    An Active user needs no invitation.
    """
    if invitee is None:
        headcount = Headcount(counts.active, counts.active_owners)
        check_new_user(Status.ACTIVE, reason_code=None, policy=policy, headcount=headcount)
        return
    if invitee.status == Status.ACTIVE:
        raise errors.InvalidInput(f"{invitee.email} is already an Active user of this workspace.")
    target = Target(invitee.id, invitee.status, invitee.role, Status.ACTIVE, None, None)
    [verdict], _ = decide(
        [target], route=Route.INVITATION, actor=actor, policy=policy, counts=counts
    )
    if verdict.refusal is not None:
        raise verdict.refusal
