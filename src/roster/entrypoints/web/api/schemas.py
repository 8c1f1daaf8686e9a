"""Pydantic request and response bodies of the REST API."""

import math
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from roster.domain import errors
from roster.domain.audit import AuditEntry, AuditKind
from roster.domain.credentials import CredentialKind, Principal
from roster.domain.reviews import MAX_REVIEW_DAYS, review_days
from roster.domain.transitions import Policy
from roster.domain.users import Actor, Headcount, allowed_changes
from roster.domain.vocabulary import ReasonCode, Role, Route, Status
from roster.domain.workspaces import UserCounts, Workspace, check_timezone
from roster.services.queries import UserView


def storable(value: Any) -> Any:
    """Refuse text no database can keep: NUL characters and lone surrogates."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("text may not contain NUL characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("text must be valid Unicode") from None
    return value


Text = Annotated[str, AfterValidator(storable)]


def storable_tree(value: Any) -> Any:
    """`storable` for free-form JSON, at any depth; and no NaN or infinity, which
    Python's JSON reader takes but no JSON column or answer can carry."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, float) and not math.isfinite(item):
            raise ValueError("numbers must be finite (no NaN or Infinity)")
        else:
            storable(item)
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        return storable(value)


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
    review_by: date | None = Field(
        default=None,
        description="Blocking only: the review date (default: the reason's days).",
    )


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
    review_by: date | None = Field(description="A Blocked user's review date.")
    expires_at: datetime | None = Field(description="When the account ends; null: never.")
    last_seen_at: datetime | None
    created_at: datetime
    etag: str
    allowed_transitions: list[Status] = Field(
        description="The statuses the caller may move this user to now (their route and "
        "role, the transition table, the self, owner, last-owner and seat rules); never "
        "the user's own status."
    )

    @classmethod
    def seen_by(
        cls, view: UserView, caller: Principal, counts: UserCounts, route: Route | None = None
    ) -> "UserOut":
        """The user as `caller` reads them: the changes open to the caller's route (or
        `route`, where the caller acts through another), as the caller."""
        return cls.of(
            view,
            route=route or caller.route,
            actor=caller.actor,
            policy=caller.policy,
            counts=counts,
        )

    @classmethod
    def of(
        cls, view: UserView, *, route: Route, actor: Actor, policy: Policy, counts: UserCounts
    ) -> "UserOut":
        """`allowed_transitions` asks the domain's rules, with the workspace's `counts`."""
        u = view.user
        headcount = Headcount(counts.active, counts.active_owners)
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
            review_by=u.review_by,
            expires_at=u.expires_at,
            last_seen_at=view.last_seen_at,
            created_at=view.created_at,
            etag=etag(u.version),
            allowed_transitions=allowed_changes(
                u, route=route, actor=actor, policy=policy, headcount=headcount
            ),
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
    digits = raw[1:]
    if not raw.startswith("v") or not (digits.isascii() and digits.isdigit()) or len(digits) > 18:
        return -1  # matches no version: a malformed If-Match is stale by definition
    return int(digits)


def dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")


# --- Users API ---


class UserCreateBody(Strict):
    email: str = Field(min_length=3, max_length=320)
    name: str = Field(min_length=1, max_length=200)
    role: Role = Role.MEMBER
    status: Status = Status.ACTIVE
    reason_code: ReasonCode | None = Field(default=None, description="Needed to create Blocked.")
    note: str | None = Field(default=None, max_length=2000)
    password: str | None = Field(
        default=None,
        min_length=12,
        max_length=1024,
        description="Optional: lets the user sign in with a password (stored as Argon2id).",
    )
    expires_at: datetime | None = Field(
        default=None, description="When the account ends (becomes Inactive); null: never."
    )


class UserPatchBody(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    role: Role | None = None
    expires_at: datetime | None = Field(
        default=None, description="When the account ends; null: never (absent: unchanged)."
    )


class AuditEventOut(BaseModel):
    id: str
    seq: int = Field(description="The workspace's order of events (commit order).")
    kind: AuditKind = Field(description="`status`, or the admin action recorded.")
    user_id: str | None = Field(description="null: an action on the workspace itself.")
    from_status: Status | None = Field(description="null: the event created the user.")
    to_status: Status | None = Field(description="null: an admin action (see `changes`).")
    changes: dict[str, list[Any]] | None = Field(
        description='An admin action\'s changed fields: {"field": [before, after]}.'
    )
    route: Route
    actor_id: str | None
    actor_name: str
    reason_code: ReasonCode | None
    note: str | None
    request_id: str | None
    batch_id: str | None
    at: datetime
    outcome: str = Field(description="`applied`, or the refusal's code (e.g. user_blocked).")

    @classmethod
    def of(cls, e: AuditEntry) -> "AuditEventOut":
        return cls(
            id=e.id,
            seq=e.seq,
            kind=e.kind,
            user_id=e.user_id,
            from_status=e.from_status,
            to_status=e.to_status,
            changes=None if e.changes is None else {k: list(v) for k, v in e.changes.items()},
            route=e.route,
            actor_id=e.actor_id,
            actor_name=e.actor_name,
            reason_code=e.reason_code,
            note=e.note,
            request_id=e.request_id,
            batch_id=e.batch_id,
            at=e.at,
            outcome=e.outcome,
        )


class CountsOut(BaseModel):
    active: int = Field(description="Active (billable) users, exact.")
    inactive: int
    blocked: int


class WorkspaceOut(BaseModel):
    id: str
    slug: str
    name: str
    allow_api_unblock: bool = Field(
        description="Whether personal tokens (route admin_api) may lift a block."
    )
    reactivate_on_sign_in: bool = Field(
        description="Whether an Inactive user's correct sign-in makes them Active."
    )
    seat_limit: int | None = Field(description="Most Active users allowed; null: no limit.")
    notify_users_on_status_change: bool = Field(
        description="Whether users get an email when they become Inactive or Blocked, "
        "or Active again."
    )
    review_digest: bool = Field(
        description="Whether owners and admins get a daily email listing the Blocked users "
        "whose review is due."
    )
    review_days: dict[str, int] = Field(
        description="Days from a block to its review, per reason code."
    )
    timezone: str = Field(
        description="The IANA time zone whose midnights bound the workspace's days "
        "(billing days, review dates, daily schedules)."
    )
    users: CountsOut

    @classmethod
    def of(cls, w: Workspace, counts: UserCounts) -> "WorkspaceOut":
        return cls(
            id=w.id,
            slug=w.slug,
            name=w.name,
            allow_api_unblock=w.allow_api_unblock,
            reactivate_on_sign_in=w.reactivate_on_sign_in,
            seat_limit=w.seat_limit,
            notify_users_on_status_change=w.notify_users_on_status_change,
            review_digest=w.review_digest,
            review_days={r.value: n for r, n in review_days(w.review_days).items()},
            timezone=w.timezone,
            users=CountsOut(active=counts.active, inactive=counts.inactive, blocked=counts.blocked),
        )


def _time_zone(name: str) -> str:
    try:
        return check_timezone(name)
    except errors.InvalidInput as bad:
        raise ValueError(bad.detail) from None


class WorkspacePatchBody(Strict):
    allow_api_unblock: bool | None = None
    reactivate_on_sign_in: bool | None = None
    notify_users_on_status_change: bool | None = None
    review_digest: bool | None = None
    seat_limit: int | None = Field(
        default=None, ge=0, le=1_000_000_000, description="null removes the limit."
    )
    review_days: dict[ReasonCode, Annotated[int, Field(ge=1, le=MAX_REVIEW_DAYS)]] | None = Field(
        default=None, description="Days from a block to its review for the reasons given."
    )
    timezone: Annotated[str, AfterValidator(_time_zone)] | None = Field(
        default=None,
        max_length=64,
        description="An IANA time zone such as Europe/Paris: billing days follow it.",
        examples=["Europe/Paris"],
    )
