"""Pydantic request and response bodies of the REST API."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from roster.domain.credentials import CredentialKind
from roster.domain.transitions import Policy, allowed_targets
from roster.domain.vocabulary import ReasonCode, Role, Route, Status
from roster.services.queries import UserView


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignInBody(Strict):
    workspace: str = Field(min_length=1, max_length=64)
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1024)


class SessionOut(BaseModel):
    token: str
    expires_at: datetime


class StatusChangeBody(Strict):
    status: Status
    reason_code: ReasonCode | None = None
    note: str | None = Field(default=None, max_length=2000)


class Revocations(BaseModel):
    sessions: int
    tokens: int
    invitations: int
    automations: int


class UserOut(BaseModel):
    id: str
    email: str
    name: str
    role: Role
    status: Status
    status_reason: ReasonCode | None
    status_note: str | None
    status_changed_at: datetime | None
    status_changed_by: str | None
    last_seen_at: datetime | None
    created_at: datetime
    etag: str
    allowed_transitions: list[Status] = Field(
        description="The statuses the caller's route may move this user to."
    )

    @classmethod
    def of(cls, view: UserView, route: Route, policy: Policy) -> "UserOut":
        u = view.user
        return cls(
            id=u.id,
            email=u.email,
            name=u.name,
            role=u.role,
            status=u.status,
            status_reason=u.status_reason,
            status_note=u.status_note,
            status_changed_at=u.status_changed_at,
            status_changed_by=u.status_changed_by,
            last_seen_at=view.last_seen_at,
            created_at=view.created_at,
            etag=etag(u.version),
            allowed_transitions=allowed_targets(u.status, route, policy),
        )


class StatusChangeOut(BaseModel):
    user: UserOut
    changed: bool
    revoked: Revocations


class TokenBody(Strict):
    kind: CredentialKind = Field(description="personal, service or scim")
    name: str | None = Field(default=None, max_length=200)
    expires_at: datetime | None = None


class TokenCreated(BaseModel):
    id: str
    kind: CredentialKind
    name: str | None
    token: str = Field(description="Shown once; Roster keeps only its hash.")


class TokenOut(BaseModel):
    id: str
    kind: CredentialKind
    name: str | None
    user_id: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


def etag(version: int) -> str:
    return f'"v{version}"'


def parse_etag(value: str | None) -> int | None:
    """The version an If-Match names; None when absent or `*`."""
    if value is None or value.strip() == "*":
        return None
    raw = value.strip().removeprefix("W/").strip('"')
    if not raw.startswith("v") or not raw[1:].isdigit():
        return -1  # matches no version: a malformed If-Match is stale by definition
    return int(raw[1:])


def dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")
