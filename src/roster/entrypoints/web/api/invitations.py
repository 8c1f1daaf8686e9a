"""Invitations: created by admins (and integrations), accepted by the invitee."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from roster.domain import errors
from roster.domain.credentials import CredentialKind, Principal
from roster.domain.invitations import Invitation, InvitationState
from roster.domain.users import Actor
from roster.domain.vocabulary import Role, Route
from roster.entrypoints.web.api.pages import Cursor, Page, cursor_id, page_of, page_size
from roster.entrypoints.web.api.schemas import Strict, UserOut
from roster.entrypoints.web.deps import ContainerDep, PrincipalDep
from roster.entrypoints.web.problems import responses
from roster.services import queries
from roster.services.invitations import (
    CreatedInvitation,
    accept_invitation,
    accept_link,
    create_invitation,
    list_invitations,
    resend_invitation,
    revoke_invitation,
)

router = APIRouter(prefix="/invitations", tags=["invitations"])


def service_or_admin(principal: PrincipalDep) -> Principal:
    """An owner or admin, or an integration's service token (the host app)."""
    if principal.kind != CredentialKind.SERVICE and not principal.is_admin:
        raise errors.Forbidden("Only owners, admins and service tokens may do this.")
    return principal


SERVICE_OR_ADMIN = Depends(service_or_admin)


class InvitationBody(Strict):
    email: str = Field(min_length=3, max_length=320)
    role: Role = Role.MEMBER
    name: str | None = Field(default=None, max_length=200)


class InvitationOut(BaseModel):
    id: str
    email: str
    name: str | None
    role: Role
    state: InvitationState
    invited_by: str | None
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, i: Invitation, now: datetime) -> "InvitationOut":
        fields = {f: getattr(i, f) for f in i.__slots__ if f != "workspace_id"}
        return cls(**fields, state=i.state(now))


class InvitationCreated(InvitationOut):
    token: str = Field(description="Shown once; Roster keeps only its hash.")
    accept_url: str = Field(
        description="The accept page's absolute address (ROSTER_PUBLIC_URL + path), "
        "as emailed to the invitee."
    )


class AcceptBody(Strict):
    password: str | None = Field(default=None, max_length=1024)
    name: str | None = Field(default=None, max_length=200)


class AcceptedOut(BaseModel):
    user: UserOut
    created: bool = Field(description="A new account, rather than an existing one made Active.")


@router.post(
    "",
    status_code=201,
    response_model=InvitationCreated,
    responses=responses(401, 403, 409, 422),
    dependencies=[SERVICE_OR_ADMIN],
)
def create(
    body: InvitationBody, principal: PrincipalDep, container: ContainerDep
) -> InvitationCreated:
    """Invite an email. A Blocked user's email is refused (`user_blocked`, audited);
    a full workspace is `seat_limit_reached`. A new invitation replaces a pending one."""
    if body.role != Role.MEMBER and not principal.is_admin:
        # An integration may not mint an admin or owner: it could accept the
        # invitation itself and sign in with more rights than it has.
        raise errors.Forbidden("Only owners and admins may invite admins and owners.")
    now = container.clock()
    made = create_invitation(
        container.uow(),
        workspace_id=principal.workspace_id,
        email=body.email,
        role=body.role,
        name=body.name,
        actor=principal.actor,
        now=now,
        public_url=container.settings.public_url,
    )
    return _created(made, container.settings.public_url, now)


def _created(made: CreatedInvitation, public_url: str, now: datetime) -> InvitationCreated:
    out = InvitationOut.of(made.invitation, now)
    link = accept_link(public_url, made.token)
    return InvitationCreated(**out.model_dump(), token=made.token, accept_url=link)


@router.get(
    "",
    response_model=Page[InvitationOut],
    responses=responses(401, 403, 422),
    dependencies=[SERVICE_OR_ADMIN],
)
def list_(
    principal: PrincipalDep,
    container: ContainerDep,
    cursor: Cursor = None,
    limit: Annotated[int, page_size(200)] = 50,
) -> Page[InvitationOut]:
    """The workspace's invitations, newest first, with their state (never their tokens)."""
    after = cursor_id(cursor)
    now = container.clock()
    with container.engine.connect() as conn:
        found = list_invitations(conn, principal.workspace_id, after=after, limit=limit + 1)
    return page_of(
        Page[InvitationOut], found, limit, lambda i: InvitationOut.of(i, now), lambda i: (i.id,)
    )


@router.delete(
    "/{invitation_id}",
    status_code=204,
    responses=responses(401, 403, 404),
    dependencies=[SERVICE_OR_ADMIN],
)
def revoke(invitation_id: str, principal: PrincipalDep, container: ContainerDep) -> Response:
    """Revoke a pending invitation: its token stops working."""
    revoke_invitation(
        container.uow(),
        workspace_id=principal.workspace_id,
        invitation_id=invitation_id,
        now=container.clock(),
    )
    return Response(status_code=204)


@router.post(
    "/{invitation_id}/resend",
    status_code=201,
    response_model=InvitationCreated,
    responses=responses(401, 403, 404, 409),
    dependencies=[SERVICE_OR_ADMIN],
)
def resend(
    invitation_id: str, principal: PrincipalDep, container: ContainerDep
) -> InvitationCreated:
    """Send a pending invitation again: it is replaced by a new one (a new link, a new
    week to accept it) and emailed; the old link stops working."""
    now = container.clock()
    made = resend_invitation(
        container.uow(),
        workspace_id=principal.workspace_id,
        invitation_id=invitation_id,
        actor=principal.actor,
        now=now,
        public_url=container.settings.public_url,
    )
    return _created(made, container.settings.public_url, now)


@router.post(
    "/{token}/accept",
    response_model=AcceptedOut,
    responses=responses(404, 409, 422),
)
def accept(token: str, body: AcceptBody, container: ContainerDep) -> AcceptedOut:
    """Accept an invitation (the token is the credential). A new account needs a
    password. An existing Inactive user becomes Active (route invitation); a Blocked
    one is refused (`user_blocked`, audited) and the invitation stays pending."""
    accepted = accept_invitation(
        container.uow(),
        token=token,
        password=body.password,
        name=body.name,
        now=container.clock(),
    )
    with container.engine.connect() as conn:
        view = queries.user_by_id(conn, accepted.workspace_id, accepted.user.id)
        policy = queries.workspace_by_id(conn, accepted.workspace_id).policy
        counts = queries.user_counts_of(conn, accepted.workspace_id)
    invitee = Actor(id=view.user.id, name=view.user.name, user_id=view.user.id)
    user = UserOut.of(view, route=Route.INVITATION, actor=invitee, policy=policy, counts=counts)
    return AcceptedOut(user=user, created=accepted.created)
