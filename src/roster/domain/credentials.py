"""Credentials and the route each one speaks for (PRODUCT §2, §9)."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from roster.domain.transitions import Policy
from roster.domain.users import Actor, User
from roster.domain.vocabulary import ADMIN_ROLES, Route


class CredentialKind(StrEnum):
    SESSION = "session"  # the dashboard's cookie
    API_SESSION = "api_session"  # a bearer token from POST /api/v1/auth/sessions
    PERSONAL = "personal"  # a human admin's personal API token
    SERVICE = "service"  # an integration
    SCIM = "scim"  # an identity provider


# The route a change takes is decided by the credential, never by a field sent.
ROUTE_OF: dict[CredentialKind, Route] = {
    CredentialKind.SESSION: Route.ADMIN_PROFILE,
    CredentialKind.API_SESSION: Route.ADMIN_API,
    CredentialKind.PERSONAL: Route.ADMIN_API,
    CredentialKind.SERVICE: Route.AUTOMATION,
    CredentialKind.SCIM: Route.SCIM,
}

TOKEN_KINDS = (CredentialKind.PERSONAL, CredentialKind.SERVICE, CredentialKind.SCIM)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a live credential, and the Active user behind it (if any)."""

    workspace_id: str
    credential_id: str
    kind: CredentialKind
    name: str | None
    user: User | None
    policy: Policy = field(default_factory=Policy)
    last_seen_at: datetime | None = None
    created_at: datetime | None = None

    @property
    def route(self) -> Route:
        return ROUTE_OF[self.kind]

    @property
    def is_admin(self) -> bool:
        """A human owner or admin (sessions and personal tokens)."""
        return (
            self.user is not None
            and self.kind
            in (
                CredentialKind.SESSION,
                CredentialKind.API_SESSION,
                CredentialKind.PERSONAL,
            )
            and self.user.role in ADMIN_ROLES
        )

    @property
    def actor(self) -> Actor:
        human = self.kind in (
            CredentialKind.SESSION,
            CredentialKind.API_SESSION,
            CredentialKind.PERSONAL,
        )
        if human and self.user is not None:
            return Actor(
                id=self.user.id, name=self.user.name, user_id=self.user.id, role=self.user.role
            )
        return Actor(
            id=self.credential_id, name=f"{self.kind.value} token {self.name or ''}".strip()
        )
