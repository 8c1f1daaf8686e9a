"""Token introspection (RFC 7662): may this token be used, right now?"""

from typing import Annotated

from fastapi import APIRouter, Form, Response
from pydantic import BaseModel, Field

from roster.domain.credentials import CredentialKind
from roster.entrypoints.web.api.invitations import SERVICE_OR_ADMIN
from roster.entrypoints.web.deps import ContainerDep, PrincipalDep
from roster.entrypoints.web.problems import responses
from roster.services.access import introspect as check_token

router = APIRouter(tags=["introspection"])


class IntrospectionOut(BaseModel):
    """RFC 7662 §2.2. Only `active` is sent for a token that may not be used."""

    active: bool
    token_type: str | None = Field(default=None, examples=["Bearer"])
    kind: CredentialKind | None = Field(default=None, description="Roster's credential kind.")
    sub: str | None = Field(default=None, description="The user's id (absent for integrations).")
    username: str | None = Field(default=None, description="The user's email.")
    iat: int | None = None
    exp: int | None = None
    client_id: str | None = Field(default=None, description="The credential's id.")
    workspace: str | None = Field(default=None, description="The workspace's id.")


@router.post(
    "/introspect",
    response_model=IntrospectionOut,
    response_model_exclude_none=True,
    responses=responses(401, 403, 422),
    dependencies=[SERVICE_OR_ADMIN],
)
def introspect(
    token: Annotated[str, Form(max_length=512, description="The token to check.")],
    principal: PrincipalDep,
    container: ContainerDep,
    response: Response,
    token_type_hint: Annotated[str | None, Form(max_length=64)] = None,
) -> IntrospectionOut:
    """Check a token with a form body `token=…` (RFC 7662), authenticated with an
    admin's or an integration's bearer token. `active` is false for anything
    revoked, expired, unknown, of another workspace, or whose user is not Active
    as of this request."""
    response.headers["Cache-Control"] = "no-store"
    with container.engine.connect() as conn:
        found = check_token(conn, principal, token, container.clock())
    if found is None:
        return IntrospectionOut(active=False)
    p = found.principal
    return IntrospectionOut(
        active=True,
        token_type="Bearer",  # noqa: S106 - the RFC 7662 token type, not a secret
        kind=p.kind,
        sub=p.user.id if p.user else None,
        username=p.user.email if p.user else None,
        iat=int(found.issued_at.timestamp()),
        exp=int(found.expires_at.timestamp()) if found.expires_at else None,
        client_id=p.credential_id,
        workspace=p.workspace_id,
    )
